#!/usr/bin/env python3
"""A deliberately vulnerable product lookup served by several processes, the two ways servers
fork: `fork` (the parent accepts, each connection is served by a forked child, like
socketserver.ForkingMixIn or inetd) and `prefork` (the parent listens and forks WORKERS
workers that each accept on the shared socket, like gunicorn or Apache prefork). Loopback only.

  GET /product?id=ID   SELECT ... WHERE id = ID (concatenated: SQL injection)
  GET /pid             the serving process's id

usage: forkshop.py PORT DATA_DIR fork|prefork [WORKERS]
"""
import http.server
import os
import signal
import socketserver
import sqlite3
import sys
import urllib.parse

PORT = int(sys.argv[1])
DATA = sys.argv[2]
MODE = sys.argv[3]
WORKERS = int(sys.argv[4]) if len(sys.argv) > 4 else 3
DB = os.path.join(DATA, "shop.db")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, text):
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        if url.path == "/pid":
            return self.answer(200, "%d\n" % os.getpid())
        if url.path == "/product":
            db = sqlite3.connect(DB)
            try:
                rows = db.execute("SELECT name, price FROM products WHERE visible = 1 AND id = "
                                  + query.get("id", [""])[0]).fetchall()
            except sqlite3.Error as e:
                return self.answer(500, "error: %s\n" % e)
            finally:
                db.close()
            return self.answer(200, "".join("%s %.2f\n" % r for r in rows) or "no such product\n")
        return self.answer(404, "not found\n")


class ForkingServer(socketserver.ForkingMixIn, http.server.HTTPServer):
    allow_reuse_address = True


def main():
    os.makedirs(DATA, exist_ok=True)
    db = sqlite3.connect(DB)
    db.executescript("""
        DROP TABLE IF EXISTS products;
        CREATE TABLE products(id INTEGER PRIMARY KEY, name TEXT, price REAL, visible INTEGER);
        INSERT INTO products(name, price, visible) VALUES ('desk lamp', 29.9, 1), ('chair', 79.0, 1),
          ('secret prototype', 999.0, 0);
    """)
    db.commit()
    db.close()
    if MODE == "fork":
        server = ForkingServer(("127.0.0.1", PORT), Handler)
        signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
        server.serve_forever()
        return
    server = http.server.HTTPServer(("127.0.0.1", PORT), Handler)
    children = []
    for _ in range(WORKERS):
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
            try:
                server.serve_forever()
            except SystemExit:
                pass
            raise SystemExit(0)  # a normal exit (the agent flushes its events), past main()
        children.append(pid)

    def stop(*_):
        for c in children:
            try:
                os.kill(c, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for c in children:
            try:
                os.waitpid(c, 0)
            except ChildProcessError:
                pass
        sys.exit(0)
    signal.signal(signal.SIGTERM, stop)
    while True:  # the workers serve; a worker that dies is not replaced (the test kills one)
        try:
            os.wait()
        except ChildProcessError:
            signal.pause()


if __name__ == "__main__":
    main()
