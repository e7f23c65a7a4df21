#!/usr/bin/env python3
"""A deliberately vulnerable shop in plain Python (http.server, sqlite3, subprocess, os.system,
open, urllib): the "any runtime" proof for the agent. Same routes and answers as the C++ shop
(examples/shop/shop.cpp). Every handler builds its operation by string concatenation. Listens on
127.0.0.1 only; its fetcher refuses every destination that is not loopback.

With CERT and KEY it serves HTTPS (Python's ssl module: OpenSSL's SSL_read_ex/SSL_write_ex).

usage: pyshop.py PORT DATA_DIR [CERT KEY]
"""
import http.server
import ipaddress
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import urllib.parse
import urllib.request

# (Set only when run: tests/e2e/phpshop/run.py imports init_db for the PHP shop's data.)
PORT = int(sys.argv[1]) if __name__ == "__main__" else 0
DATA = sys.argv[2] if __name__ == "__main__" else ""
DB = os.path.join(DATA, "shop.db")
SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e", "shop.sql")


def init_db(data=None):
    """The shop's database and files in `data` (default: DATA)."""
    data = data or DATA
    os.makedirs(os.path.join(data, "files"), exist_ok=True)
    db = sqlite3.connect(os.path.join(data, "shop.db"))
    with open(SCHEMA) as f:
        db.executescript(f.read())
    db.commit()
    db.close()
    with open(os.path.join(data, "files", "manual.txt"), "w") as f:
        f.write("How to assemble the desk lamp: screw the shade on.\n")
    with open(os.path.join(data, "files", "terms.txt"), "w") as f:
        f.write("Terms: be nice.\n")


def rows_json(rows):
    return json.dumps([list(r) for r in rows], separators=(",", ":")) + "\n"


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, code, body, ctype="text/plain; charset=utf-8", headers=()):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)  # no CR/LF check: header injection on purpose
        self.end_headers()
        self.wfile.write(data)

    def query(self, sql):
        db = sqlite3.connect(DB)
        try:
            return db.execute(sql).fetchall()
        finally:
            db.close()

    def do_POST(self):
        url = urllib.parse.urlparse(self.path)
        n = int(self.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in urllib.parse.parse_qs(self.rfile.read(n).decode(errors="replace"),
                                                          keep_blank_values=True).items()}
        try:
            if url.path == "/login":
                try:
                    rows = self.query("SELECT name FROM users WHERE name = '" + form.get("user", "")
                                      + "' AND password = '" + form.get("pass", "") + "'")
                except sqlite3.Error as e:
                    return self.reply(500, "login failed: " + str(e) + "\n")
                if not rows:
                    return self.reply(401, "invalid credentials\n")
                self.reply(200, "welcome " + rows_json(rows))
            else:
                self.reply(404, "not found\n")
        except Exception as e:  # the application's own error handling
            self.reply(500, "error: " + type(e).__name__ + "\n")

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        q = {k: v[0] for k, v in urllib.parse.parse_qs(url.query, keep_blank_values=True).items()}
        try:
            if url.path == "/search":
                try:
                    rows = self.query("SELECT name, price FROM products WHERE visible = 1 AND name LIKE '%"
                                      + q.get("q", "") + "%' ORDER BY id")
                except sqlite3.Error as e:
                    return self.reply(500, "search failed: " + str(e) + "\n")
                self.reply(200, rows_json(rows), "application/json")
            elif url.path == "/product":
                try:
                    rows = self.query("SELECT name, price FROM products WHERE visible = 1 AND id = "
                                      + q.get("id", ""))
                except sqlite3.Error as e:
                    return self.reply(500, "lookup failed: " + str(e) + "\n")
                if not rows:
                    return self.reply(404, "no such product\n")
                self.reply(200, rows_json(rows), "application/json")
            elif url.path == "/ping":
                host = q.get("host", "127.0.0.1")
                if q.get("mode") == "quiet":
                    rc = os.system("ping -c 1 -W 1 -q " + host + " >/dev/null 2>&1")
                    return self.reply(200, host + (" is up\n" if rc == 0 else " did not answer\n"))
                out = subprocess.run("ping -c 1 -W 1 -q " + host + " 2>&1", shell=True,
                                     capture_output=True, text=True, timeout=5)
                # Timings differ run to run: the answer keeps what ping found, not how fast.
                lines = [re.sub(r", time .*", "", l) for l in out.stdout.splitlines(True)
                         if not l.startswith("rtt ")]
                self.reply(200, "".join(lines))
            elif url.path == "/download":
                try:
                    with open(os.path.join(DATA, "files") + "/" + q.get("file", ""), "rb") as f:
                        self.reply(200, f.read(), "application/octet-stream")
                except OSError as e:
                    self.reply(404, "cannot open file: " + (e.strerror or "error") + "\n")
            elif url.path == "/fetch":
                target = q.get("url", "")
                if not target:
                    return self.reply(400, "give a url\n")
                if target.startswith("http://"):
                    host = urllib.parse.urlsplit(target).hostname or ""
                    addrs = {a[4][0] for a in socket.getaddrinfo(host, None)}
                    if not all(ipaddress.ip_address(a).is_loopback for a in addrs):
                        return self.reply(400, "this demo fetches loopback addresses only\n")
                elif not target.startswith("file://"):
                    return self.reply(400, "http: and file: URLs only\n")
                try:
                    with urllib.request.urlopen(target, timeout=2) as r:
                        self.reply(200, r.read(65536))
                except Exception as e:
                    self.reply(502, "cannot fetch: " + type(e).__name__ + "\n")
            elif url.path == "/delete":
                try:
                    os.remove(os.path.join(DATA, "files") + "/" + q.get("file", ""))
                    self.reply(200, "deleted\n")
                except OSError as e:
                    self.reply(404, "cannot delete: " + (e.strerror or "error") + "\n")
            elif url.path == "/list":
                try:
                    names = sorted(os.listdir(os.path.join(DATA, "files") + "/" + q.get("dir", ".")))
                    self.reply(200, "".join(n + "\n" for n in names))
                except OSError as e:
                    self.reply(404, "cannot list: " + (e.strerror or "error") + "\n")
            elif url.path == "/hello":
                self.reply(200, "<!DOCTYPE html><html><body><p>Hello, " + q.get("name", "guest")
                           + "!</p></body></html>\n", "text/html; charset=utf-8")
            elif url.path == "/go":
                self.send_response(302)
                self.send_header("Location", q.get("to", "/"))
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif url.path == "/lang":
                self.reply(200, "language set\n",
                           headers=[("Set-Cookie", "lang=" + q.get("set", "en") + "; Path=/")])
            elif url.path == "/internal/config":
                self.reply(200, "db_password=hunter2\napi_key=demo-internal-key\n")
            elif url.path == "/":
                self.reply(200, "<!DOCTYPE html><html><body><h1>Vigil demo shop (Python)</h1></body></html>\n",
                           "text/html; charset=utf-8")
            else:
                self.reply(404, "not found\n")
        except Exception as e:  # the application's own error handling
            self.reply(500, "error: " + type(e).__name__ + "\n")


if __name__ == "__main__":
    init_db()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
    if len(sys.argv) > 4:
        import ssl
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(sys.argv[3], sys.argv[4])
        # The handshake happens in the request's thread, on its first read.
        server.socket = context.wrap_socket(server.socket, server_side=True,
                                            do_handshake_on_connect=False)
    print("pyshop: listening on %s://127.0.0.1:%d/" % ("https" if len(sys.argv) > 4 else "http", PORT),
          flush=True)
    server.serve_forever()
