#!/usr/bin/env python3
"""Connections the agent cannot read are counted, so that the sensor-health view shows them:
  not_http    the C shop under the agent gets one HTTP/1.1 request, an HTTP/2 connection
              (prior knowledge: the connection preface, a SETTINGS frame and one request, read:
              e2e.battery.node-h2, e2e.h2), an SMTP greeting, a Redis inline command (one line,
              no blank line after it) and a PostgreSQL client's SSL request: 2 requests, 3
              connections not HTTP, no TLS unseen (FastCGI is read too: e2e.battery.php)
  tls_unseen  `openssl s_server -www` under the agent answers a request over TLS; it reads its
              plaintext inside OpenSSL (a BIO), where no hook sees it: 0 requests, 1 TLS
              connection unseen
Loopback only; every process started here is stopped here.

usage: blindspots_test.py --build BUILD_DIR
"""
import argparse
import http.client
import os
import socket
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="vigil-e2e-blindspots-")
    not_http(args, work)
    tls_unseen(args, work)
    return check.finish(work)


if __name__ == "__main__":
    sys.exit(main())
