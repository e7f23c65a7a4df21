#!/usr/bin/python3
"""SQL a driver writes on the PostgreSQL protocol itself (pg8000, no libpq) is checked like SQL
handed to libpq: tests/e2e/pgshop.py against the throwaway PostgreSQL of the tests.
  - bare: the reference answers of the benign requests;
  - monitor: benign answers unchanged, no exploited event; each attack gives one `exploited`
    sql-injection event at the protocol message (a connection opened before the agent started,
    and one per request followed from its startup message), and the libpq route exactly one
    (at PQexec: the same statement on the wire is not checked twice);
  - block: benign answers unchanged, every attack a 403 naming its `blocked` event, and the
    shop's next benign requests still answered as bare (a blocked statement cuts its
    connection; the shop replaces it).
Skipped (77) without Debian's python3-pg8000 and python3-psycopg2 or PostgreSQL.

usage: pgwire_test.py --build BUILD_DIR [--pg-state DIR]
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "server"))
import shoplib  # noqa: E402

FAILURES = []
BENIGN = [("search", "/search?q=lamp"), ("search-none", "/search?q=sofa"), ("product", "/product?id=2"),
          ("product-missing", "/product?id=42"), ("legacy", "/legacy?name=chair")]
ATTACKS = [("search-or", "/search?q=%27%20OR%201%3D1--", "Parse"),
           ("search-union", "/search?q=%27%2C%27x%27)%3E0%20UNION%20SELECT%20name%2C%20password%20FROM%20users--",
            "Parse"),
           ("product-or", "/product?id=1%20OR%201%3D1", "Parse"),
           ("legacy-or", "/legacy?name=%27%20OR%20%27a%27%3D%27a", "PQexec")]
SCHEMA = """
CREATE TABLE products(id INTEGER PRIMARY KEY, name TEXT, price NUMERIC(8,2), visible BOOLEAN);
CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT, password TEXT);
INSERT INTO products VALUES (1, 'desk lamp', 29.90, true), (2, 'chair', 79.00, true),
  (3, 'lamp shade', 9.50, true), (4, 'secret prototype', 999.00, false);
INSERT INTO users VALUES (1, 'alice', 'wonderland'), (2, 'bob', 'builder');
"""


def check(cond, msg):
    print(("  ok   " if cond else "FAIL: ") + msg, flush=True)
    if not cond:
        FAILURES.append(msg)


def agent_of(name):
    return "vigil-pgwire/1.0 (%s)" % name


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    args = ap.parse_args()
    try:
        import pg8000  # noqa: F401
        import psycopg2  # noqa: F401
    except ImportError as e:
        shoplib.skip("%s (Debian python3-pg8000, python3-psycopg2)" % e)
    os.environ.setdefault("VIGIL_TEST_PG", os.path.join(args.build, "bin", "vigil_test_pg"))
    import harness  # tests/server: the throwaway PostgreSQL
    pg = harness.Postgres()
    if pg.unavailable:
        shoplib.skip("PostgreSQL is not available: " + pg.unavailable)
    work = tempfile.mkdtemp(prefix="vigil-e2e-pgwire-")
    try:
        uri = pg.create_database()
        database = uri.rsplit("/", 1)[1]
        subprocess.run(["psql", "-q", "-h", "127.0.0.1", "-p", str(pg.port), "-U", "vigil", "-d", database,
                        "-v", "ON_ERROR_STOP=1", "-c", SCHEMA], check=True, stdout=subprocess.DEVNULL)
        run_modes(args, pg.port, database, work)
    finally:
        pg.close()
    print("%d failed" % len(FAILURES))
    if FAILURES:
        print("work files kept in " + work)
        return 1
    shutil.rmtree(work, ignore_errors=True)
    return 0


def run_modes(args, pg_port, database, work):
    reference = {}
    for mode in (None, "monitor", "block"):
        tag = mode or "bare"
        print("== %s" % tag)
        port = shoplib.free_port()
        events_path = os.path.join(work, tag + "-events.jsonl")
        shop = shoplib.Shop(["/usr/bin/python3", os.path.join(HERE, "pgshop.py"), str(port), str(pg_port), database],
                            port, vigil=os.path.join(args.build, "bin", "vigil"), agent_mode=mode,
                            events=events_path, app="pgshop", log=os.path.join(work, tag + ".log"))
        try:
            shop.wait_ready()
            answers = {}
            order = BENIGN + [(name, target) for name, target, _ in ATTACKS] + \
                [(name + "-after", target) for name, target in BENIGN]
            for name, target in order:
                answers[name] = shoplib.request(port, "GET", target, agent=agent_of(name))
            check(shop.alive(), "%s: the shop is up after the requests" % tag)
            attacks = [a[0] for a in ATTACKS]
            events = [] if mode is None else shoplib.wait_events(
                events_path, lambda evs: all(any(v["request"].get("user_agent") == agent_of(a) and
                                                 v["outcome"] in ("exploited", "blocked") for v in evs)
                                             for a in attacks), timeout=10)
        finally:
            shop.stop()
        for name, _ in BENIGN:
            for key in (name, name + "-after"):
                status, _, body = answers[key]
                if mode is None:
                    reference[key] = (status, body)
                    check(status in (200, 404), "bare %s: %d %r" % (key, status, body[:60]))
                else:
                    check((status, body) == reference[key], "%s %s: the answer is bare's (%d)" % (tag, key, status))
        if mode is None:
            continue
        check(not [v for v in events if v["outcome"] in ("exploited", "blocked") and
                   any(v["request"].get("user_agent") == agent_of(n) for n, _ in BENIGN)],
              "%s: no benign request gave an exploited or blocked event" % tag)
        for name, _, where in ATTACKS:
            mine = [v for v in events if v["request"].get("user_agent") == agent_of(name)]
            status, headers, _ = answers[name]
            if mode == "monitor":
                exploited = [v for v in mine if v["outcome"] == "exploited" and v["rule"] == "sql-injection"]
                functions = [v["sink"]["function"] for v in exploited]
                check(len(exploited) == 1 and where in functions[0],
                      "monitor %s: one exploited sql-injection at %s (%s)" % (name, where, functions))
            else:
                named = [v for v in mine if v["event_id"] == headers.get("x-vigil-event")]
                check(status == 403 and named and named[0]["outcome"] == "blocked" and
                      named[0]["rule"] == "sql-injection",
                      "block %s: 403 naming a blocked sql-injection event (%d, %s)"
                      % (name, status, [(v["outcome"], v["rule"]) for v in named]))


if __name__ == "__main__":
    sys.exit(main())
