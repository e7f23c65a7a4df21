#!/usr/bin/env python3
"""A deliberately vulnerable HTTP/2 server over TLS (ALPN "h2") in Python: python3-h2 for the
protocol, the ssl module (the system's OpenSSL: SSL_read_ex and SSL_write_ex) for TLS. Two
routes, each built by string concatenation: /hello?name= reflects the name in HTML, and
/download?file= opens the named file under the data directory. A thread per connection;
127.0.0.1 only. Prints "listening" once it accepts.

usage: h2tlsshop.py PORT DATA_DIR CERT KEY
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


def serve(sock, data_dir):
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False, header_encoding="utf-8"))
    conn.initiate_connection()
    sock.sendall(conn.data_to_send())
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                break
            for ev in conn.receive_data(data):
                if isinstance(ev, h2.events.RequestReceived):
                    headers = dict(ev.headers)
                    status, ctype, body = answer(data_dir, headers.get(":path", "/"))
                    conn.send_headers(ev.stream_id, [(":status", str(status)), ("content-type", ctype),
                                                     ("content-length", str(len(body)))])
                    conn.send_data(ev.stream_id, body, end_stream=True)
            sock.sendall(conn.data_to_send())
    except (OSError, h2.exceptions.ProtocolError):
        pass
    finally:
        sock.close()


def main():
    port, data_dir, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    os.makedirs(os.path.join(data_dir, "files"), exist_ok=True)
    with open(os.path.join(data_dir, "files", "manual.txt"), "w") as f:
        f.write("How to assemble the desk lamp: screw the shade on.\n")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.set_alpn_protocols(["h2"])
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(16)
    print("listening", flush=True)
    while True:
        raw, _ = listener.accept()
        try:
            tls = context.wrap_socket(raw, server_side=True)
        except (OSError, ssl.SSLError):
            raw.close()
            continue
        threading.Thread(target=serve, args=(tls, data_dir), daemon=True).start()


if __name__ == "__main__":
    main()
