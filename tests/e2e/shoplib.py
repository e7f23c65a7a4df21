"""Shared pieces of the end-to-end tests: starting a shop (with or without `vigil run`) on a free
loopback port, sending the battery (examples/shop/battery.tsv), reading events. Everything
stays on 127.0.0.1, every wait is bounded, every process started here is stopped here."""
import glob
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BATTERY = os.path.join(ROOT, "examples", "shop", "battery.tsv")
SKIP = 77  # CTest SKIP_RETURN_CODE
# A client TLS context (client_tls()) makes request() speak HTTPS: the py-tls runtime.
TLS = None
# True makes request() speak HTTP/2 with prior knowledge (h2c), through curl: the node-h2 runtime.
H2 = False


def skip(message):
    print("SKIP: " + message, flush=True)
    sys.exit(SKIP)


class Checks:
    """A test's checks, each printed as it is made: check(cond, msg). finish(work) reports them,
    removes the work directory when all passed (keeps it, saying so, otherwise) and returns the
    exit status."""

    def __init__(self):
        self.failures = []

    def __call__(self, cond, msg):
        print(("  ok   " if cond else "FAIL: ") + msg, flush=True)
        if not cond:
            self.failures.append(msg)

    def finish(self, work):
        print("%d failed" % len(self.failures))
        if self.failures:
            print("work files kept in " + work)
            return 1
        shutil.rmtree(work, ignore_errors=True)
        return 0


def status_when(path, done, timeout=15):
    """The agent's status file (JSON) once done(status) holds, or the last one read at the
    timeout ({} when none could be)."""
    deadline = time.monotonic() + timeout
    status = {}
    while time.monotonic() < deadline:
        try:
            with open(path) as f:
                status = json.load(f)
        except (OSError, ValueError):
            status = {}
        if status and done(status):
            break
        time.sleep(0.2)
    return status


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Entry:
    def __init__(self, fields, port, index=0):
        self.index = index
        (self.kind, self.id, rule, self.method, target, body, runtimes, exploited) = fields[:8]
        self.rules = set(rule.split("|")) if rule != "-" else set()
        self.target = target.replace("{port}", str(port))
        self.body = None if body == "-" else body
        self.runtimes = set(runtimes.split(","))
        self.exploited = set(exploited.split(",")) if exploited != "-" else set()

    def exploited_in(self, runtime):
        """Whether, in monitor mode, this attack gives an `exploited` event in `runtime` (named
        itself, or the runtime it is a variant of)."""
        return runtime in self.exploited or base_runtime(runtime) in self.exploited


def base_runtime(runtime):
    """The runtime whose battery entries a variant shares: the same program with the SDK, or
    over TLS, or served by another server."""
    return {"cpp-sdk": "cpp", "py-tls": "py", "c-tls": "c", "node-h2": "node",
            "ruby-puma": "ruby"}.get(runtime, runtime)


def tls_pair(directory):
    """A self-signed certificate and key for 127.0.0.1 in `directory` (made once)."""
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    if not os.path.exists(cert):
        if tool("openssl") is None:
            skip("openssl (Debian openssl) is not installed: no certificate for the TLS shop")
        os.makedirs(directory, exist_ok=True)
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1"],
                       check=True, capture_output=True, timeout=60)
    return cert, key


def client_tls():
    """A client context for the test's own self-signed loopback certificate."""
    import ssl
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def battery(runtime, port, path=BATTERY):
    """The entries of `runtime`: those naming it, or the runtime it is a variant of."""
    names = {runtime, base_runtime(runtime)}
    out = []
    with open(path) as f:
        for index, line in enumerate(f):
            if not line.strip() or line.startswith("#"):
                continue
            e = Entry(line.rstrip("\n").split("\t"), port, index)
            if names & e.runtimes:
                out.append(e)
    if not out:
        raise ValueError("no battery entries for runtime " + runtime)
    return out


def agent_of(entry):
    """The User-Agent that ties a battery request to its events. A number only: a name such as
    "ping" in a header is itself an input that analysis looks at."""
    return "vigil-e2e/1.0 (case %d)" % entry.index


def request(port, method, target, body=None, agent="vigil-e2e", timeout=15, headers=None):
    """One request on its own connection. Returns (status, headers dict lower-cased, body bytes);
    status 0 when the connection failed."""
    if H2:
        return request_h2(port, method, target, body, agent, timeout, headers)
    if TLS is not None:
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=timeout, context=TLS)
    else:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    h = {"User-Agent": agent, "Connection": "close"}
    if body is not None:
        h["Content-Type"] = "application/x-www-form-urlencoded"
    h.update(headers or {})
    try:
        conn.request(method, target, body=body, headers=h)
        r = conn.getresponse()
        data = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data
    except (OSError, http.client.HTTPException) as e:
        return 0, {}, repr(e).encode()
    finally:
        conn.close()


def expect_continue(port, target, body, agent="vigil-e2e"):
    """POSTs `body` as curl does a large one: the header block with Expect: 100-continue, then
    the body once the server answers 100 Continue. Returns (final status, body); 0 when the
    connection ended without a final response."""
    with socket.create_connection(("127.0.0.1", port), timeout=15) as s:
        s.sendall(("POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                   "Content-Length: %d\r\nExpect: 100-continue\r\nUser-Agent: %s\r\nConnection: close\r\n\r\n"
                   % (target, len(body), agent)).encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                return 0, data
            data += chunk
        if not data.startswith(b"HTTP/1.1 100"):
            return 0, data
        s.sendall(body)
        data = data.split(b"\r\n\r\n", 1)[1]
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 "):
        return 0, data
    return int(head[9:12]), rest


class KeepAlive:
    """One keep-alive HTTP/1.1 connection to a shop on 127.0.0.1, opened again when the shop
    closes it or a request fails: load that reuses connections, as browsers and wrk do."""

    def __init__(self, port, agent, timeout=20):
        """`agent`: the User-Agent sent, or None for none (a health check, many API clients)."""
        self.port, self.agent, self.timeout = port, agent, timeout
        self.conn = None

    def send(self, entry):
        """Sends a battery entry; returns its status, or the exception's repr when it failed."""
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
            headers = {"User-Agent": self.agent} if self.agent is not None else {}
            if entry.body is not None:
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            self.conn.request(entry.method, entry.target, body=entry.body, headers=headers)
            r = self.conn.getresponse()
            r.read()
            if r.getheader("Connection", "").lower() == "close":
                self.close()
            return r.status
        except (OSError, http.client.HTTPException) as e:
            self.close()
            return repr(e)

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def request_h2(port, method, target, body=None, agent="vigil-e2e", timeout=15, headers=None):
    """request() over HTTP/2 without TLS (prior knowledge), with curl (built with nghttp2 in
    Debian). The target is sent as it is (--path-as-is, --globoff); status 0 when the exchange
    failed or was not HTTP/2."""
    import tempfile
    curl = tool("curl")
    if curl is None:
        skip("curl (Debian curl) is not installed: no HTTP/2 client")
    with tempfile.TemporaryDirectory(prefix="vigil-h2-") as d:
        head_file, body_file = os.path.join(d, "head"), os.path.join(d, "body")
        cmd = [curl, "-sS", "--http2-prior-knowledge", "--path-as-is", "--globoff", "-X", method,
               "-A", agent, "-D", head_file, "-o", body_file, "-w", "%{http_version}",
               "--max-time", str(timeout)]
        for k, v in (headers or {}).items():
            cmd += ["-H", "%s: %s" % (k, v)]
        data = b""
        if body is not None:
            cmd += ["-H", "Content-Type: application/x-www-form-urlencoded", "--data-binary", "@-"]
            data = body.encode() if isinstance(body, str) else body
        cmd.append("http://127.0.0.1:%d%s" % (port, target))
        p = subprocess.run(cmd, input=data, capture_output=True, timeout=timeout + 5)
        if p.returncode != 0 or p.stdout.strip() != b"2":
            return 0, {}, p.stderr
        status, fields = 0, {}
        with open(head_file, "rb") as f:
            for line in f.read().decode("latin-1").split("\r\n"):
                if line.startswith("HTTP/"):
                    status, fields = int(line.split()[1]), {}  # the last response (after a 1xx)
                elif ":" in line:
                    k, v = line.split(":", 1)
                    fields[k.strip().lower()] = v.strip()
        with open(body_file, "rb") as f:
            return status, fields, f.read()


class Shop:
    """A shop process. `agent_mode` None runs it bare; "monitor"/"block" under `vigil run`."""

    def __init__(self, command, port, vigil=None, agent_mode=None, events=None, app="shop",
                 env=None, log=None):
        argv = list(command)
        if agent_mode:
            argv = [vigil, "run", "--mode", agent_mode, "--app", app, "--events", events, "--"] + argv
        full_env = dict(os.environ)
        full_env.pop("LD_PRELOAD", None)
        full_env.update(env or {})
        self.port = port
        self.log = open(log or os.devnull, "ab")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, env=full_env,
                                     stdin=subprocess.DEVNULL, start_new_session=True)

    def wait_ready(self, timeout=30):
        """Waits until the shop listens. A shop that exits with SKIP (77: its runtime's programs
        are not installed, e.g. tests/e2e/phpshop/run.py) skips the test."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                if self.proc.returncode == SKIP:
                    skip("the shop cannot run here (exit %d)" % SKIP)
                raise RuntimeError("the shop exited with %s before listening" % self.proc.returncode)
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the shop did not listen on port %d within %ds" % (self.port, timeout))

    def alive(self):
        return self.proc.poll() is None

    def stop(self, timeout=10):
        """SIGTERM, then SIGKILL after `timeout`; returns the exit status (or -9)."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        # Workers of a forking server outlive it when their parent died first (a test kills the
        # pre-fork leader): they are still in its process group, and nothing may be left running.
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.log.close()
        return self.proc.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def crafted_shop(build, work, mode, app):
    """The crafted server (encodingshop.py) under `vigil run --mode MODE`, not started yet.
    Returns (shop, port, events file, status file); the files are in `work`, named after `app`."""
    port = free_port()
    events = os.path.join(work, app + "-events.jsonl")
    status = os.path.join(work, app + "-status.json")
    cmd = [sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "encodingshop.py"),
           str(port)]
    shop = Shop(cmd, port, vigil=os.path.join(build, "bin", "vigil"), agent_mode=mode, app=app,
                events=events, env={"VIGIL_STATUS": status}, log=os.path.join(work, app + ".log"))
    return shop, port, events, status


def read_events(path):
    events = []
    if not os.path.exists(path):
        return events
    with open(path) as f:
        for line in f:
            # A line without its newline is still being written (the agent's writer thread
            # appends while this reads): it is read complete next time.
            if not line.endswith("\n"):
                break
            line = line.strip()
            if line:
                events.append(json.loads(line))
    return events


def wait_events(path, predicate, timeout=10):
    """Polls the events file until predicate(events) is true; returns the events."""
    deadline = time.monotonic() + timeout
    while True:
        events = read_events(path)
        if predicate(events) or time.monotonic() > deadline:
            return events
        time.sleep(0.1)


def agent_build(build):
    """The build folder as an absolute path; skips the test when the agent is not built there."""
    build = os.path.abspath(build)
    if not os.path.exists(os.path.join(build, "lib", "libvigil_preload.so")):
        skip("libvigil_preload.so not built")
    return build


def check_one_event_each(events_path, agents, outcome, check, mode, rule="sql-injection",
                         benign="benign"):
    """Waits (10 s at most) until each request sent with a User-Agent in `agents` has an
    `outcome` event; checks that each has exactly one of `rule`, and that no request sent with
    the User-Agent `benign` has any."""
    def of(e, agent):
        return (e.get("request") or {}).get("user_agent") == agent
    events = wait_events(events_path, lambda ev: all(
        any(of(e, a) and e.get("outcome") == outcome for e in ev) for a in agents))
    for a in agents:
        mine = [e for e in events if of(e, a) and e.get("outcome") == outcome and e.get("rule") == rule]
        check(len(mine) == 1, "%s: one %s %s event, %s (%d)" % (mode, outcome, rule, a, len(mine)))
    quiet = [e for e in events if of(e, benign)]
    check(not quiet, "%s: no event on the benign requests (%d)" % (mode, len(quiet)))


def wait_settled(path, timeout=20, quiet=1.0):
    """Polls the events file until it holds events and has not grown for `quiet` seconds (the
    agent writes events off the request thread: a scanner's last requests are still queued when
    it exits); returns the events."""
    deadline = time.monotonic() + timeout
    count, since = -1, time.monotonic()
    while True:
        events = read_events(path)
        now = time.monotonic()
        if len(events) != count:
            count, since = len(events), now
        elif count > 0 and now - since >= quiet:
            return events
        if now > deadline:
            return events
        time.sleep(0.1)


def tool(name, env_var=None):
    """Path of a program given by env_var or found on PATH, or None."""
    if env_var and os.environ.get(env_var):
        return os.environ[env_var]
    for d in os.environ.get("PATH", "").split(os.pathsep):
        p = os.path.join(d, name)
        if os.path.isfile(p) and os.access(p, os.X_OK):
            return p
    return None


JDBC_SQLITE = "/usr/share/java/sqlite-jdbc.jar"  # Debian's libxerial-sqlite-jdbc-java


def java_command(build, main, args, jars):
    """The argv that runs tests/e2e/javashop's class `main` with `jars` on the class path; the
    folder's sources are compiled into the build directory."""
    java, javac = tool("java"), tool("javac")
    missing = [j for j in jars if not os.path.exists(j)]
    if java is None or javac is None or missing:
        skip("the Java shops need a JDK and their JDBC drivers (Debian openjdk-17-jdk-headless, "
             "libxerial-sqlite-jdbc-java, libpostgresql-jdbc-java, libmariadb-java): missing %s"
             % (missing or "java/javac"))
    folder = os.path.join(ROOT, "tests", "e2e", "javashop")
    classes = os.path.join(os.path.abspath(build), "e2e-javashop")
    sources = sorted(glob.glob(os.path.join(folder, "*.java")))
    # Compiled together (DbShop uses Shop's helpers), when a source is newer than its class.
    def stale(source):
        compiled = os.path.join(classes, os.path.basename(source)[:-5] + ".class")
        return not os.path.exists(compiled) or os.path.getmtime(compiled) < os.path.getmtime(source)
    if any(stale(s) for s in sources):
        os.makedirs(classes, exist_ok=True)
        subprocess.run([javac, "-d", classes] + sources, check=True)
    # A small heap and the quick JIT tier: a shop starts in well under a second.
    return [java, "-Xmx96m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp",
            os.pathsep.join([classes] + list(jars)), main] + [str(a) for a in args]


def java_shop(build, port, data):
    """The Java shop's argv."""
    return java_command(build, "Shop", [port, data], [JDBC_SQLITE])


def shop_command(runtime, build, port, data):
    """The argv of one runtime's shop."""
    if runtime == "cpp":
        return [os.path.join(build, "bin", "vigil-shop"), "--port", str(port), "--data", data]
    if runtime == "cpp-sdk":
        return [os.path.join(build, "bin", "vigil-shop-sdk"), "--port", str(port), "--data", data]
    if runtime == "c":
        return [os.path.join(build, "bin", "vigil-e2e-cshop"), str(port), data]
    if runtime == "c-tls":
        cert, key = tls_pair(os.path.join(os.path.dirname(os.path.abspath(data)), "tls"))
        return [os.path.join(build, "bin", "vigil-e2e-cshop"), str(port), data, cert, key]
    if runtime == "php":
        return [sys.executable, os.path.join(ROOT, "tests", "e2e", "phpshop", "run.py"), str(port), data]
    if runtime == "py":
        return [sys.executable, os.path.join(ROOT, "tests", "agent", "pyshop.py"), str(port), data]
    if runtime == "py-tls":
        cert, key = tls_pair(os.path.join(os.path.dirname(os.path.abspath(data)), "tls"))
        return [sys.executable, os.path.join(ROOT, "tests", "agent", "pyshop.py"), str(port), data, cert, key]
    if runtime == "node":
        node = tool("node") or tool("nodejs")
        if node is None:
            skip("node (Debian nodejs) is not installed: the Node.js shop cannot run")
        return [node, os.path.join(ROOT, "tests", "e2e", "nodeshop.js"), str(port), data]
    if runtime == "java":
        return java_shop(build, port, data)
    if runtime in ("ruby", "ruby-puma"):
        server = "puma" if runtime == "ruby-puma" else "webrick"
        ruby = tool("ruby")
        ok = ruby is not None and subprocess.run(
            [ruby, "-e", "require 'rack'; require 'sqlite3'; require '%s'" % server],
            capture_output=True).returncode == 0
        if not ok:
            skip("the Ruby shop needs ruby, ruby-rack, ruby-sqlite3 and %s (Debian packages)"
                 % ("puma" if server == "puma" else "ruby-webrick"))
        return [ruby, os.path.join(ROOT, "tests", "e2e", "rubyshop.rb"), str(port), data, server]
    if runtime == "node-h2":
        return shop_command("node", build, port, data) + ["--h2c"]
    raise ValueError(runtime)
