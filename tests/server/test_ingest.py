"""Ingest, events, agents and incidents against a real vigild on SQLite."""
import os
import sqlite3
import threading
import time
import unittest

from harness import Vigild, make_event, wait_for


class Ingest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.v = Vigild(config="ingest_queue_events: 100\n").start()
        cls.admin = cls.v.admin()
        cls.key = cls.admin.post("/api/v1/keys", {"app": "shop"}).json["key"]
        cls.agent = cls.v.client(cls.key)

    @classmethod
    def tearDownClass(cls):
        cls.v.close()

    def test_events_are_idempotent_and_listed_newest_first(self):
        evs = [make_event("idem%04d" % i, client_ip="198.51.100.%d" % (i % 3 + 1),
                          ts="2026-01-01T00:00:%02d.000Z" % i) for i in range(30)]
        r = self.agent.post("/api/v1/events", evs)
        self.assertEqual(r.status, 202, r)
        self.assertEqual(r.json, {"accepted": 30, "duplicates": 0})
        r = self.agent.post("/api/v1/events", evs[:10] + [make_event("idem-new")])
        self.assertEqual(r.json, {"accepted": 1, "duplicates": 10})
        page = self.admin.get("/api/v1/events?app=shop&client_ip=198.51.100.1&limit=4")
        self.assertEqual(page.status, 200)
        times = [e["time"] for e in page.json]
        self.assertEqual(times, sorted(times, reverse=True))
        seen = [e["event_id"] for e in page.json]
        while page.headers.get("X-Next-Cursor"):
            page = self.admin.get("/api/v1/events?app=shop&client_ip=198.51.100.1&limit=4&cursor="
                                  + page.headers["X-Next-Cursor"])
            seen += [e["event_id"] for e in page.json]
        self.assertEqual(len(seen), 10)
        self.assertEqual(len(set(seen)), 10)
        one = self.admin.get("/api/v1/events/idem0000?app=shop")
        self.assertEqual(one.json["input"]["value"], "1' OR '1'='1")
        self.assertIn("incident_id", one.json)

    def test_bad_events_get_400_naming_the_field(self):
        ev = make_event("bad1")
        ev["outcome"] = "pwned"
        r = self.agent.post("/api/v1/events", [make_event("bad0"), ev])
        self.assertEqual(r.status, 400)
        self.assertEqual(r.json["field"], "events[1].outcome")
        # Nothing of a rejected batch is stored.
        self.assertEqual(self.admin.get("/api/v1/events/bad0?app=shop").status, 404)
        r = self.agent.post("/api/v1/events", [make_event("bad2", app="billing")])
        self.assertEqual((r.status, r.json["field"]), (400, "events[0].app"))
        r = self.agent.request("POST", "/api/v1/events", raw=b"not json")
        self.assertEqual(r.status, 400)

    def test_stats_count_the_stored_events(self):
        evs = [make_event("stats%03d" % i, app="stats",
                          outcome="exploited" if i == 7 else "probed",
                          rule="xss" if i % 3 == 0 else "sql-injection",
                          client_ip="192.0.2.%d" % (i % 4 + 1),
                          ts="2026-02-01T10:%02d:30.000Z" % i) for i in range(40)]
        key = self.admin.post("/api/v1/keys", {"app": "stats"}).json["key"]
        agent = self.v.client(key)
        self.assertEqual(agent.post("/api/v1/events", evs).status, 202)
        self.assertEqual(agent.post("/api/v1/events", evs[:5]).json["duplicates"], 5)
        q = "/api/v1/stats?app=stats&since=2026-02-01T10:05:00Z&until=2026-02-01T10:34:59Z"
        r = self.admin.get(q)
        self.assertEqual(r.status, 200, r)
        s = r.json
        self.assertEqual(s["bucket_s"], 60)  # 30 minutes: one bucket a minute
        self.assertEqual(len(s["series"]), 30)
        self.assertEqual(s["series"][0]["t"], "2026-02-01T10:05:00.000Z")
        self.assertEqual(s["totals"], {"exploited": 1, "blocked": 0, "probed": 29,
                                       "suspicious": 0})
        self.assertEqual(sum(b["probed"] + b["exploited"] for b in s["series"]), 30)
        self.assertEqual(s["top_rules"][0], {"rule": "sql-injection", "count": 20,
                                             "worst_outcome": "exploited"})
        self.assertEqual({a["client_ip"] for a in s["top_attackers"]},
                         {"192.0.2.%d" % i for i in range(1, 5)})
        self.assertEqual(s["top_attackers"][0]["apps"], ["stats"])
        self.assertEqual(set(s["incidents_open"]), {"critical", "high", "medium", "low"})
        self.assertEqual(self.admin.get(q + "&bucket=3600").json["series"][0]["probed"], 29)
        # The default range is the last 24 hours; these events are older.
        self.assertEqual(self.admin.get("/api/v1/stats?app=stats").json["totals"]["probed"], 0)
        for bad in ("bucket=7", "since=yesterday", "app=a%20b",
                    "since=2026-02-02T00:00:00Z&until=2026-02-01T00:00:00Z",
                    "since=2025-01-01T00:00:00Z&until=2026-01-01T00:00:00Z&bucket=60"):
            r = self.admin.get("/api/v1/stats?" + bad)
            self.assertEqual(r.status, 400, bad)
            self.assertIn("field", r.json)
        self.assertEqual(self.agent.get("/api/v1/stats").status, 403)
        self.assertEqual(self.v.client().get("/api/v1/stats").status, 401)

    def test_keys_and_users_do_not_mix(self):
        self.assertEqual(self.admin.post("/api/v1/events", [make_event("u1")]).status, 403)
        self.assertEqual(self.agent.get("/api/v1/events?app=shop").status, 403)
        self.assertEqual(self.agent.get("/api/v1/incidents").status, 403)
        self.assertEqual(self.v.client().post("/api/v1/events", []).status, 401)

    def test_full_queue_answers_429_with_retry_after(self):
        # Hold SQLite's write lock from outside: the writer waits, the queue fills.
        db = sqlite3.connect(os.path.join(self.v.data, "vigil.db"), timeout=30)
        db.execute("BEGIN IMMEDIATE")
        results = {}

        def first():
            results["a"] = self.agent.post("/api/v1/events",
                                           [make_event("q%03d" % i) for i in range(60)])
        t = threading.Thread(target=first)
        t.start()
        time.sleep(0.5)
        r = self.agent.post("/api/v1/events", [make_event("r%03d" % i) for i in range(60)])
        self.assertEqual(r.status, 429, r)
        self.assertGreaterEqual(int(r.headers["Retry-After"]), 1)
        db.rollback()
        db.close()
        t.join()
        self.assertEqual(results["a"].status, 202)

    def test_agents_register_heartbeat_and_go_quiet(self):
        hb = {"agent_id": "web-1:42", "host": "web-1", "pid": 42, "version": "0.1.0",
              "mode": "block", "interval_s": 1, "counters": {"events": 3, "dropped": 0}}
        self.assertEqual(self.agent.post("/api/v1/agents/register", hb).status, 200)
        agents = self.admin.get("/api/v1/agents?app=shop").json
        self.assertEqual(agents[0]["state"], "ok")
        self.assertEqual(agents[0]["counters"]["events"], 3)
        self.assertEqual(self.agent.post("/api/v1/agents/heartbeat", {"host": "x"}).status, 400)
        quiet = wait_for(lambda: self.admin.get("/api/v1/agents?app=shop").json[0]["state"] == "quiet",
                         timeout=8)
        self.assertTrue(quiet)
        apps = {a["app"]: a for a in self.admin.get("/api/v1/apps").json}
        self.assertEqual(apps["shop"]["quiet_agents"], 1)

    def test_incident_lifecycle(self):
        ip = "192.0.2.77"
        evs = [make_event("life%03d" % i, client_ip=ip) for i in range(40)]
        evs.append(make_event("life-x", outcome="exploited", client_ip=ip))
        self.assertEqual(self.agent.post("/api/v1/events", evs).status, 202)
        incidents = self.admin.get("/api/v1/incidents?client_ip=" + ip).json
        self.assertEqual(len(incidents), 1)
        inc = incidents[0]
        for field in ("id", "app", "status", "outcome", "rules", "client_ip", "counts",
                      "first_seen", "last_seen", "score"):
            self.assertIn(field, inc)
        self.assertEqual(inc["outcome"], "exploited")
        self.assertEqual(inc["counts"]["probed"], 40)
        self.assertIn("SQL injection exploited on /product (id), 40 probes", inc["summary"])
        detail = self.admin.get("/api/v1/incidents/%d" % inc["id"]).json
        self.assertEqual(len(detail["events"]), 41)
        self.assertEqual(detail["events"][0]["incident_id"], inc["id"])

        viewer_pw = "viewer-password"
        self.admin.post("/api/v1/users", {"username": "vic", "password": viewer_pw})
        viewer = self.v.client().login("vic", viewer_pw)
        self.assertEqual(viewer.patch("/api/v1/incidents/%d" % inc["id"],
                                      {"status": "resolved"}).status, 403)
        r = self.admin.patch("/api/v1/incidents/%d" % inc["id"],
                             {"status": "acknowledged", "note": "looking"})
        self.assertEqual((r.status, r.json["status"]), (200, "acknowledged"))
        r = self.admin.patch("/api/v1/incidents/%d" % inc["id"], {"status": "closed"})
        self.assertEqual((r.status, r.json["field"]), (400, "status"))
        r = self.admin.patch("/api/v1/incidents/%d" % inc["id"],
                             {"status": "resolved", "note": "patched /product"})
        self.assertEqual(r.json["status"], "resolved")
        history = self.admin.get("/api/v1/incidents/%d" % inc["id"]).json["history"]
        self.assertEqual([(h["action"], h["to_status"]) for h in history],
                         [("created", "open"), ("status", "acknowledged"), ("status", "resolved")])
        self.assertEqual(self.admin.get("/api/v1/incidents/999999").status, 404)
        self.assertEqual(len(self.admin.get("/api/v1/incidents?status=open&client_ip=" + ip).json), 0)


class Durability(unittest.TestCase):
    def test_acknowledged_events_survive_kill_9(self):
        v = Vigild().start()
        try:
            key = v.admin().post("/api/v1/keys", {"app": "shop"}).json["key"]
            agent = v.client(key)
            for b in range(5):
                r = agent.post("/api/v1/events",
                               [make_event("dur%02d%03d" % (b, i)) for i in range(200)])
                self.assertEqual(r.status, 202)
            v.kill9()
            v.start()
            admin = v.admin()
            n = 0
            page = admin.get("/api/v1/events?app=shop&limit=1000")
            n += len(page.json)
            self.assertEqual(n, 1000)
            inc = admin.get("/api/v1/incidents").json
            self.assertEqual(inc[0]["counts"]["probed"], 1000)
        finally:
            v.close()


if __name__ == "__main__":
    unittest.main()
