#!/usr/bin/python3
"""SQL that a driver writes on a database's protocol itself (no client library) is checked like
SQL handed to the client library: tests/e2e/dbshop.py against the tests' throwaway PostgreSQL
(pg8000; psycopg2 for libpq) and a throwaway MariaDB started here (PyMySQL; MySQLdb for
libmariadb), the PHP shop (tests/e2e/phpshop: PHP-FPM behind nginx) through mysqli and PDO
on mysqlnd (which speaks MySQL's protocol itself) and PDO on libpq, and the Java one
(tests/e2e/javashop/DbShop.java) through JDBC (pgjdbc, MariaDB Connector/J). For each:
  - bare: the reference answers of the benign requests;
  - monitor: benign answers unchanged, no exploited event; each attack gives exactly one
    `exploited` sql-injection event at the protocol message (on a connection opened before the
    agent started, and on one per request followed from its first bytes), or at the client
    library's function for the library route (once: the library's own calls, and its bytes on
    the socket, are not checked again);
  - monitor, the Java shop on PostgreSQL: an injection run seven times through a
    PreparedStatement (pgjdbc keeps the text on the server after five runs, then sends only
    Bind) is reported exploited seven times, the last two at the Bind;
  - block: benign answers unchanged, every attack a 403 naming its `blocked` event, and the
    shop's next benign requests still answered as bare (a blocked statement cuts its database
    connection; the shop replaces it).
A database whose server or drivers are missing is skipped; all missing: exit 77.

usage: dbwire_test.py --build BUILD_DIR [--only pg|mysql] [--client py|php|java]
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "server"))
import shoplib  # noqa: E402

check = shoplib.Checks()
BENIGN = [("search", "/search?q=lamp"), ("search-none", "/search?q=sofa"), ("product", "/product?id=2"),
          ("product-missing", "/product?id=42"), ("legacy", "/legacy?name=chair")]
ATTACKS = {
    "pg": [("search-or", "/search?q=%27%20OR%201%3D1--", "PostgreSQL Parse"),
           ("search-union", "/search?q=%27%2C%27x%27)%3E0%20UNION%20SELECT%20name%2C%20password%20FROM%20users--",
            "PostgreSQL Parse"),
           ("product-or", "/product?id=1%20OR%201%3D1", "PostgreSQL Parse"),
           ("legacy-or", "/legacy?name=%27%20OR%20%27a%27%3D%27a", "PQexec")],
    "mysql": [("search-or", "/search?q=%27%20OR%201%3D1%23", "MySQL COM_QUERY"),
              ("search-union", "/search?q=%27%2Cname)%3E0%20UNION%20SELECT%20name%2C%20password%20FROM%20users%23",
               "MySQL COM_QUERY"),
              ("product-or", "/product?id=1%20OR%201%3D1", "MySQL COM_QUERY"),
              ("legacy-or", "/legacy?name=%27%20OR%20%27a%27%3D%27a", "mysql_real_query")],
}
SCHEMA = [
    "CREATE TABLE products(id INTEGER PRIMARY KEY, name TEXT, price NUMERIC(8,2), visible BOOLEAN)",
    "CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT, password TEXT)",
    "INSERT INTO products VALUES (1, 'desk lamp', 29.90, true), (2, 'chair', 79.00, true), "
    "(3, 'lamp shade', 9.50, true), (4, 'secret prototype', 999.00, false)",
    "INSERT INTO users VALUES (1, 'alice', 'wonderland'), (2, 'bob', 'builder')",
]


def agent_of(name):
    return "vigil-dbwire/1.0 (%s)" % name


def with_postgres(args, work):
    """Runs the modes against the tests' PostgreSQL; False when it cannot."""
    try:
        import pg8000  # noqa: F401
        import psycopg2  # noqa: F401
    except ImportError as e:
        print("skip pg: %s (Debian python3-pg8000, python3-psycopg2)" % e)
        return False
    os.environ.setdefault("VIGIL_TEST_PG", os.path.join(args.build, "bin", "vigil_test_pg"))
    import harness  # tests/server: the throwaway PostgreSQL
    pg = harness.Postgres()
    if pg.unavailable:
        print("skip pg: PostgreSQL is not available: " + pg.unavailable)
        return False
    try:
        database = pg.create_database().rsplit("/", 1)[1]
        subprocess.run(["psql", "-q", "-h", "127.0.0.1", "-p", str(pg.port), "-U", "vigil", "-d", database,
                        "-v", "ON_ERROR_STOP=1", "-c", ";\n".join(SCHEMA)], check=True, stdout=subprocess.DEVNULL)
        for client in clients(args):
            run_modes(args, client, "pg", pg.port, database, work)
    finally:
        pg.close()
    return True


def with_mariadb(args, work):
    """Starts a throwaway MariaDB on a loopback port, runs the modes, stops it; False when it
    cannot."""
    try:
        import MySQLdb  # noqa: F401
        import pymysql
    except ImportError as e:
        print("skip mysql: %s (Debian python3-pymysql, python3-mysqldb)" % e)
        return False
    install, server = shutil.which("mariadb-install-db"), shutil.which("mariadbd") or \
        (os.path.exists("/usr/sbin/mariadbd") and "/usr/sbin/mariadbd")
    if not install or not server:
        print("skip mysql: MariaDB is not installed (Debian mariadb-server)")
        return False
    data, port = os.path.join(work, "mariadb"), shoplib.free_port()
    as_root = ["--user=root"] if os.geteuid() == 0 else []
    subprocess.run([install, "--no-defaults", "--datadir=" + data, "--auth-root-authentication-method=normal",
                    "--skip-test-db"] + as_root, check=True, capture_output=True, timeout=120)
    log = open(os.path.join(work, "mariadb.log"), "wb")
    proc = subprocess.Popen([server, "--no-defaults", "--datadir=" + data, "--port=%d" % port,
                             "--bind-address=127.0.0.1", "--socket=" + os.path.join(work, "mariadb.sock"),
                             "--skip-grant-tables", "--skip-log-bin", "--innodb-buffer-pool-size=16M"] + as_root,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                con = pymysql.connect(host="127.0.0.1", port=port, user="root")
                break
            except pymysql.err.OperationalError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("MariaDB did not start (see %s)" % log.name)
                time.sleep(0.3)
        cur = con.cursor()
        cur.execute("CREATE DATABASE shop")
        cur.execute("USE shop")
        for statement in SCHEMA:
            cur.execute(statement)
        con.commit()
        con.close()
        for client in clients(args):
            run_modes(args, client, "mysql", port, "shop", work)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        log.close()
    return True


JDBC = ["/usr/share/java/postgresql.jar", "/usr/share/java/mariadb-java-client.jar"]


def clients(args):
    """The shops to run: the Python one, the PHP one where PHP-FPM and nginx are installed, the
    Java one where a JDK and the JDBC drivers are."""
    out = [args.client] if args.client else ["py", "php", "java"]
    if "php" in out and not (shutil.which("php-fpm8.2") or os.path.exists("/usr/sbin/php-fpm8.2")):
        print("skip php: PHP-FPM is not installed (Debian php8.2-fpm, php8.2-mysql, php8.2-pgsql, nginx-light)")
        out.remove("php")
    if "java" in out and not (shutil.which("javac") and all(os.path.exists(j) for j in JDBC)):
        print("skip java: a JDK or the JDBC drivers are not installed (Debian openjdk-17-jdk-headless, "
              "libpostgresql-jdbc-java, libmariadb-java)")
        out.remove("java")
    return out


# What the PHP shop's database routes go through: mysqlnd (the protocol) for MySQL, libpq for
# PostgreSQL (PDO prepares the statement: PQprepare).
PHP_SINKS = {"mysql": "MySQL COM_QUERY", "pg": "PQ"}


def run_modes(args, client, kind, db_port, database, work):
    reference = {}
    prefix = "/db" if client == "php" else ""
    attacks = [(name, prefix + target, PHP_SINKS[kind] if client == "php" else where)
               for name, target, where in ATTACKS[kind]]
    benign = [(name, prefix + target) for name, target in BENIGN]
    if client == "java":  # JDBC drivers only: no route through a C client library
        attacks = [a for a in attacks if not a[1].startswith("/legacy")]
        benign = [b for b in benign if not b[1].startswith("/legacy")]
    for mode in (None, "monitor", "block"):
        tag = "%s-%s-%s" % (client, kind, mode or "bare")
        print("== %s" % tag)
        port = shoplib.free_port()
        events_path = os.path.join(work, tag + "-events.jsonl")
        if client == "java":
            command = shoplib.java_command(args.build, "DbShop", [port, kind, db_port, database], JDBC)
        elif client == "php":
            command = [sys.executable, os.path.join(HERE, "phpshop", "run.py"), str(port), os.path.join(work, tag + "-data"),
                       "--db", kind, str(db_port), database]
        else:
            command = ["/usr/bin/python3", os.path.join(HERE, "dbshop.py"), str(port), kind, str(db_port), database]
        shop = shoplib.Shop(command, port, vigil=os.path.join(args.build, "bin", "vigil"), agent_mode=mode,
                            events=events_path, app="dbshop", log=os.path.join(work, tag + ".log"))
        try:
            shop.wait_ready()
            answers = {}
            order = benign + [(name, target) for name, target, _ in attacks] + \
                [(name + "-after", target) for name, target in benign]
            for name, target in order:
                answers[name] = shoplib.request(port, "GET", target, agent=agent_of(name))
            if client == "java" and kind == "pg" and mode == "monitor":
                kept_statements(port, events_path, tag)
            check(shop.alive(), "%s: the shop is up after the requests" % tag)
            names = [a[0] for a in attacks]
            events = [] if mode is None else shoplib.wait_events(
                events_path, lambda evs: all(any(v["request"].get("user_agent") == agent_of(a) and
                                                 v["outcome"] in ("exploited", "blocked") for v in evs)
                                             for a in names), timeout=10)
        finally:
            shop.stop()
        for name, _ in benign:
            for key in (name, name + "-after"):
                status, _, body = answers[key]
                if mode is None:
                    reference[key] = (status, body)
                    check(status in (200, 404), "%s %s: %d %r" % (tag, key, status, body[:60]))
                else:
                    check((status, body) == reference[key], "%s %s: the answer is bare's (%d)" % (tag, key, status))
        if mode is None:
            continue
        check(not [v for v in events if v["outcome"] in ("exploited", "blocked") and
                   any(v["request"].get("user_agent") == agent_of(n) for n, _ in benign)],
              "%s: no benign request gave an exploited or blocked event" % tag)
        for name, _, where in attacks:
            mine = [v for v in events if v["request"].get("user_agent") == agent_of(name)]
            status, headers, _ = answers[name]
            if mode == "monitor":
                exploited = [v for v in mine if v["outcome"] == "exploited" and v["rule"] == "sql-injection"]
                functions = [v["sink"]["function"] for v in exploited]
                check(len(exploited) == 1 and where in functions[0],
                      "%s %s: one exploited sql-injection at %s (%s)" % (tag, name, where, functions))
            else:
                named = [v for v in mine if v["event_id"] == headers.get("x-vigil-event")]
                check(status == 403 and named and named[0]["outcome"] == "blocked" and
                      named[0]["rule"] == "sql-injection",
                      "%s %s: 403 naming a blocked sql-injection event (%d, %s)"
                      % (tag, name, status, [(v["outcome"], v["rule"]) for v in named]))


def kept_statements(port, events_path, tag):
    """The Java shop's /user runs its text through a PreparedStatement: pgjdbc keeps a text it
    ran five times as a named statement on the server, then sends only Bind. The same injection
    sent seven times runs seven times and is reported each time (the first five at a Parse, the
    last two at a Bind: the previous agent saw none of those two). A name looked up seven
    times the same way gives no event."""
    attack = "/user?name=" + "b%27%7C%7C%27ob"  # b'||'ob: finds bob by a name that is not his
    for i in range(7):
        status, _, body = shoplib.request(port, "GET", "/user?name=bob", agent=agent_of("user-bob-%d" % i))[:3]
        check(status == 200 and body == b'[["bob"]]\n', "%s /user?name=bob, run %d: %d %r" % (tag, i + 1, status, body))
    for i in range(7):
        status, _, body = shoplib.request(port, "GET", attack, agent=agent_of("user-attack-%d" % i))[:3]
        check(status == 200 and body == b'[["bob"]]\n', "%s /user?name=b'||'ob, run %d: %d %r" % (tag, i + 1, status, body))
    want = [agent_of("user-attack-%d" % i) for i in range(7)]
    events = shoplib.wait_events(events_path, lambda evs: all(
        any(v["request"].get("user_agent") == a and v["outcome"] == "exploited" for v in evs) for a in want),
        timeout=10)
    where = []
    for a in want:
        mine = [v for v in events if v["request"].get("user_agent") == a and v["outcome"] == "exploited"
                and v["rule"] == "sql-injection"]
        where.append(mine[0]["sink"]["function"].split("(")[-1].rstrip(")") if len(mine) == 1 else len(mine))
    check(where == ["PostgreSQL Parse"] * 5 + ["PostgreSQL Bind"] * 2,
          "%s: the injection run seven times is reported exploited each time, at %s" % (tag, where))
    benign = [v for v in events if v["request"].get("user_agent", "").startswith(agent_of("user-bob")[:-1])]
    check(not benign, "%s: no event on the seven lookups of bob (%d)" % (tag, len(benign)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--only", choices=("pg", "mysql"))
    ap.add_argument("--client", choices=("py", "php", "java"))
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="vigil-e2e-dbwire-")
    ran = []
    if args.only in (None, "pg"):
        ran.append(with_postgres(args, work))
    if args.only in (None, "mysql"):
        ran.append(with_mariadb(args, work))
    if not any(ran):
        shoplib.skip("no database to test against")
    return check.finish(work)


if __name__ == "__main__":
    sys.exit(main())
