// Overview: attacks over time by outcome, top rules and attackers, applications with their
// sensors' health, open incidents by severity. One GET /api/v1/stats plus apps and agents.
import { useState } from "preact/hooks";
import { api, qs } from "../api";
import { AttackChart } from "../chart";
import { ErrorBox, Link, Loading, Outcome, Section, Time, ago, num, useAsync } from "../ui";

interface Stats {
  since: string; until: string; bucket_s: number;
  series: { t: string; exploited: number; blocked: number; probed: number; suspicious: number }[];
  totals: Record<string, number>;
  top_rules: { rule: string; count: number; worst_outcome: string }[];
  top_attackers: { client_ip: string; count: number; worst_outcome: string; apps: string[] }[];
  incidents_open: Record<string, number>;
}

const kRanges: [string, number, number][] = [
  ["Last hour", 3600, 60], ["Last 24 hours", 86400, 3600], ["Last 7 days", 7 * 86400, 86400],
  ["Last 30 days", 30 * 86400, 86400],
];

export function Overview() {
  const [range, setRange] = useState(1);
  const [app, setApp] = useState("");
  const apps = useAsync(() => api.get<any[]>("/api/v1/apps"), []);
  const agents = useAsync(() => api.get<any[]>("/api/v1/agents"), []);
  const stats = useAsync(() => {
    const [, span, bucket] = kRanges[range];
    const until = new Date();
    const since = new Date(until.getTime() - span * 1000);
    return api.get<Stats>("/api/v1/stats" + qs({ app, since: since.toISOString(),
                                                  until: until.toISOString(), bucket }));
  }, [range, app]);
  const s = stats.data;
  return (
    <main id="main" tabIndex={-1}>
      <div class="card-head">
        <h1>Overview</h1>
        <div class="filters" style={{ marginBottom: 0 }}>
          <div>
            <label for="ov-app">Application</label>
            <select id="ov-app" value={app} onChange={(e) => setApp((e.target as HTMLSelectElement).value)}>
              <option value="">All applications</option>
              {(apps.data ?? []).map((a) => <option key={a.app ?? a.name} value={a.app ?? a.name}>{a.app ?? a.name}</option>)}
            </select>
          </div>
          <div>
            <label for="ov-range">Time</label>
            <select id="ov-range" value={range} onChange={(e) => setRange(Number((e.target as HTMLSelectElement).value))}>
              {kRanges.map(([label], i) => <option key={label} value={i}>{label}</option>)}
            </select>
          </div>
        </div>
      </div>
      <ErrorBox error={stats.error} />
      <div class="grid-side">
        <Section title="Attacks over time">
          {s ? (
            <>
              <AttackChart series={s.series} bucket={s.bucket_s} totals={s.totals}
                           keys={["exploited", "blocked"]} title="Proofs" height={170} />
              <AttackChart series={s.series} bucket={s.bucket_s} totals={s.totals}
                           keys={["probed", "suspicious"]} title="Attempts and noise" height={170} />
            </>
          ) : !stats.error && <Loading what="the chart" />}
        </Section>
        <Section title="Open incidents by severity" actions={<Link href="/incidents?status=open">All open incidents</Link>}>
          {s && (
            <div class="sev-counts" data-testid="open-by-severity">
              {(["critical", "high", "medium", "low"] as const).map((sev) => (
                <div key={sev} class={"s-" + sev}>
                  <strong>{num(s.incidents_open?.[sev])}</strong>
                  <Link href={"/incidents?status=open&outcome=" + ({ critical: "exploited", high: "blocked", medium: "probed", low: "suspicious" })[sev]}
                        style={{ color: "#fff" }}>{sev}</Link>
                </div>
              ))}
            </div>
          )}
          {s && (
            <dl class="kv" style={{ marginTop: "16px" }}>
              <dt>Events in this period</dt>
              <dd>{num(Object.values(s.totals ?? {}).reduce((a, b) => a + Number(b || 0), 0))}</dd>
              <dt>Exploited</dt><dd>{num(s.totals?.exploited)}</dd>
              <dt>Blocked</dt><dd>{num(s.totals?.blocked)}</dd>
              <dt>Attackers (top)</dt><dd>{num(s.top_attackers.length)}</dd>
              <dt>Period</dt><dd><Time value={s.since} /> – <Time value={s.until} /></dd>
            </dl>
          )}
        </Section>
      </div>
      <div class="grid2">
        <Section title="Top rules">
          {s && (s.top_rules.length === 0 ? <p class="muted">No detections in this period.</p> : (
            <table>
              <thead><tr><th scope="col">Rule</th><th scope="col">Worst outcome</th><th scope="col" class="num">Events</th></tr></thead>
              <tbody>
                {s.top_rules.map((r) => (
                  <tr key={r.rule}>
                    <td><Link href={"/events" + qs({ rule: r.rule, app })}>{r.rule}</Link></td>
                    <td><Outcome value={r.worst_outcome} /></td>
                    <td class="num">{num(r.count)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ))}
        </Section>
        <Section title="Top attackers">
          {s && (s.top_attackers.length === 0 ? <p class="muted">No attackers in this period.</p> : (
            <table>
              <thead><tr><th scope="col">Client</th><th scope="col">Worst outcome</th><th scope="col">Applications</th><th scope="col" class="num">Events</th></tr></thead>
              <tbody>
                {s.top_attackers.map((a) => (
                  <tr key={a.client_ip}>
                    <td><Link href={"/incidents" + qs({ client_ip: a.client_ip })} class="mono">{a.client_ip}</Link></td>
                    <td><Outcome value={a.worst_outcome} /></td>
                    <td>{(a.apps ?? []).join(", ")}</td>
                    <td class="num">{num(a.count)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ))}
        </Section>
      </div>
      <Section title="Applications and sensor health">
        <ErrorBox error={apps.error || agents.error} />
        {apps.data && agents.data ? <AppHealth apps={apps.data} agents={agents.data} /> : <Loading what="applications" />}
      </Section>
    </main>
  );
}

function counter(a: any, name: string): number {
  const c = a.counters ?? {};
  return Number(c[name] ?? 0);
}

export function AppHealth({ apps, agents }: { apps: any[]; agents: any[] }) {
  if (apps.length === 0)
    return <p class="muted">No application yet: create an agent key (Users and keys) and start an agent with it.</p>;
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">Application</th><th scope="col">Sensors</th><th scope="col">Last heartbeat</th>
          <th scope="col">Mode</th><th scope="col" class="num">Drops</th><th scope="col" class="num">Fail-opens</th>
          <th scope="col" class="num">Open incidents</th><th scope="col">Worst open</th><th scope="col">Last event</th>
        </tr>
      </thead>
      <tbody>
        {apps.map((a) => {
          const name = a.app ?? a.name;
          const mine = agents.filter((g) => g.app === name);
          const quiet = mine.filter((g) => g.state !== "ok").length;
          const last = mine.reduce((m, g) => Math.min(m, Number(g.seconds_since_seen ?? Infinity)), Infinity);
          const modes = [...new Set(mine.map((g) => g.mode).filter(Boolean))].join(", ");
          // Events lost by the sensor's queue and by its shipper to vigild (heartbeat counters).
          const drops = mine.reduce((n, g) => n + counter(g, "drops") + counter(g, "ship_drops"), 0);
          const failOpens = mine.reduce((n, g) => n + counter(g, "fail_opens"), 0);
          // Connections the sensors could not read (not HTTP/1.1, TLS outside the system's
          // OpenSSL): their requests went unchecked.
          const unread = mine.reduce((n, g) => n + counter(g, "not_http") + counter(g, "tls_unseen"), 0);
          return (
            <tr key={name}>
              <td><Link href={"/apps/" + encodeURIComponent(name)}>{name}</Link></td>
              <td>
                {mine.length === 0 ? <span class="muted">none</span>
                  : <span class={quiet ? "health-bad" : "health-ok"}>{mine.length - quiet} ok{quiet ? `, ${quiet} quiet (sensor blind)` : ""}</span>}
                {unread > 0 && <span class="health-bad" title="connections whose bytes were not HTTP/1.1 or whose TLS was not decrypted through the system's OpenSSL: their requests were not checked">{`, ${num(unread)} connections not read`}</span>}
              </td>
              <td>{Number.isFinite(last) ? ago(last) : <span class="muted">never</span>}</td>
              <td>{modes || <span class="muted">—</span>}</td>
              <td class="num">{num(drops)}</td>
              <td class="num">{num(failOpens)}</td>
              <td class="num">{num(a.open_incidents)}</td>
              <td>{a.worst_open_outcome ? <Outcome value={a.worst_open_outcome} /> : <span class="muted">—</span>}</td>
              <td>{a.last_event ? ago(a.last_event) : <span class="muted">never</span>}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
