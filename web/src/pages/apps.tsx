// Applications: their sensors, the policy editor (modes per rule, IP lists, virtual patches,
// exclusions) with the "would have blocked" preview, the policy history and the audit log.
import { useEffect, useState } from "preact/hooks";
import { type Me, ApiError, api, enc, qs } from "../api";
import { ErrorBox, Link, Loading, Notice, Outcome, Section, Time, ago, errorText, num, useAsync,
         useNotice } from "../ui";
import { AppHealth } from "./overview";

export function Apps() {
  const apps = useAsync(() => api.get<any[]>("/api/v1/apps"), []);
  const agents = useAsync(() => api.get<any[]>("/api/v1/agents"), []);
  return (
    <main id="main" tabIndex={-1}>
      <h1>Applications</h1>
      <ErrorBox error={apps.error || agents.error} />
      <Section title="Applications and sensor health">
        {apps.data && agents.data ? <AppHealth apps={apps.data} agents={agents.data} /> : <Loading what="applications" />}
      </Section>
    </main>
  );
}

const kTabs = ["Sensors", "Policy", "History", "Audit log"] as const;

export function AppPage({ name, me }: { name: string; me: Me }) {
  const [tab, setTab] = useState<(typeof kTabs)[number]>("Sensors");
  return (
    <main id="main" tabIndex={-1}>
      <p class="muted"><Link href="/apps">Applications</Link> › {name}</p>
      <h1>{name}</h1>
      <div class="tabs" role="tablist" aria-label="Application">
        {kTabs.filter((t) => t !== "Audit log" || me.role === "admin").map((t) => (
          <button key={t} type="button" role="tab" id={"tab-" + t} aria-selected={tab === t}
                  aria-controls="tabpanel" onClick={() => setTab(t)}>{t}</button>
        ))}
      </div>
      <div role="tabpanel" id="tabpanel" aria-labelledby={"tab-" + tab}>
        {tab === "Sensors" && <Sensors app={name} />}
        {tab === "Policy" && <PolicyEditor app={name} me={me} />}
        {tab === "History" && <PolicyHistory app={name} />}
        {tab === "Audit log" && <Audit target={"app:" + name} />}
      </div>
    </main>
  );
}

function Sensors({ app }: { app: string }) {
  const agents = useAsync(() => api.get<any[]>("/api/v1/agents" + qs({ app })), [app]);
  if (agents.error) return <ErrorBox error={agents.error} />;
  if (!agents.data) return <Loading what="sensors" />;
  if (!agents.data.length) return <p class="muted">No sensor has registered for {app} yet.</p>;
  const counterNames = [...new Set(agents.data.flatMap((a) => Object.keys(a.counters ?? {})))].sort();
  return (
    <Section title="Sensors">
      <div class="overflow" tabIndex={0} role="region" aria-label="Sensors table">
        <table>
          <thead>
            <tr><th scope="col">Agent</th><th scope="col">Host / pid</th><th scope="col">State</th>
                <th scope="col">Last heartbeat</th><th scope="col">Mode</th><th scope="col">Version</th>
                <th scope="col" class="num">Policy</th>
                {counterNames.map((c) => <th key={c} scope="col" class="num">{c.replace(/_/g, " ")}</th>)}</tr>
          </thead>
          <tbody>
            {agents.data.map((a) => (
              <tr key={a.agent_id}>
                <td class="mono">{String(a.agent_id).slice(0, 16)}</td>
                <td>{a.host} / {a.pid}</td>
                <td class={a.state === "ok" ? "health-ok" : "health-bad"}>{a.state === "ok" ? "ok" : "quiet (sensor blind)"}</td>
                <td>{ago(a.seconds_since_seen ?? a.last_seen)}</td>
                <td>{a.mode}</td>
                <td>{a.version}</td>
                <td class="num">{a.policy_version}</td>
                {counterNames.map((c) => <td key={c} class="num">{num(a.counters?.[c])}</td>)}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Section>
  );
}

const kRules = ["sql-injection", "command-injection", "path-traversal", "ssrf", "remote-file-inclusion",
  "xss", "xxe", "ssti", "nosql-injection", "log4shell", "ldap-injection", "xpath-injection",
  "ssi-injection", "crlf-injection", "header-injection", "open-redirect", "scanner", "protocol-anomaly"];
const kModes = ["off", "monitor", "block"];

function listText(list: any[] | undefined): string {
  return (list ?? []).map((e) => (typeof e === "string" ? e : JSON.stringify(e))).join("\n");
}

function parseList(text: string, what: string): any[] {
  return text.split("\n").map((l) => l.trim()).filter(Boolean).map((l, n) => {
    if (!l.startsWith("{")) return l;
    try {
      return JSON.parse(l);
    } catch {
      throw new Error(`${what}, line ${n + 1}: not a CIDR nor a JSON object`);
    }
  });
}

function PolicyEditor({ app, me }: { app: string; me: Me }) {
  const cur = useAsync(() => api.get<any>(`/api/v1/apps/${enc(app)}/policy`), [app]);
  const [doc, setDoc] = useState<any>(null);
  const [deny, setDeny] = useState("");
  const [allow, setAllow] = useState("");
  const [patches, setPatches] = useState("[]");
  const [exclusions, setExclusions] = useState("[]");
  const [comment, setComment] = useState("");
  const [error, setError] = useState("");
  const [diags, setDiags] = useState<any[]>([]);
  const [preview, setPreview] = useState<any>(null);
  const [days, setDays] = useState(7);
  const [busy, setBusy] = useState(false);
  const [notice, notify] = useNotice();
  useEffect(() => {
    if (!cur.data) return;
    const d = cur.data.policy ?? { version: 1, mode: "monitor", rules: {} };
    setDoc({ ...d, rules: { ...(d.rules ?? {}) } });
    setDeny(listText(d.ip_denylist));
    setAllow(listText(d.ip_allowlist));
    setPatches(JSON.stringify(d.virtual_patches ?? [], null, 2));
    setExclusions(JSON.stringify(d.exclusions ?? [], null, 2));
  }, [cur.data]);
  if (cur.error) return <ErrorBox error={cur.error} />;
  if (!cur.data || !doc) return <Loading what="the policy" />;
  const canEdit = me.role !== "viewer";

  const draft = (): any => {
    const out: any = { ...doc, version: doc.version ?? 1 };
    out.ip_denylist = parseList(deny, "IP deny list");
    out.ip_allowlist = parseList(allow, "IP allow list");
    for (const [key, text, label] of [["virtual_patches", patches, "Virtual patches"],
                                      ["exclusions", exclusions, "Exclusions"]] as const) {
      try {
        out[key] = JSON.parse(text || "[]");
      } catch (e) {
        throw new Error(`${label}: not valid JSON (${(e as Error).message})`);
      }
      if (!Array.isArray(out[key])) throw new Error(`${label}: a JSON list is expected`);
    }
    for (const k of ["ip_denylist", "ip_allowlist", "virtual_patches", "exclusions"])
      if (Array.isArray(out[k]) && out[k].length === 0) delete out[k];
    return out;
  };
  const act = async (f: () => Promise<void>) => {
    setError("");
    setDiags([]);
    setBusy(true);
    try {
      await f();
    } catch (e) {
      setError(errorText(e));
      if (e instanceof ApiError && Array.isArray(e.body?.diagnostics)) setDiags(e.body.diagnostics);
    } finally {
      setBusy(false);
    }
  };
  const save = () => act(async () => {
    const r = await api.put<any>(`/api/v1/apps/${enc(app)}/policy`,
                                 { policy: draft(), base_version: cur.data.version, comment: comment || undefined });
    setDiags(r.diagnostics ?? []);
    setComment("");
    notify(`Saved: policy version ${r.version}. Agents apply it within seconds.`);
    cur.reload();
  });
  const runPreview = () => act(async () => {
    setPreview(await api.post<any>(`/api/v1/apps/${enc(app)}/policy/preview`, { policy: draft(), days }));
  });
  const setRule = (rule: string, mode: string) => {
    const rules = { ...doc.rules };
    if (mode) rules[rule] = mode;
    else delete rules[rule];
    setDoc({ ...doc, rules });
  };
  const extraRules = Object.keys(doc.rules ?? {}).filter((r) => !kRules.includes(r));
  return (
    <div class="grid-side">
      <div>
        <Section title={`Policy (version ${cur.data.version})`}>
          <p class="hint">Last changed {cur.data.updated_at ? <Time value={cur.data.updated_at} /> : "never"}{cur.data.updated_by ? ` by ${cur.data.updated_by}` : ""}.</p>
          <div class="filters">
            <div>
              <label for="pol-mode">Default mode of every rule not named below</label>
              <select id="pol-mode" value={doc.mode ?? "monitor"} disabled={!canEdit}
                      onChange={(e) => setDoc({ ...doc, mode: (e.target as HTMLSelectElement).value })}>
                {kModes.map((m) => <option key={m} value={m}>{m}</option>)}
              </select>
            </div>
          </div>
          <table class="rule-modes" aria-label="Mode per rule">
            <thead><tr><th scope="col">Rule</th><th scope="col">Mode</th></tr></thead>
            <tbody>
              {[...kRules, ...extraRules].map((r) => (
                <tr key={r}>
                  <td><label for={"rule-" + r} style={{ fontWeight: 400, fontSize: "14px", color: "inherit" }}>{r}</label></td>
                  <td>
                    <select id={"rule-" + r} value={doc.rules?.[r] ?? ""} disabled={!canEdit}
                            onChange={(e) => setRule(r, (e.target as HTMLSelectElement).value)}>
                      <option value="">default ({doc.mode ?? "monitor"})</option>
                      {kModes.map((m) => <option key={m} value={m}>{m}</option>)}
                    </select>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </Section>
        <Section title="IP lists">
          <div class="grid2">
            <div>
              <label for="pol-deny">Deny list (CIDR per line, or {"{cidr, expires, reason}"} JSON)</label>
              <textarea id="pol-deny" class="policy mono" value={deny} disabled={!canEdit} style={{ minHeight: "120px" }}
                        onInput={(e) => setDeny((e.target as HTMLTextAreaElement).value)} />
            </div>
            <div>
              <label for="pol-allow">Allow list (skips analysis; wins over deny)</label>
              <textarea id="pol-allow" class="policy mono" value={allow} disabled={!canEdit} style={{ minHeight: "120px" }}
                        onInput={(e) => setAllow((e.target as HTMLTextAreaElement).value)} />
            </div>
          </div>
        </Section>
        <Section title="Virtual patches and exclusions">
          <label for="pol-vp">Virtual patches (JSON list; docs/policy.md)</label>
          <textarea id="pol-vp" class="policy mono" value={patches} disabled={!canEdit}
                    onInput={(e) => setPatches((e.target as HTMLTextAreaElement).value)} />
          <label for="pol-ex">Exclusions (JSON list)</label>
          <textarea id="pol-ex" class="policy mono" value={exclusions} disabled={!canEdit}
                    onInput={(e) => setExclusions((e.target as HTMLTextAreaElement).value)} />
        </Section>
      </div>
      <div>
        <Section title="Preview and save">
          <Notice text={notice} />
          <ErrorBox error={error} />
          {diags.length > 0 && (
            <ul aria-label="Diagnostics">
              {diags.map((d, n) => <li key={n}><strong>{d.severity}</strong> {d.message} <span class="muted">{d.code} {d.location}</span></li>)}
            </ul>
          )}
          <div class="filters">
            <div>
              <label for="pv-days">Replay the stored events of the last</label>
              <select id="pv-days" value={days} onChange={(e) => setDays(Number((e.target as HTMLSelectElement).value))}>
                {[1, 7, 30, 90].map((d) => <option key={d} value={d}>{d} day{d > 1 ? "s" : ""}</option>)}
              </select>
            </div>
            <button type="button" disabled={busy || !canEdit} onClick={runPreview}>Would it have blocked?</button>
          </div>
          {preview && <Preview p={preview} />}
          <label for="pol-comment">Comment</label>
          <input id="pol-comment" style={{ width: "100%" }} value={comment} disabled={!canEdit}
                 onInput={(e) => setComment((e.target as HTMLInputElement).value)} />
          <div class="actions" style={{ marginTop: "8px" }}>
            <button type="button" class="primary" disabled={busy || !canEdit} onClick={save}>Save and push to agents</button>
            <button type="button" disabled={busy} onClick={() => cur.reload()}>Discard changes</button>
          </div>
        </Section>
      </div>
    </div>
  );
}

function Preview({ p }: { p: any }) {
  return (
    <div data-testid="preview">
      <p>Of <strong>{num(p.events)}</strong> stored events of the last {p.days ?? "?"} days, this policy
        would have blocked <strong>{num(p.would_block)}</strong> ({num(p.newly_blocked)} not blocked
        today, {num(p.no_longer_blocked)} blocked today but no longer), from {num(p.attackers_blocked)} attackers.
        {p.truncated ? " The replay stopped early: too many events." : ""}</p>
      {p.by_rule && typeof p.by_rule === "object" && (
        <table>
          <thead><tr><th scope="col">Rule</th><th scope="col" class="num">Would block</th></tr></thead>
          <tbody>
            {(Array.isArray(p.by_rule) ? p.by_rule.map((r: any) => [r.rule, r.count ?? r.would_block])
                                       : Object.entries(p.by_rule)).map(([r, n]: any) => (
              <tr key={r}><td>{r}</td><td class="num">{typeof n === "object" ? JSON.stringify(n) : num(n)}</td></tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function PolicyHistory({ app }: { app: string }) {
  const h = useAsync(() => api.get<any[]>(`/api/v1/apps/${enc(app)}/policy/history?limit=50`), [app]);
  if (h.error) return <ErrorBox error={h.error} />;
  if (!h.data) return <Loading what="the policy history" />;
  return (
    <Section title="Policy versions">
      <table>
        <thead><tr><th scope="col" class="num">Version</th><th scope="col">When</th><th scope="col">Who</th><th scope="col">Comment</th><th scope="col">Document</th></tr></thead>
        <tbody>
          {h.data.map((v) => (
            <tr key={v.version}>
              <td class="num">{v.version}</td><td><Time value={v.updated_at ?? v.created_at ?? v.time} /></td>
              <td>{v.updated_by ?? v.actor}</td><td>{v.comment}</td>
              <td><details><summary>JSON</summary><pre>{JSON.stringify(v.policy ?? v.document, null, 2)}</pre></details></td>
            </tr>
          ))}
        </tbody>
      </table>
    </Section>
  );
}

export function Audit({ target }: { target?: string }) {
  const [before, setBefore] = useState<string>("");
  const a = useAsync(() => api.get<any[]>("/api/v1/audit" + qs({ target, limit: 100, before })), [target, before]);
  if (a.error) return <ErrorBox error={a.error} />;
  if (!a.data) return <Loading what="the audit log" />;
  return (
    <Section title={target ? `Audit log: ${target}` : "Audit log"}>
      <table>
        <thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">Action</th><th scope="col">Target</th><th scope="col">Details</th><th scope="col">From</th></tr></thead>
        <tbody>
          {a.data.length === 0 && <tr><td colSpan={6} class="muted">Nothing recorded.</td></tr>}
          {a.data.map((r) => (
            <tr key={r.id}>
              <td><Time value={r.time} /></td><td>{r.actor}</td><td><code>{r.action}</code></td><td>{r.target}</td>
              <td class="mono" style={{ maxWidth: "520px", overflowWrap: "anywhere" }}>{typeof r.details === "string" ? r.details : JSON.stringify(r.details)}</td>
              <td class="mono">{r.client_ip}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {a.data.length === 100 && <div class="pager"><button type="button" onClick={() => setBefore(String(a.data![a.data!.length - 1].id))}>Older</button></div>}
    </Section>
  );
}

export { Outcome };
