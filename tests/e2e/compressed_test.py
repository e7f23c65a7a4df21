#!/usr/bin/env python3
"""Compressed HTML responses are checked for reflected XSS. The demo shop (cpp-httplib)
compresses whenever the client accepts it, as every browser does: the same reflected-XSS request
sent with Accept-Encoding identity, gzip, br and a browser's list must give the html-sink
detection (outcome exploited) each time; a benign request with br gives no detection. Runs the
shop under `vigil run --mode monitor` (preload agent) and with the C++ SDK linked in
(`--runtime cpp-sdk`), and a crafted server (encodingshop.py: deflate in both forms, chunked,
truncated, a decompression bomb, an unknown coding) under `vigil run`; on 127.0.0.1, about
twenty requests, a few seconds.
usage: compressed_test.py --build BUILD_DIR [--runtime cpp|cpp-sdk|crafted|all]
"""
import argparse
import gzip
import json
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shoplib  # noqa: E402

FAILURES = []
XSS = "/hello?name=%3Cb%20onclick%3Dalert(1)%3Ex%3C%2Fb%3E"
BENIGN = "/hello?name=Ada"
# Accept-Encoding sent, and the Content-Encoding the shop must answer with: a test that got an
# uncompressed answer would prove nothing.
ENCODINGS = [
    ("identity", None),
    ("gzip", "gzip"),
    ("br", "br"),
    ("gzip, deflate, br, zstd", "br"),  # a browser's
]


def check(cond, msg):
    print(("  ok   " if cond else "FAIL: ") + msg, flush=True)
    if not cond:
        FAILURES.append(msg)


def run(args, runtime, work):
    print("== %s" % runtime)
    port = shoplib.free_port()
    events = os.path.join(work, runtime + "-events.jsonl")
    status = os.path.join(work, runtime + "-status.json")
    data = os.path.join(work, runtime + "-data")
    cmd = shoplib.shop_command(runtime, args.build, port, data)
    vigil = os.path.join(args.build, "bin", "vigil")
    if runtime == "cpp-sdk":  # the SDK is linked in: configured by environment
        env = {"VIGIL_MODE": "monitor", "VIGIL_EVENTS": events, "VIGIL_APP": "shop-sdk"}
        shop = shoplib.Shop(cmd, port, env=env, log=os.path.join(work, runtime + ".log"))
    else:
        shop = shoplib.Shop(cmd, port, vigil=vigil, agent_mode="monitor", events=events,
                            env={"VIGIL_STATUS": status}, log=os.path.join(work, runtime + ".log"))
    agents = {}
    try:
        shop.wait_ready()
        for case, (accept, expect) in enumerate(ENCODINGS):
            agent = "vigil-e2e/1.0 (case %d)" % case
            agents[agent] = accept
            st, headers, body = shoplib.request(port, "GET", XSS, agent=agent,
                                                headers={"Accept-Encoding": accept})
            got = headers.get("content-encoding")
            check(st == 200 and got == expect,
                  "%r: 200 with Content-Encoding %s (got %d, %s)" % (accept, expect, st, got))
            if got == "gzip":
                check(b"<b onclick=alert(1)>" in gzip.decompress(body),
                      "%r: the payload is in the decoded page" % accept)
        benign_agent = "vigil-e2e/1.0 (case 99)"
        st, headers, _ = shoplib.request(port, "GET", BENIGN, agent=benign_agent,
                                         headers={"Accept-Encoding": "br"})
        check(st == 200 and headers.get("content-encoding") == "br",
              "benign request answered with br (%d, %s)" % (st, headers.get("content-encoding")))

        def html_events(evs):
            return [e for e in evs if (e.get("sink") or {}).get("type") == "html"]

        evs = shoplib.wait_events(
            events,
            lambda evs: {e["request"]["user_agent"] for e in html_events(evs)} >= set(agents),
            timeout=15)
        for agent, accept in agents.items():
            mine = [e for e in html_events(evs) if e["request"]["user_agent"] == agent]
            check(any(e["rule"] == "xss" and e["outcome"] == "exploited" for e in mine),
                  "%r: reflected XSS detected in the response (%s)" %
                  (accept, [(e["rule"], e["outcome"], e["sink"].get("function")) for e in mine]))
        benign = [e for e in evs if e["request"]["user_agent"] == benign_agent]
        check(not benign, "benign request with br: no detection (%d)" % len(benign))
    finally:
        shop.stop()
    if runtime == "cpp":
        try:
            with open(status) as f:
                fail_opens = json.load(f).get("fail_opens", 0)
        except (OSError, ValueError):
            fail_opens = -1
        check(fail_opens == 0, "no fail-opens counted (every body decoded): %s" % fail_opens)


# The crafted server (encodingshop.py): how it sends the page, and whether the agent must find
# the reflected XSS in it.
CRAFTED = [
    ("gzip", True), ("deflate", True), ("rawdeflate", True), ("chunked", True),
    ("plainchunked", True),  # not compressed, but the payload split by chunk framing
    ("zeroline", True),   # not compressed: a chunk whose write ends like the last chunk's
    ("truncated", True),  # decoded as far as it goes: the payload is near the start
    ("bomb", True),       # 64 MiB of zeros after the page: decoding stops at the kept bound
    ("unknown", False),   # Content-Encoding: compress: not decoded, a fail-open
]


def run_crafted(args, work):
    print("== crafted (encodingshop.py under vigil run)")
    shop, port, events, status = shoplib.crafted_shop(args.build, work, "monitor", "crafted")
    agents = {}
    try:
        shop.wait_ready()
        for case, (how, _) in enumerate(CRAFTED):
            agent = "vigil-e2e/1.0 (case %d)" % case
            agents[agent] = how
            target = "/page?how=" + how + "&name=" + XSS.split("=", 1)[1]
            st, headers, _ = shoplib.request(port, "GET", target, agent=agent,
                                             headers={"Accept-Encoding": "gzip"})
            plain = how in ("plainchunked", "zeroline")
            check(st == 200 and plain != bool(headers.get("content-encoding")),
                  "%s: answered, Content-Encoding %s (%d)"
                  % (how, headers.get("content-encoding"), st))
        expected = {a for a, how in agents.items() if dict(CRAFTED)[how]}
        evs = shoplib.wait_events(
            events, lambda evs: {e["request"]["user_agent"] for e in evs
                                 if (e.get("sink") or {}).get("type") == "html"} >= expected,
            timeout=15)
        for agent, how in agents.items():
            mine = [e for e in evs if e["request"]["user_agent"] == agent and
                    (e.get("sink") or {}).get("type") == "html"]
            if dict(CRAFTED)[how]:
                check(any(e["rule"] == "xss" and e["outcome"] == "exploited" for e in mine),
                      "%s: reflected XSS detected in the decoded response" % how)
            else:
                check(not mine, "%s: not decoded, no html check (%d)" % (how, len(mine)))
    finally:
        shop.stop()
    try:
        with open(status) as f:
            fail_opens = json.load(f).get("fail_opens", 0)
    except (OSError, ValueError):
        fail_opens = -1
    check(fail_opens == 2,
          "fail-opens counted for the truncated and the unknown body: %s" % fail_opens)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--runtime", default="all", choices=("cpp", "cpp-sdk", "crafted", "all"))
    args = ap.parse_args()
    args.build = os.path.abspath(args.build)
    runtimes = ["cpp", "cpp-sdk", "crafted"] if args.runtime == "all" else [args.runtime]
    for r in runtimes:
        if r == "crafted":
            continue
        binary = "vigil-shop-sdk" if r == "cpp-sdk" else "vigil-shop"
        if not os.path.exists(os.path.join(args.build, "bin", binary)):
            shoplib.skip("%s not built" % binary)
    work = tempfile.mkdtemp(prefix="vigil-e2e-compressed-")
    try:
        for r in runtimes:
            if r == "crafted":
                run_crafted(args, work)
            else:
                run(args, r, work)
    finally:
        if not FAILURES:
            shutil.rmtree(work, ignore_errors=True)
    if FAILURES:
        print("%d failure(s); work files in %s" % (len(FAILURES), work))
        return 1
    print("all passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
