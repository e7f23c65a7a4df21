#!/usr/bin/env python3
"""A deliberately vulnerable shop in plain Python (http.server, sqlite3, subprocess, open,
urllib): the "any runtime" proof for the agent. Every handler builds its operation by string
concatenation. Loopback only.

usage: pyshop.py PORT DATA_DIR
"""
import http.server
import json
import os
import sqlite3
import subprocess
import sys
import urllib.parse
import urllib.request

PORT = int(sys.argv[1])
DATA = sys.argv[2]
DB = os.path.join(DATA, "shop.db")


def init_db():
    db = sqlite3.connect(DB)
    db.executescript("""
        DROP TABLE IF EXISTS products; DROP TABLE IF EXISTS users;
        CREATE TABLE products(id INTEGER PRIMARY KEY, name TEXT, price REAL, visible INTEGER);
        CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT, password TEXT);
        INSERT INTO products(name, price, visible) VALUES ('desk lamp', 29.9, 1), ('chair', 79.0, 1),
          ('secret prototype', 999.0, 0);
        INSERT INTO users(name, password) VALUES ('alice', 'wonderland'), ('bob', 'builder');
    """)
    db.commit()
    db.close()
    os.makedirs(os.path.join(DATA, "files"), exist_ok=True)
    with open(os.path.join(DATA, "files", "manual.txt"), "w") as f:
        f.write("How to assemble the desk lamp.\n")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, code, body, ctype="text/plain; charset=utf-8"):
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        q = {k: v[0] for k, v in urllib.parse.parse_qs(url.query, keep_blank_values=True).items()}
        try:
            if url.path == "/search":
                db = sqlite3.connect(DB)
                rows = db.execute("SELECT name, price FROM products WHERE visible = 1 AND name LIKE '%"
                                  + q.get("q", "") + "%'").fetchall()
                self.reply(200, json.dumps(rows), "application/json")
            elif url.path == "/ping":
                out = subprocess.run("ping -c 1 -W 1 " + q.get("host", "127.0.0.1"), shell=True,
                                     capture_output=True, text=True, timeout=5)
                self.reply(200, out.stdout + out.stderr)
            elif url.path == "/download":
                with open(os.path.join(DATA, "files", q.get("file", "manual.txt"))) as f:
                    self.reply(200, f.read())
            elif url.path == "/fetch":
                with urllib.request.urlopen(q.get("url", ""), timeout=2) as r:
                    self.reply(200, r.read(2000).decode(errors="replace"))
            elif url.path == "/hello":
                self.reply(200, "<html><body><p>Hello, " + q.get("name", "guest") + "!</p></body></html>",
                           "text/html; charset=utf-8")
            else:
                self.reply(404, "not found")
        except Exception as e:  # the application's own error handling
            self.reply(500, "error: " + type(e).__name__)


if __name__ == "__main__":
    init_db()
    http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
