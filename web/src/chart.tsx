// Attacks over time, stacked by outcome: a hand-drawn SVG (no chart library to ship).
import { num } from "./ui";

const kOrder = ["exploited", "blocked", "probed", "suspicious"] as const;
const kColours: Record<string, string> = {
  exploited: "#b3261e", blocked: "#6a3fb5", probed: "#c27c0e", suspicious: "#8c959f",
};

interface Point { t: string; exploited: number; blocked: number; probed: number; suspicious: number }

type Outcome = (typeof kOrder)[number];

// `keys`: the outcomes stacked in this chart. The overview draws proofs (exploited, blocked) and
// noise (probed, suspicious) in two charts with their own scales: a handful of exploits would
// be invisible under a hundred thousand probes on one scale.
export function AttackChart({ series, bucket, totals, keys = kOrder, title, height = 240 }: {
  series: Point[]; bucket: number; totals: Record<string, number>; keys?: readonly Outcome[];
  title?: string; height?: number }) {
  const W = 900, H = height, L = 56, B = 26, T = 8, R = 8;
  const max = Math.max(1, ...series.map((p) => keys.reduce((n, k) => n + (p[k] || 0), 0)));
  const step = niceStep(max);
  const top = Math.ceil(max / step) * step;
  const n = Math.max(series.length, 1);
  const bw = (W - L - R) / n;
  const y = (v: number) => T + (H - T - B) * (1 - v / top);
  const labelEvery = Math.max(1, Math.ceil(n / 8));
  const fmt = (t: string) => {
    const d = new Date(t);
    return bucket >= 86400 ? d.toLocaleDateString(undefined, { month: "short", day: "numeric" })
                           : d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit", hour12: false });
  };
  const ticks: number[] = [];
  for (let v = 0; v <= top; v += step) ticks.push(v);
  const described = keys.map((k) => `${num(totals?.[k])} ${k}`).join(", ");
  return (
    <figure class="chart" style={{ margin: 0 }}>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${title ?? "Attacks over time"}: ${described}`}>
        {ticks.map((v) => (
          <g key={v}>
            <line x1={L} x2={W - R} y1={y(v)} y2={y(v)} stroke="#d0d7de" stroke-width="1" />
            <text x={L - 6} y={y(v) + 4} text-anchor="end" font-size="11" fill="#57606a">{num(v)}</text>
          </g>
        ))}
        {series.map((p, i) => {
          let acc = 0;
          const x = L + i * bw;
          return (
            <g key={p.t}>
              <title>{`${fmt(p.t)}: ${keys.map((k) => `${p[k] || 0} ${k}`).join(", ")}`}</title>
              {keys.map((k) => {
                const v = p[k] || 0;
                if (!v) return null;
                const y0 = y(acc), y1 = y(acc + v);
                acc += v;
                return <rect key={k} x={x + bw * 0.1} width={Math.max(1, bw * 0.8)} y={y1}
                             height={Math.max(1, y0 - y1)} fill={kColours[k]} />;
              })}
              {i % labelEvery === 0 && (
                <text x={x + bw / 2} y={H - 8} text-anchor="middle" font-size="11" fill="#57606a">{fmt(p.t)}</text>
              )}
            </g>
          );
        })}
        <line x1={L} x2={W - R} y1={y(0)} y2={y(0)} stroke="#57606a" />
      </svg>
      <figcaption>
        <ul class="legend">
          {title && <li><strong>{title}</strong></li>}
          {keys.map((k) => (
            <li key={k}><span style={{ background: kColours[k] }} aria-hidden="true" />{k}: <strong>{num(totals?.[k])}</strong></li>
          ))}
        </ul>
      </figcaption>
    </figure>
  );
}

function niceStep(max: number): number {
  const raw = max / 4;
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return Math.max(1, m * p);
  return Math.max(1, 10 * p);
}
