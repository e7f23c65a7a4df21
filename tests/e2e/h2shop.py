#!/usr/bin/env python3
"""A deliberately vulnerable HTTP/2 server in Python, python3-h2 for the protocol, reached one
of two ways the Node.js shop does not offer:
  --tls CERT KEY  h2 over TLS (ALPN "h2"), the ssl module (the system's OpenSSL: SSL_read_ex and
                  SSL_write_ex);
  --upgrade       h2c by an HTTP/1.1 "Upgrade: h2c" request (RFC 7540 section 3.2; what curl
                  --http2 does for http:// URLs): the 101, then the upgrade request's response on
                  stream 1 as HTTP/2 frames, written with the 101 in one write.
Two routes, each built by string concatenation: /hello?name= reflects the name in HTML, and
/download?file= opens the named file under the data directory. A thread per connection;
127.0.0.1 only. Prints "listening" once it accepts.

usage: h2shop.py PORT DATA_DIR (--tls CERT KEY | --upgrade)
"""
import os
import socket
import ssl
import sys
import threading
import urllib.parse

import h2.config
import h2.connection
import h2.events
import h2.exceptions


def answer(data_dir, path):
    url = urllib.parse.urlsplit(path)
    q = dict(urllib.parse.parse_qsl(url.query))
    if url.path == "/hello":
        return 200, "text/html; charset=utf-8", ("<!DOCTYPE html><html><body><p>Hello, " +
                                                 q.get("name", "guest") + "!</p></body></html>\n").encode()
    if url.path == "/download":
        try:
            with open(os.path.join(data_dir, "files") + "/" + q.get("file", ""), "rb") as f:
                return 200, "application/octet-stream", f.read()
        except OSError as e:
            return 404, "text/plain", ("cannot open file: %s\n" % e.strerror).encode()
    return 404, "text/plain", b"not found\n"


def respond(conn, data_dir, stream_id, path):
    status, ctype, body = answer(data_dir, path)
    conn.send_headers(stream_id, [(":status", str(status)), ("content-type", ctype),
                                  ("content-length", str(len(body)))])
    conn.send_data(stream_id, body, end_stream=True)


def upgrade(sock, conn, data_dir):
    """Reads the HTTP/1.1 upgrade request; answers 101 and stream 1's response in one write.
    False when the request was no upgrade (answered 400)."""
    data = b""
    while b"\r\n\r\n" not in data:
        more = sock.recv(65536)
        if not more:
            return False
        data += more
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    path = head[0].split(" ")[1]
    fields = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in head[1:] if ":" in line)}
    if fields.get("upgrade", "").lower() != "h2c" or "http2-settings" not in fields:
        sock.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        return False
    conn.initiate_upgrade_connection(fields["http2-settings"])
    respond(conn, data_dir, 1, path)
    sock.sendall(b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n" +
                 conn.data_to_send())
    return True


def serve(sock, data_dir, by_upgrade):
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False, header_encoding="utf-8"))
    if by_upgrade:
        if not upgrade(sock, conn, data_dir):
            sock.close()
            return
    else:
        conn.initiate_connection()
        sock.sendall(conn.data_to_send())
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                break
            for ev in conn.receive_data(data):
                if isinstance(ev, h2.events.RequestReceived):
                    respond(conn, data_dir, ev.stream_id, dict(ev.headers).get(":path", "/"))
            sock.sendall(conn.data_to_send())
    except (OSError, h2.exceptions.ProtocolError):
        pass
    finally:
        sock.close()


def main():
    port, data_dir, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    os.makedirs(os.path.join(data_dir, "files"), exist_ok=True)
    with open(os.path.join(data_dir, "files", "manual.txt"), "w") as f:
        f.write("How to assemble the desk lamp: screw the shade on.\n")
    context = None
    if mode == "--tls":
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(sys.argv[4], sys.argv[5])
        context.set_alpn_protocols(["h2"])
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(16)
    print("listening", flush=True)
    while True:
        sock, _ = listener.accept()
        if context is not None:
            try:
                sock = context.wrap_socket(sock, server_side=True)
            except (OSError, ssl.SSLError):
                sock.close()
                continue
        threading.Thread(target=serve, args=(sock, data_dir, context is None), daemon=True).start()


if __name__ == "__main__":
    main()
