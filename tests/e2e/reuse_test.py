#!/usr/bin/env python3
"""Statements a program prepares once and runs again, under `vigil run`.

Python's sqlite3 module keeps the statements it prepared (up to 128 per connection) and runs a
statement again when the same SQL text comes back: sqlite3_prepare_v2 is called for the first
request that makes a text, sqlite3_step for every one. The program below (this file, --serve)
looks users up so:

  GET /user?name=N   SELECT id, name, role FROM users WHERE name = 'N', N spliced in; the
                     answer is the rows, as JSON

(a) Monitor mode: the same injection sent three times runs three times, and is reported
    `exploited` three times (the first at sqlite3_prepare_v2, the others at sqlite3_step). The
    agent saw only the first before it followed steps. The injections are ones only the SQL they
    end up in convicts ("b'||'ob" finds bob by a name that is not his), so what is reported is
    what the sink saw. A name looked up twice is answered without an event.
(b) Block mode after a switch: under `vigil run --server` with vigild, in monitor mode, an
    injection runs (and its statement is kept); then the application's policy is PUT with
    sql-injection in block mode. Once a fresh injection gets 403, the first one sent again gets
    403 too, its `blocked` event naming sqlite3_step. The previous agent ran the kept statement,
    and answered 200. Benign lookups are answered throughout. Both refused calls reach the
    program's `except sqlite3.Error` as SQLite's own "not authorized" (the agent refused with
    the return code alone before, and Python's sqlite3 raised SystemError instead).
On 127.0.0.1, about twenty requests, a few seconds.
usage: reuse_test.py --build BUILD_DIR
"""
import argparse
import http.server
import json
import os
import sqlite3
import sys
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shoplib  # noqa: E402
from server_test import Api, Vigild  # noqa: E402


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    db = None
    lock = threading.Lock()

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path != "/user":
            return self.answer(404, {"error": "not found"})
        name = urllib.parse.parse_qs(url.query).get("name", [""])[0]
        try:
            with self.lock:
                rows = self.db.execute("SELECT id, name, role FROM users WHERE name = '" + name + "'").fetchall()
            self.answer(200, rows)
        except sqlite3.Error as e:  # the program's error handling: what a blocked call must reach
            print("sqlite3 error: %s: %s" % (type(e).__name__, e), file=sys.stderr, flush=True)
            self.answer(500, {"error": str(e)})

    def log_message(self, *args):
        pass


def serve(port):
    Handler.db = sqlite3.connect(":memory:", check_same_thread=False)
    Handler.db.executescript(
        "CREATE TABLE users(id INTEGER, name TEXT, role TEXT);"
        "INSERT INTO users VALUES(1, 'bob', 'user'), (2, 'alice', 'admin');")
    http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


def lookup(port, name):
    status, _, body = shoplib.request(port, "GET", "/user?name=" + urllib.parse.quote(name))[:3]
    try:
        return status, json.loads(body)
    except ValueError:
        return status, body


def sql_events(events, outcome):
    return [e for e in events if e.get("rule") == "sql-injection" and e.get("outcome") == outcome]


def monitor_repeats(build, work, check):
    print("== (a) monitor mode: the same injection three times")
    port = shoplib.free_port()
    events_path = os.path.join(work, "monitor-events.jsonl")
    cmd = [sys.executable, os.path.abspath(__file__), "--serve", str(port)]
    with shoplib.Shop(cmd, port, vigil=os.path.join(build, "bin", "vigil"), agent_mode="monitor",
                      app="reuse-monitor", events=events_path,
                      log=os.path.join(work, "monitor.log")) as shop:
        shop.wait_ready()
        for _ in range(2):
            status, rows = lookup(port, "bob")
            check(status == 200 and rows == [[1, "bob", "user"]], "bob is looked up (%d %r)" % (status, rows))
        for attack, found in (("b'||'ob", [[1, "bob", "user"]]), ("ali'||'ce", [[2, "alice", "admin"]])):
            for i in range(3):
                status, rows = lookup(port, attack)
                check(status == 200 and rows == found,
                      "%s, sent %s time, runs (%d %r)" % (attack, ("a first", "a second", "a third")[i],
                                                           status, rows))
        events = shoplib.wait_events(events_path, lambda ev: len(sql_events(ev, "exploited")) >= 6)
        time.sleep(0.5)
        events = shoplib.read_events(events_path)
    exploited = sql_events(events, "exploited")
    for attack in ("b'||'ob", "ali'||'ce"):
        mine = [e for e in exploited if (e.get("input") or {}).get("value") == attack]
        functions = sorted((e.get("sink") or {}).get("function") for e in mine)
        requests = {(e.get("request") or {}).get("id") for e in mine}
        check(len(mine) == 3 and len(requests) == 3 and
              functions == ["sqlite3_prepare_v2", "sqlite3_step", "sqlite3_step"],
              "%s is reported exploited once per request: %d events over %d requests, at %s"
              % (attack, len(mine), len(requests), functions))
    others = [e for e in events if (e.get("input") or {}).get("value") == "bob"]
    check(not others, "no event on the benign lookups (%d)" % len(others))


def block_after_switch(build, work, check):
    print("== (b) monitor mode, then the policy switched to block")
    if not os.path.exists(os.path.join(build, "bin", "vigild")):
        print("  note: vigild is not built; (b) skipped")
        return
    vigild = Vigild(build, work)
    shop = None
    try:
        vigild.start()
        api = Api(vigild.url())
        api.login()
        status, _, body = api.call("POST", "/api/v1/keys", {"app": "reuse", "name": "e2e"})
        check(status == 200 and body.get("key", "").startswith("vk_"), "agent key for app reuse")
        key_file = os.path.join(work, "agent.key")
        with open(key_file, "w") as f:
            f.write(body["key"] + "\n")
        port = shoplib.free_port()
        events_path = os.path.join(work, "switch-events.jsonl")
        argv = [os.path.join(build, "bin", "vigil"), "run", "--mode", "monitor", "--app", "reuse",
                "--events", events_path, "--server", vigild.url(), "--key-file", key_file,
                "--spool", os.path.join(work, "spool"), "--",
                sys.executable, os.path.abspath(__file__), "--serve", str(port)]
        shop = shoplib.Shop(argv, port, log=os.path.join(work, "switch.log"))
        shop.wait_ready()
        kept = "b'||'ob"
        status, rows = lookup(port, kept)
        check(status == 200 and rows == [[1, "bob", "user"]], "monitor: %s runs (%d %r)" % (kept, status, rows))
        status, _, put = api.call("PUT", "/api/v1/apps/reuse/policy",
                                  {"mode": "monitor", "rules": {"sql-injection": "block"}})
        check(status == 200, "PUT /api/v1/apps/reuse/policy -> version %s" % (put or {}).get("version"))
        # Each probe a text of its own (bo'||'b, bo''||'b...), so that none is a kept statement.
        t0, switched = time.monotonic(), None
        for n in range(200):
            status, _ = lookup(port, "bo'" + "||''" * n + "||'b")
            if status == 403:
                switched = time.monotonic() - t0
                break
            if time.monotonic() - t0 > 10:
                break
            time.sleep(0.05)
        check(switched is not None, "a fresh injection is blocked %.2f s after the PUT" % (switched or -1))
        status, body = lookup(port, kept)
        check(status == 403, "block: %s, whose statement was kept, is blocked (%d %r)" % (kept, status, body))
        status, rows = lookup(port, "bob")
        check(status == 200 and rows == [[1, "bob", "user"]], "block: bob is looked up (%d %r)" % (status, rows))
        events = shoplib.wait_events(
            events_path, lambda ev: any((e.get("input") or {}).get("value") == kept
                                        for e in sql_events(ev, "blocked")))
        blocked = [e for e in sql_events(events, "blocked") if (e.get("input") or {}).get("value") == kept]
        check(len(blocked) == 1 and (blocked[0].get("sink") or {}).get("function") == "sqlite3_step",
              "its blocked event names sqlite3_step (%s)"
              % [(e.get("sink") or {}).get("function") for e in blocked])
    finally:
        if shop:
            shop.stop()
        vigild.stop()
    # Both refusals (the fresh injection's prepare, the kept statement's step) reached the
    # program's `except sqlite3.Error` as SQLite's own "not authorized"; with the return code
    # alone, Python's sqlite3 raised SystemError, which no such handler catches.
    with open(os.path.join(work, "switch.log"), errors="replace") as f:
        log = f.read()
    caught = log.count("sqlite3 error: DatabaseError: not authorized")
    check(caught == 2 and "Traceback" not in log,
          "the program's error handling ran for both refused calls (%d caught; %s)"
          % (caught, "a traceback in the log" if "Traceback" in log else "no traceback"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build")
    ap.add_argument("--serve", type=int)
    args = ap.parse_args()
    if args.serve:
        return serve(args.serve)
    build = shoplib.agent_build(args.build)
    work = tempfile.mkdtemp(prefix="vigil-e2e-reuse-")
    check = shoplib.Checks()
    monitor_repeats(build, work, check)
    block_after_switch(build, work, check)
    return check.finish(work)


if __name__ == "__main__":
    sys.exit(main())
