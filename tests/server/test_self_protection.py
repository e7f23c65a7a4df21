"""`vigil server` starts vigild; vigild runs under `vigil run` (it protects itself)."""
import json
import os
import unittest

from harness import VIGILD, Vigild, make_event, wait_for

VIGIL = os.path.join(os.path.dirname(VIGILD), "vigil")
PRELOAD = os.path.join(os.path.dirname(os.path.dirname(VIGILD)), "lib", "libvigil_preload.so")


@unittest.skipUnless(os.path.exists(VIGIL), "the vigil command line is not built")
class SelfProtection(unittest.TestCase):
    def test_vigil_server_is_vigild(self):
        v = Vigild()
        try:
            v.start(launcher=[VIGIL, "server"])
            self.assertEqual(v.admin().get("/api/v1/session").json["username"], "admin")
        finally:
            v.close()

    @unittest.skipUnless(os.path.exists(PRELOAD), "the agent (libvigil_preload.so) is not built")
    def test_vigild_under_vigil_run_reports_attacks_on_itself(self):
        v = Vigild()
        events = os.path.join(v.tmp, "self-events.jsonl")
        try:
            v.start(launcher=[VIGIL, "run", "--app", "vigild", "--events", events, "--", VIGILD])
            admin = v.admin()
            key = admin.post("/api/v1/keys", {"app": "shop"}).json["key"]
            self.assertEqual(v.client(key).post("/api/v1/events", [make_event("self1")]).status, 202)
            self.assertEqual(len(admin.get("/api/v1/incidents").json), 1)
            # An injection attempt against vigild's own API: refused by validation, and seen by
            # the agent inside vigild.
            r = admin.get("/api/v1/events?app=x%27%20OR%201=1--")
            self.assertEqual(r.status, 400)

            def reported():
                if not os.path.exists(events):
                    return None
                with open(events) as f:
                    return [json.loads(l) for l in f if l.strip()]
            # (The agent also sees the payload inside the event batch posted above.)
            found = wait_for(lambda: [e for e in (reported() or [])
                                      if e.get("rule") == "sql-injection"
                                      and e.get("input", {}).get("name") == "app"], timeout=10)
            self.assertTrue(found, v.read_log())
            self.assertEqual(found[0]["outcome"], "probed")
            # vigild keeps working under the agent (monitor mode).
            self.assertEqual(admin.get("/api/v1/incidents").status, 200)
        finally:
            v.close()


if __name__ == "__main__":
    unittest.main()
