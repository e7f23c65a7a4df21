#!/usr/bin/env python3
"""Commands a program starts through a launcher, under `vigil run`. The JVM starts every process
(ProcessBuilder, Runtime.exec) by posix_spawn of `jspawnhelper`, which reads the real command
from a pipe and execs it: the agent in the JVM sees only the launcher start, so it hands its
requests in flight to the agent in the launcher, which checks the exec (src/agent/handoff.hpp).
With the Java shop (tests/e2e/javashop):
  block     an argument injection that only the command shows (/ping?host=127.0.0.1 -c 2: input
            analysis lets it through) is stopped in the launcher: the exec fails with EACCES, the
            JVM throws IOException (error=13), and the client gets the agent's 403 naming the
            launcher's event, not the shop's 500 (the JVM's agent reads the launcher's answer at
            the response); one `blocked` command-injection event at execvp from the launcher's
            process, carrying the request, and counted in the JVM's agent's counters
            (its path, its User-Agent, its client as IPv4 though the JVM's dual-stack socket saw
            ::ffff:127.0.0.1) and saying that the parent answers it; a benign ping after it
            still runs
  FORK, VFORK  the same block with -Djdk.lang.Process.launchMechanism=FORK and =VFORK, the JVM's
            other ways: a fork()ed child, which tells the JVM's agent through their shared page,
            and a vfork() child, which runs on the JVM's memory: a 403 each, counted once
  monitor   /ping?host=localhost;id gives `probed` (input analysis, in the JVM) and `exploited`
            (the launcher, at execvp) events that name the same request id from two processes
  foreign   a VIGIL_HANDOFF that names a descriptor the agent did not make (standard input) is
            neither read nor closed
Loopback only; every process started here is stopped here.

usage: launcher_test.py --build BUILD_DIR
"""
import argparse
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shoplib  # noqa: E402

check = shoplib.Checks()


def start(args, work, mode, mechanism=None):
    port = shoplib.free_port()
    tag = mode + ("-" + mechanism if mechanism else "")
    data = os.path.join(work, tag + "-data")
    os.makedirs(data, exist_ok=True)
    events = os.path.join(work, tag + "-events.jsonl")
    command = shoplib.shop_command("java", args.build, port, data)
    if mechanism:
        command.insert(1, "-Djdk.lang.Process.launchMechanism=" + mechanism)
    shop = shoplib.Shop(command, port,
                        vigil=os.path.join(args.build, "bin", "vigil"), agent_mode=mode,
                        events=events, app="launcher", log=os.path.join(work, tag + ".log"),
                        env={"VIGIL_STATUS": events + ".status.json"})
    shop.wait_ready()
    return shop, port, events


def block(args, work):
    print("== block mode: an injection only the command shows, stopped in the launcher")
    shop, port, events_path = start(args, work, "block")
    try:
        status, headers, body = shoplib.request(port, "GET", "/ping?host=127.0.0.1%20-c%202",
                                                agent="vigil-e2e-launcher/1")
        check(status == 403 and b"error=13" not in body,
              "a 403, not the shop's own answer to the failed exec (%s %r)" % (status, body[:120]))
        evs = shoplib.wait_events(events_path, lambda e: any(v["outcome"] == "blocked" for v in e))
        blocked = [v for v in evs if v["outcome"] == "blocked"]
        check(len(blocked) == 1 and blocked[0]["rule"] == "command-injection",
              "one blocked command-injection event (%s)" % [(v["outcome"], v["rule"]) for v in evs])
        if blocked:
            b = blocked[0]
            check(headers.get("x-vigil-event") == b["event_id"],
                  "the 403 names the launcher's event (%s)" % headers.get("x-vigil-event"))
            check(b["sink"]["function"] == "execvp" and "-c 2" in b["sink"]["value"],
                  "at execvp, the command the launcher was to run (%r)" % b["sink"]["value"])
            check(b["request"].get("path") == "/ping" and
                  b["request"].get("user_agent") == "vigil-e2e-launcher/1",
                  "the event carries the request (%s)" % b["request"])
            # The JVM's sockets are dual-stack: its peer ::ffff:127.0.0.1 is the IPv4 client.
            check(b["request"].get("client_ip") == "127.0.0.1",
                  "the client named as IPv4 (%s)" % b["request"].get("client_ip"))
            check("parent process answers" in b.get("note", ""), "its note: %r" % b.get("note"))
            check(b["agent"]["pid"] != shop.proc.pid, "written by the launcher's process")
        status, _, body = shoplib.request(port, "GET", "/ping?host=localhost")
        check(status == 200 and b"1 packets transmitted" in body,
              "a benign ping runs after it (%s %r)" % (status, body[:60]))
        check(shop.alive(), "the shop is up")
        # The launcher's counters die with it: the JVM's agent counts what it reported.
        st = shoplib.status_when(events_path + ".status.json", lambda c: c.get("blocked", 0) >= 1)
        check(st.get("detections") == 1 and st.get("blocked") == 1 and st.get("events") == 1,
              "the JVM's counters hold the launcher's block (detections %s, blocked %s, events %s)"
              % (st.get("detections"), st.get("blocked"), st.get("events")))
    finally:
        shop.stop()


def mechanisms(args, work):
    print("== block mode, the JVM's other ways to start a process: fork() and vfork()")
    # FORK: the child has the JVM's requests as a fork()ed child (it tells the JVM's agent
    # through the page they share); VFORK: the child runs on the JVM's memory.
    for mechanism in ("FORK", "VFORK"):
        shop, port, events_path = start(args, work, "block", mechanism)
        try:
            status, headers, _ = shoplib.request(port, "GET", "/ping?host=127.0.0.1%20-c%201",
                                                 agent="vigil-e2e-launcher/" + mechanism)
            evs = shoplib.wait_events(events_path, lambda e: any(v["outcome"] == "blocked" for v in e))
            blocked = [v for v in evs if v["outcome"] == "blocked"]
            check(status == 403 and len(blocked) == 1 and
                  headers.get("x-vigil-event") == blocked[0]["event_id"] and
                  blocked[0]["sink"]["function"] == "execvp",
                  "%s: a 403 naming the blocked event at execvp (%s, %s)"
                  % (mechanism, status, [(v["outcome"], v["sink"].get("function")) for v in evs]))
            status, _, body = shoplib.request(port, "GET", "/ping?host=localhost")
            check(status == 200 and b"1 packets transmitted" in body,
                  "%s: a benign ping runs after it (%s)" % (mechanism, status))
            st = shoplib.status_when(events_path + ".status.json", lambda c: c.get("blocked", 0) >= 1)
            check(st.get("detections") == 1 and st.get("blocked") == 1,
                  "%s: counted once (detections %s, blocked %s)"
                  % (mechanism, st.get("detections"), st.get("blocked")))
        finally:
            shop.stop()


def monitor(args, work):
    print("== monitor mode: one request, events from two processes")
    shop, port, events_path = start(args, work, "monitor")
    try:
        status, _, _ = shoplib.request(port, "GET", "/ping?host=localhost%3Bid",
                                       agent="vigil-e2e-launcher/2")
        check(status == 200, "the command ran (%s)" % status)
        evs = shoplib.wait_events(events_path, lambda e: {v["outcome"] for v in e} >= {"probed", "exploited"})
        probed = [v for v in evs if v["outcome"] == "probed"]
        exploited = [v for v in evs if v["outcome"] == "exploited"]
        check(len(probed) == 1 and len(exploited) == 1,
              "one probed and one exploited event (%s)" % [(v["outcome"], v["rule"]) for v in evs])
        if probed and exploited:
            check(exploited[0]["sink"]["function"] == "execvp", "exploited at execvp")
            check(probed[0]["request"]["id"] == exploited[0]["request"]["id"],
                  "the same request id (%s, %s)" % (probed[0]["request"]["id"],
                                                     exploited[0]["request"]["id"]))
            check(probed[0]["agent"]["pid"] != exploited[0]["agent"]["pid"],
                  "from two processes (%s, %s)" % (probed[0]["agent"]["pid"],
                                                   exploited[0]["agent"]["pid"]))
        # Counted once the JVM's thread answers its next request.
        shoplib.request(port, "GET", "/")
        st = shoplib.status_when(events_path + ".status.json", lambda c: c.get("detections", 0) >= 2)
        check(st.get("detections") == 2 and st.get("events") == 2,
              "the JVM's counters hold both events (detections %s, events %s)"
              % (st.get("detections"), st.get("events")))
    finally:
        shop.stop()


def foreign(args, work):
    print("== a handoff variable the agent did not make is left alone")
    # VIGIL_HANDOFF=0 names the program's standard input: not the agent's memfd, so it is not
    # read, and above all not closed.
    env = dict(os.environ, VIGIL_HANDOFF="0")
    env.pop("LD_PRELOAD", None)
    r = subprocess.run([os.path.join(args.build, "bin", "vigil"), "run", "--events",
                        os.path.join(work, "foreign.jsonl"), "--", sys.executable, "-c",
                        "import os, sys; print(sys.stdin.read(), os.environ.get('VIGIL_HANDOFF'))"],
                       input="still here", capture_output=True, text=True, env=env, timeout=30)
    check(r.returncode == 0 and r.stdout.strip() == "still here None",
          "standard input read whole, the variable gone (%r %r)" % (r.stdout, r.stderr[-200:]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="vigil-e2e-launcher-")
    block(args, work)
    mechanisms(args, work)
    monitor(args, work)
    foreign(args, work)
    return check.finish(work)


if __name__ == "__main__":
    sys.exit(main())
