#!/usr/bin/env python3
"""Connections the agent cannot read are counted, so that the sensor-health view shows them:
  not_http    the C shop under the agent gets one HTTP/1.1 request, an HTTP/2 connection
              (prior knowledge: the connection preface, a SETTINGS frame and one request, read:
              e2e.battery.node-h2, e2e.h2), an SMTP greeting, a Redis inline command (one line,
              no blank line after it) and a PostgreSQL client's SSL request: 2 requests, 3
              connections not HTTP, no TLS unseen (FastCGI is read too: e2e.battery.php)
  fastcgi     a FastCGI application under the agent gets one request from a web server's
              records and answers with records that are not FastCGI 1: the request is read, the
              connection counted in not_http
  websocket   a server that answers an "Upgrade: websocket" request with a 101, then echoes:
              the request is read, the connection counted in not_http at the 101, and the echo
              still works (its frames pass through untouched)
  tls_unseen  `openssl s_server -www` under the agent answers a request over TLS; it reads its
              plaintext inside OpenSSL (a BIO), where no hook sees it: 0 requests, 1 TLS
              connection unseen
  programs    programs the agent cannot enter are named before they start: `vigil run` warns
              about a statically linked program (built here with cc -static), also when a
              script's "#!/usr/bin/env" names it, and runs it all the same; a dynamically linked
              one, a script of the shell and the dynamic linker run directly draw no warning
Loopback only; every process started here is stopped here.

usage: blindspots_test.py --build BUILD_DIR
"""
import argparse
import http.client
import os
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shoplib  # noqa: E402

check = shoplib.Checks()
status_when = shoplib.status_when


def send_raw(port, data):
    """Sends bytes on a connection of their own and closes it (no answer awaited)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(data)


def under_agent(args, work, tag, command, port):
    status = os.path.join(work, tag + "-status.json")
    shop = shoplib.Shop(command, port, vigil=os.path.join(args.build, "bin", "vigil"),
                        agent_mode="monitor", events=os.path.join(work, tag + "-events.jsonl"),
                        app=tag, env={"VIGIL_STATUS": status}, log=os.path.join(work, tag + ".log"))
    shop.wait_ready()
    return shop, status


def not_http(args, work):
    print("== not HTTP/1.1 (the C shop)")
    port = shoplib.free_port()
    shop, status = under_agent(args, work, "c", shoplib.shop_command("c", args.build, port,
                                                                    os.path.join(work, "c-data")), port)
    try:
        code, _, _ = shoplib.request(port, "GET", "/search?q=lamp")
        check(code == 200, "an HTTP/1.1 request is answered (%s)" % code)
        # HTTP/2 with prior knowledge: the connection preface, an empty SETTINGS frame, and a
        # request (HEADERS ending the stream; HPACK literals): read, not a blind spot.
        def literal(name, value):
            return b"\x00" + bytes([len(name)]) + name + bytes([len(value)]) + value
        block = (literal(b":method", b"GET") + literal(b":scheme", b"http") +
                 literal(b":path", b"/search?q=lamp") + literal(b":authority", b"127.0.0.1"))
        headers = len(block).to_bytes(3, "big") + b"\x01\x05" + (1).to_bytes(4, "big") + block
        send_raw(port, b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00" + headers)
        # Other text protocols (SMTP; Redis, whose command is one line with no blank line after
        # it), and a PostgreSQL client's SSL request, at the wrong port.
        send_raw(port, b"EHLO client.example\r\n\r\n")
        send_raw(port, b"PING\r\n")
        send_raw(port, b"\x00\x00\x00\x08\x04\xd2\x16\x2f")
        st = status_when(status, lambda s: s.get("not_http", 0) >= 3 and s.get("requests", 0) >= 2)
        check(st.get("not_http") == 3, "3 connections counted not HTTP (%s)" % st.get("not_http"))
        check(st.get("requests") == 2, "2 requests read, one of them HTTP/2 (%s)" % st.get("requests"))
        check(st.get("tls_unseen") == 0, "no TLS unseen (%s)" % st.get("tls_unseen"))
    finally:
        shop.stop()


# A WebSocket server in a few lines: a 101 to the upgrade request, then every byte echoed.
ECHO_SERVER = r"""
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(4)
while True:
    c, _ = s.accept()
    data = b""
    while b"\r\n\r\n" not in data:
        more = c.recv(4096)
        if not more: break
        data += more
    if b"upgrade: websocket" not in data.lower():
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"); c.close(); continue
    c.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
    while True:
        more = c.recv(4096)
        if not more: break
        c.sendall(more)
    c.close()
"""


def websocket(args, work):
    print("== WebSocket after a 101")
    port = shoplib.free_port()
    shop, status = under_agent(args, work, "ws", [sys.executable, "-c", ECHO_SERVER, str(port)], port)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
            c.sendall(b"GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                      b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
            head = b""
            while b"\r\n\r\n" not in head:
                head += c.recv(4096)
            check(head.startswith(b"HTTP/1.1 101"), "the upgrade is answered 101 (%r)" % head[:20])
            frame = b"\x81\x85\x00\x00\x00\x00hello"  # a masked text frame (mask 0)
            c.sendall(frame)
            echoed = b""
            while len(echoed) < len(frame):
                more = c.recv(4096)
                if not more:
                    break
                echoed += more
            check(echoed == frame, "the frames after the 101 pass untouched (%r)" % echoed)
        st = status_when(status, lambda s: s.get("not_http", 0) >= 1)
        check(st.get("not_http") == 1, "the upgraded connection is counted not read (%s)" % st.get("not_http"))
        check(st.get("requests") == 1, "the upgrade request was read (%s)" % st.get("requests"))
    finally:
        shop.stop()


# A FastCGI application that answers a request's records with a record of FastCGI version 2,
# which no web server reads; an HTTP/1.1 request gets a 200.
FCGI_APP = r"""
import socket, sys
END_PARAMS = b"\x01\x04\x00\x01\x00\x00\x00\x00"
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(4)
while True:
    c, _ = s.accept()
    data = b""
    while END_PARAMS not in data and b"\r\n\r\n" not in data:
        more = c.recv(4096)
        if not more: break
        data += more
    try:
        if END_PARAMS in data:
            c.sendall(b"\x02\x06\x00\x01\x00\x05\x00\x00hello")
        elif data:
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
    except OSError:
        pass
    c.close()
"""


def fcgi_record(kind, content):
    return bytes([1, kind, 0, 1, len(content) >> 8, len(content) & 0xFF, 0, 0]) + content


def fcgi_pair(name, value):
    return bytes([len(name), len(value)]) + name + value


def fastcgi(args, work):
    print("== FastCGI answered with records that are not FastCGI 1")
    port = shoplib.free_port()
    shop, status = under_agent(args, work, "fcgi", [sys.executable, "-c", FCGI_APP, str(port)], port)
    try:
        params = (fcgi_pair(b"REQUEST_METHOD", b"GET") + fcgi_pair(b"REQUEST_URI", b"/search?q=lamp") +
                  fcgi_pair(b"REMOTE_ADDR", b"127.0.0.1"))
        with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
            c.sendall(fcgi_record(1, b"\x00\x01\x00\x00\x00\x00\x00\x00") + fcgi_record(4, params) +
                      fcgi_record(4, b"") + fcgi_record(5, b""))
            answer = b""
            while True:
                more = c.recv(4096)
                if not more:
                    break
                answer += more
        check(answer.startswith(b"\x02\x06"), "the application's records reach the web server (%r)" % answer[:8])
        st = status_when(status, lambda s: s.get("not_http", 0) >= 1)
        check(st.get("not_http") == 1, "the connection is counted not read (%s)" % st.get("not_http"))
        check(st.get("requests") == 1, "the request in the records was read (%s)" % st.get("requests"))
    finally:
        shop.stop()


def tls_unseen(args, work):
    print("== TLS the agent cannot decrypt (openssl s_server -www)")
    openssl = shoplib.tool("openssl")
    if openssl is None:
        print("  skip: openssl is not installed")
        return
    cert, key = shoplib.tls_pair(os.path.join(work, "tls"))
    port = shoplib.free_port()
    shop, status = under_agent(args, work, "s_server", [
        openssl, "s_server", "-accept", "127.0.0.1:%d" % port, "-cert", cert, "-key", key, "-www",
        "-quiet"], port)
    try:
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=10, context=shoplib.client_tls())
        try:
            conn.request("GET", "/")
            answer = conn.getresponse()
            answer.read()
            check(answer.status == 200, "s_server answers over TLS (%s)" % answer.status)
        finally:
            conn.close()
        # wait_ready's probe connected without a handshake: only the real client sent records.
        st = status_when(status, lambda s: s.get("tls_unseen", 0) >= 1)
        check(st.get("tls_unseen") == 1, "1 TLS connection unseen (%s)" % st.get("tls_unseen"))
        check(st.get("requests") == 0, "no request read (%s)" % st.get("requests"))
    finally:
        shop.stop()


def programs(args, work):
    print("== programs the agent cannot enter")
    cc = shoplib.tool("cc")
    if cc is None:
        print("  skip: no C compiler")
        return
    vigil = os.path.join(args.build, "bin", "vigil")
    source = os.path.join(work, "hello.c")
    with open(source, "w") as f:
        f.write('#include <stdio.h>\nint main(void) { puts("hello from the program"); return 0; }\n')
    static, dynamic = os.path.join(work, "hello-static"), os.path.join(work, "hello-dynamic")
    built = subprocess.run([cc, "-static", "-o", static, source], capture_output=True, text=True)
    check(built.returncode == 0, "cc -static builds a static program (%s)" % built.stderr.strip())
    subprocess.run([cc, "-o", dynamic, source], check=True)
    script = os.path.join(work, "hello-script")
    with open(script, "w") as f:
        f.write("#!/usr/bin/env hello-static\n")
    os.chmod(script, 0o755)
    env = dict(os.environ, PATH=work + os.pathsep + os.environ.get("PATH", ""))

    def run(command):
        r = subprocess.run([vigil, "run", "--"] + command, capture_output=True, text=True, env=env,
                           timeout=30)
        return r.returncode, r.stdout, r.stderr

    rc, out, err = run([static])
    check(rc == 0 and "hello from the program" in out, "the static program runs (%s, %r)" % (rc, out))
    check("vigil run: warning: %s is statically linked" % static in err, "its warning: %r" % err)
    rc, out, err = run([script])
    check(rc == 0 and "%s (the interpreter of %s) is statically linked" % (static, script) in err,
          "the script naming it through env: %r" % err)
    rc, out, err = run([dynamic])
    check(rc == 0 and "hello from the program" in out and err == "",
          "the dynamic program runs without a word (%r)" % err)
    rc, out, err = run(["sh", "-c", "exit 0"])
    check(rc == 0 and err == "", "sh: no warning (%r)" % err)
    # The dynamic program's own interpreter (a 32-bit one may be installed beside it).
    with open(dynamic, "rb") as f:
        image = f.read()
    at = image.find(b"/ld-")
    linker = image[image.rfind(b"\0", 0, at) + 1:image.find(b"\0", at)].decode() if at > 0 else ""
    if linker.startswith("/") and os.path.exists(linker):
        rc, out, err = run([linker, dynamic])
        check(rc == 0 and "hello from the program" in out and err == "",
              "the dynamic linker run directly: no warning (%r)" % err)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="vigil-e2e-blindspots-")
    not_http(args, work)
    fastcgi(args, work)
    websocket(args, work)
    tls_unseen(args, work)
    programs(args, work)
    return check.finish(work)


if __name__ == "__main__":
    sys.exit(main())
