#!/usr/bin/env python3
"""Fault tests: the agent inside a host that is hard on it. The host must never crash or hang.
  unwritable   events file that cannot be written: the shop answers as usual, errors counted
  flood        100,000 detections as fast as four threads can make them: bounded memory,
               drops counted, every detection accounted for (events + drops + write errors)
  forkexec     a program that forks and execs heavily (fork+execv, posix_spawn, system, popen,
               fork without exec) while a request is in flight
  signals      a signal storm whose handler makes hooked calls, while threads make hooked calls
  load         the multi-threaded C++ shop under concurrent load, benign requests and attacks:
               answers as without load, and every attack request's own exploited event (each
               sink call is attributed to the request its thread serves)
  nodeload     the Node.js shop (one event loop; libuv closes descriptors with a raw system
               call) in block mode: keep-alive clients, commands run with execSync, attacks
               blocked in between; it answers every request and is still serving at the end
  nodesame     the Node.js shop in monitor mode: six keep-alive clients send the same download at
               once (a clean verdict is reused for requests with the same inputs) while
               traversals that differ only in the file's name are sent: each one's file open
               is reported exploited
usage: faults_test.py --build BUILD_DIR [--only NAME]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shoplib  # noqa: E402

FAILURES = []


def check(cond, msg):
    print(("  ok   " if cond else "FAIL: ") + msg, flush=True)
    if not cond:
        FAILURES.append(msg)


def status_of(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def run_stress(args, work, name, stress_args, env=None, timeout=120):
    events = os.path.join(work, name + "-events.jsonl")
    status = os.path.join(work, name + "-status.json")
    argv = [os.path.join(args.build, "bin", "vigil"), "run", "--mode", "monitor", "--app", "stress",
            "--events", events, "--status", status, "--",
            os.path.join(args.build, "bin", "vigil-e2e-stress")] + stress_args
    full_env = dict(os.environ)
    full_env.update(env or {})
    start = time.monotonic()
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=full_env,
                           stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        check(False, "%s: the host hung (no exit within %ds)" % (name, timeout))
        return None, {}, 0
    elapsed = time.monotonic() - start
    out = (p.stdout + p.stderr).strip()
    print("  %s (%.1fs, exit %d)" % (out.replace("\n", "; "), elapsed, p.returncode))
    check(p.returncode == 0, "%s: the host exited normally (exit %d)" % (name, p.returncode))
    return p, status_of(status), elapsed


def test_unwritable(args, work):
    print("== unwritable events file")
    blocker = os.path.join(work, "not-a-directory")
    with open(blocker, "w") as f:
        f.write("x")
    status = os.path.join(work, "unwritable-status.json")
    port = shoplib.free_port()
    shop = shoplib.Shop(shoplib.shop_command("cpp", args.build, port, os.path.join(work, "unw-data")),
                        port, vigil=os.path.join(args.build, "bin", "vigil"), agent_mode="monitor",
                        events=os.path.join(blocker, "events.jsonl"), env={"VIGIL_STATUS": status},
                        log=os.path.join(work, "unwritable.log"))
    try:
        shop.wait_ready()
        answered = 0
        entries = shoplib.battery("cpp", port)
        for e in entries:
            code, _, _ = shoplib.request(port, e.method, e.target, e.body, shoplib.agent_of(e))
            answered += code != 0
        check(answered == len(entries), "all %d requests answered (%d)" % (len(entries), answered))
        check(shop.alive(), "the shop is still running")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and status_of(status).get("write_errors", 0) == 0:
            time.sleep(0.2)
        st = status_of(status)
        check(st.get("write_errors", 0) > 0 and st.get("events", -1) == 0,
              "write errors counted: %s, events written: %s" % (st.get("write_errors"), st.get("events")))
    finally:
        rc = shop.stop()
    check(rc in (0, -15, 143), "the shop stopped cleanly (%s)" % rc)


def test_flood(args, work):
    print("== flood of detections (4 threads x 25,000, queue of 1024)")
    p, st, elapsed = run_stress(args, work, "flood", ["flood", "4", "25000"], env={"VIGIL_QUEUE": "1024"},
                                timeout=240)
    if p is None:
        return
    det = st.get("detections", 0)
    check(det >= 100000, "detections counted: %d" % det)
    check(st.get("drops", 0) > 0, "drops counted when the queue is full: %d" % st.get("drops", 0))
    # At exit the writer gets a bounded time: what is still queued then (at most the queue and
    # the batch being written) is the only part not accounted for.
    total = st.get("events", 0) + st.get("drops", 0) + st.get("write_errors", 0)
    check(total <= det and det - total <= 1024 + 512,
          "every detection accounted for: events %d + drops %d + write errors %d, %d still queued at exit"
          % (st.get("events", 0), st.get("drops", 0), st.get("write_errors", 0), det - total))
    growth = 0
    for word in p.stdout.split():
        if word.startswith("(+"):
            growth = int(word[2:])
    check(growth < 64 * 1024, "bounded memory: RSS grew by %d KiB" % growth)
    lines = sum(1 for _ in open(os.path.join(work, "flood-events.jsonl")))
    check(lines == st.get("events", -1), "events file lines (%d) match the counter" % lines)


def test_forkexec(args, work):
    print("== fork and exec heavily")
    p, st, _ = run_stress(args, work, "forkexec", ["forkexec", "150"], timeout=180)
    if p is not None:
        check(st.get("fail_opens", 0) == 0, "no fail-opens: %s" % st.get("fail_opens"))


def test_signals(args, work):
    print("== signal storm")
    run_stress(args, work, "signals", ["signals", "20000"], timeout=120)


def test_load(args, work):
    print("== multi-threaded shop under load (8 clients x 150 requests, monitor mode)")
    port = shoplib.free_port()
    events = os.path.join(work, "load-events.jsonl")
    shop = shoplib.Shop(shoplib.shop_command("cpp", args.build, port, os.path.join(work, "load-data")),
                        port, vigil=os.path.join(args.build, "bin", "vigil"), agent_mode="monitor",
                        events=events, log=os.path.join(work, "load.log"))
    try:
        shop.wait_ready()
        entries = [e for e in shoplib.battery("cpp", port) if e.id not in ("ping", "ping-quiet")
                   and not e.id.startswith("cmdi")]
        reference = {}
        for e in entries:
            reference[e.id] = shoplib.request(port, e.method, e.target, e.body, "load")[0]
        errors = []
        sent = {}  # attack id -> requests sent
        lock = threading.Lock()

        def client(k):
            for i in range(150):
                e = entries[(k * 7 + i) % len(entries)]
                code, _, _ = shoplib.request(port, e.method, e.target, e.body, shoplib.agent_of(e),
                                             timeout=20)
                with lock:
                    if code != reference[e.id]:
                        errors.append((e.id, code, reference[e.id]))
                    if e.kind == "attack":
                        sent[e.id] = sent.get(e.id, 0) + 1

        start = time.monotonic()
        threads = [threading.Thread(target=client, args=(k,)) for k in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        elapsed = time.monotonic() - start
        check(not any(t.is_alive() for t in threads), "all clients finished (%.1fs)" % elapsed)
        check(not errors, "1200 answers as without load (%d differ%s)"
              % (len(errors), ": %s" % errors[:3] if errors else ""))
        check(shop.alive(), "the shop is still running")
        # Every attack request that reaches a sink has an exploited event of its own (its request
        # id), for its rule; no benign request has one.
        evs = shoplib.wait_settled(events, timeout=20)
        by_entry = {e.id: e for e in entries}
        by_agent = {shoplib.agent_of(e): e for e in entries}
        own = {}  # attack id -> request ids with an exploited event for its rule
        stray = []
        for v in evs:
            e = by_agent.get(v["request"].get("user_agent"))
            if v["outcome"] != "exploited" or v["request"].get("user_agent") == "load":
                continue  # "load": the reference answers, before the clients
            if e is None or e.kind != "attack":
                stray.append((e.id if e else "?", v["rule"]))
            elif v["rule"] in e.rules or v["rule"] == "header-injection":
                own.setdefault(e.id, set()).add(v["request"]["id"])
        check(not stray, "no exploited event on a benign request (%s)" % stray[:3])
        missing = [(a, n, len(own.get(a, ()))) for a, n in sorted(sent.items())
                   if "cpp" in by_entry[a].exploited and len(own.get(a, ())) != n]
        check(sent and not missing, "every attack request has its own exploited event (%d attacks; "
              "attack, sent, with an event: %s)" % (sum(sent.values()), missing[:4]))
    finally:
        rc = shop.stop()
    check(rc in (0, -15, 143), "the shop stopped cleanly (%s)" % rc)


def test_nodeload(args, work):
    print("== the Node.js shop in block mode: 4 keep-alive clients, attacks blocked in between")
    port = shoplib.free_port()
    shop = shoplib.Shop(shoplib.shop_command("node", args.build, port, os.path.join(work, "nodeload-data")),
                        port, vigil=os.path.join(args.build, "bin", "vigil"), agent_mode="block",
                        events=os.path.join(work, "nodeload-events.jsonl"), log=os.path.join(work, "nodeload.log"))
    try:
        shop.wait_ready()
        entries = shoplib.battery("node", port)
        benign = [e for e in entries if e.kind == "benign"]
        attacks = [e for e in entries if e.kind == "attack"]
        reference = {e.id: shoplib.request(port, e.method, e.target, e.body, "nodeload")[0] for e in benign}
        errors = []
        lock = threading.Lock()

        # A shop that hangs must not hang the test: the clients stop at a deadline (with a
        # request's timeout, 5 s, past it at the most).
        deadline = time.monotonic() + 90

        def client(k):
            keep_alive = shoplib.KeepAlive(port, "vigil-e2e nodeload %d" % k, timeout=5)
            for _ in range(30):
                for e in benign:
                    if time.monotonic() > deadline:
                        with lock:
                            errors.append((e.id, "not sent: past the deadline", reference[e.id]))
                        keep_alive.close()
                        return
                    code = keep_alive.send(e)
                    if code != reference[e.id]:
                        with lock:
                            errors.append((e.id, code, reference[e.id]))
            keep_alive.close()

        blocked = []

        def attacker():
            for _ in range(3):
                for e in attacks:
                    if time.monotonic() > deadline:
                        return
                    blocked.append(shoplib.request(port, e.method, e.target, e.body, shoplib.agent_of(e),
                                                   timeout=5)[0] == 403)

        start = time.monotonic()
        threads = [threading.Thread(target=client, args=(k,)) for k in range(4)] + [threading.Thread(target=attacker)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(max(0.0, deadline - time.monotonic()) + 10)
        elapsed = time.monotonic() - start
        check(not any(t.is_alive() for t in threads), "all clients finished (%.1fs)" % elapsed)
        check(not errors, "%d benign answers as without load (%d differ%s)"
              % (4 * 30 * len(benign), len(errors), ": %s" % errors[:3] if errors else ""))
        check(len(blocked) == 3 * len(attacks) and all(blocked),
              "every attack blocked (%d of %d)" % (sum(blocked), 3 * len(attacks)))
        check(shoplib.request(port, "GET", "/", timeout=10)[0] == 200, "the shop still answers")
    finally:
        rc = shop.stop()
    check(rc in (0, -15, 143), "the shop stopped cleanly (%s)" % rc)


def test_nodesame(args, work):
    print("== the Node.js shop in monitor mode: the same download from 6 keep-alive clients at "
          "once, traversals in between")
    # One event loop with several requests in flight: the agent checks each file the loop opens
    # against every one of them, and a clean verdict is reused for the requests whose inputs,
    # path and client are the same. The traversals differ from the downloads only in the file's
    # name: each one's file open must still be checked. In monitor mode they reach it (in block
    # mode their input alone stops them before), and each must have its own exploited event.
    port = shoplib.free_port()
    events = os.path.join(work, "nodesame-events.jsonl")
    shop = shoplib.Shop(shoplib.shop_command("node", args.build, port, os.path.join(work, "nodesame-data")),
                        port, vigil=os.path.join(args.build, "bin", "vigil"), agent_mode="monitor",
                        events=events, log=os.path.join(work, "nodesame.log"))
    rounds, traversals = 40, 20
    try:
        shop.wait_ready()
        entries = {e.id: e for e in shoplib.battery("node", port)}
        download, traversal = entries["download"], entries["traversal"]
        reference = shoplib.request(port, download.method, download.target, None, "nodesame")
        check(reference[0] == 200, "the download answers 200 (%s)" % reference[0])
        deadline = time.monotonic() + 90
        errors = []
        answered = []
        lock = threading.Lock()

        def client(k):
            keep_alive = shoplib.KeepAlive(port, "vigil-e2e nodesame", timeout=5)
            for _ in range(rounds):
                if time.monotonic() > deadline:
                    break
                code = keep_alive.send(download)
                if code != 200:
                    with lock:
                        errors.append(code)
            keep_alive.close()

        def attacker():
            for _ in range(traversals):
                if time.monotonic() > deadline:
                    return
                code = shoplib.request(port, traversal.method, traversal.target, None, "vigil-e2e nodesame",
                                       timeout=5)[0]
                with lock:
                    answered.append(code)

        threads = [threading.Thread(target=client, args=(k,)) for k in range(6)] + [threading.Thread(target=attacker)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(max(0.0, deadline - time.monotonic()) + 10)
        check(not any(t.is_alive() for t in threads), "all clients finished")
        check(not errors, "%d downloads answered 200 (%d not%s)"
              % (6 * rounds, len(errors), ": %s" % errors[:3] if errors else ""))
        check(len(answered) == traversals, "%d traversals answered (%d)" % (traversals, len(answered)))
        after = shoplib.request(port, download.method, download.target, None, "nodesame")
        check(after[0] == reference[0] and after[2] == reference[2], "the download answers as before")
        # Events are written off the request path: wait until all the traversals' are there.
        exploited = set()
        stop_at = time.monotonic() + 15
        while time.monotonic() < stop_at:
            exploited, wrong = set(), []
            try:
                with open(events) as f:
                    for line in f:
                        ev = json.loads(line)
                        if ev.get("outcome") != "exploited" or ev.get("sink", {}).get("type") != "path":
                            continue
                        if ev["sink"]["value"].endswith("/etc/passwd"):
                            exploited.add(ev["request"]["id"])
                        else:
                            wrong.append(ev["sink"]["value"])
            except (OSError, ValueError):
                pass
            if len(exploited) >= traversals:
                break
            time.sleep(0.5)
        check(len(exploited) == traversals,
              "each traversal's file open reported exploited (%d of %d requests)" % (len(exploited), traversals))
        check(not wrong, "no download reported (%s)" % wrong[:2])
    finally:
        rc = shop.stop()
    check(rc in (0, -15, 143), "the shop stopped cleanly (%s)" % rc)


TESTS = {"unwritable": test_unwritable, "flood": test_flood, "forkexec": test_forkexec,
         "signals": test_signals, "load": test_load, "nodeload": test_nodeload,
         "nodesame": test_nodesame}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--only", choices=sorted(TESTS))
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="vigil-faults-")
    for name, fn in TESTS.items():
        if args.only and name != args.only:
            continue
        fn(args, work)
    print("%d passed, %d failed" % (0 if FAILURES else 1, 1 if FAILURES else 0))
    if FAILURES:
        print("work files kept in " + work)
        return 1
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
