// Events explorer: filters (kept in the URL), cursor pages of 100, the chosen event in full.
import { useEffect, useState } from "preact/hooks";
import { api, enc, qs } from "../api";
import { EventDetail } from "../event_detail";
import { navigate } from "../router";
import { ErrorBox, Link, Loading, Outcome, Section, Time, kOutcomes, useAsync } from "../ui";

const kWithin: [string, number][] = [["any time", 0], ["last hour", 3600], ["last 24 hours", 86400],
                                     ["last 7 days", 7 * 86400]];

export function Events({ query, open }: { query: URLSearchParams; open?: string }) {
  const f = {
    app: query.get("app") ?? "", outcome: query.get("outcome") ?? "", rule: query.get("rule") ?? "",
    client_ip: query.get("client_ip") ?? "", incident: query.get("incident") ?? "",
    within: query.get("within") ?? "0", cursor: query.get("cursor") ?? "",
  };
  const set = (patch: Record<string, string>) => {
    const next: Record<string, string> = { ...f, cursor: "", ...patch };
    if (next.within === "0") delete next.within;
    navigate("/events" + qs(next), true);
  };
  const [trail, setTrail] = useState<string[]>([]);
  const apps = useAsync(() => api.get<any[]>("/api/v1/apps"), []);
  const list = useAsync(async () => {
    const within = Number(f.within);
    const r = await api.page<any[]>("/api/v1/events" + qs({
      app: f.app, outcome: f.outcome, rule: f.rule, client_ip: f.client_ip, incident: f.incident,
      since: within ? new Date(Date.now() - within * 1000).toISOString() : "", limit: 100,
      cursor: f.cursor }));
    return { items: r.items, next: r.headers.get("X-Next-Cursor") ?? "" };
  }, [f.app, f.outcome, f.rule, f.client_ip, f.incident, f.within, f.cursor]);
  const [chosen, setChosen] = useState<any>(null);
  const one = useAsync(() => open ? api.get<any>(`/api/v1/events/${enc(open)}`) : Promise.resolve(null), [open]);
  useEffect(() => {
    if (one.data) setChosen(one.data);
  }, [one.data]);
  useEffect(() => {
    if (!f.cursor) setTrail([]);
  }, [f.app, f.outcome, f.rule, f.client_ip, f.incident, f.within]);

  return (
    <main id="main" tabIndex={-1}>
      <h1>Events</h1>
      <form class="filters" role="search" aria-label="Filter events" onSubmit={(e) => e.preventDefault()}>
        <div>
          <label for="ev-app">Application</label>
          <select id="ev-app" value={f.app} onChange={(e) => set({ app: (e.target as HTMLSelectElement).value })}>
            <option value="">all</option>
            {(apps.data ?? []).map((a) => <option key={a.app} value={a.app}>{a.app}</option>)}
          </select>
        </div>
        <div>
          <label for="ev-outcome">Outcome</label>
          <select id="ev-outcome" value={f.outcome} onChange={(e) => set({ outcome: (e.target as HTMLSelectElement).value })}>
            <option value="">any</option>
            <option value="exploited,blocked">exploited or blocked</option>
            {kOutcomes.map((o) => <option key={o} value={o}>{o}</option>)}
          </select>
        </div>
        <div>
          <label for="ev-rule">Rule</label>
          <input id="ev-rule" value={f.rule} size={14} onChange={(e) => set({ rule: (e.target as HTMLInputElement).value.trim() })} />
        </div>
        <div>
          <label for="ev-ip">Client address</label>
          <input id="ev-ip" value={f.client_ip} size={14} onChange={(e) => set({ client_ip: (e.target as HTMLInputElement).value.trim() })} />
        </div>
        <div>
          <label for="ev-incident">Incident</label>
          <input id="ev-incident" value={f.incident} size={6} inputMode="numeric" onChange={(e) => set({ incident: (e.target as HTMLInputElement).value.trim() })} />
        </div>
        <div>
          <label for="ev-time">Time</label>
          <select id="ev-time" value={f.within} onChange={(e) => set({ within: (e.target as HTMLSelectElement).value })}>
            {kWithin.map(([label, s]) => <option key={s} value={String(s)}>{label}</option>)}
          </select>
        </div>
      </form>
      <ErrorBox error={list.error || one.error} />
      <div class="grid-side">
        <div class="card overflow" tabIndex={0} role="region" aria-label="Event list">
          {!list.data ? (!list.error && <Loading what="events" />) : (
            <>
              <table aria-label="Events, newest first">
                <thead>
                  <tr><th scope="col">Time</th><th scope="col">Outcome</th><th scope="col">Rule</th>
                      <th scope="col">Application</th><th scope="col">Request</th><th scope="col">Input</th>
                      <th scope="col">Client</th><th scope="col">Incident</th></tr>
                </thead>
                <tbody>
                  {list.data.items.length === 0 && <tr><td colSpan={8} class="muted">No event matches these filters.</td></tr>}
                  {list.data.items.map((e) => (
                    <tr key={e.event_id} class={chosen?.event_id === e.event_id ? "selected" : ""}>
                      <td><Time value={e.time} /></td>
                      <td><Outcome value={e.outcome} /></td>
                      <td><button type="button" class="linkish" onClick={() => setChosen(e)}
                                  aria-label={`Show event ${e.event_id}`}>{e.rule}</button></td>
                      <td>{e.app}</td>
                      <td class="mono">{e.request?.method} {e.request?.path}</td>
                      <td class="mono">{e.input ? `${e.input.source}:${e.input.name}` : "—"}</td>
                      <td class="mono">{e.request?.client_ip}</td>
                      <td>{e.incident_id ? <Link href={"/incidents/" + e.incident_id}>#{e.incident_id}</Link> : "—"}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <div class="pager">
                <button type="button" disabled={!trail.length} onClick={() => {
                  const prev = trail[trail.length - 1];
                  setTrail(trail.slice(0, -1));
                  set({ cursor: prev });
                }}>Newer</button>
                <button type="button" disabled={!list.data.next} onClick={() => {
                  setTrail([...trail, f.cursor]);
                  set({ cursor: list.data!.next });
                }}>Older</button>
              </div>
            </>
          )}
        </div>
        <Section title="Event detail">
          {chosen ? <EventDetail event={chosen} /> : <p class="muted">Choose an event to see it in full.</p>}
          {chosen && <details><summary>JSON</summary><pre class="mono">{JSON.stringify(chosen, null, 2)}</pre></details>}
        </Section>
      </div>
    </main>
  );
}
