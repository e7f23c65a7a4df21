#!/usr/bin/env python3
"""The PHP shop: PHP-FPM (tests/e2e/phpshop/index.php) behind nginx, FastCGI between them over a
unix socket, nginx on 127.0.0.1:PORT. Under `vigil run` the agent is preloaded into PHP-FPM only:
nginx is started without it (it is the web server in front, not the application). Runs until
SIGTERM or SIGINT, then stops both. Needs Debian's php8.2-fpm (php-fpm8.2, with pdo_sqlite) and
nginx-light.

With --db KIND PORT NAME, the /db/ routes use that database (mysql or pg; tests/e2e/dbwire_test.py).

usage: run.py PORT DATA_DIR [--db mysql|pg PORT NAME]
"""
import os
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "agent"))
import pyshop  # noqa: E402  (the same data as the Python shop's)
AGENT_ENV = ("LD_PRELOAD", "VIGIL_")  # what `vigil run` sets for the program it starts


def fpm_binary():
    for name in ("php-fpm8.2", "php-fpm"):
        for d in ("/usr/sbin", "/usr/bin"):
            if os.access(os.path.join(d, name), os.X_OK):
                return os.path.join(d, name)
    return shutil.which("php-fpm8.2") or shutil.which("php-fpm")


def main():
    port, data = int(sys.argv[1]), os.path.abspath(sys.argv[2])
    db = sys.argv[4:7] if len(sys.argv) >= 7 and sys.argv[3] == "--db" else ["", "0", ""]
    fpm, nginx = fpm_binary(), shutil.which("nginx") or "/usr/sbin/nginx"
    if fpm is None or not os.access(nginx, os.X_OK):
        print("phpshop: php-fpm8.2 and nginx are needed (Debian php8.2-fpm, nginx-light)", flush=True)
        return 77
    pyshop.init_db(data)
    run = os.path.join(data, "run")
    os.makedirs(run, exist_ok=True)
    sock = os.path.join(run, "fpm.sock")
    root = os.geteuid() == 0
    with open(os.path.join(run, "fpm.conf"), "w") as f:
        f.write("[global]\npid = %s/fpm.pid\nerror_log = %s/fpm.log\ndaemonize = no\n\n"
                "[shop]\nlisten = %s\npm = static\npm.max_children = 2\nclear_env = no\n"
                "catch_workers_output = yes\n%s" % (run, run, sock, "user = root\ngroup = root\n" if root else ""))
    with open(os.path.join(run, "nginx.conf"), "w") as f:
        temp = "".join("%s_temp_path %s/%s;\n" % (k, run, k) for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        f.write("%sworker_processes 1;\ndaemon off;\nerror_log %s/nginx.log;\npid %s/nginx.pid;\n"
                "events { worker_connections 64; }\n"
                "http {\n access_log off;\n %s server {\n  listen 127.0.0.1:%d;\n  location / {\n"
                "   include /etc/nginx/fastcgi_params;\n   fastcgi_param SCRIPT_FILENAME %s/index.php;\n"
                "   fastcgi_param SCRIPT_NAME /index.php;\n   fastcgi_param SHOP_DATA %s;\n"
                "   fastcgi_param SHOP_DB '%s';\n   fastcgi_param SHOP_DB_PORT %s;\n   fastcgi_param SHOP_DB_NAME '%s';\n"
                "   fastcgi_pass unix:%s;\n  }\n }\n}\n"
                % ("user root;\n" if root else "", run, run, temp, port, HERE, data, db[0], int(db[1]), db[2], sock))
    # PHP-FPM is the application: it keeps the agent `vigil run` preloaded into this launcher.
    procs = [subprocess.Popen([fpm, "-F", "-y", os.path.join(run, "fpm.conf")] + (["-R"] if root else []),
                              stdin=subprocess.DEVNULL)]
    deadline = time.monotonic() + 20
    while not os.path.exists(sock):
        if procs[0].poll() is not None or time.monotonic() > deadline:
            print("phpshop: php-fpm did not start (%s/fpm.log)" % run, flush=True)
            procs[0].kill()
            return 1
        time.sleep(0.1)
    env = {k: v for k, v in os.environ.items() if not k.startswith(AGENT_ENV)}
    procs.append(subprocess.Popen([nginx, "-c", os.path.join(run, "nginx.conf"), "-p", run], env=env,
                                  stdin=subprocess.DEVNULL))
    stop = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.append(1))
    print("phpshop: listening on http://127.0.0.1:%d/" % port, flush=True)
    while not stop and all(p.poll() is None for p in procs):
        time.sleep(0.2)
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGQUIT if p is procs[0] else signal.SIGTERM)  # graceful stops
    for p in procs:
        try:
            p.wait(15)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
