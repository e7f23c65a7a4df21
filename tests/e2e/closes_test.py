#!/usr/bin/env python3
"""Connections a program closes without close(), under `vigil run --mode block`.

libuv (Node.js) closes every descriptor with syscall(SYS_close, fd); other programs use
close_range(), or dup2() over a descriptor. The agent must forget the connection either way:
a connection it still believes open hands its state to whatever next gets that number. After a
blocked request (its connection reads end-of-stream), a pipe with the number read nothing: a
Node.js server whose execSync() pipes took it never saw its child exit, and hung.

The server below (this file, --serve) takes one connection per way of closing, reads a request
the agent blocks (input analysis, block mode: the program reads end-of-stream and the client
gets a 403), closes the connection that way, then makes the number come back as a pipe (or
dup2()s a pipe onto it) and reads through it what it wrote. Each way must read its bytes back.
A first blocked connection comes before them, so that the agent's events file, opened with the
first event, has its number already; a descriptor the agent holds for a moment is waited for.

On 127.0.0.1, six connections, a few seconds.
usage: closes_test.py --build BUILD_DIR
"""
import argparse
import ctypes
import os
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shoplib  # noqa: E402

WAYS = ("close", "syscall-close", "close_range", "syscall-close_range", "dup2")
SYS_CLOSE, SYS_CLOSE_RANGE = 3, 436  # x86-64
ATTACK = "/?q=1'%20OR%20'1'='1--"


def serve():
    """The program under the agent: one connection per way, reports on stdout (first the port
    it listens on, which it chose: no other test can take it in between)."""
    libc = ctypes.CDLL(None, use_errno=True)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    print("ready %d" % listener.getsockname()[1], flush=True)
    # A first blocked connection: the agent opens its events file when it writes the first event,
    # and that file would otherwise take the number the first way's connection leaves free.
    conn, _ = listener.accept()
    fd = conn.detach()
    os.read(fd, 65536)
    os.close(fd)
    print("warm", flush=True)
    for way in WAYS:
        conn, _ = listener.accept()
        fd = conn.detach()
        seen = os.read(fd, 65536)  # blocked: end-of-stream
        if way == "dup2":
            r, w = os.pipe()
            os.dup2(r, fd)  # closes the connection, fd is the pipe's read end now
            os.close(r)
            r = fd
        else:
            if way == "close":
                os.close(fd)
            elif way == "syscall-close":
                libc.syscall(SYS_CLOSE, fd)
            elif way == "close_range":
                libc.close_range(fd, fd, 0)
            else:
                libc.syscall(SYS_CLOSE_RANGE, fd, fd, 0)
            # The lowest free numbers: the connection's first. The agent's own thread (writing
            # the block's event) may hold a descriptor for a moment, so that the connection got a
            # higher number than usual, or that its number is taken: a lower number that came
            # free is kept taken (the next pipe climbs), a taken one is waited for.
            held = []
            for attempt in range(200):
                r, w = os.pipe()
                if r == fd or attempt == 199:
                    break
                if r < fd:
                    held.append(r)
                    if w == fd:
                        os.close(w)
                    else:
                        held.append(w)
                    continue
                os.close(r)
                os.close(w)
                time.sleep(0.01)
            for h in held:
                os.close(h)
        os.write(w, b"through the pipe")
        got = os.read(r, 64)
        print("%s %d %d %d %r" % (way, len(seen), fd, r, got), flush=True)
        os.close(w)
        os.close(r)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build")
    ap.add_argument("--serve", action="store_true")
    args = ap.parse_args()
    if args.serve:
        return serve()
    build = os.path.abspath(args.build)
    if not os.path.exists(os.path.join(build, "lib", "libvigil_preload.so")):
        shoplib.skip("libvigil_preload.so not built")
    work = tempfile.mkdtemp(prefix="vigil-e2e-closes-")
    check = shoplib.Checks()
    log = open(os.path.join(work, "vigil-run.log"), "wb")
    proc = subprocess.Popen([os.path.join(build, "bin", "vigil"), "run", "--mode", "block", "--app", "closes",
                             "--events", os.path.join(work, "events.jsonl"), "--",
                             "/usr/bin/python3", os.path.abspath(__file__), "--serve"],
                            stdout=subprocess.PIPE, stderr=log, text=True,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        ready = proc.stdout.readline().split()
        check(len(ready) == 2 and ready[0] == "ready", "the server starts under the agent (%s)" % ready)
        if len(ready) != 2:
            print(open(log.name, errors="replace").read())
            return check.finish(work)
        port = int(ready[1])
        status, _, _ = shoplib.request(port, "GET", ATTACK, agent="vigil-e2e closes warm-up")
        events = os.path.join(work, "events.jsonl")
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not (os.path.exists(events) and os.path.getsize(events) > 0):
            time.sleep(0.05)
        written = os.path.exists(events) and os.path.getsize(events) > 0
        check(status == 403 and proc.stdout.readline().strip() == "warm" and written,
              "a first attack is blocked and its event written (%d)" % status)
        for way in WAYS:
            status, _, _ = shoplib.request(port, "GET", ATTACK, agent="vigil-e2e closes " + way)
            line = proc.stdout.readline().split(" ", 4)
            check(status == 403, "%s: the attack is blocked (%d)" % (way, status))
            check(len(line) == 5 and line[0] == way and line[1] == "0",
                  "%s: the program read end-of-stream from the blocked connection (%s)" % (way, line))
            if len(line) == 5:
                check(line[2] == line[3], "%s: the pipe took the connection's number %s (%s)"
                      % (way, line[2], line[3]))
                check(line[4].strip() == "b'through the pipe'",
                      "%s: the pipe on that number reads what was written to it (%s)" % (way, line[4].strip()))
        proc.wait(timeout=30)
        check(proc.returncode == 0, "the server ends cleanly (%s)" % proc.returncode)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, 9)
            proc.wait(30)
        log.close()
    return check.finish(work)


if __name__ == "__main__":
    sys.exit(main())
