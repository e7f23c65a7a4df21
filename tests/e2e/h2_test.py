#!/usr/bin/env python3
"""HTTP/2 under the agent, at the protocol's level (the battery, e2e.battery.node-h2, asks one
request per connection with curl). The Node.js shop serves h2c (http2's compatibility API); the
client is python3-h2, which encodes fields with HPACK's Huffman code and dynamic table:
  - monitor mode, one connection, streams in flight at once: a benign and an attacking ping, a
    benign greeting and a reflected XSS, a traversal: every benign answer as without the agent,
    each attack's exploited event names its own stream's request (its User-Agent and input), no
    event for a benign stream;
  - block mode: a header block split over CONTINUATION frames (a 20 KB field) carrying a
    traversal gets a 403 on its stream, an X-Vigil-Event naming a blocked event, and a GOAWAY
    that names the stream, after which the connection ends; an attack in a padded request body
    sent in three DATA frames is blocked the same way; a benign stream on the same connection
    before the attack is answered normally;
  - a stream the specification calls malformed (an upper-case field name) is refused by Node
    (a stream reset) and counted by the agent as a fail-open; no connection counted not_http;
  - h2 over TLS (ALPN), the program's own TLS through the system's OpenSSL (tests/e2e/h2shop.py
    --tls: python3-h2 and the ssl module): in monitor mode a reflected XSS and a traversal give
    exploited events (the response read through SSL_write_ex), in block mode the 403 and GOAWAY
    arrive as TLS records;
  - h2c reached by "Upgrade: h2c" (h2shop.py --upgrade, curl --http2 with two URLs on one
    connection: the first upgrades, the second is stream 3): the second request's XSS is an
    exploited event in monitor mode and a 403 in block mode, the upgrade request's own answer
    (stream 1, written with the 101) is the bare server's; no connection counted not_http.
Loopback only; every process started here is stopped here.

usage: h2_test.py --build BUILD_DIR
"""
import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shoplib  # noqa: E402

try:
    import h2.config
    import h2.connection
    import h2.events
except ImportError:
    shoplib.skip("python3-h2 (Debian) is not installed: no HTTP/2 client")

check = shoplib.Checks()


class Client:
    """One HTTP/2 connection (prior knowledge) with blocking reads."""

    def __init__(self, port, validate=True, tls=None):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        if tls is not None:
            self.sock = tls.wrap_socket(self.sock, server_hostname="localhost")
            if self.sock.selected_alpn_protocol() != "h2":
                raise RuntimeError("the TLS server did not choose h2")
        config = h2.config.H2Configuration(client_side=True, header_encoding="utf-8",
                                           validate_outbound_headers=validate,
                                           normalize_outbound_headers=validate)
        self.conn = h2.connection.H2Connection(config)
        self.conn.initiate_connection()
        self.flush()
        self.responses = {}  # stream -> {"status", "headers", "body", "ended", "reset"}
        self.goaway = None   # last_stream_id of a GOAWAY
        self.closed = False

    def flush(self):
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def request(self, method, path, agent, fields=(), body=None, chunks=1, padding=0, end=True):
        sid = self.conn.get_next_available_stream_id()
        headers = [(":method", method), (":scheme", "http"), (":path", path),
                   (":authority", "127.0.0.1"), ("user-agent", agent)] + list(fields)
        if body is not None:
            headers.append(("content-type", "application/x-www-form-urlencoded"))
        self.conn.send_headers(sid, headers, end_stream=body is None and end)
        if body is not None:
            step = max(1, (len(body) + chunks - 1) // chunks)
            for at in range(0, len(body), step):
                last = at + step >= len(body)
                self.conn.send_data(sid, body[at:at + step], end_stream=last, pad_length=padding or None)
        self.responses[sid] = {"status": None, "headers": {}, "body": b"", "ended": False, "reset": None}
        return sid

    def receive(self):
        """One read; False when nothing more will come (the end, or the timeout)."""
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return False
        if not data:
            self.closed = True
            return False
        for ev in self.conn.receive_data(data):
            r = self.responses.get(getattr(ev, "stream_id", None))
            if isinstance(ev, h2.events.ResponseReceived) and r is not None:
                r["headers"] = dict(ev.headers)
                r["status"] = int(r["headers"].get(":status", 0))
            elif isinstance(ev, h2.events.DataReceived):
                if r is not None:
                    r["body"] += ev.data
                self.conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
            elif isinstance(ev, h2.events.StreamEnded) and r is not None:
                r["ended"] = True
            elif isinstance(ev, h2.events.StreamReset) and r is not None:
                r["reset"] = ev.error_code
            elif isinstance(ev, h2.events.ConnectionTerminated):
                self.goaway = ev.last_stream_id
        self.flush()
        return True

    def wait(self, streams, timeout=15):
        """Reads until every stream in `streams` ended or was reset, or the connection ended."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(self.responses[s]["ended"] or self.responses[s]["reset"] is not None for s in streams):
                return
            if not self.receive():
                return

    def wait_closed(self, timeout=5):
        """Reads until the server ends the connection; True when it did."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.receive():
            pass
        return self.closed

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def start(args, work, mode, command=None, tag=None):
    port = shoplib.free_port()
    tag = tag or mode
    status = os.path.join(work, tag + "-status.json")
    events = os.path.join(work, tag + "-events.jsonl")
    if command is None:
        command = shoplib.shop_command("node-h2", args.build, port, os.path.join(work, "data"))
    else:
        command = [str(port) if a == "{port}" else a for a in command]
    shop = shoplib.Shop(command, port, vigil=os.path.join(args.build, "bin", "vigil"), agent_mode=mode,
                        events=events, app="h2-" + tag, env={"VIGIL_STATUS": status},
                        log=os.path.join(work, tag + ".log"))
    # wait_ready's probe is an HTTP/1.1 request the h2c server refuses: poll the port instead.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.2)
    return shop, port, status, events


def h2shop(work, data, *mode):
    """The argv of tests/e2e/h2shop.py ("{port}" is replaced by start())."""
    return [sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "h2shop.py"),
            "{port}", os.path.join(work, data)] + list(mode)


def by_agent(events):
    out = {}
    for e in events:
        out.setdefault(e["request"].get("user_agent", ""), []).append(e)
    return out


def monitor(args, work):
    print("== monitor mode: concurrent streams on one connection")
    shop, port, status, events_path = start(args, work, "monitor")
    try:
        c = Client(port)
        cases = [
            ("ping-ok", "/ping?host=127.0.0.1", None),
            ("ping-attack", "/ping?host=127.0.0.1%3Bid", "command-injection"),
            ("hello-ok", "/hello?name=alice", None),
            ("hello-attack", "/hello?name=%3Cscript%3Ealert(1)%3C%2Fscript%3E", "xss"),
            ("download-attack", "/download?file=..%2F..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd", "path-traversal"),
            ("download-ok", "/download?file=manual.txt", None),
        ]
        streams = {}
        for name, path, _ in cases:  # all sent before any answer is read
            streams[name] = c.request("GET", path, "h2-" + name)
        c.flush()
        c.wait(list(streams.values()))
        c.close()
        answers = {n: c.responses[s] for n, s in streams.items()}
        check(answers["hello-ok"]["status"] == 200 and b"Hello, alice!" in answers["hello-ok"]["body"],
              "the benign greeting is answered (%s)" % answers["hello-ok"]["status"])
        check(answers["download-ok"]["status"] == 200 and b"desk lamp" in answers["download-ok"]["body"],
              "the benign download is answered (%s)" % answers["download-ok"]["status"])
        check(answers["ping-ok"]["status"] == 200 and b"127.0.0.1" in answers["ping-ok"]["body"],
              "the benign ping is answered (%s)" % answers["ping-ok"]["status"])
        check(all(a["ended"] for a in answers.values()), "every stream ended")

        def settled(evs):
            got = by_agent(evs)
            return all(any(e["outcome"] == "exploited" and e["rule"] == rule for e in got.get("h2-" + n, []))
                       for n, _, rule in cases if rule)
        events = shoplib.wait_events(events_path, settled, timeout=10)
        got = by_agent(events)
        for name, path, rule in cases:
            mine = got.get("h2-" + name, [])
            if rule is None:
                bad = [e for e in mine if e["outcome"] in ("exploited", "blocked")]
                check(not bad, "%s: no exploited event (%s)" % (name, [e["rule"] for e in bad]))
                continue
            hit = [e for e in mine if e["outcome"] == "exploited" and e["rule"] == rule]
            check(bool(hit), "%s: an exploited %s event of its own request (%s)"
                  % (name, rule, sorted((e["outcome"], e["rule"]) for e in mine)))
            if hit:
                check(hit[0]["request"]["path"] == path.split("?")[0],
                      "%s: the event names the path %s (%s)" % (name, path.split("?")[0], hit[0]["request"]["path"]))
        st = shoplib.status_when(status, lambda s: s.get("requests", 0) >= len(cases))
        check(st.get("not_http") == 0, "no connection counted not_http (%s)" % st.get("not_http"))
    finally:
        shop.stop()


def block(args, work):
    print("== block mode: CONTINUATION, padded DATA, GOAWAY")
    shop, port, status, events_path = start(args, work, "block")
    try:
        # A benign stream first, answered; then a traversal whose header block (a 20 KB field)
        # is longer than a frame: HEADERS + CONTINUATION.
        c = Client(port)
        ok = c.request("GET", "/hello?name=bob", "h2-first")
        c.flush()
        c.wait([ok])
        check(c.responses[ok]["status"] == 200, "the benign stream before the attack is answered (%s)"
              % c.responses[ok]["status"])
        attack = c.request("GET", "/download?file=..%2F..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd",
                           "h2-continuation", fields=[("x-pad", "a" * 20000)])
        c.flush()
        c.wait([attack])
        r = c.responses[attack]
        event_id = r["headers"].get("x-vigil-event", "")
        check(r["status"] == 403 and r["ended"], "the CONTINUATION attack gets a 403 on its stream (%s)"
              % r["status"])
        check(c.goaway == attack, "GOAWAY names the attack's stream (%s, %s)" % (c.goaway, attack))
        check(c.wait_closed(), "the connection ends after the GOAWAY")
        c.close()

        # An attack in a request body in three padded DATA frames.
        c = Client(port)
        sid = c.request("POST", "/ping", "h2-body", body=b"host=127.0.0.1%3Bid&mode=x", chunks=3, padding=7)
        c.flush()
        c.wait([sid])
        body_403 = c.responses[sid]
        check(body_403["status"] == 403, "the attack in padded DATA frames gets a 403 (%s)" % body_403["status"])
        c.close()

        # A malformed stream: Node refuses it; the agent counts it as not read.
        c = Client(port, validate=False)
        bad = c.request("GET", "/hello?name=x", "h2-malformed", fields=[("X-Upper", "1")])
        c.flush()
        c.wait([bad], timeout=5)
        check(c.responses[bad]["reset"] is not None or c.closed,
              "Node refuses the malformed stream (reset %s)" % c.responses[bad]["reset"])
        c.close()

        def settled(evs):
            got = by_agent(evs)
            return all(any(e["outcome"] == "blocked" for e in got.get(a, []))
                       for a in ("h2-continuation", "h2-body"))
        events = shoplib.wait_events(events_path, settled, timeout=10)
        named = [e for e in events if e["event_id"] == event_id]
        check(bool(named) and named[0]["outcome"] == "blocked" and named[0]["rule"] == "path-traversal",
              "X-Vigil-Event names the blocked path-traversal event (%s)"
              % [(e["outcome"], e["rule"]) for e in named])
        got = by_agent(events)
        check(any(e["outcome"] == "blocked" and e["rule"] == "command-injection"
                  and e["input"]["source"] == "body" for e in got.get("h2-body", [])),
              "the body's command injection is a blocked event with a body input (%s)"
              % [(e["outcome"], e["rule"], e["input"]["source"]) for e in got.get("h2-body", [])])
        check(not got.get("h2-first"), "no event for the benign stream")
        st = shoplib.status_when(status, lambda s: s.get("fail_opens", 0) >= 1)
        check(st.get("fail_opens") == 1, "the malformed stream is counted as a fail-open (%s)"
              % st.get("fail_opens"))
        check(st.get("not_http") == 0, "no connection counted not_http (%s)" % st.get("not_http"))
    finally:
        shop.stop()


def tls(args, work):
    print("== h2 over TLS (ALPN), the program's TLS through the system's OpenSSL")
    cert, key = shoplib.tls_pair(os.path.join(work, "tls"))
    context = shoplib.client_tls()
    context.set_alpn_protocols(["h2"])
    command = h2shop(work, "tls-data", "--tls", cert, key)
    xss = "/hello?name=%3Cscript%3Ealert(1)%3C%2Fscript%3E"
    traversal = "/download?file=..%2F..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd"
    for mode in ("monitor", "block"):
        shop, port, status, events_path = start(args, work, mode, command, "tls-" + mode)
        try:
            c = Client(port, tls=context)
            ok = c.request("GET", "/hello?name=bob", "h2tls-ok")
            c.flush()
            c.wait([ok])
            check(c.responses[ok]["status"] == 200 and b"Hello, bob!" in c.responses[ok]["body"],
                  "%s: a benign request over h2 and TLS is answered (%s)" % (mode, c.responses[ok]["status"]))
            if mode == "monitor":
                s1 = c.request("GET", xss, "h2tls-xss")
                s2 = c.request("GET", traversal, "h2tls-traversal")
                c.flush()
                c.wait([s1, s2])
                c.close()
                check(c.responses[s1]["status"] == 200 and c.responses[s2]["status"] == 200,
                      "monitor: the attacks are answered (%s, %s)"
                      % (c.responses[s1]["status"], c.responses[s2]["status"]))
                want = {"h2tls-xss": "xss", "h2tls-traversal": "path-traversal"}
                events = shoplib.wait_events(events_path, lambda evs: all(
                    any(e["outcome"] == "exploited" and e["rule"] == r for e in by_agent(evs).get(a, []))
                    for a, r in want.items()), timeout=10)
                got = by_agent(events)
                for a, r in want.items():
                    hit = [e for e in got.get(a, []) if e["outcome"] == "exploited" and e["rule"] == r]
                    check(bool(hit), "monitor: %s gives an exploited %s event (at %s)"
                          % (a, r, hit[0]["sink"]["function"] if hit else None))
                check(not got.get("h2tls-ok"), "monitor: no event for the benign request")
            else:
                s1 = c.request("GET", xss, "h2tls-xss")
                c.flush()
                c.wait([s1])
                r = c.responses[s1]
                check(r["status"] == 403 and r["headers"].get("x-vigil-event"),
                      "block: the XSS gets a 403 over TLS (%s)" % r["status"])
                check(c.goaway == s1 and c.wait_closed(), "block: GOAWAY names the stream, then the end")
                c.close()
            st = shoplib.status_when(status, lambda s: s.get("requests", 0) >= 2)
            check(st.get("tls_unseen") == 0 and st.get("not_http") == 0,
                  "%s: the TLS is seen and read as HTTP/2 (tls_unseen %s, not_http %s)"
                  % (mode, st.get("tls_unseen"), st.get("not_http")))
        finally:
            shop.stop()


def upgrade(args, work):
    print("== h2c by Upgrade (curl --http2)")
    curl = shoplib.tool("curl")
    if curl is None:
        print("  skip: curl is not installed")
        return
    command = h2shop(work, "upgrade-data", "--upgrade")
    xss = "/hello?name=%3Cscript%3Ealert(1)%3C%2Fscript%3E"
    for mode in ("monitor", "block"):
        shop, port, status, events_path = start(args, work, mode, command, "upgrade-" + mode)
        try:
            base = "http://127.0.0.1:%d" % port
            out = subprocess.run([curl, "-sS", "--http2", "-A", "h2up-" + mode, "-w", "|%{http_code} %{http_version}\n",
                                  base + "/hello?name=bob", base + xss], capture_output=True, text=True, timeout=30)
            answers = [line.rsplit("|", 1)[1].split() for line in out.stdout.splitlines() if "|" in line]
            check(len(answers) == 2 and answers[0] == ["200", "2"] and "Hello, bob!" in out.stdout,
                  "%s: the upgrade request is answered over the new protocol (%s)" % (mode, answers))
            want = "403" if mode == "block" else "200"
            check(len(answers) == 2 and answers[1] == [want, "2"],
                  "%s: the XSS on stream 3 is answered %s over HTTP/2 (%s)" % (mode, want, answers[1:]))
            outcome = "blocked" if mode == "block" else "exploited"
            events = shoplib.wait_events(events_path, lambda evs: any(
                e["outcome"] == outcome and e["rule"] == "xss" for e in evs), timeout=10)
            hit = [e for e in events if e["outcome"] == outcome and e["rule"] == "xss"]
            check(bool(hit) and hit[0]["request"]["path"] == "/hello",
                  "%s: a %s xss event for the request after the upgrade (%s)"
                  % (mode, outcome, [(e["outcome"], e["rule"]) for e in events]))
            st = shoplib.status_when(status, lambda s: s.get("requests", 0) >= 2)
            check(st.get("requests") == 2 and st.get("not_http") == 0,
                  "%s: both requests read, no connection counted not_http (requests %s, not_http %s)"
                  % (mode, st.get("requests"), st.get("not_http")))
        finally:
            shop.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    args = ap.parse_args()
    if shoplib.tool("node") is None and shoplib.tool("nodejs") is None:
        shoplib.skip("node (Debian nodejs) is not installed")
    work = tempfile.mkdtemp(prefix="vigil-e2e-h2-")
    monitor(args, work)
    block(args, work)
    tls(args, work)
    upgrade(args, work)
    return check.finish(work)


if __name__ == "__main__":
    sys.exit(main())
