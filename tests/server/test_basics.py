"""vigild basics: health, sign-in (bearer and cookie + CSRF), roles, keys, audit, limits, TLS,
configuration file."""
import os
import subprocess
import tempfile
import unittest

from harness import ADMIN_PASSWORD, Vigild


class Basics(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.v = Vigild().start()
        cls.admin = cls.v.admin()

    @classmethod
    def tearDownClass(cls):
        cls.v.close()

    def test_health_needs_no_authentication(self):
        r = self.v.client().get("/healthz")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json["status"], "ok")

    def test_sign_in_and_bearer_token(self):
        c = self.v.client()
        self.assertEqual(c.post("/api/v1/session", {"username": "admin", "password": "x"}).status, 401)
        r = c.post("/api/v1/session", {"username": "admin", "password": ADMIN_PASSWORD})
        self.assertEqual(r.status, 200)
        self.assertTrue(r.json["token"])
        me = c.get("/api/v1/session", token=r.json["token"])
        self.assertEqual(me.json["username"], "admin")
        self.assertEqual(me.json["role"], "admin")
        self.assertEqual(c.delete("/api/v1/session", token=r.json["token"]).status, 200)
        self.assertEqual(c.get("/api/v1/session", token=r.json["token"]).status, 401)

    def test_cookie_session_needs_csrf_token_for_changes(self):
        c = self.v.client()
        r = c.post("/api/v1/session", {"username": "admin", "password": ADMIN_PASSWORD,
                                       "cookie": True})
        self.assertEqual(r.status, 200)
        cookie = r.headers["Set-Cookie"]
        self.assertIn("HttpOnly", cookie)
        self.assertIn("SameSite=Strict", cookie)
        c.cookie = cookie.split(";")[0]
        self.assertEqual(c.get("/api/v1/users").status, 200)  # reads need no CSRF token
        self.assertEqual(c.post("/api/v1/keys", {"app": "shop"}).status, 403)
        c.csrf = r.json["csrf_token"]
        self.assertEqual(c.post("/api/v1/keys", {"app": "shop"}).status, 200)

    def test_roles(self):
        for name, role in (("vera", "viewer"), ("anna", "analyst")):
            r = self.admin.post("/api/v1/users", {"username": name, "password": "pw-" + name * 3,
                                                  "role": role})
            self.assertEqual(r.status, 201, r)
        viewer = self.v.client().login("vera", "pw-" + "vera" * 3)
        self.assertEqual(viewer.get("/api/v1/users").status, 403)
        self.assertEqual(viewer.post("/api/v1/keys", {"app": "shop"}).status, 403)
        self.assertEqual(viewer.get("/api/v1/session").status, 200)
        r = viewer.post("/api/v1/tokens", {"name": "ci", "role": "admin"})
        self.assertEqual(r.status, 403)
        r = viewer.post("/api/v1/tokens", {"name": "ci"})
        self.assertEqual(r.status, 201)
        bot = self.v.client(r.json["token"])
        self.assertEqual(bot.get("/api/v1/session").json["role"], "viewer")

    def test_agent_keys_are_admin_only_and_audited(self):
        r = self.admin.post("/api/v1/keys", {"app": "billing", "name": "web-1"})
        self.assertEqual(r.status, 200)
        key = r.json["key"]
        self.assertTrue(key.startswith("vk_"))
        keys = self.admin.get("/api/v1/keys?app=billing").json
        self.assertEqual([k["name"] for k in keys], ["web-1"])
        self.assertNotIn(key, str(keys))
        # An agent key is not a user credential.
        self.assertEqual(self.v.client(key).get("/api/v1/users").status, 403)
        self.assertEqual(self.admin.delete("/api/v1/keys/%d" % r.json["id"]).status, 200)
        audit = self.admin.get("/api/v1/audit?target=key:%d" % r.json["id"]).json
        self.assertEqual([a["action"] for a in audit], ["key.revoke", "key.create"])
        self.assertEqual(audit[0]["actor"], "admin")

    def test_bad_requests_get_clear_errors(self):
        c = self.admin
        r = c.request("POST", "/api/v1/keys", raw=b'{"app":')
        self.assertEqual(r.status, 400)
        self.assertIn("invalid JSON", r.json["error"])
        r = c.post("/api/v1/keys", {"app": 7})
        self.assertEqual((r.status, r.json["field"]), (400, "app"))
        r = c.post("/api/v1/keys", [])
        self.assertEqual(r.status, 400)
        r = c.request("POST", "/api/v1/keys", raw=b"[" * 100000)
        self.assertEqual(r.status, 413)
        r = c.request("POST", "/api/v1/session", raw=b"[" * 1000)
        self.assertEqual(r.status, 400)
        self.assertIn("nested", r.json["error"])
        self.assertEqual(c.get("/api/v1/nothing").status, 404)
        self.assertEqual(c.request("DELETE", "/api/v1/users").status, 405)
        self.assertEqual(c.get("/api/v1/users?x=%ff").status, 400)

    def test_unauthenticated_routes_answer_401(self):
        c = self.v.client()
        for method, path in (("GET", "/api/v1/users"), ("POST", "/api/v1/keys"),
                             ("GET", "/api/v1/audit"), ("GET", "/api/v1/session")):
            r = c.request(method, path, body={})
            self.assertEqual(r.status, 401, (method, path))
            self.assertEqual(r.headers["WWW-Authenticate"], "Bearer")


class Startup(unittest.TestCase):
    def test_generated_admin_password_is_printed(self):
        v = Vigild(admin_password=None)
        try:
            v.env.pop("VIGIL_ADMIN_PASSWORD", None)
            v.start()
            line = [l for l in v.read_log().splitlines() if "created user admin" in l][0]
            password = line.split("password ")[1].split(" ")[0]
            self.assertEqual(v.client().login("admin", password).get("/api/v1/session").status,
                             200)
            # The second start of the same data creates nothing.
            v.stop()
            v.start()
            self.assertEqual(v.read_log().count("created user admin"), 1)
        finally:
            v.close()

    def test_config_file_and_flags(self):
        v = Vigild(config="access_log: true\nsession_ttl: 1h\nthreads: 8\n")
        try:
            v.start()
            v.admin().get("/api/v1/session")
            self.assertIn("GET /api/v1/session 200", v.read_log())
        finally:
            v.close()
        bad = Vigild(config="sesion_ttl: 1h\n")
        try:
            with self.assertRaises(RuntimeError) as e:
                bad.start(timeout=10)
            self.assertIn("sesion_ttl: unknown key", str(e.exception))
        finally:
            bad.close()

    def test_tls(self):
        d = tempfile.mkdtemp()
        cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", key, "-out", cert], check=True, capture_output=True)
        v = Vigild(tls=(cert, key))
        try:
            v.start()
            self.assertTrue(v.url.startswith("https://"))
            r = v.client().post("/api/v1/session", {"username": "admin",
                                                    "password": ADMIN_PASSWORD, "cookie": True})
            self.assertEqual(r.status, 200)
            self.assertIn("Secure", r.headers["Set-Cookie"])
        finally:
            v.close()


if __name__ == "__main__":
    unittest.main()
