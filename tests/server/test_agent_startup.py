"""An agent with a server configured registers with vigild when its program starts, before any
traffic, without delaying the program; an unreachable server delays nothing either."""
import os
import subprocess
import sys
import tempfile
import time
import unittest

from harness import VIGILD, Vigild, wait_for

VIGIL = os.path.join(os.path.dirname(VIGILD), "vigil")
PRELOAD = os.path.join(os.path.dirname(os.path.dirname(VIGILD)), "lib", "libvigil_preload.so")

# A program that never accepts a connection; it starts a helper (a child with another pid).
IDLE = ("import subprocess, sys, time\n"
        "print('started', flush=True)\n"
        "subprocess.run(['sleep', '0.2'])\n"
        "time.sleep(float(sys.argv[1]))\n")


@unittest.skipUnless(os.path.exists(VIGIL) and os.path.exists(PRELOAD),
                     "the vigil command line or the agent is not built")
class AgentStartup(unittest.TestCase):
    def run_idle(self, server, key, spool, seconds):
        return subprocess.Popen(
            [VIGIL, "run", "--app", "idle", "--server", server, "--key", key, "--spool", spool,
             "--", sys.executable, "-c", IDLE, str(seconds)],
            env=dict(os.environ, VIGIL_HEARTBEAT="1"), stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, start_new_session=True)

    def test_registers_and_heartbeats_before_the_first_connection(self):
        v = Vigild().start()
        p = None
        try:
            admin = v.admin()
            key = admin.post("/api/v1/keys", {"app": "idle"}).json["key"]
            p = self.run_idle(v.url, key, os.path.join(v.tmp, "spool"), 30)
            agents = wait_for(lambda: admin.get("/api/v1/agents?app=idle").json, timeout=15)
            self.assertEqual(len(agents or []), 1, (agents, v.read_log()))
            self.assertEqual(agents[0]["pid"], p.pid)  # the program itself, not its helper
            first = agents[0]["last_seen"]
            later = wait_for(lambda: [a for a in admin.get("/api/v1/agents?app=idle").json
                                      if a["last_seen"] != first], timeout=10)
            self.assertTrue(later, "no heartbeat after the registration")
            self.assertEqual(later[0]["state"], "ok")
            self.assertEqual(len(admin.get("/api/v1/agents?app=idle").json), 1)
        finally:
            if p:
                p.kill()
                p.wait()
            v.close()

    def test_an_unreachable_server_delays_nothing(self):
        v = Vigild().start()
        port = v.port
        v.close()  # nothing listens there now
        start = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="vigil-test-spool-") as spool:
            p = self.run_idle("http://127.0.0.1:%d" % port, "vk_" + "0" * 43,
                              os.path.join(spool, "spool"), 0)
            out, err = p.communicate(timeout=30)
        self.assertEqual(p.returncode, 0, err)
        self.assertEqual(out.strip(), "started")
        self.assertLess(time.monotonic() - start, 10)


if __name__ == "__main__":
    unittest.main()
