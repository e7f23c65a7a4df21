#!/usr/bin/env python3
"""Real attack tools against the C++ shop (or, with --runtime php, the PHP shop: PHP-FPM behind
nginx; with --runtime java, the Java one; with --runtime ruby, the Ruby one) under `vigil run`
(loopback only).

  sqlmap   monitor mode: sqlmap finds the injection, and every payload it reports for a technique
           appears as an `exploited` sql-injection event with that input value; block mode:
           sqlmap finds no injectable parameter. Reduced in CI (boolean-based blind, level 1,
           risk 1, parameter id of /product); --full: every technique, level 3, risk 2, on
           /search, /product and the /login form (tests/e2e/sqlmap-full.sh).
  wapiti   block mode: wapiti confirms no vulnerability; monitor mode: what it confirms
           (command execution, path traversal, XSS, open redirect...) appears as `exploited`
           events of the matching rules.

Every tool runs with its traffic pinned to loopback: the target is 127.0.0.1, and proxies point
at a closed loopback port for anything else (wapiti tries to download data at start).
usage: scanners_test.py --build BUILD_DIR sqlmap|wapiti [--full] [--runtime cpp|php|java|ruby]
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shoplib  # noqa: E402

FAILURES = []
LOOPBACK_ONLY = {
    "HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9",
    "http_proxy": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9",
    "ALL_PROXY": "http://127.0.0.1:9", "all_proxy": "http://127.0.0.1:9",
    "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
}


def check(cond, msg):
    print(("  ok   " if cond else "FAIL: ") + msg, flush=True)
    if not cond:
        FAILURES.append(msg)


def start_shop(args, work, mode):
    port = shoplib.free_port()
    events = os.path.join(work, "%s-%s-events.jsonl" % (args.tool, mode))
    shop = shoplib.Shop(shoplib.shop_command(args.runtime, args.build, port, os.path.join(work, mode + "-data")),
                        port, vigil=os.path.join(args.build, "bin", "vigil"), agent_mode=mode,
                        events=events, log=os.path.join(work, mode + "-shop.log"))
    shop.wait_ready()
    return shop, port, events


def run_tool(argv, work, name, timeout):
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    env.update(LOOPBACK_ONLY)
    env["HOME"] = work  # tools keep their state under $HOME
    log = os.path.join(work, name + ".log")
    try:
        p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=timeout, env=env, stdin=subprocess.DEVNULL)
        out, rc = p.stdout, p.returncode
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        rc = "timeout"
    with open(log, "w") as f:
        f.write(out)
    return out, rc


# --- sqlmap ---

def sqlmap_targets(port, full):
    base = "http://127.0.0.1:%d" % port
    targets = [["-u", base + "/product?id=2", "-p", "id"]]
    if full:
        targets += [["-u", base + "/search?q=lamp", "-p", "q"],
                    ["-u", base + "/login", "--data", "user=alice&pass=wonderland", "-p", "user,pass"]]
    return targets


def sqlmap_argv(sqlmap, target, work, full):
    argv = [sqlmap] + target + ["--batch", "--dbms=SQLite", "--flush-session", "--disable-coloring",
                                "--output-dir", os.path.join(work, "sqlmap"), "--timeout", "10",
                                "--retries", "1", "-v", "1", "--ignore-code", "401"]
    if full:
        argv += ["--technique=BEUSTQ", "--level", "3", "--risk", "2", "--time-sec", "2"]
    else:
        argv += ["--technique=B", "--level", "1", "--risk", "1"]
    return argv


def reported_payloads(out):
    """(parameter, technique type, payload value) for each injection sqlmap reports."""
    found = []
    param = None
    kind = None
    for line in out.splitlines():
        m = re.match(r"^Parameter: (\S+) \((GET|POST)\)", line)
        if m:
            param = m.group(1)
            continue
        m = re.match(r"^\s+Type: (.+)$", line)
        if m:
            kind = m.group(1).strip()
            continue
        m = re.match(r"^\s+Payload: (.+)$", line)
        if m and param:
            payload = m.group(1)
            # The payload is the whole parameter string: take this parameter's value.
            value = None
            for part in payload.split("&"):
                if part.startswith(param + "="):
                    value = part[len(param) + 1:]
            found.append((param, kind, value if value is not None else payload))
    return found


def test_sqlmap(args, work):
    sqlmap = shoplib.tool("sqlmap", "SQLMAP")
    if sqlmap is None:
        shoplib.skip("sqlmap is not installed (Debian package sqlmap)")
    timeout = 1800 if args.full else 240
    print("== sqlmap, monitor mode (%s)" % ("full" if args.full else "reduced: boolean-based blind, /product id"))
    shop, port, events_path = start_shop(args, work, "monitor")
    outputs = []
    try:
        for i, target in enumerate(sqlmap_targets(port, args.full)):
            out, rc = run_tool(sqlmap_argv(sqlmap, target, work, args.full), work, "sqlmap-monitor-%d" % i, timeout)
            check(rc == 0, "sqlmap %s finished (%s)" % (" ".join(target[:2]), rc))
            outputs.append(out)
        check(shop.alive(), "the shop kept running")
    finally:
        shop.stop()
    payloads = [p for out in outputs for p in reported_payloads(out)]
    check(len(payloads) > 0, "sqlmap found the injection: %s" % sorted({(p, k) for p, k, _ in payloads}))
    events = shoplib.read_events(events_path)
    exploited = [e for e in events if e["outcome"] == "exploited" and e["rule"] == "sql-injection"]
    print("  %d exploited sql-injection events for %d sqlmap requests" % (len(exploited), len(events)))
    for param, kind, value in payloads:
        candidates = {value, urllib.parse.unquote_plus(value)}
        hit = [e for e in exploited if e.get("input", {}).get("name") == param
               and e["input"].get("value") in candidates]
        check(bool(hit), "%s, parameter %s: payload %r is an exploited event%s"
              % (kind, param, value, " (%s)" % hit[0]["explanation"]["reason"][:70] if hit else ""))

    print("== sqlmap, block mode")
    shop, port, events_path = start_shop(args, work, "block")
    try:
        for i, target in enumerate(sqlmap_targets(port, args.full)):
            out, rc = run_tool(sqlmap_argv(sqlmap, target, work, args.full), work, "sqlmap-block-%d" % i, timeout)
            check(rc == 0, "sqlmap %s finished (%s)" % (" ".join(target[:2]), rc))
            found = reported_payloads(out)
            check(not found, "no injectable parameter found%s" % (": %s" % found if found else ""))
            check("do not appear to be injectable" in out or "not injectable" in out,
                  "sqlmap says the parameters do not appear injectable")
        check(shop.alive(), "the shop kept running")
    finally:
        shop.stop()
    blocked = [e for e in shoplib.read_events(events_path) if e["outcome"] == "blocked"]
    check(len(blocked) > 0, "%d requests blocked" % len(blocked))


# --- wapiti ---

WAPITI_RULES = {
    "Command execution": {"command-injection"},
    "Path Traversal": {"path-traversal"},
    "Cross Site Scripting": {"xss"},
    "Open Redirect": {"open-redirect"},
    "SQL Injection": {"sql-injection"},
    "Blind SQL Injection": {"sql-injection"},
    "CRLF Injection": {"header-injection", "crlf-injection"},
}


def run_wapiti(wapiti, port, work, mode, full):
    report = os.path.join(work, "wapiti-%s.json" % mode)
    base = "http://127.0.0.1:%d/" % port
    modules = "sql,blindsql,exec,file,xss,redirect,crlf" if full else "sql,exec,file,xss,redirect,crlf"
    argv = [wapiti, "-u", base, "--scope", "folder", "-m", modules, "--flush-session",
            "--store-session", os.path.join(work, "wapiti-session-" + mode), "-f", "json", "-o", report,
            "-H", "Accept-Encoding: identity",  # compressed HTML is not checked for XSS
            "--external-endpoint", base, "--internal-endpoint", base, "--endpoint", base,
            "--no-bugreport", "--max-scan-time", "600" if full else "150", "-t", "5"]
    out, rc = run_tool(argv, work, "wapiti-" + mode, 900 if full else 240)
    check(rc == 0, "wapiti (%s) finished (%s)" % (mode, rc))
    try:
        with open(report) as f:
            vulns = json.load(f).get("vulnerabilities", {})
    except (OSError, ValueError):
        vulns = {}
        check(False, "wapiti wrote its report")
    return {k: v for k, v in vulns.items() if v}


def test_wapiti(args, work):
    wapiti = shoplib.tool("wapiti", "WAPITI")
    if wapiti is None:
        shoplib.skip("wapiti is not installed (Debian package wapiti)")
    print("== wapiti, block mode")
    shop, port, events_path = start_shop(args, work, "block")
    try:
        found = run_wapiti(wapiti, port, work, "block", args.full)
        check(not found, "wapiti confirms nothing%s"
              % (": %s" % {k: len(v) for k, v in found.items()} if found else ""))
        check(shop.alive(), "the shop kept running")
    finally:
        shop.stop()
    blocked = [e for e in shoplib.read_events(events_path) if e["outcome"] == "blocked"]
    check(len(blocked) > 0, "%d requests blocked" % len(blocked))

    print("== wapiti, monitor mode")
    shop, port, events_path = start_shop(args, work, "monitor")
    try:
        found = run_wapiti(wapiti, port, work, "monitor", args.full)
        check(shop.alive(), "the shop kept running")
    finally:
        shop.stop()
    check(bool(found), "wapiti confirms vulnerabilities without blocking: %s"
          % {k: len(v) for k, v in found.items()})
    events = shoplib.read_events(events_path)
    exploited = {e["rule"] for e in events if e["outcome"] == "exploited"}
    probed = {e["rule"] for e in events if e["outcome"] == "probed"}
    for category in found:
        rules = WAPITI_RULES.get(category)
        if rules is None:
            print("  note: no rule mapped for wapiti's %r" % category)
            continue
        if args.runtime == "php" and category == "Path Traversal":
            # PHP resolves ".." before it opens a file: the path open() gets no longer holds the
            # input, and input analysis reports the traversal (docs/agent.md, known limits).
            check(bool(rules & probed), "%s: probed %s events (PHP resolves the path first)"
                  % (category, "|".join(sorted(rules))))
            continue
        check(bool(rules & exploited), "%s: exploited %s events" % (category, "|".join(sorted(rules))))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("tool", choices=["sqlmap", "wapiti"])
    ap.add_argument("--full", action="store_true")
    ap.add_argument("--runtime", default="cpp", choices=["cpp", "php", "java", "ruby"],
                    help="the shop: the C++ one, the PHP one (PHP-FPM behind nginx), the Java one "
                         "or the Ruby one")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="vigil-%s-" % args.tool)
    {"sqlmap": test_sqlmap, "wapiti": test_wapiti}[args.tool](args, work)
    print("%d passed, %d failed" % (0 if FAILURES else 1, 1 if FAILURES else 0))
    if FAILURES:
        print("work files kept in " + work)
        return 1
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
