#!/usr/bin/python3
"""A deliberately vulnerable shop on PostgreSQL: its SQL goes through pg8000, a driver that
speaks the PostgreSQL protocol itself (no libpq: what node-postgres and JDBC do too), and for
one route through psycopg2 (libpq). Every query is built by string concatenation. Listens on
127.0.0.1 only. Debian's python3 (pg8000 and psycopg2 are Debian packages).

  /search?q=   one connection opened at startup, before the first request (the agent starts at
               the first accepted connection: it joins that stream late); a broken connection is
               replaced and the query tried once more, as a pool does
  /product?id= a connection per request (followed from its startup message)
  /legacy?name= psycopg2, i.e. libpq's PQexec

usage: pgshop.py PORT PG_PORT DATABASE
"""
import http.server
import json
import sys
import threading
import urllib.parse

import pg8000
import psycopg2

PORT, PG_PORT, DATABASE = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]


def connect():
    return pg8000.connect(user="vigil", host="127.0.0.1", port=PG_PORT, database=DATABASE)


def run(con, sql):
    cur = con.cursor()
    try:
        cur.execute(sql)
        rows = [list(r) for r in cur.fetchall()] if cur.description else []
        con.commit()
        return rows
    except pg8000.DatabaseError:
        con.rollback()  # the server refused the statement: the connection is fine
        raise


shared = connect()
shared_lock = threading.Lock()


def run_shared(sql):
    global shared
    for attempt in (1, 2):
        try:
            return run(shared, sql)
        except pg8000.DatabaseError:
            raise
        except Exception:
            try:
                shared.close()
            except Exception:
                pass
            shared = connect()
            if attempt == 2:
                raise


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
                with shared_lock:
                    # (strpos, not LIKE '%...%': pg8000 reads a '%' in the text as a placeholder)
                    rows = run_shared("SELECT name, price::text FROM products WHERE visible AND strpos(name, '"
                                      + q.get("q", "") + "') > 0 ORDER BY id")
                self.reply(200, json.dumps(rows) + "\n", "application/json")
            elif url.path == "/product":
                con = connect()
                try:
                    rows = run(con, "SELECT name, price::text FROM products WHERE visible AND id = "
                               + q.get("id", "0"))
                finally:
                    try:
                        con.close()
                    except Exception:
                        pass
                self.reply(200 if rows else 404, json.dumps(rows) + "\n", "application/json")
            elif url.path == "/legacy":
                con = psycopg2.connect(host="127.0.0.1", port=PG_PORT, user="vigil", dbname=DATABASE,
                                       sslmode="disable")
                try:
                    cur = con.cursor()
                    cur.execute("SELECT name FROM products WHERE visible AND name = '" + q.get("name", "") + "'")
                    rows = cur.fetchall()
                finally:
                    con.close()
                self.reply(200, json.dumps(rows) + "\n", "application/json")
            else:
                self.reply(404, "not found\n")
        except Exception as e:  # the application's own error handling
            self.reply(500, "error: " + type(e).__name__ + "\n")


if __name__ == "__main__":
    server = http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
    print("pgshop: listening on http://127.0.0.1:%d/" % PORT, flush=True)
    server.serve_forever()
