#!/usr/bin/python3
"""A deliberately vulnerable shop on PostgreSQL or MariaDB. Its SQL goes through a driver that
speaks the database's protocol itself (pg8000, PyMySQL: no client library, as node-postgres,
mysql2, PHP's mysqlnd and JDBC do), and for one route through the C client library (psycopg2:
libpq; MySQLdb: libmariadb). Every query is built by string concatenation. Listens on 127.0.0.1
only. Debian's python3 (the drivers are Debian packages).

  /search?q=    one connection opened at startup, before the first request (the agent starts at
                the first accepted connection: it joins that stream late); a broken connection
                is replaced and the query tried once more, as a pool does
  /product?id=  a connection per request (followed from its first bytes)
  /legacy?name= the C client library

usage: dbshop.py PORT pg|mysql DB_PORT DATABASE
"""
import http.server
import json
import sys
import threading
import urllib.parse

PORT, KIND, DB_PORT, DATABASE = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]

if KIND == "pg":
    import pg8000 as wire_driver
    import psycopg2

    def connect():
        return wire_driver.connect(user="vigil", host="127.0.0.1", port=DB_PORT, database=DATABASE)

    def connect_library():
        return psycopg2.connect(host="127.0.0.1", port=DB_PORT, user="vigil", dbname=DATABASE, sslmode="disable")

    PRICE = "price::text"
    # (strpos, not LIKE '%...%': pg8000 reads a '%' in the text as a placeholder)
    SEARCH = "SELECT name, %s FROM products WHERE visible AND strpos(name, '%s') > 0 ORDER BY id"
else:
    import MySQLdb
    import pymysql as wire_driver

    def connect():
        return wire_driver.connect(host="127.0.0.1", port=DB_PORT, user="root", database=DATABASE)

    def connect_library():
        return MySQLdb.connect(host="127.0.0.1", port=DB_PORT, user="root", database=DATABASE)

    PRICE = "CAST(price AS CHAR)"
    SEARCH = "SELECT name, %s FROM products WHERE visible AND LOCATE('%s', name) > 0 ORDER BY id"


def run(con, sql):
    cur = con.cursor()
    try:
        cur.execute(sql)  # no parameters: the statement goes as it is
        rows = [[str(c) for c in r] for r in cur.fetchall()] if cur.description else []
        con.commit()
        return rows
    except wire_driver.DatabaseError:
        con.rollback()  # the server refused the statement: the connection is fine
        raise


shared = connect()
shared_lock = threading.Lock()


def run_shared(sql):
    global shared
    for attempt in (1, 2):
        try:
            return run(shared, sql)
        except wire_driver.DatabaseError:
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
                    rows = run_shared(SEARCH % (PRICE, q.get("q", "")))
                self.reply(200, json.dumps(rows) + "\n", "application/json")
            elif url.path == "/product":
                con = connect()
                try:
                    rows = run(con, "SELECT name, %s FROM products WHERE visible AND id = %s"
                               % (PRICE, q.get("id", "0")))
                finally:
                    try:
                        con.close()
                    except Exception:
                        pass
                self.reply(200 if rows else 404, json.dumps(rows) + "\n", "application/json")
            elif url.path == "/legacy":
                con = connect_library()
                try:
                    cur = con.cursor()
                    cur.execute("SELECT name FROM products WHERE visible AND name = '" + q.get("name", "") + "'")
                    rows = [list(r) for r in cur.fetchall()]
                finally:
                    con.close()
                self.reply(200, json.dumps(rows) + "\n", "application/json")
            else:
                self.reply(404, "not found\n")
        except Exception as e:  # the application's own error handling
            self.reply(500, "error: " + type(e).__name__ + "\n")


if __name__ == "__main__":
    server = http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
    print("dbshop: listening on http://127.0.0.1:%d/ (%s)" % (PORT, KIND), flush=True)
    server.serve_forever()
