"""vigild on PostgreSQL: one process, and two processes sharing one database."""
import threading
import time
import unittest

from harness import Vigild, make_event, postgres


class PostgresCluster(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        db = postgres().create_database()
        # Both start at once: migrations and the first admin must not collide.
        cls.a, cls.b = Vigild(db=db), Vigild(db=db)
        threads = [threading.Thread(target=v.start) for v in (cls.a, cls.b)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        cls.admin_a, cls.admin_b = cls.a.admin(), cls.b.admin()
        key = cls.admin_a.post("/api/v1/keys", {"app": "shop"}).json["key"]
        cls.agent_a, cls.agent_b = cls.a.client(key), cls.b.client(key)

    @classmethod
    def tearDownClass(cls):
        cls.a.close()
        cls.b.close()

    def test_sessions_and_keys_work_on_both(self):
        # A session made through one vigild is valid on the other: no per-process state.
        token = self.admin_a.token
        self.assertEqual(self.b.client(token).get("/api/v1/session").status, 200)
        self.assertEqual(len(self.admin_b.get("/api/v1/users").json), 1)

    def test_events_through_both_make_one_incident(self):
        ip = "203.0.113.50"
        batches = []
        for b in range(20):
            evs = [make_event("pg%02d%03d" % (b, i), client_ip=ip) for i in range(25)]
            if b == 13:
                evs.append(make_event("pg-exploit", outcome="exploited", client_ip=ip))
            batches.append(evs)
        errors = []

        def send(agent, part):
            for evs in part:
                r = agent.post("/api/v1/events", evs)
                if r.status != 202:
                    errors.append(r)
                # Every batch also goes to the other vigild (an agent retrying elsewhere).
                r = (self.agent_b if agent is self.agent_a else self.agent_a).post("/api/v1/events", evs)
                if r.status != 202:
                    errors.append(r)
        t1 = threading.Thread(target=send, args=(self.agent_a, batches[0::2]))
        t2 = threading.Thread(target=send, args=(self.agent_b, batches[1::2]))
        t1.start()
        t2.start()
        t1.join()
        t2.join()
        self.assertEqual(errors, [])
        for admin in (self.admin_a, self.admin_b):
            incidents = admin.get("/api/v1/incidents?client_ip=" + ip).json
            self.assertEqual(len(incidents), 1, incidents)
            self.assertEqual(incidents[0]["outcome"], "exploited")
            self.assertEqual(incidents[0]["counts"]["probed"], 500)
            self.assertEqual(incidents[0]["counts"]["exploited"], 1)
        events = self.admin_a.get("/api/v1/events?app=shop&client_ip=%s&limit=1000" % ip).json
        self.assertEqual(len(events), 501)

    def test_incident_changes_are_shared(self):
        ip = "203.0.113.51"
        self.assertEqual(self.agent_a.post("/api/v1/events",
                                           [make_event("share1", client_ip=ip)]).status, 202)
        inc = self.admin_a.get("/api/v1/incidents?client_ip=" + ip).json[0]
        r = self.admin_b.patch("/api/v1/incidents/%d" % inc["id"], {"status": "false_positive",
                                                                   "note": "pentest"})
        self.assertEqual(r.status, 200)
        self.assertEqual(self.admin_a.get("/api/v1/incidents/%d" % inc["id"]).json["status"],
                         "false_positive")
        # The next event of that attacker opens a new incident.
        self.agent_b.post("/api/v1/events", [make_event("share2", client_ip=ip)])
        self.assertEqual(len(self.admin_a.get("/api/v1/incidents?client_ip=" + ip).json), 2)

    def test_policy_put_through_one_reaches_a_long_poll_on_the_other(self):
        version = self.admin_a.get("/api/v1/apps/shop/policy").json["version"]
        result = {}

        def poll():
            result["r"] = self.agent_b.get("/api/v1/agents/policy?app=shop&version=%d&wait=20"
                                           % version)
            result["t"] = time.time()
        t = threading.Thread(target=poll)
        t.start()
        time.sleep(0.3)
        changed = time.time()
        r = self.admin_a.put("/api/v1/apps/shop/policy",
                             {"mode": "block", "ip_denylist": ["198.51.100.9"]})
        self.assertEqual(r.status, 200)
        t.join()
        self.assertEqual(result["r"].status, 200)
        self.assertEqual(result["r"].json["version"], r.json["version"])
        self.assertEqual(result["r"].json["policy"]["ip_denylist"], ["198.51.100.9"])
        self.assertLess(result["t"] - changed, 5.0)


if __name__ == "__main__":
    unittest.main()
