#!/usr/bin/env python3
"""The demo battery against one runtime's shop (examples/shop/battery.tsv):
  - bare (no agent): the reference answers to the benign requests;
  - block mode: every benign request gets exactly the same status and body as bare; every attack
    gets 403 whose X-Vigil-Event names a `blocked` event of the expected rule;
  - monitor mode: benign answers unchanged; every attack gives an `exploited` event with a stack
    (where the runtime's shop reaches the sink) or at least a `probed` one.
The shop must stay up throughout and stop cleanly.

The C shop (runtime c) is built with -D_FORTIFY_SOURCE=2: the test first checks that it imports
the C library's checked entry points (__recv_chk, __read_chk, __open64_2), so that the battery
proves the agent sees a program that reads and opens through them.

The -tls runtimes serve HTTPS (a self-signed loopback certificate): py-tls through Python's ssl
module (OpenSSL's SSL_read_ex and SSL_write_ex), c-tls through SSL_read and SSL_write. A block's
403 must arrive as a TLS record.

The node-h2 runtime is the Node.js shop serving HTTP/2 without TLS (http2's compatibility API),
asked with curl --http2-prior-knowledge: a block's 403 must arrive as HTTP/2 frames on the
request's stream, and the response checks (XSS, redirects) read the program's HPACK.

usage: battery_test.py --build BUILD_DIR
                       --runtime cpp|cpp-sdk|py|py-tls|node|node-h2|c|c-tls|php|java|ruby|ruby-puma
                       [--work DIR]
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shoplib  # noqa: E402


def start(args, runtime, mode, work, tag):
    port = shoplib.free_port()
    data = os.path.join(work, tag + "-data")
    events = os.path.join(work, tag + "-events.jsonl")
    for stale in [events] + [os.path.join(work, f) for f in os.listdir(work) if f.startswith(tag + "-events")]:
        if os.path.exists(stale):
            os.remove(stale)
    cmd = shoplib.shop_command(runtime, args.build, port, data)
    vigil = os.path.join(args.build, "bin", "vigil")
    env = {}
    if runtime == "cpp-sdk":
        # The SDK is linked in: configured by environment, no `vigil run`.
        env = {"VIGIL_MODE": mode or "off", "VIGIL_EVENTS": events, "VIGIL_APP": "shop-" + runtime}
        mode_for_run = None
    else:
        mode_for_run = mode
    shop = shoplib.Shop(cmd, port, vigil=vigil, agent_mode=mode_for_run, events=events,
                        app="shop-" + runtime, env=env, log=os.path.join(work, tag + ".log"))
    shop.wait_ready()
    return shop, port, events


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--runtime", required=True)
    ap.add_argument("--work")
    args = ap.parse_args()
    base = shoplib.base_runtime(args.runtime)
    if args.runtime.endswith("-tls"):
        shoplib.TLS = shoplib.client_tls()
    shoplib.H2 = args.runtime.endswith("-h2")
    if base == "py" and shutil.which("ping") is None:
        print("note: ping is not installed; the ping routes answer with the shell's error")
    if base == "c":
        binary = shoplib.shop_command("c", args.build, 0, "")[0]
        imports = subprocess.run(["nm", "-D", "--undefined-only", binary], capture_output=True,
                                 text=True, check=True).stdout
        missing = [s for s in ("__recv_chk", "__read_chk", "__open64_2") if s not in imports]
        if missing:
            print("FAIL: the C shop does not call %s: it no longer tests the fortified entry points"
                  % ", ".join(missing))
            return 1
    work = args.work or tempfile.mkdtemp(prefix="vigil-e2e-%s-" % args.runtime)
    os.makedirs(work, exist_ok=True)
    failures = []

    def fail(msg):
        failures.append(msg)
        print("FAIL: " + msg, flush=True)

    # 1. Bare: the reference answers.
    shop, port, _ = start(args, args.runtime, None, work, "bare")
    try:
        reference = {}
        for e in shoplib.battery(args.runtime, port):
            if e.kind == "benign":
                status, _, body = shoplib.request(port, e.method, e.target, e.body, shoplib.agent_of(e))
                reference[e.id] = (status, body)
    finally:
        shop.stop()

    for mode in ("block", "monitor"):
        shop, port, events_path = start(args, args.runtime, mode, work, mode)
        entries = shoplib.battery(args.runtime, port)
        answers = {}
        try:
            for e in entries:
                answers[e.id] = shoplib.request(port, e.method, e.target, e.body, shoplib.agent_of(e))
            if not shop.alive():
                fail("%s: the shop died during the battery" % mode)
        finally:
            attacks = [e for e in entries if e.kind == "attack"]

            # Waits for the event each attack is judged by below, not just any event of it: an
            # attack that reaches a sink may first give a `probed` event from input analysis,
            # and its `exploited` one (from the sink or response check) may still be queued.
            def settled(evs, mode=mode):
                for a in attacks:
                    mine = [v for v in evs if v["request"].get("user_agent") == shoplib.agent_of(a)]
                    if mode == "block":
                        done = any(v["outcome"] == "blocked" for v in mine)
                    elif a.exploited_in(args.runtime):
                        done = any(v["outcome"] == "exploited" for v in mine)
                    else:
                        done = bool(mine)
                    if not done:
                        return False
                return True
            events = shoplib.wait_events(events_path, settled, timeout=10)
            rc = shop.stop()
        if rc not in (0, -15, 143):
            fail("%s: the shop exited with %s" % (mode, rc))
        by_agent = {}
        for v in events:
            by_agent.setdefault(v["request"].get("user_agent", ""), []).append(v)
        print("== %s mode (%s): %d events" % (mode, args.runtime, len(events)))
        for e in entries:
            status, headers, body = answers[e.id]
            evs = by_agent.get(shoplib.agent_of(e), [])
            if e.kind == "benign":
                ref = reference[e.id]
                if (status, body) != ref:
                    fail("%s %s: benign answer changed: %s %r, bare %s %r"
                         % (mode, e.id, status, body[:200], ref[0], ref[1][:200]))
                bad = [v for v in evs if v["outcome"] in ("blocked", "exploited")]
                if bad:
                    fail("%s %s: benign request gave %s %s events"
                         % (mode, e.id, bad[0]["outcome"], bad[0]["rule"]))
                print("  ok   %-18s %d%s" % (e.id, status,
                                             " (%d probe events)" % len(evs) if evs else ""))
                continue
            rules = {v["rule"] for v in evs}
            if mode == "block":
                event_id = headers.get("x-vigil-event", "")
                named = [v for v in evs if v["event_id"] == event_id]
                if status != 403:
                    fail("block %s: status %s, expected 403" % (e.id, status))
                elif not named:
                    fail("block %s: no event %r in the events file" % (e.id, event_id))
                elif named[0]["outcome"] != "blocked" or named[0]["rule"] not in e.rules:
                    fail("block %s: event %s %s, expected blocked %s"
                         % (e.id, named[0]["outcome"], named[0]["rule"], "|".join(e.rules)))
                else:
                    print("  ok   %-18s 403 blocked %s: %s" % (e.id, named[0]["rule"],
                                                              named[0]["explanation"]["reason"][:80]))
            else:
                exploited = [v for v in evs if v["outcome"] == "exploited"]
                probed = [v for v in evs if v["outcome"] == "probed"]
                if e.exploited_in(args.runtime):
                    good = [v for v in exploited if v["rule"] in e.rules or v["rule"] == "header-injection"]
                    if not good:
                        fail("monitor %s: no exploited event (events: %s)"
                             % (e.id, sorted((v["outcome"], v["rule"]) for v in evs)))
                    elif not good[0].get("stack"):
                        fail("monitor %s: exploited event without a stack" % e.id)
                    else:
                        top = next((f for f in good[0]["stack"] if f.get("function")), {})
                        print("  ok   %-18s %d exploited %s at %s (%d frames)"
                              % (e.id, status, good[0]["rule"], good[0]["sink"]["function"],
                                 len(good[0]["stack"])))
                elif not (exploited or probed):
                    fail("monitor %s: no event" % e.id)
                else:
                    print("  ok   %-18s %d %s" % (e.id, status,
                                                 ", ".join(sorted({v["outcome"] + " " + v["rule"] for v in evs}))))
    print("%d passed, %d failed" % (1 if not failures else 0, 1 if failures else 0))
    if failures:
        print("work files kept in " + work)
        return 1
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
