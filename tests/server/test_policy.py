"""Policy push: versions, validation with diagnostics, long-poll, incident actions, preview."""
import threading
import time
import unittest

from harness import Vigild, make_event


class Policy(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.v = Vigild().start()
        cls.admin = cls.v.admin()
        cls.key = cls.admin.post("/api/v1/keys", {"app": "shop"}).json["key"]
        cls.agent = cls.v.client(cls.key)

    @classmethod
    def tearDownClass(cls):
        cls.v.close()

    def test_put_validates_with_the_engine_and_versions(self):
        r = self.admin.put("/api/v1/apps/blog/policy",
                           {"mode": "monitor", "rules": {"sql-injection": "blok"}})
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json["diagnostics"][0]["code"], "policy.bad_mode")
        self.assertEqual(r.json["diagnostics"][0]["location"], "rules.sql-injection")
        doc = {"mode": "monitor", "rules": {"sql-injection": "block"},
               "ip_denylist": [{"cidr": "198.51.100.0/24", "expires": "2030-01-01T00:00:00Z"}],
               "exclusions": [{"rules": ["xss"], "routes": ["/admin/*"]}],
               "virtual_patches": [{"id": "vp-export", "action": "block", "route": "/export",
                                    "inputs": [{"name": "file", "regex": "\\.\\."}]}]}
        r = self.admin.put("/api/v1/apps/blog/policy", doc)
        self.assertEqual(r.status, 200, r)
        v1 = r.json["version"]
        got = self.admin.get("/api/v1/apps/blog/policy")
        self.assertEqual(got.json["policy"], doc)
        self.assertEqual(got.json["version"], v1)
        r = self.admin.put("/api/v1/apps/blog/policy",
                           {"policy": {"mode": "block"}, "comment": "tighten", "base_version": v1})
        self.assertEqual(r.json["version"], v1 + 1)
        r = self.admin.put("/api/v1/apps/blog/policy",
                           {"policy": {"mode": "off"}, "base_version": v1})
        self.assertEqual(r.status, 409)
        hist = self.admin.get("/api/v1/apps/blog/policy/history").json
        self.assertEqual([h["version"] for h in hist], [v1 + 1, v1])
        self.assertEqual(hist[0]["comment"], "tighten")
        audit = self.admin.get("/api/v1/audit?target=app:blog").json
        self.assertEqual([a["action"] for a in audit], ["policy.update", "policy.update"])

    def test_long_poll_returns_within_a_second_of_a_change(self):
        known = self.agent.get("/api/v1/agents/policy?app=shop&version=999999&wait=0").json
        version = known["version"] if known else 0
        r = self.agent.get("/api/v1/agents/policy?app=shop&version=%d&wait=1" % version)
        self.assertEqual(r.status, 304)
        result = {}

        def poll():
            start = time.time()
            result["r"] = self.agent.get("/api/v1/agents/policy?app=shop&version=%d&wait=20"
                                         % version)
            result["t"] = time.time()
        t = threading.Thread(target=poll)
        t.start()
        time.sleep(0.3)
        changed = time.time()
        self.admin.put("/api/v1/apps/shop/policy", {"mode": "monitor", "rules": {"xss": "block"}})
        t.join()
        self.assertEqual(result["r"].status, 200)
        self.assertEqual(result["r"].json["policy"]["rules"], {"xss": "block"})
        self.assertLess(result["t"] - changed, 1.0)
        # Another application's key cannot read this one's policy.
        other = self.v.client(self.admin.post("/api/v1/keys", {"app": "other"}).json["key"])
        self.assertEqual(other.get("/api/v1/agents/policy?app=shop&version=0").status, 403)

    def test_actions_from_an_incident_change_the_policy(self):
        ip = "192.0.2.44"
        evs = [make_event("act%02d" % i, client_ip=ip) for i in range(5)]
        evs.append(make_event("act-x", outcome="exploited", client_ip=ip))
        self.assertEqual(self.agent.post("/api/v1/events", evs).status, 202)
        inc = self.admin.get("/api/v1/incidents?client_ip=" + ip).json[0]
        r = self.admin.post("/api/v1/incidents/%d/actions" % inc["id"],
                            {"action": "block_attacker", "expires_in": "1h"})
        self.assertEqual(r.status, 200, r)
        policy = self.admin.get("/api/v1/apps/shop/policy").json
        self.assertEqual(policy["version"], r.json["policy_version"])
        entries = [e for e in policy["policy"]["ip_denylist"] if isinstance(e, dict)]
        self.assertEqual([e["cidr"] for e in entries], [ip])
        self.assertTrue(entries[0]["expires"].endswith("Z"))
        r = self.admin.post("/api/v1/incidents/%d/actions" % inc["id"], {"action": "block_rule"})
        self.assertEqual(self.admin.get("/api/v1/apps/shop/policy").json["policy"]["rules"]
                         ["sql-injection"], "block")
        r = self.admin.post("/api/v1/incidents/%d/actions" % inc["id"],
                            {"action": "exclude_input", "note": "id is a search box"})
        self.assertEqual(r.json["incident"]["status"], "false_positive")
        policy = self.admin.get("/api/v1/apps/shop/policy").json["policy"]
        self.assertIn({"rules": ["sql-injection"], "routes": ["/product"], "inputs": ["query:id"]},
                      policy["exclusions"])
        history = self.admin.get("/api/v1/incidents/%d" % inc["id"]).json["history"]
        self.assertEqual([h["action"] for h in history], ["created", "note", "note", "status"])
        self.assertEqual(self.admin.post("/api/v1/incidents/%d/actions" % inc["id"],
                                         {"action": "nuke"}).status, 400)

    def test_would_have_blocked_preview(self):
        ip = "192.0.2.55"
        evs = [make_event("prev%02d" % i, client_ip=ip, rule="xss", path="/search", name="q")
               for i in range(7)]
        evs += [make_event("prev-s%02d" % i, client_ip=ip, rule="scanner", outcome="suspicious")
                for i in range(3)]
        self.agent.post("/api/v1/events", evs)
        r = self.admin.post("/api/v1/apps/shop/policy/preview",
                            {"policy": {"mode": "monitor", "ip_denylist": [ip]}, "days": 1})
        self.assertEqual(r.status, 200, r)
        self.assertGreaterEqual(r.json["by_rule"]["ip-denylist"], 10)
        r = self.admin.post("/api/v1/apps/shop/policy/preview",
                            {"policy": {"mode": "block",
                                        "exclusions": [{"rules": ["xss"], "routes": ["/search"]}]}})
        self.assertNotIn("xss", r.json["by_rule"])
        self.assertNotIn("scanner", r.json["by_rule"])
        r = self.admin.post("/api/v1/apps/shop/policy/preview", {"policy": {"mode": "bad"}})
        self.assertEqual(r.status, 400)

    def test_shutdown_answers_waiting_long_polls(self):
        v = Vigild().start()
        try:
            key = v.admin().post("/api/v1/keys", {"app": "shop"}).json["key"]
            agent = v.client(key)
            t = threading.Thread(target=lambda: agent.get("/api/v1/agents/policy?version=0&wait=30"))
            t.start()
            time.sleep(0.3)
            start = time.time()
            self.assertEqual(v.stop(), 0)
            self.assertLess(time.time() - start, 5)
            t.join()
        finally:
            v.close()


if __name__ == "__main__":
    unittest.main()
