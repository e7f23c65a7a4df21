#!/usr/bin/env python3
"""A tiny server that reflects ?name= into an HTML page and sends it compressed in the ways a
real server may, or a broken one: the agent's compressed-response path under `vigil run`
(tests/e2e/compressed_test.py). Listens on 127.0.0.1 only.

  /page?how=HOW&name=...   HOW: gzip (Content-Length), deflate (zlib-wrapped), rawdeflate,
                           chunked (gzip in chunked transfer coding, one write per chunk),
                           plainchunked (not compressed, the payload split over two chunks),
                           zeroline (not compressed, chunked, a first chunk whose write ends
                           the way the last chunk does: "0\r\n\r\n"),
                           truncated (the gzip stream's last third missing), unknown
                           (Content-Encoding: compress), bomb (the page, then 64 MiB of zeros,
                           in about 64 KiB of gzip)
  /pieces?name=...&rows=N[&script=0]
                           not compressed, Content-Length, written 100 bytes at a time: the name
                           in a script string (a write ends inside it) near the top (not with
                           script=0), and in the text after N rows of filler

usage: encodingshop.py PORT
"""
import gzip
import http.server
import signal
import sys
import urllib.parse
import zlib

PORT = int(sys.argv[1])
ZEROS = b"\0" * (1 << 20)


def deflate(data, wbits):
    c = zlib.compressobj(6, zlib.DEFLATED, wbits)
    return c.compress(data) + c.flush()


def bomb(page):
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    out = [c.compress(page)]
    for _ in range(64):
        out.append(c.compress(ZEROS))
    out.append(c.flush())
    return b"".join(out)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(url.query)
        if url.path == "/pieces":
            return self.pieces(q.get("name", [""])[0], int(q.get("rows", ["100"])[0]),
                               q.get("script", ["1"])[0] == "1")
        how = q.get("how", ["gzip"])[0]
        name = q.get("name", [""])[0]
        page = ("<!doctype html><html><body><h1>Hello " + name + "</h1>" +
                "<p>lamp</p>\n" * 2000 + "</body></html>").encode()
        if how == "plainchunked":
            # Not compressed; the payload split over two chunks: the agent must check the HTML
            # without the chunk framing between them.
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            cut = page.find(b"onclick=") + 10
            for piece in (page[:cut], page[cut:]):
                self.wfile.write(b"%x\r\n" % len(piece) + piece + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
            return
        if how == "zeroline":
            # Not compressed; the first chunk's data ends with a CRLF line "...: 0", so that its
            # write ends as the last chunk does ("0\r\n\r\n"); the name comes in the next one.
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            first = b"<!doctype html><html><body>\r\n<p>Items in your cart: 0\r\n"
            for piece in (first, page):
                self.wfile.write(b"%x\r\n" % len(piece) + piece + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
            return
        coding = "gzip"
        if how == "deflate":
            coding, body = "deflate", deflate(page, 15)
        elif how == "rawdeflate":
            coding, body = "deflate", deflate(page, -15)
        elif how == "truncated":
            body = gzip.compress(page)
            body = body[: len(body) * 2 // 3]
        elif how == "unknown":
            coding, body = "compress", gzip.compress(page)
        elif how == "bomb":
            body = bomb(page)
        else:
            body = gzip.compress(page)
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Encoding", coding)
        if how == "chunked":
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            step = max(1, len(body) // 5)
            for at in range(0, len(body), step):
                piece = body[at:at + step]
                self.wfile.write(b"%x\r\n" % len(piece) + piece + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    def pieces(self, name, rows, script):
        # The script string is placed so that a write ends right after the name in it.
        head = "<!doctype html><html><body><script>var who = \"" + name
        pad = 100 - len(head.encode()) % 100
        if pad != 100:
            head = head[:len(head) - len(name)] + " " * pad + name
        head = head + "\";\n</script>\n" if script else "<!doctype html><html><body>\n"
        page = (head + "<p>Row of the catalogue, nothing to see.</p>\n" * rows +
                "<h1>Hello " + name + "</h1>\n</body></html>\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(page)))
        self.end_headers()
        self.wfile.flush()
        for at in range(0, len(page), 100):
            self.wfile.write(page[at:at + 100])
            self.wfile.flush()


if __name__ == "__main__":
    # A normal exit on SIGTERM, so that the agent writes its final status (the test reads it).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
