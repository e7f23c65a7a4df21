#!/usr/bin/env python3
"""HTML written in many small pieces, under `vigil run --mode block`: the crafted server
(encodingshop.py /pieces) writes its page 100 bytes at a time, with the request's name in a
script string that a write cuts, and again in the text further down.

- A benign name: the page arrives whole and unchanged, with no detection. (A check of the page
  as written so far used to read the script string the write cut as one the input broke: a
  false positive that cut the page in block mode.)
- Markup in the name (which input analysis lets through): the page is cut before the write that
  holds it, and a blocked xss event names the html sink.
- Cost: the agent checks a page at its doublings, at its end and at writes that hold an input,
  not at every write. The status file's sink-check count over all the requests stays within a
  bound that a check per write (some 2,250 for a large page) would pass by far.

On 127.0.0.1, four requests, a few seconds.
usage: pieces_test.py --build BUILD_DIR
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shoplib  # noqa: E402

FAILURES = []
MARKUP = "<b title=x>hi</b>"


def check(ok, what):
    print(("ok      " if ok else "FAILED  ") + what)
    if not ok:
        FAILURES.append(what)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    args = ap.parse_args()
    args.build = os.path.abspath(args.build)
    if not os.path.exists(os.path.join(args.build, "lib", "libvigil_preload.so")):
        shoplib.skip("libvigil_preload.so not built")
    work = tempfile.mkdtemp(prefix="vigil-e2e-pieces-")
    shop, port, events, status = shoplib.crafted_shop(args.build, work, "block", "pieces")
    try:
        shop.wait_ready()
        for rows in (100, 5000):
            st, headers, body = shoplib.request(port, "GET", "/pieces?name=Ada&rows=%d" % rows,
                                                agent="vigil-e2e benign %d" % rows)
            check(st == 200 and len(body) == int(headers.get("content-length", -1)) and
                  body.endswith(b"</html>\n") and b"<h1>Hello Ada</h1>" in body,
                  "benign page of %d rows (%d bytes in 100-byte writes) arrives whole" % (rows, len(body)))
        # Without the script string: a page that a check per write would check 2,250 times.
        st, headers, body = shoplib.request(port, "GET", "/pieces?name=Ada&rows=5000&script=0",
                                            agent="vigil-e2e benign long")
        check(st == 200 and body.endswith(b"<h1>Hello Ada</h1>\n</body></html>\n"),
              "benign page without the script (%d bytes) arrives whole" % len(body))
        st, headers, body = shoplib.request(
            port, "GET", "/pieces?rows=100&name=" + urllib.parse.quote(MARKUP), agent="vigil-e2e markup")
        check(b"<h1>Hello <b" not in body,
              "the page with markup in it is cut before that write (status %d, %d bytes)" % (st, len(body)))
        evs = shoplib.wait_events(events, lambda evs: any(
            e["request"]["user_agent"] == "vigil-e2e markup" for e in evs), timeout=15)
        mine = [e for e in evs if e["request"]["user_agent"] == "vigil-e2e markup"]
        check(any(e["rule"] == "xss" and e["outcome"] == "blocked" and
                  (e.get("sink") or {}).get("type") == "html" for e in mine),
              "a blocked xss event names the html sink: %s" % [(e["rule"], e["outcome"]) for e in mine])
        others = [(e["request"]["user_agent"], e["rule"]) for e in evs
                  if e["request"]["user_agent"] != "vigil-e2e markup"]
        check(not others, "no detection for the benign pages: %s" % others)
    finally:
        shop.stop()
    try:
        with open(status) as f:
            sinks = json.load(f).get("sinks", -1)
    except (OSError, ValueError):
        sinks = -1
    # Doublings of a 256 KiB page from 100 bytes: 12; early checks: 8 at most; the end: 1.
    # A check per write would be thousands.
    check(0 < sinks <= 80, "sink checks over all requests stay few: %d" % sinks)
    if FAILURES:
        print("%d failure(s); work files in %s" % (len(FAILURES), work))
        return 1
    shutil.rmtree(work, ignore_errors=True)
    print("all passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
