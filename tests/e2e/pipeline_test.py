#!/usr/bin/env python3
"""HTTP/1.1 pipelining: requests a client sends before the responses to the earlier ones are
each checked as themselves. A benign request and an attack sent in one write used to let the
attack through: the agent took the second request for the current one, the first response's end
then ended it, and its sink calls went unchecked. Each shop that answers pipelined requests runs
under `vigil run`, on 127.0.0.1, with three pipelines on one connection each:

  sql      (block)    a benign search, then a search whose input breaks out of the SQL string
                      literal and that only the sink check convicts (lamp'||'): the first answer
                      is the shop's, the second a 403 with an event.
  xss      (monitor)  a benign greeting, then a greeting that reflects markup: an exploited
                      html-sink event for the second request.
  head     (monitor)  HEAD of a greeting (its response has Content-Length and no body), then
                      the reflecting greeting: the same event, its response checked as its own.
  odd      (block)    requests a server may serve though they bend HTTP/1.1 (tabs between the
                      words of the request line, a space after it, a long or non-ASCII method, a
                      70 KB header block), each followed on its connection by the injection:
                      when the shop serves the odd one, the injection must still be blocked.
                      (The agent used to stop reading a connection at a request it could not
                      parse: Python's server and WEBrick then ran the injection.)
  slow     (block)    a search whose head announces a body that never comes (a GET handler does
                      not wait for it), with the injection: blocked at its sink; and a login form
                      whose body (an injection) comes half a second after its head: blocked when
                      it has come. (The agent used to start a request only when its body was
                      whole: the search's injection ran unchecked on the Python and Java shops.)
                      In monitor mode, a benign login sent the same way is answered as usual.
  smuggle  (both)     a search with two Content-Length values that differ (request smuggling),
                      then, on the same connection, the injection: blocked with a 403 in block
                      mode; in monitor mode reported, and the agent still reads the connection:
                      when the shop answers it (Python's and Ruby's servers read the first
                      length), the injection that follows is exploited and reported. (The agent
                      used to stop reading a connection at such a request.) Then a search
                      announcing a chunked body whose bytes are a request (with the injection):
                      blocked in block mode; in monitor mode a server that does not decode
                      chunked bodies (Python's) runs that request, and the agent sees it run.

usage: pipeline_test.py --build BUILD_DIR [--runtime py|node|php|java|ruby|ruby-puma|all]
"""
import argparse
import json
import os
import shutil
import socket
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shoplib  # noqa: E402

FAILURES = []
BENIGN_SEARCH = "/search?q=lamp"
SINK_ONLY_SQLI = "/search?q=lamp%27%7C%7C%27"  # lamp'||' : input analysis finds it clean
BENIGN_HELLO = "/hello?name=Ada"
XSS_HELLO = "/hello?name=%3Cb%20onclick%3Dalert(1)%3Ex%3C%2Fb%3E"
# The shops that answer pipelined requests (the C++ demo shop's cpp-httplib and the C shop
# read one request per read and drop what follows; node has no /search).
RUNTIMES = ["py", "node", "php", "java", "ruby", "ruby-puma"]
NO_SEARCH = {"node"}
# BaseHTTPRequestHandler without do_HEAD: a 501, and the connection closes.
NO_HEAD = {"py"}
# nginx reads the HTTP and hands PHP-FPM FastCGI: it refuses two lengths itself (400), and the
# agent, in PHP-FPM, never sees them.
BEHIND_WEB_SERVER = {"php"}


def check(cond, msg):
    print(("  ok   " if cond else "FAIL: ") + msg, flush=True)
    if not cond:
        FAILURES.append(msg)


def raw_request(method, target, agent, extra=""):
    return ("%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: %s\r\nAccept: text/html\r\n%s\r\n"
            % (method, target, agent, extra)).encode()


SMUGGLING = "Content-Length: 0\r\nContent-Length: 1\r\n"


def one_by_one(port, requests):
    """Sends `requests` [(method, target, agent, extra)] on one connection, each after the
    response to the one before; returns the responses read (fewer when the connection ends)."""
    out = []
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        for method, target, agent, extra in requests:
            try:
                s.sendall(raw_request(method, target, agent, extra))
            except OSError:
                break
            got = read_responses(s, [method])
            if not got:
                break
            out += got
    return out


def read_responses(sock, methods, timeout=10):
    """Reads one response per entry of `methods` (HEAD ones have no body) from `sock`; returns
    [(status, body)] for those that came whole before the connection ended or `timeout`."""
    data = b""
    out = []
    deadline = time.monotonic() + timeout
    sock.settimeout(0.5)
    closed = False
    while len(out) < len(methods) and time.monotonic() < deadline:
        end = data.find(b"\r\n\r\n")
        if end >= 0:
            head = data[:end].decode("latin-1").split("\r\n")
            status = int(head[0].split()[1])
            fields = {k.strip().lower(): v.strip() for k, v in
                      (line.split(":", 1) for line in head[1:] if ":" in line)}
            length = 0 if methods[len(out)] == "HEAD" else fields.get("content-length")
            body_at = end + 4
            if length is not None and len(data) >= body_at + int(length):
                out.append((status, data[body_at:body_at + int(length)]))
                data = data[body_at + int(length):]
                continue
            if length is None and fields.get("transfer-encoding", "").lower() == "chunked":
                body, rest = dechunk(data[body_at:])
                if body is not None:
                    out.append((status, body))
                    data = rest
                    continue
            if length is None and closed:  # delimited by the connection's end
                out.append((status, data[body_at:]))
                data = b""
                continue
        if closed:
            break
        try:
            more = sock.recv(65536)
        except socket.timeout:
            continue
        except ConnectionResetError:  # a blocked connection the program closed unread: its end
            more = b""
        if not more:
            closed = True
        data += more
    return out


def dechunk(data):
    body = b""
    while True:
        line_end = data.find(b"\r\n")
        if line_end < 0:
            return None, data
        size = int(data[:line_end].split(b";")[0], 16)
        if len(data) < line_end + 2 + size + 2:
            return None, data
        body += data[line_end + 2:line_end + 2 + size]
        data = data[line_end + 2 + size + 2:]
        if size == 0:
            return body, data


def pipeline(port, requests):
    """Sends `requests` [(method, target, agent)] in one write; returns the responses read."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"".join(raw_request(m, t, a) for m, t, a in requests))
        return read_responses(s, [m for m, _, _ in requests])


def events_of(path):
    try:
        with open(path) as f:
            return [json.loads(line) for line in f if line.strip()]
    except OSError:
        return []


def run(args, runtime, work):
    print("== %s" % runtime)
    for mode in ("block", "monitor"):
        if mode == "block" and runtime in NO_SEARCH:
            continue
        port = shoplib.free_port()
        events = os.path.join(work, "%s-%s-events.jsonl" % (runtime, mode))
        data = os.path.join(work, "%s-%s-data" % (runtime, mode))
        shop = shoplib.Shop(shoplib.shop_command(runtime, args.build, port, data), port,
                            vigil=os.path.join(args.build, "bin", "vigil"), agent_mode=mode,
                            events=events, app="pipeline-" + runtime,
                            log=os.path.join(work, "%s-%s.log" % (runtime, mode)))
        try:
            shop.wait_ready(timeout=60)
            if runtime not in NO_SEARCH and runtime not in BEHIND_WEB_SERVER:
                smuggle(port, mode, events)
                slow(port, mode, events)
            if mode == "block" and runtime not in NO_SEARCH:
                odd(port)
            if mode == "block":
                got = pipeline(port, [("GET", BENIGN_SEARCH, "pipe-sql-a"),
                                      ("GET", SINK_ONLY_SQLI, "pipe-sql-b")])
                check(len(got) == 2 and got[0][0] == 200 and b"lamp" in got[0][1],
                      "sql: the benign search is answered by the shop (%s)" %
                      [(st, len(b)) for st, b in got])
                check(len(got) == 2 and got[1][0] == 403,
                      "sql: the pipelined injection is blocked with a 403 (%s)" %
                      [st for st, _ in got])
                evs = shoplib.wait_events(
                    events, lambda evs: any(e["request"]["user_agent"] == "pipe-sql-b"
                                            for e in evs), timeout=10)
                mine = [(e["rule"], e["outcome"]) for e in evs
                        if e["request"]["user_agent"] == "pipe-sql-b"]
                check(("sql-injection", "blocked") in mine,
                      "sql: the pipelined injection's event (%s)" % mine)
                check(not [e for e in evs if e["request"]["user_agent"] == "pipe-sql-a"],
                      "sql: no event for the benign search")
            else:
                got = pipeline(port, [("GET", BENIGN_HELLO, "pipe-xss-a"),
                                      ("GET", XSS_HELLO, "pipe-xss-b")])
                check(len(got) == 2 and all(st == 200 for st, _ in got) and
                      b"onclick" in got[1][1], "xss: both greetings answered (%s)" %
                      [st for st, _ in got])
                head = runtime not in NO_HEAD
                if head:
                    got = pipeline(port, [("HEAD", BENIGN_HELLO, "pipe-head-a"),
                                          ("GET", XSS_HELLO, "pipe-head-b")])
                    check(len(got) == 2 and got[1][0] == 200 and b"onclick" in got[1][1],
                          "head: HEAD and the greeting answered (%s)" % [st for st, _ in got])

                def exploited(evs, agent):
                    return [e for e in evs if e["request"]["user_agent"] == agent and
                            e["rule"] == "xss" and e["outcome"] == "exploited"]

                expected = [("pipe-xss-b", "xss")] + ([("pipe-head-b", "head")] if head else [])
                evs = shoplib.wait_events(
                    events, lambda evs: all(exploited(evs, a) for a, _ in expected), timeout=10)
                for agent, what in expected:
                    check(exploited(evs, agent),
                          "%s: the pipelined greeting's reflected XSS (%s)" %
                          (what, [(e["rule"], e["outcome"]) for e in evs
                                  if e["request"]["user_agent"] == agent]))
                wrong = [e for e in evs if e["request"]["user_agent"] in ("pipe-xss-a",
                                                                            "pipe-head-a")]
                check(not wrong, "xss, head: no event for the benign requests (%s)" %
                      [(e["rule"], e["request"]["user_agent"]) for e in wrong])
        finally:
            shop.stop()


ODD = {
    "tab-separated": "GET\t/search?q=lamp\tHTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    "trailing-space": "GET /search?q=lamp HTTP/1.1 \r\nHost: 127.0.0.1\r\n\r\n",
    "long-method": "G" * 43 + " /search?q=lamp HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    "non-ascii-method": "G\u00c9T /search?q=lamp HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    "70-kb-header": "GET /search?q=lamp HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + "a" * 70000 +
                    "\r\n\r\n",
}


def odd(port):
    served = []
    for name, first in ODD.items():
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(first.encode("utf-8"))
            got = read_responses(s, ["GET"], timeout=3)
            if not got or got[0][0] != 200:
                continue  # the shop refused it (or the agent blocked it): nothing to follow
            served.append(name)
            try:
                s.sendall(raw_request("GET", SINK_ONLY_SQLI, "odd-" + name))
                then = read_responses(s, ["GET"], timeout=3)
            except OSError:
                then = []
            check(bool(then) and then[0][0] == 403,
                  "odd: after a %s request the shop served, the injection is blocked (%s)" %
                  (name, [st for st, _ in then]))
    print("  (served: %s)" % ", ".join(served))


def slow(port, mode, events):
    def send_in_two(head, body, agent):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(head.replace(b"{agent}", agent.encode()))
            got = read_responses(s, ["GET"], timeout=1)
            if not got and body:
                s.sendall(body)
                got = read_responses(s, ["GET"], timeout=5)
            return got

    def login_in_two(body, agent):
        return send_in_two(b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: {agent}\r\n"
                           b"Content-Type: application/x-www-form-urlencoded\r\n"
                           b"Content-Length: %d\r\n\r\n" % len(body), body, agent)

    if mode == "block":
        got = send_in_two(b"GET " + SINK_ONLY_SQLI.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          b"User-Agent: {agent}\r\nContent-Length: 100\r\n\r\n", b"", "slow-get")
        # A server that waits for the body (Rack's) runs nothing: no answer, and nothing to see.
        ran = bool(got)
        check(not ran or got[0][0] == 403,
              "slow: the search whose body never comes is blocked or not run (%s)" %
              [st for st, _ in got])
        got = login_in_two(b"user=alice%27--&pass=x", "slow-post")
        check(got[:1] and got[0][0] == 403,
              "slow: the login whose injection comes after its head is blocked (%s)" %
              [st for st, _ in got])
        want = {("slow-post", "sql-injection", "blocked")}
        if ran:
            want.add(("slow-get", "sql-injection", "blocked"))
        evs = shoplib.wait_events(events, lambda evs: want <= {
            (e["request"]["user_agent"], e["rule"], e["outcome"]) for e in evs}, timeout=10)
        seen = {(e["request"]["user_agent"], e["rule"], e["outcome"]) for e in evs
                if e["request"]["user_agent"].startswith("slow")}
        check(want <= seen, "slow: events %s (%s)" % (sorted(want), sorted(seen)))
    else:
        got = login_in_two(b"user=alice&pass=wonderland", "slow-benign")
        check(got[:1] and got[0][0] == 200,
              "slow: a benign login whose body comes after its head is answered (%s)" %
              [(st, b[:40]) for st, b in got])
        time.sleep(0.5)
        mine = [e["rule"] for e in events_of(events) if e["request"]["user_agent"] == "slow-benign"]
        check(not mine, "slow: no event for the benign login (%s)" % mine)


def smuggle(port, mode, events):
    got = one_by_one(port, [("GET", BENIGN_SEARCH, "smuggle-a", SMUGGLING),
                            ("GET", SINK_ONLY_SQLI, "smuggle-b", "")])
    if mode == "block":
        check(got[:1] and got[0][0] == 403 and len(got) == 1,
              "smuggle: the request with two lengths is blocked, the connection ends (%s)" %
              [st for st, _ in got])
        want = [("smuggle-a", "protocol-anomaly", "blocked")]
    else:
        answered = len(got) == 2 and got[0][0] == 200
        want = [("smuggle-a", "protocol-anomaly", "probed")]
        if answered:
            want.append(("smuggle-b", "sql-injection", "exploited"))
        print("  (the shop answered %s)" % [st for st, _ in got])

    def seen(evs):
        return {(e["request"]["user_agent"], e["rule"], e["outcome"]) for e in evs}

    # The body announced as chunked is a request: what a server that ignores the framing runs.
    inner = raw_request("GET", SINK_ONLY_SQLI, "smuggle-d").decode()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(raw_request("GET", BENIGN_SEARCH, "smuggle-c",
                              "Transfer-Encoding: chunked\r\n\r\n" + inner[:-2]))
        got = read_responses(s, ["GET", "GET"], timeout=3)
    if mode == "block":
        check(got[:1] and got[0][0] == 403,
              "smuggle: the request with a body that is not chunked is blocked (%s)" %
              [st for st, _ in got])
        want.append(("smuggle-c", "protocol-anomaly", "blocked"))
    else:
        want.append(("smuggle-c", "protocol-anomaly", "probed"))
        if len(got) == 2:  # the shop ran the request in the body (it ignores the framing)
            want.append(("smuggle-d", "sql-injection", "exploited"))
        print("  (the shop answered %s)" % [st for st, _ in got])

    # A chunk size only a lenient reader takes ("1x": WEBrick reads 1), then the injection.
    if mode == "block":
        got = one_by_one(port, [("POST", "/login", "smuggle-e",
                                 "Content-Type: application/x-www-form-urlencoded\r\n"
                                 "Transfer-Encoding: chunked\r\n\r\n"
                                 "1\r\nu\r\n1x\r\ns\r\n0\r\n"),
                                ("GET", SINK_ONLY_SQLI, "smuggle-f", "")])
        check(got[:1] and got[0][0] == 403 and len(got) == 1,
              "smuggle: the request whose chunk size is not one is blocked, the connection "
              "ends (%s)" % [st for st, _ in got])
        want.append(("smuggle-e", "protocol-anomaly", "blocked"))

    evs = shoplib.wait_events(events, lambda evs: set(want) <= seen(evs), timeout=10)
    check(set(want) <= seen(evs), "smuggle: events %s (%s)" %
          (want, sorted(x for x in seen(evs) if x[0].startswith("smuggle"))))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--runtime", default="all", choices=RUNTIMES + ["all"])
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="vigil-e2e-pipeline-")
    runtimes = RUNTIMES if args.runtime == "all" else [args.runtime]
    skipped = []
    for runtime in runtimes:
        try:
            run(args, runtime, work)
        except SystemExit as e:  # shoplib.skip(): the runtime's programs are not installed
            if e.code != shoplib.SKIP:
                raise
            skipped.append(runtime)
    if FAILURES:
        print("%d failure(s); work files in %s" % (len(FAILURES), work))
        return 1
    shutil.rmtree(work, ignore_errors=True)
    if len(skipped) == len(runtimes):
        return shoplib.SKIP
    print("all passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
