#!/usr/bin/python3
"""A servlet on Jetty under `vigil run` (tests/e2e/jettyshop/JettyShop.java). A servlet container
takes each path segment's parameters (";x=1") off before it decodes the path: getPathInfo() of
/product/1%20OR%201=1;x=1 is /1 OR 1=1, and the servlet splices that into its SQL. The agent
read the segment with its parameter, found nowhere in the SQL, and the injection ran in block
mode.
  - block: /product/2 and /product/2;jsessionid=x answered as without the agent; an injection
    with a path parameter after it (and one with none) 403, with a blocked sql-injection event;
  - monitor: the injection answers every product and is reported `exploited` once.
Debian's libjetty9-java, libservlet-api-java and libxerial-sqlite-jdbc-java with a JDK; skipped
without them. On 127.0.0.1, about ten requests, a few seconds.
usage: jetty_test.py --build BUILD_DIR
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shoplib  # noqa: E402

JARS = ["/usr/share/java/" + j for j in (
    "jetty9-server.jar", "jetty9-servlet.jar", "jetty9-util.jar", "jetty9-http.jar", "jetty9-io.jar",
    "jetty9-security.jar", "servlet-api.jar")] + [shoplib.JDBC_SQLITE]


def command(build, port, database):
    java, javac = shoplib.tool("java"), shoplib.tool("javac")
    missing = [j for j in JARS if not os.path.exists(j)]
    if java is None or javac is None or missing:
        shoplib.skip("Jetty's servlet needs a JDK and %s (Debian openjdk-17-jdk-headless, libjetty9-java, "
                     "libservlet-api-java, libxerial-sqlite-jdbc-java)" % (missing or "java/javac"))
    classes = os.path.join(build, "e2e-jettyshop")
    sources = sorted(glob.glob(os.path.join(os.path.dirname(os.path.abspath(__file__)), "jettyshop", "*.java")))
    stale = [s for s in sources if not os.path.exists(os.path.join(classes, os.path.basename(s)[:-5] + ".class"))
             or os.path.getmtime(os.path.join(classes, os.path.basename(s)[:-5] + ".class")) < os.path.getmtime(s)]
    if stale:
        os.makedirs(classes, exist_ok=True)
        subprocess.run([javac, "-cp", os.pathsep.join(JARS), "-d", classes] + sources, check=True)
    return [java, "-Xmx96m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp",
            os.pathsep.join([classes] + JARS), "JettyShop", str(port), database]


def run_mode(build, work, mode, check):
    port = shoplib.free_port()
    events_path = os.path.join(work, mode + "-events.jsonl")
    cmd = command(build, port, os.path.join(work, mode + ".db"))
    with shoplib.Shop(cmd, port, vigil=os.path.join(build, "bin", "vigil"), agent_mode=mode,
                      app="jetty-" + mode, events=events_path, log=os.path.join(work, mode + ".log")) as shop:
        shop.wait_ready()
        for target in ("/product/2", "/product/2;jsessionid=abc123"):
            status, _, body = shoplib.request(port, "GET", target, agent="benign")[:3]
            check(status == 200 and json.loads(body) == [[2, "desk"]],
                  "%s: %s is the desk (%d %r)" % (mode, target, status, body[:60]))
        attacks = [("with a path parameter after it", "/product/2%20OR%201=1;x=1"),
                   ("alone", "/product/3%20OR%201=1")]
        for what, target in attacks:
            status, _, body = shoplib.request(port, "GET", target, agent="attack " + what)[:3]
            if mode == "block":
                check(status == 403, "block: an injection in the path info %s is blocked (%d %r)"
                      % (what, status, body[:60]))
            else:
                check(status == 200 and len(json.loads(body)) == 3,
                      "monitor: an injection in the path info %s answers every product (%d %r)"
                      % (what, status, body[:60]))
        check(shop.alive(), "%s: the servlet is up after the requests" % mode)
        shoplib.check_one_event_each(events_path, ["attack " + what for what, _ in attacks],
                                     "blocked" if mode == "block" else "exploited", check, mode)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    args = ap.parse_args()
    build = shoplib.agent_build(args.build)
    work = tempfile.mkdtemp(prefix="vigil-e2e-jetty-")
    check = shoplib.Checks()
    for mode in ("block", "monitor"):
        run_mode(build, work, mode, check)
    return check.finish(work)


if __name__ == "__main__":
    sys.exit(main())
