// Pieces shared by the pages.
import type { ComponentChildren, JSX } from "preact";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { ApiError } from "./api";
import { navigate } from "./router";

export function Link(props: JSX.HTMLAttributes<HTMLAnchorElement> & { href: string }) {
  const { href, onClick, ...rest } = props;
  return (
    <a
      href={href}
      onClick={(e) => {
        if (onClick) (onClick as any)(e);
        if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey) return;
        e.preventDefault();
        navigate(href);
      }}
      {...rest}
    />
  );
}

export interface Async<T> {
  data: T | undefined;
  error: string;
  loading: boolean;
  reload: () => void;
}

// Runs `load` when `deps` change; keeps the last data while reloading.
export function useAsync<T>(load: () => Promise<T>, deps: unknown[]): Async<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState("");
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const seq = useRef(0);
  useEffect(() => {
    const mine = ++seq.current;
    setLoading(true);
    load().then(
      (d) => {
        if (mine !== seq.current) return;
        setData(d);
        setError("");
        setLoading(false);
      },
      (e) => {
        if (mine !== seq.current) return;
        setError(errorText(e));
        setLoading(false);
      });
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, loading, reload };
}

export function errorText(e: unknown): string {
  if (e instanceof ApiError) return e.message + (e.field ? ` (${e.field})` : "");
  if (e instanceof Error) return e.message;
  return String(e);
}

export function ErrorBox({ error }: { error: string }) {
  if (!error) return null;
  return <div class="error" role="alert">{error}</div>;
}

export function Loading({ what }: { what: string }) {
  return <p class="muted" role="status">Loading {what}…</p>;
}

export function Outcome({ value }: { value: string }) {
  return <span class={"badge o-" + value}>{value}</span>;
}

export function Severity({ value }: { value: string }) {
  return <span class={"badge s-" + value}>{value}</span>;
}

export function Status({ value }: { value: string }) {
  return <span class={"badge st-" + value}>{value.replace("_", " ")}</span>;
}

// One formatter each: toLocaleString() builds a new one per call, which shows in a list of 100
// rows on a slow machine.
const kDateTime = new Intl.DateTimeFormat(undefined, {
  year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
  second: "2-digit", hour12: false });
const kNumber = new Intl.NumberFormat("en-US");

export function Time({ value }: { value?: string }) {
  if (!value) return <span class="muted">—</span>;
  return <time dateTime={value} title={value}>{kDateTime.format(new Date(value))}</time>;
}

export function ago(value?: string | number): string {
  if (value === undefined || value === "") return "never";
  const s = typeof value === "number" ? value : (Date.now() - Date.parse(value)) / 1000;
  if (s < 60) return `${Math.max(0, Math.round(s))} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

export function num(n: number | undefined): string {
  return kNumber.format(n ?? 0);
}

export function Section(props: { title: string; children: ComponentChildren; id?: string;
                                 actions?: ComponentChildren }) {
  const id = props.id ?? "s-" + props.title.toLowerCase().replace(/[^a-z0-9]+/g, "-");
  return (
    <section class="card" aria-labelledby={id}>
      <div class="card-head">
        <h2 id={id}>{props.title}</h2>
        {props.actions}
      </div>
      {props.children}
    </section>
  );
}

// A message shown for a few seconds after an action (role=status: screen readers announce it).
export function useNotice(): [string, (s: string) => void] {
  const [text, setText] = useState("");
  const timer = useRef<number>();
  const show = useCallback((s: string) => {
    setText(s);
    window.clearTimeout(timer.current);
    timer.current = window.setTimeout(() => setText(""), 8000);
  }, []);
  return [text, show];
}

export function Notice({ text }: { text: string }) {
  return <div class="notice" role="status" aria-live="polite">{text}</div>;
}

export const kOutcomes = ["exploited", "blocked", "probed", "suspicious"] as const;
export const kStatuses = ["open", "acknowledged", "resolved", "false_positive"] as const;

// ATT&CK techniques for each rule family (the event carries the CWE; the technique is ours).
const kAttack: Record<string, [string, string][]> = {
  "sql-injection": [["T1190", "Exploit Public-Facing Application"]],
  "command-injection": [["T1190", "Exploit Public-Facing Application"],
                        ["T1059.004", "Command and Scripting Interpreter: Unix Shell"]],
  "argument-injection": [["T1190", "Exploit Public-Facing Application"],
                         ["T1059", "Command and Scripting Interpreter"]],
  "code-injection": [["T1190", "Exploit Public-Facing Application"],
                     ["T1059", "Command and Scripting Interpreter"]],
  "path-traversal": [["T1190", "Exploit Public-Facing Application"],
                     ["T1083", "File and Directory Discovery"]],
  ssrf: [["T1190", "Exploit Public-Facing Application"], ["T1090", "Proxy"]],
  xss: [["T1189", "Drive-by Compromise"]],
  "header-injection": [["T1190", "Exploit Public-Facing Application"]],
  "open-redirect": [["T1566.002", "Phishing: Spearphishing Link"]],
  scanner: [["T1595.002", "Active Scanning: Vulnerability Scanning"]],
};

export function attackTechniques(rule: string): [string, string][] {
  const family = rule.split(".")[0];
  return kAttack[family] ?? (family ? [["T1595", "Active Scanning"]] : []);
}

export function AttackLinks({ rule }: { rule: string }) {
  const t = attackTechniques(rule);
  if (!t.length) return <span class="muted">—</span>;
  return <span>{t.map(([id, name], i) => <span key={id}>{i ? ", " : ""}<abbr title={name}>{id}</abbr> {name}</span>)}</span>;
}
