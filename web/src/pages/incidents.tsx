// Incidents: the ranked list (vigild's order), filters kept in the URL, a text search over the
// page, and keyboard navigation: j / k move, Enter opens.
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { api, qs } from "../api";
import { navigate } from "../router";
import { ErrorBox, Link, Loading, Outcome, Severity, Status, ago, kOutcomes, kStatuses, num,
         useAsync } from "../ui";

const kPage = 100;
const kSince: [string, number][] = [["any time", 0], ["last hour", 3600], ["last 24 hours", 86400],
                                    ["last 7 days", 7 * 86400], ["last 30 days", 30 * 86400]];

export function Incidents({ query }: { query: URLSearchParams }) {
  const f = {
    app: query.get("app") ?? "", outcome: query.get("outcome") ?? "", rule: query.get("rule") ?? "",
    status: query.get("status") ?? "open,acknowledged", client_ip: query.get("client_ip") ?? "",
    within: query.get("within") ?? "0", offset: Number(query.get("offset") ?? 0) || 0,
  };
  const [search, setSearch] = useState(query.get("q") ?? "");
  const set = (patch: Record<string, string | number>) => {
    const next: Record<string, string | number> = { ...f, offset: 0, q: search, ...patch };
    if (next.within === "0") delete next.within;
    if (next.status === "open,acknowledged") delete next.status;
    navigate("/incidents" + qs(next), true);
  };
  const apps = useAsync(() => api.get<any[]>("/api/v1/apps"), []);
  const list = useAsync(async () => {
    const within = Number(f.within);
    const since = within ? new Date(Date.now() - within * 1000).toISOString() : "";
    const r = await api.page<any[]>("/api/v1/incidents" + qs({
      app: f.app, outcome: f.outcome, rule: f.rule, status: f.status === "all" ? "" : f.status,
      client_ip: f.client_ip, since, limit: kPage, offset: f.offset }));
    return { items: r.items, total: Number(r.headers.get("X-Total-Count") ?? r.items.length) };
  }, [f.app, f.outcome, f.rule, f.status, f.client_ip, f.within, f.offset]);

  const rows = useMemo(() => {
    const s = search.trim().toLowerCase();
    const all = list.data?.items ?? [];
    if (!s) return all;
    return all.filter((i) => [i.summary, i.client_ip, i.app, i.attacker, i.tool, ...(i.rules ?? []),
                              i.top?.route, i.top?.input, String(i.id)]
      .some((v) => typeof v === "string" && v.toLowerCase().includes(s)));
  }, [list.data, search]);
  // The selection follows an incident, not a position: the list refreshes itself while events
  // arrive and may reorder, and Enter must open the incident the analyst chose.
  const [selId, setSelId] = useState<number | null>(null);
  const found = rows.findIndex((i) => i.id === selId);
  const sel = found >= 0 ? found : 0;
  const tbody = useRef<HTMLTableSectionElement>(null);
  useEffect(() => setSelId(null), [search]);
  // The key handler reads the rows and selection of the latest render: a handler that closed
  // over them would be replaced only after the next paint, and a key pressed in between (j, then
  // Enter at once) would act on the previous selection.
  const current = useRef({ rows, sel });
  current.current = { rows, sel };
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const { rows, sel } = current.current;
      const move = (to: number) => {
        if (!rows[to]) return;
        current.current = { rows, sel: to };  // a second key before the re-render moves on from here
        setSelId(rows[to].id);
      };
      const t = e.target as HTMLElement;
      if (e.altKey || e.ctrlKey || e.metaKey || /^(INPUT|SELECT|TEXTAREA|BUTTON)$/.test(t.tagName)) return;
      if (e.key === "j") move(Math.min(sel + 1, rows.length - 1));
      else if (e.key === "k") move(Math.max(sel - 1, 0));
      else if (e.key === "Enter" && rows[sel] && t.tagName !== "A") navigate("/incidents/" + rows[sel].id);
      else if (e.key === "/") {
        e.preventDefault();
        document.getElementById("inc-search")?.focus();
        return;
      } else return;
      e.preventDefault();
    };
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, []);
  useEffect(() => {
    tbody.current?.querySelector<HTMLElement>("tr.selected")?.scrollIntoView({ block: "nearest" });
  }, [sel]);

  const total = list.data?.total ?? 0;
  return (
    <main id="main" tabIndex={-1}>
      <h1>Incidents</h1>
      <form class="filters" role="search" aria-label="Filter incidents" onSubmit={(e) => { e.preventDefault(); set({ q: search }); }}>
        <div>
          <label for="inc-search">Search</label>
          <input id="inc-search" class="searchbox" type="search" placeholder="summary, address, rule, route…"
                 value={search} onInput={(e) => setSearch((e.target as HTMLInputElement).value)} />
        </div>
        <div>
          <label for="inc-app">Application</label>
          <select id="inc-app" value={f.app} onChange={(e) => set({ app: (e.target as HTMLSelectElement).value })}>
            <option value="">all</option>
            {(apps.data ?? []).map((a) => <option key={a.app} value={a.app}>{a.app}</option>)}
          </select>
        </div>
        <div>
          <label for="inc-outcome">Outcome at least</label>
          <select id="inc-outcome" value={f.outcome} onChange={(e) => set({ outcome: (e.target as HTMLSelectElement).value })}>
            <option value="">any</option>
            {kOutcomes.map((o) => <option key={o} value={o}>{o}</option>)}
          </select>
        </div>
        <div>
          <label for="inc-status">Status</label>
          <select id="inc-status" value={f.status} onChange={(e) => set({ status: (e.target as HTMLSelectElement).value })}>
            <option value="open,acknowledged">open or acknowledged</option>
            {kStatuses.map((s) => <option key={s} value={s}>{s.replace("_", " ")}</option>)}
            <option value="all">all</option>
          </select>
        </div>
        <div>
          <label for="inc-rule">Rule</label>
          <input id="inc-rule" value={f.rule} placeholder="sql-injection" size={14}
                 onChange={(e) => set({ rule: (e.target as HTMLInputElement).value.trim() })} />
        </div>
        <div>
          <label for="inc-ip">Attacker address</label>
          <input id="inc-ip" value={f.client_ip} placeholder="203.0.113.9" size={14}
                 onChange={(e) => set({ client_ip: (e.target as HTMLInputElement).value.trim() })} />
        </div>
        <div>
          <label for="inc-time">Seen</label>
          <select id="inc-time" value={f.within} onChange={(e) => set({ within: (e.target as HTMLSelectElement).value })}>
            {kSince.map(([label, s]) => <option key={s} value={String(s)}>{label}</option>)}
          </select>
        </div>
      </form>
      <p class="hint">Keys: <kbd>j</kbd>/<kbd>k</kbd> move, <kbd>Enter</kbd> opens, <kbd>/</kbd> searches.</p>
      <ErrorBox error={list.error} />
      {!list.data ? (!list.error && <Loading what="incidents" />) : (
        <div class="card overflow" tabIndex={0} role="region" aria-label="Incident list">
          <table aria-label="Incidents, most important first" aria-rowcount={rows.length}>
            <thead>
              <tr>
                <th scope="col">#</th><th scope="col">Severity</th><th scope="col">Summary</th>
                <th scope="col">Application</th><th scope="col">Attacker</th><th scope="col">Status</th>
                <th scope="col" class="num">Events</th><th scope="col" class="num">Score</th><th scope="col">Last seen</th>
              </tr>
            </thead>
            <tbody ref={tbody}>
              {rows.length === 0 && <tr><td colSpan={9} class="muted">No incident matches these filters.</td></tr>}
              {rows.map((i, n) => (
                <tr key={i.id} class={n === sel ? "selected" : ""} aria-selected={n === sel}
                    data-incident={i.id} onClick={() => setSelId(i.id)}>
                  <td class="mono">{i.id}</td>
                  <td><Severity value={i.severity ?? ""} /> <Outcome value={i.outcome} /></td>
                  <td><Link href={"/incidents/" + i.id}>{i.summary || `${i.client_ip} against ${i.app}`}</Link></td>
                  <td>{i.app}</td>
                  <td class="mono">{i.client_ip}</td>
                  <td><Status value={i.status} /></td>
                  <td class="num">{num(i.event_count)}</td>
                  <td class="num">{Number(i.score ?? 0).toFixed(1)}</td>
                  <td>{ago(i.last_seen)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <div class="pager">
            <button type="button" disabled={f.offset === 0} onClick={() => set({ offset: Math.max(0, f.offset - kPage) })}>Previous</button>
            <span>{total ? `${num(f.offset + 1)}–${num(Math.min(f.offset + kPage, total))} of ${num(total)}` : "0"}</span>
            <button type="button" disabled={f.offset + kPage >= total} onClick={() => set({ offset: f.offset + kPage })}>Next</button>
          </div>
        </div>
      )}
    </main>
  );
}
