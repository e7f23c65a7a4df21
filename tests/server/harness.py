"""Test harness for vigild integration tests: real vigild processes on 127.0.0.1, SQLite in
temporary directories or databases of the throwaway PostgreSQL (vigil_test_pg), and a small
JSON client on urllib."""
import json
import os
import shutil
import signal
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

VIGILD = os.environ.get("VIGILD", "build/bin/vigild")
VIGIL_TEST_PG = os.environ.get("VIGIL_TEST_PG", "build/bin/vigil_test_pg")
ADMIN_PASSWORD = "admin-password-1"


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body
        try:
            self.json = json.loads(body) if body else None
        except ValueError:
            self.json = None

    def __repr__(self):
        return "Response(%d, %r)" % (self.status, self.body[:300])


class Client:
    """JSON over HTTP(S) with a bearer token or a cookie session."""

    def __init__(self, base, token=None, ssl_context=None):
        self.base = base
        self.token = token
        self.ssl_context = ssl_context
        self.cookie = None
        self.csrf = None

    def request(self, method, path, body=None, raw=None, headers=None, token=None, timeout=30):
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        tok = token if token is not None else self.token
        if tok:
            req.add_header("Authorization", "Bearer " + tok)
        if self.cookie:
            req.add_header("Cookie", self.cookie)
        if self.csrf:
            req.add_header("X-CSRF-Token", self.csrf)
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=timeout, context=self.ssl_context) as r:
                return Response(r.status, r.headers, r.read().decode())
        except urllib.error.HTTPError as e:
            return Response(e.code, e.headers, e.read().decode())

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, body, **kw)

    def patch(self, path, body=None, **kw):
        return self.request("PATCH", path, body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def login(self, username="admin", password=ADMIN_PASSWORD):
        r = self.post("/api/v1/session", {"username": username, "password": password})
        assert r.status == 200, r
        return Client(self.base, r.json["token"], self.ssl_context)


class Postgres:
    """The throwaway PostgreSQL: the CTest fixture's (VIGIL_TEST_PG_DIR) or one of our own."""

    def __init__(self):
        self.own_dir = None
        state_dir = os.environ.get("VIGIL_TEST_PG_DIR")
        if not state_dir or not (os.path.exists(os.path.join(state_dir, "state")) or
                                 os.path.exists(os.path.join(state_dir, "unavailable"))):
            self.own_dir = tempfile.mkdtemp(prefix="vigil-pg-state-")
            subprocess.run([VIGIL_TEST_PG, "start", self.own_dir], check=True,
                           stdout=subprocess.DEVNULL)
            state_dir = self.own_dir
        unavailable = os.path.join(state_dir, "unavailable")
        if os.path.exists(unavailable):
            with open(unavailable) as f:
                self.unavailable = f.read()
            return
        self.unavailable = None
        with open(os.path.join(state_dir, "state")) as f:
            self.port = int(f.read().split()[0])
        self.counter = 0

    def create_database(self):
        self.counter += 1
        name = "it_%d_%d_%d" % (os.getpid(), self.counter, int(time.time() * 1000) % 100000)
        subprocess.run(["psql", "-q", "-h", "127.0.0.1", "-p", str(self.port), "-U", "vigil",
                        "-d", "postgres", "-c", "CREATE DATABASE " + name],
                       check=True, stdout=subprocess.DEVNULL)
        return "postgresql://vigil@127.0.0.1:%d/%s" % (self.port, name)

    def close(self):
        if self.own_dir:
            subprocess.run([VIGIL_TEST_PG, "stop", self.own_dir], stdout=subprocess.DEVNULL)
            shutil.rmtree(self.own_dir, ignore_errors=True)


class Vigild:
    """One vigild process. SQLite in `data` (a fresh temporary directory by default), or the
    PostgreSQL `db` URI."""

    def __init__(self, db=None, data=None, args=(), env=None, tls=None, config=None,
                 admin_password=ADMIN_PASSWORD):
        self.tmp = tempfile.mkdtemp(prefix="vigild-test-")
        self.data = data or os.path.join(self.tmp, "data")
        self.db = db
        self.args = list(args)
        self.env = dict(os.environ)
        if admin_password is not None:
            self.env["VIGIL_ADMIN_PASSWORD"] = admin_password
        self.env.update(env or {})
        self.tls = tls  # (cert, key)
        self.config = config
        self.proc = None
        self.port = None
        self.log_path = os.path.join(self.tmp, "vigild.log")

    def command(self):
        cmd = [VIGILD, "--listen", "127.0.0.1:%d" % (self.port or 0),
               "--port-file", os.path.join(self.tmp, "port")]
        cmd += ["--db", self.db] if self.db else ["--data", self.data]
        if self.tls:
            cmd += ["--tls-cert", self.tls[0], "--tls-key", self.tls[1]]
        if self.config:
            path = os.path.join(self.tmp, "vigild.yaml")
            with open(path, "w") as f:
                f.write(self.config)
            cmd += ["--config", path]
        return cmd + self.args

    def start(self, timeout=30, launcher=None):
        """`launcher` replaces the vigild executable, e.g. [vigil, "server"]."""
        port_file = os.path.join(self.tmp, "port")
        if os.path.exists(port_file):
            os.unlink(port_file)
        self.log = open(self.log_path, "ab")
        cmd = self.command()
        if launcher:
            cmd = list(launcher) + cmd[1:]
        self.proc = subprocess.Popen(cmd, env=self.env,
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("vigild exited with %d:\n%s" % (self.proc.returncode,
                                                                   self.read_log()))
            if os.path.exists(port_file):
                with open(port_file) as f:
                    self.port = int(f.read())
                if self.client().get("/healthz", timeout=5).status == 200:
                    return self
            time.sleep(0.05)
        raise RuntimeError("vigild did not become ready:\n" + self.read_log())

    @property
    def url(self):
        return "%s://127.0.0.1:%d" % ("https" if self.tls else "http", self.port)

    def client(self, token=None):
        ctx = None
        if self.tls:
            ctx = ssl.create_default_context(cafile=self.tls[0])
        return Client(self.url, token, ctx)

    def admin(self):
        return self.client().login()

    def read_log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.log.close()
        rc = self.proc.returncode if self.proc else None
        self.proc = None
        return rc

    def kill9(self):
        return self.stop(signal.SIGKILL)

    def close(self):
        self.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)


def make_event(n, app="shop", outcome="probed", rule="sql-injection", client_ip="203.0.113.9",
               path="/product", name="id", value="1' OR '1'='1", ts=None, user_agent="sqlmap/1.7",
               **extra):
    """A SPEC event, as the agent writes it."""
    ev = {
        "event_id": "%032x" % n if isinstance(n, int) else n,
        "time": ts or time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
        "app": app,
        "outcome": outcome,
        "rule": rule,
        "severity": {"exploited": "critical", "blocked": "high", "probed": "medium",
                     "suspicious": "low"}[outcome],
        "cwe": "CWE-89",
        "mode": "monitor",
        "request": {"method": "GET", "path": path, "client_ip": client_ip,
                    "user_agent": user_agent, "id": "r%d" % (n if isinstance(n, int) else 0)},
        "input": {"source": "query", "name": name, "value": value, "form": "raw"},
    }
    if outcome in ("exploited", "blocked") and rule == "sql-injection":
        ev["sink"] = {"type": "sql", "dialect": "sqlite",
                      "value": "SELECT * FROM products WHERE id = '%s'" % value,
                      "function": "sqlite3_prepare_v2"}
    ev.update(extra)
    return ev


def wait_for(predicate, timeout=10, interval=0.1):
    deadline = time.time() + timeout
    while True:
        value = predicate()
        if value or time.time() > deadline:
            return value
        time.sleep(interval)


_postgres = None


def postgres():
    """The run's PostgreSQL (started on first use, stopped at exit when it is ours). Skips the
    calling test, saying why, when PostgreSQL cannot run here."""
    global _postgres
    if _postgres is None:
        import atexit
        _postgres = Postgres()
        atexit.register(_postgres.close)
    if _postgres.unavailable:
        import unittest
        raise unittest.SkipTest("PostgreSQL unavailable: " + _postgres.unavailable)
    return _postgres
