"""The vigil command line against vigild: keys create, incidents, events tail, policy get|set."""
import json
import os
import subprocess
import tempfile
import unittest

from harness import ADMIN_PASSWORD, VIGILD, Vigild, make_event

VIGIL = os.path.join(os.path.dirname(VIGILD), "vigil")


@unittest.skipUnless(os.path.exists(VIGIL), "the vigil command line is not built")
class Cli(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.v = Vigild().start()
        cls.env = dict(os.environ, VIGIL_SERVER_URL=cls.v.url, VIGIL_PASSWORD=ADMIN_PASSWORD)

    @classmethod
    def tearDownClass(cls):
        cls.v.close()

    def vigil(self, *args, check=True):
        r = subprocess.run([VIGIL] + list(args), env=self.env, capture_output=True, text=True,
                           timeout=30)
        if check:
            self.assertEqual(r.returncode, 0, r.stderr)
        return r

    def test_keys_incidents_events(self):
        key = self.vigil("keys", "create", "--app", "shop", "--name", "web-1").stdout.strip()
        self.assertTrue(key.startswith("vk_"))
        agent = self.v.client(key)
        evs = [make_event("cli%02d" % i) for i in range(4)] + [make_event("cli-x", outcome="exploited")]
        self.assertEqual(agent.post("/api/v1/events", evs).status, 202)
        out = self.vigil("incidents").stdout
        self.assertIn("SQL injection exploited on /product (id), 4 probes", out)
        listed = json.loads(self.vigil("incidents", "--json").stdout)
        detail = self.vigil("incidents", str(listed[0]["id"])).stdout
        self.assertEqual(detail.count("sql-injection"), 5)
        lines = self.vigil("events", "tail", "-n", "3", "--json").stdout.splitlines()
        self.assertEqual(len(lines), 3)
        self.assertEqual(json.loads(lines[-1])["event_id"], "cli-x")

    def test_policy_set_and_get(self):
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
            f.write("mode: monitor\nrules:\n  sql-injection: block\nip_denylist:\n"
                    "  - cidr: 192.0.2.200\n    expires: 2030-01-01T00:00:00Z\n")
        r = self.vigil("policy", "set", "blog", f.name, "--comment", "from the CLI")
        self.assertIn("policy version 1", r.stdout)
        doc = json.loads(self.vigil("policy", "get", "blog").stdout)
        self.assertEqual(doc["rules"], {"sql-injection": "block"})
        self.assertEqual(doc["ip_denylist"][0]["expires"], "2030-01-01T00:00:00Z")
        with open(f.name, "w") as g:
            g.write("mode: blok\n")
        r = self.vigil("policy", "set", "blog", f.name, check=False)
        self.assertEqual(r.returncode, 1)
        self.assertIn("policy.bad_mode", r.stderr)
        os.unlink(f.name)

    def test_bad_credentials_are_explained(self):
        env = dict(self.env, VIGIL_PASSWORD="wrong-password")
        r = subprocess.run([VIGIL, "incidents"], env=env, capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 2)
        self.assertIn("wrong user name or password", r.stderr)


if __name__ == "__main__":
    unittest.main()
