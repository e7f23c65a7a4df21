// One event in full: the request, the input, and for a sink detection the operation with the
// input's span highlighted, the tokens it created, the stack, CWE and ATT&CK.
import { AttackLinks, Outcome, Severity, Time } from "./ui";

// The span's offsets count UTF-8 bytes of the operation (docs/events.md); JavaScript strings
// count UTF-16 units, so cut the bytes.
export function splitSpan(value: string, begin: number, end: number): [string, string, string] | null {
  const bytes = new TextEncoder().encode(value);
  if (!(begin >= 0 && end > begin && end <= bytes.length)) return null;
  const d = new TextDecoder();
  return [d.decode(bytes.slice(0, begin)), d.decode(bytes.slice(begin, end)), d.decode(bytes.slice(end))];
}

export function SinkValue({ event }: { event: any }) {
  const sink = event.sink;
  if (!sink || typeof sink.value !== "string") return null;
  let parts: [string, string, string] | null = null;
  if (sink.span && typeof sink.span.begin === "number")
    parts = splitSpan(sink.value, sink.span.begin, sink.span.end);
  if (!parts && event.input?.value) {
    const at = sink.value.indexOf(event.input.value);
    if (at >= 0) parts = [sink.value.slice(0, at), event.input.value,
                          sink.value.slice(at + event.input.value.length)];
  }
  const kind = sink.type === "sql" ? `SQL query${sink.dialect ? " (" + sink.dialect + ")" : ""}`
             : sink.type === "shell" ? "shell command" : sink.type === "exec" ? "program and arguments"
             : sink.type === "path" ? "file path" : sink.type === "url" ? "outbound URL"
             : sink.type === "html" ? "HTML written back" : sink.type;
  return (
    <div>
      <h3>The operation the input changed: {kind}{sink.function ? <span class="muted"> — {sink.function}()</span> : null}</h3>
      <pre class="sink" data-testid="sink-value" aria-label={`${kind}, the attacker's input highlighted`}>
        {parts ? <>{parts[0]}<mark data-testid="input-highlight">{parts[1]}</mark>{parts[2]}</> : sink.value}
      </pre>
      {sink.value_truncated && <p class="hint">The operation was longer; it was cut at 4 KiB.</p>}
    </div>
  );
}

export function EventDetail({ event }: { event: any }) {
  if (!event) return null;
  const req = event.request ?? {}, input = event.input, expl = event.explanation ?? {};
  return (
    <div class="event-detail" data-event={event.event_id}>
      <div class="actions" style={{ alignItems: "center", marginBottom: "8px" }}>
        <Outcome value={event.outcome} /> <Severity value={event.severity ?? ""} />
        <strong>{event.rule}</strong>
        <span class="muted">{event.cwe}</span>
        <Time value={event.time} />
      </div>
      {expl.reason && <p><strong>Why:</strong> {expl.reason}{input ? <> (input <code>{input.source}:{input.name}</code>)</> : null}.</p>}
      <SinkValue event={event} />
      {Array.isArray(expl.tokens) && expl.tokens.length > 0 && (
        <>
          <h3>Tokens the input created or crossed</h3>
          <ul class="tokens" aria-label="tokens">
            {expl.tokens.map((t: any, i: number) => (
              <li key={i}><span class="muted">{t.kind}</span> <code>{t.text}</code></li>
            ))}
          </ul>
        </>
      )}
      {expl.evidence && <p><strong>Evidence:</strong> <code>{expl.evidence}</code></p>}
      <h3>Request</h3>
      <dl class="kv">
        <dt>Request</dt><dd class="mono">{req.method} {req.path}</dd>
        <dt>Client</dt><dd class="mono">{req.client_ip}</dd>
        <dt>User-Agent</dt><dd class="mono">{req.user_agent || "—"}</dd>
        {input && <><dt>Input</dt><dd><code>{input.source}:{input.name}</code> = <code>{input.value}</code>
          {input.form && input.form !== "raw" ? <span class="muted"> (decoded: {input.form})</span> : null}
          {input.value_truncated ? <span class="muted"> (truncated)</span> : null}</dd></>}
        <dt>CWE</dt><dd>{event.cwe || "—"}</dd>
        <dt>ATT&amp;CK</dt><dd><AttackLinks rule={event.rule ?? ""} /></dd>
        <dt>Mode</dt><dd>{event.mode || "—"}</dd>
        {event.note && <><dt>Note</dt><dd>{event.note}</dd></>}
        <dt>Event id</dt><dd class="mono">{event.event_id}</dd>
        {event.agent && <><dt>Agent</dt><dd>pid {event.agent.pid}, version {event.agent.version}</dd></>}
      </dl>
      {Array.isArray(event.stack) && event.stack.length > 0 && (
        <>
          <h3>Stack trace</h3>
          <ol class="stack mono">
            {event.stack.map((f: any, i: number) => (
              <li key={i}>{f.function || f.address || "?"}{f.file ? ` — ${f.file}:${f.line ?? "?"}` : ""}{f.module ? <span class="muted"> ({f.module})</span> : null}</li>
            ))}
          </ol>
        </>
      )}
    </div>
  );
}
