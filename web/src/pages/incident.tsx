// One incident: what happened (summary, timeline), the proof (the operation with the input
// highlighted), and what to do about it (actions that change the policy, status and notes).
import { Fragment } from "preact";
import { useEffect, useState } from "preact/hooks";
import { type Me, api, enc } from "../api";
import { EventDetail } from "../event_detail";
import { ErrorBox, Link, Loading, Notice, Outcome, Section, Severity, Status, Time, errorText,
         kStatuses, num, useAsync, useNotice } from "../ui";

export function IncidentPage({ id, me }: { id: string; me: Me }) {
  const inc = useAsync(() => api.get<any>(`/api/v1/incidents/${enc(id)}?events_limit=200`), [id]);
  const [chosen, setChosen] = useState<string>("");
  const [notice, notify] = useNotice();
  const [actionError, setActionError] = useState("");
  useEffect(() => setChosen(""), [id]);
  if (inc.error) return <main id="main"><h1>Incident {id}</h1><ErrorBox error={inc.error} /><Link href="/incidents">Back to incidents</Link></main>;
  const i = inc.data;
  if (!i) return <main id="main"><Loading what={`incident ${id}`} /></main>;
  const events: any[] = i.events ?? [];
  const proof = events.find((e) => e.event_id === i.top?.event_id)
    ?? events.find((e) => e.outcome === "exploited") ?? events.find((e) => e.outcome === "blocked")
    ?? events[0];
  const shown = events.find((e) => e.event_id === chosen) ?? proof;
  const canAct = me.role !== "viewer";
  const run = async (label: string, f: () => Promise<string>) => {
    setActionError("");
    try {
      notify(await f());
      inc.reload();
    } catch (e) {
      setActionError(`${label}: ${errorText(e)}`);
    }
  };
  const action = (body: any) => api.post<any>(`/api/v1/incidents/${i.id}/actions`, body);
  return (
    <main id="main" tabIndex={-1}>
      <p class="muted"><Link href="/incidents">Incidents</Link> › #{i.id}</p>
      <h1 class="summary" data-testid="incident-summary">{i.summary}</h1>
      <div class="actions" style={{ alignItems: "center", marginBottom: "12px" }}>
        <Severity value={i.severity ?? ""} /> <Outcome value={i.outcome} /> <Status value={i.status} />
        <span>app <Link href={"/apps/" + enc(i.app)}>{i.app}</Link></span>
        <span>attacker <span class="mono">{i.attacker ?? i.client_ip}</span></span>
        {i.tool && <span>tool <strong>{i.tool}</strong></span>}
        <span>score {Number(i.score).toFixed(1)}</span>
        <span>first <Time value={i.first_seen} />, last <Time value={i.last_seen} /></span>
      </div>
      <Notice text={notice} />
      <ErrorBox error={actionError} />
      <div class="grid-side">
        <div>
          <Section title={proof && (proof.outcome === "exploited" || proof.outcome === "blocked") ? "The proof" : "Event"}>
            <EventDetail event={shown} />
          </Section>
          <Section title={`Timeline (${num(i.event_count ?? events.length)} events)`}>
            <ol class="timeline" aria-label="Events of this incident, oldest first">
              {[...events].reverse().map((e) => (
                <li key={e.event_id}>
                  <Time value={e.time} />
                  <Outcome value={e.outcome} />
                  <button type="button" aria-pressed={shown?.event_id === e.event_id}
                          onClick={() => setChosen(e.event_id)}>
                    {e.rule} — <span class="mono">{e.request?.method} {e.request?.path}</span>
                    {e.input ? <span class="muted"> ({e.input.source}:{e.input.name})</span> : null}
                  </button>
                </li>
              ))}
            </ol>
            {i.events_next_cursor && <p class="hint">The newest 200 events are shown. <Link href={`/events?incident=${i.id}`}>All of them in Events</Link>.</p>}
          </Section>
        </div>
        <div>
          <Section title="What to do">
            {!canAct && <p class="muted">Your role (viewer) can read only.</p>}
            <Actions incident={i} disabled={!canAct} run={run} action={action} />
          </Section>
          <Section title="Status and notes">
            <StatusForm incident={i} disabled={!canAct} run={run} />
          </Section>
          <Section title="Counts">
            <dl class="kv">
              {(["exploited", "blocked", "probed", "suspicious"] as const).map((o) => (
                <Fragment key={o}><dt>{o}</dt><dd>{num(i.counts?.[o])}</dd></Fragment>
              ))}
              <dt>rules</dt><dd>{(i.rules ?? []).join(", ")}</dd>
              <dt>routes and inputs</dt><dd>{i.spread ?? "—"}</dd>
            </dl>
          </Section>
          <Facets facets={i.facets} />
          <Section title="History">
            <ol class="timeline" aria-label="History">
              {(i.history ?? []).map((h: any, n: number) => (
                <li key={n} style={{ gridTemplateColumns: "170px 1fr" }}>
                  <Time value={h.time} />
                  <span>
                    {h.actor ? <strong>{h.actor}: </strong> : null}{String(h.action ?? "").replace(/_/g, " ")}
                    {h.from_status && h.to_status && h.from_status !== h.to_status ? ` (${h.from_status} → ${h.to_status})` : ""}
                    {h.details ? " — " + (typeof h.details === "string" ? h.details : JSON.stringify(h.details)) : ""}
                    {h.note ? <> — <q>{h.note}</q></> : null}
                  </span>
                </li>
              ))}
            </ol>
          </Section>
        </div>
      </div>
    </main>
  );
}

function Actions({ incident: i, disabled, run, action }: {
  incident: any; disabled: boolean; run: (label: string, f: () => Promise<string>) => void;
  action: (body: any) => Promise<any>;
}) {
  const [expires, setExpires] = useState("24h");
  const [patch, setPatch] = useState(false);
  const top = i.top ?? {};
  const rule = top.rule ?? (i.rules ?? [])[0] ?? "";
  return (
    <div style={{ display: "flex", flexDirection: "column", gap: "10px" }}>
      <div class="actions" style={{ alignItems: "flex-end" }}>
        <button type="button" class="danger" disabled={disabled || !i.client_ip}
                onClick={() => run("Block the attacker", async () => {
                  const r = await action({ action: "block_attacker", expires_in: expires,
                                           reason: `incident #${i.id}` });
                  return `${i.client_ip} is on ${i.app}'s deny list (policy version ${r.policy_version}).`;
                })}>Block the attacker</button>
        <div class="filters" style={{ margin: 0 }}>
          <div>
            <label for="block-expires">for</label>
            <select id="block-expires" value={expires} onChange={(e) => setExpires((e.target as HTMLSelectElement).value)}>
              <option value="1h">1 hour</option><option value="24h">24 hours</option>
              <option value="7d">7 days</option><option value="never">ever</option>
            </select>
          </div>
        </div>
      </div>
      <button type="button" class="primary" disabled={disabled || !rule}
              onClick={() => run("Switch the rule to block", async () => {
                const r = await action({ action: "block_rule", rule });
                return `${rule} now blocks on ${i.app} (policy version ${r.policy_version}); the agents apply it within seconds.`;
              })}>Switch rule {rule} to block</button>
      <button type="button" disabled={disabled} aria-expanded={patch} onClick={() => setPatch(!patch)}>
        Add a virtual patch…</button>
      {patch && <VirtualPatchForm incident={i} run={run} onDone={() => setPatch(false)} />}
      <button type="button" disabled={disabled}
              onClick={() => run("Mark false positive", async () => {
                const r = await action({ action: "exclude_input", rule, mark_false_positive: true });
                return `Marked a false positive; ${rule} is excluded for ${top.route ?? "the route"} ${top.input ?? ""} (policy version ${r.policy_version}).`;
              })}>Mark false positive and exclude</button>
    </div>
  );
}

function VirtualPatchForm({ incident: i, run, onDone }: { incident: any;
  run: (label: string, f: () => Promise<string>) => void; onDone: () => void }) {
  const top = i.top ?? {};
  const ev = (i.events ?? []).find((e: any) => e.event_id === top.event_id) ?? (i.events ?? [])[0];
  const [route, setRoute] = useState<string>(top.route ?? ev?.request?.path ?? "/");
  const [input, setInput] = useState<string>(top.input ?? (ev?.input ? `${ev.input.source}:${ev.input.name}` : ""));
  const [regex, setRegex] = useState<string>("[^0-9]");
  const submit = (e: Event) => {
    e.preventDefault();
    run("Add a virtual patch", async () => {
      const cur = await api.get<any>(`/api/v1/apps/${enc(i.app)}/policy`);
      const doc = cur.policy ?? { version: 1, mode: "monitor" };
      const [source, name] = input.includes(":") ? input.split(/:(.*)/s) : ["", input];
      const vp: any = { id: `vp-incident-${i.id}-${Date.now() % 100000}`, action: "block",
                        reason: `incident #${i.id}: ${i.summary}`.slice(0, 200), route };
      if (name) vp.inputs = [{ ...(source ? { source } : {}), name, regex }];
      doc.virtual_patches = [...(doc.virtual_patches ?? []), vp];
      const r = await api.put<any>(`/api/v1/apps/${enc(i.app)}/policy`,
                                   { policy: doc, base_version: cur.version, comment: `virtual patch from incident #${i.id}` });
      // The incident's history records it too (the policy change itself is audited by vigild).
      await api.patch(`/api/v1/incidents/${i.id}`, { note: `virtual patch ${vp.id} added (policy version ${r.version})` });
      onDone();
      return `Virtual patch ${vp.id} added (policy version ${r.version}).`;
    });
  };
  return (
    <form class="card" onSubmit={submit} aria-label="New virtual patch">
      <div class="filters">
        <div><label for="vp-route">Route</label><input id="vp-route" value={route} onInput={(e) => setRoute((e.target as HTMLInputElement).value)} /></div>
        <div><label for="vp-input">Input (source:name)</label><input id="vp-input" value={input} onInput={(e) => setInput((e.target as HTMLInputElement).value)} /></div>
        <div><label for="vp-regex">Block when it matches (RE2)</label><input id="vp-regex" value={regex} onInput={(e) => setRegex((e.target as HTMLInputElement).value)} /></div>
      </div>
      <button type="submit" class="primary">Add the virtual patch</button>
    </form>
  );
}

function StatusForm({ incident: i, disabled, run }: { incident: any; disabled: boolean;
  run: (label: string, f: () => Promise<string>) => void }) {
  const [status, setStatus] = useState<string>(i.status);
  const [note, setNote] = useState("");
  useEffect(() => setStatus(i.status), [i.status]);
  return (
    <form onSubmit={(e) => {
      e.preventDefault();
      run("Save", async () => {
        const body: any = {};
        if (status !== i.status) body.status = status;
        if (note.trim()) body.note = note.trim();
        if (!Object.keys(body).length) return "Nothing to save.";
        await api.patch(`/api/v1/incidents/${i.id}`, body);
        setNote("");
        return "Saved.";
      });
    }}>
      <div class="filters">
        <div>
          <label for="inc-status-set">Status</label>
          <select id="inc-status-set" value={status} disabled={disabled}
                  onChange={(e) => setStatus((e.target as HTMLSelectElement).value)}>
            {kStatuses.map((s) => <option key={s} value={s}>{s.replace("_", " ")}</option>)}
          </select>
        </div>
      </div>
      <label for="inc-note">Note</label>
      <textarea id="inc-note" rows={3} style={{ width: "100%" }} value={note} disabled={disabled}
                onInput={(e) => setNote((e.target as HTMLTextAreaElement).value)} />
      <div class="actions" style={{ marginTop: "6px" }}>
        <button type="submit" disabled={disabled}>Save</button>
      </div>
    </form>
  );
}

function Facets({ facets }: { facets: any }) {
  if (!facets || typeof facets !== "object") return null;
  const keys = Object.keys(facets).filter((k) => Array.isArray(facets[k]) && facets[k].length);
  if (!keys.length) return null;
  return (
    <Section title="Facets">
      {keys.map((k) => (
        <div key={k}>
          <h3>{k}</h3>
          <ul class="tokens">
            {facets[k].slice(0, 10).map((f: any, n: number) => (
              <li key={n}>{f.value ?? f.name ?? JSON.stringify(f)} <span class="muted">{num(f.count)}</span></li>
            ))}
          </ul>
        </div>
      ))}
    </Section>
  );
}
