#!/usr/bin/python3
"""A FastAPI program under `vigil run`: Starlette on uvicorn, one asyncio event loop reading every
request, plain `def` handlers run on a thread pool (the sink call is on another thread than the
one that read its request), `async def` ones on the loop, multipart forms read through
python-multipart.
Debian's python3-fastapi, python3-uvicorn and python3-multipart. The program (this file, --serve):

  GET  /user?name=N   SELECT id, name FROM users WHERE name = 'N' (a def handler: thread pool)
  POST /form          the same with a form field `name` (urlencoded or multipart)
  POST /json          the same with a JSON body's "name" (an async handler, the query run
                      with asyncio.to_thread)

The injections are ones only the SQL they end up in convicts ("b'||'ob" finds bob by a name
that is not his); the first one is sent twice: in monitor mode, Python's sqlite3 runs the kept
statement the second time, without a prepare, on a pool thread that reads no requests. Block
mode: each injection 403, each benign request answered as without the agent. Monitor mode:
each injection answered with bob and reported `exploited` exactly once (a pool thread's
statement was reported at its prepare and again at its first step, before the agent told a
statement's first run after its prepare apart). Last, a form sent as curl sends a large one,
its body after the server's "100 Continue": blocked, it is answered 403 (the previous agent took
the interim response for the start of the answer, and the client got an empty reply). On
127.0.0.1, about twenty-five requests, a few seconds.
usage: fastapi_test.py --build BUILD_DIR
"""
import argparse
import json
import os
import sys
import tempfile
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shoplib  # noqa: E402


def serve(port):
    import asyncio
    import sqlite3
    import threading
    import fastapi
    import uvicorn

    app = fastapi.FastAPI()
    db = sqlite3.connect(":memory:", check_same_thread=False)
    db.executescript("CREATE TABLE users(id INTEGER, name TEXT);"
                     "INSERT INTO users VALUES(1, 'bob'), (2, 'alice');")
    lock = threading.Lock()

    def lookup(name):
        with lock:
            return db.execute("SELECT id, name FROM users WHERE name = '" + name + "'").fetchall()

    @app.get("/user")
    def user(name: str = ""):
        return lookup(name)

    @app.post("/form")
    def form(name: str = fastapi.Form("")):
        return lookup(name)

    @app.post("/json")
    async def by_json(request: fastapi.Request):
        body = await request.json()
        return await asyncio.to_thread(lookup, body.get("name", ""))

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def multipart(name, value):
    head = 'Content-Disposition: form-data; name="%s"\r\n' % name
    body = "--XX\r\n%s\r\n%s\r\n--XX--\r\n" % (head, value)
    return body.encode(), {"Content-Type": "multipart/form-data; boundary=XX"}


# (what, method, target, body, headers); each injection spelled its own way (Python's sqlite3
# keeps a statement by its text), but for the one sent again.
BENIGN = [
    ("a name in the query", "GET", "/user?name=bob", None, None),
    ("a form", "POST", "/form", b"name=bob", {"Content-Type": "application/x-www-form-urlencoded"}),
    ("a multipart field", "POST", "/form") + multipart("name", "bob"),
    ("JSON", "POST", "/json", b'{"name": "bob"}', {"Content-Type": "application/json"}),
]
ATTACKS = [
    ("in the query", "GET", "/user?name=" + urllib.parse.quote("b'||'ob"), None, None),
    ("in the query, again", "GET", "/user?name=" + urllib.parse.quote("b'||'ob"), None, None),
    ("in a form", "POST", "/form", b"name=" + urllib.parse.quote("bo'||'b").encode(),
     {"Content-Type": "application/x-www-form-urlencoded"}),
    ("in a multipart field", "POST", "/form") + multipart("name", "'||'bob"),
    ("in JSON", "POST", "/json", json.dumps({"name": "' || 'bob"}).encode(), {"Content-Type": "application/json"}),
]


def run_mode(build, work, mode, check):
    port = shoplib.free_port()
    events_path = os.path.join(work, mode + "-events.jsonl")
    cmd = ["/usr/bin/python3", os.path.abspath(__file__), "--serve", str(port)]
    with shoplib.Shop(cmd, port, vigil=os.path.join(build, "bin", "vigil"), agent_mode=mode,
                      app="fastapi-" + mode, events=events_path,
                      log=os.path.join(work, mode + ".log")) as shop:
        shop.wait_ready()
        for what, method, target, body, headers in BENIGN:
            status, _, answer = shoplib.request(port, method, target, body=body, headers=headers,
                                                agent="benign")[:3]
            check(status == 200 and json.loads(answer) == [[1, "bob"]],
                  "%s: bob looked up by %s (%d %r)" % (mode, what, status, answer[:60]))
        for what, method, target, body, headers in ATTACKS:
            status, _, answer = shoplib.request(port, method, target, body=body, headers=headers,
                                                agent="attack " + what)[:3]
            if mode == "block":
                check(status == 403, "block: an injection %s is blocked (%d %r)" % (what, status, answer[:60]))
            else:
                check(status == 200 and json.loads(answer) == [[1, "bob"]],
                      "monitor: an injection %s runs (%d %r)" % (what, status, answer[:60]))
        # A form sent as curl sends a large one: the body after the server's 100 Continue. A
        # block after that interim response is still answered 403 (it was an empty reply).
        status, body = shoplib.expect_continue(port, "/form", b"name=bob", agent="benign")
        check(status == 200 and json.loads(body) == [[1, "bob"]],
              "%s: a form sent after 100 Continue finds bob (%d %r)" % (mode, status, body[:60]))
        status, body = shoplib.expect_continue(port, "/form", b"name=b%27%7C%7C%20%27ob",
                                               agent="attack after 100 Continue")
        if mode == "block":
            check(status == 403, "block: an injection sent after 100 Continue is answered 403 (%d %r)"
                  % (status, body[:60]))
        else:
            check(status == 200 and json.loads(body) == [[1, "bob"]],
                  "monitor: an injection sent after 100 Continue runs (%d %r)" % (status, body[:60]))
        check(shop.alive(), "%s: the program is up after the requests" % mode)
        shoplib.check_one_event_each(events_path, ["attack " + a[0] for a in ATTACKS] +
                                     ["attack after 100 Continue"],
                                     "blocked" if mode == "block" else "exploited", check, mode)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build")
    ap.add_argument("--serve", type=int)
    args = ap.parse_args()
    if args.serve:
        return serve(args.serve)
    build = shoplib.agent_build(args.build)
    try:
        import fastapi  # noqa: F401
        import multipart  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as e:
        shoplib.skip("%s (Debian python3-fastapi, python3-uvicorn, python3-multipart)" % e)
    work = tempfile.mkdtemp(prefix="vigil-e2e-fastapi-")
    check = shoplib.Checks()
    for mode in ("block", "monitor"):
        run_mode(build, work, mode, check)
    return check.finish(work)


if __name__ == "__main__":
    sys.exit(main())
