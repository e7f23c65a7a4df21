#include "server/auth/auth_service.hpp"

#include <httplib.h>

#include <gtest/gtest.h>

#include "server/storage/testing/test_db.hpp"

namespace vigil::server::auth {
namespace {

using http::Principal;
using http::Role;
using storage::Dialect;

class AuthServiceTest : public ::testing::TestWithParam<Dialect> {
 protected:
  void SetUp() override {
    std::string why;
    t_ = testing::open_test_database(GetParam(), &why);
    if (!t_.db) GTEST_SKIP() << "PostgreSQL unavailable: " << why;
    AuthOptions o;
    o.login_max_failures_user = 3;
    o.login_max_failures_ip = 5;
    auth_ = std::make_unique<AuthService>(t_.db.get(), o);
    Status st;
    ASSERT_FALSE(auth_->bootstrap_admin("admin-password", &st).has_value());
    ASSERT_TRUE(st.ok());
  }

  // Signs in and authenticates the token as a request would.
  Principal sign_in(const std::string& user, const std::string& password) {
    Session s;
    Status st = auth_->login(user, password, "192.0.2.1", false, &s);
    EXPECT_TRUE(st.ok()) << st.message();
    return principal_for("Bearer " + s.token);
  }
  Principal principal_for(const std::string& authorization) {
    httplib::Request req;
    req.set_header("Authorization", authorization);
    Principal p;
    auth_->authenticate(req, &p);
    return p;
  }

  testing::TestDatabase t_;
  std::unique_ptr<AuthService> auth_;
};

TEST_P(AuthServiceTest, FirstStartCreatesAdminOnce) {
  Status st;
  EXPECT_FALSE(auth_->bootstrap_admin("other-password", &st).has_value());
  Principal admin = sign_in("admin", "admin-password");
  EXPECT_EQ(admin.kind, Principal::Kind::kUser);
  EXPECT_EQ(admin.role, Role::kAdmin);
  EXPECT_EQ(auth_->list_users().size(), 1u);
}

TEST_P(AuthServiceTest, WrongPasswordsAreRateLimitedPerUser) {
  Session s;
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(auth_->login("admin", "wrong-password", "192.0.2.1", false, &s).http(), 401);
  Status limited = auth_->login("admin", "admin-password", "192.0.2.1", false, &s);
  EXPECT_EQ(limited.http(), 429);
  EXPECT_GT(limited.retry_after_s, 0);
  // Unknown users count too, and are refused the same way as a wrong password.
  EXPECT_EQ(auth_->login("nobody", "whatever-pass", "192.0.2.9", false, &s).http(), 401);
}

TEST_P(AuthServiceTest, WrongPasswordsAreRateLimitedPerAddress) {
  Session s;
  for (int i = 0; i < 5; ++i)
    auth_->login("user" + std::to_string(i), "wrong-password", "198.51.100.7", false, &s);
  EXPECT_EQ(auth_->login("admin", "admin-password", "198.51.100.7", false, &s).http(), 429);
  EXPECT_TRUE(auth_->login("admin", "admin-password", "198.51.100.8", false, &s).ok());
}

TEST_P(AuthServiceTest, RolesTokensAndRevocation) {
  Principal admin = sign_in("admin", "admin-password");
  ASSERT_TRUE(auth_->create_user(admin, "", "ann", "ann-password", Role::kAnalyst).ok());
  EXPECT_EQ(auth_->create_user(admin, "", "ann", "ann-password", Role::kAnalyst).http(), 409);
  EXPECT_EQ(auth_->create_user(admin, "", "bad name", "ann-password", Role::kViewer).http(), 400);
  EXPECT_EQ(auth_->create_user(admin, "", "bob", "short", Role::kViewer).http(), 400);
  Principal ann = sign_in("ann", "ann-password");
  EXPECT_EQ(ann.role, Role::kAnalyst);

  // An API token carries at most its user's role.
  Json token;
  EXPECT_EQ(auth_->create_api_token(ann, "", "ci", Role::kAdmin, 0, &token).http(), 403);
  ASSERT_TRUE(auth_->create_api_token(ann, "", "ci", Role::kViewer, 0, &token).ok());
  Principal bot = principal_for("Bearer " + token["token"].get<std::string>());
  EXPECT_EQ(bot.kind, Principal::Kind::kUser);
  EXPECT_EQ(bot.role, Role::kViewer);
  EXPECT_EQ(bot.token_kind, "api");
  ASSERT_TRUE(auth_->revoke_api_token(ann, "", token["id"].get<std::int64_t>()).ok());
  EXPECT_EQ(principal_for("Bearer " + token["token"].get<std::string>()).kind,
            Principal::Kind::kNone);

  // Demoting a user demotes their sessions at once.
  AuthService::UserChange change;
  change.role = Role::kViewer;
  ASSERT_TRUE(auth_->update_user(admin, "", "ann", change).ok());
  Session s;
  ASSERT_TRUE(auth_->login("ann", "ann-password", "192.0.2.1", false, &s).ok());
  EXPECT_EQ(principal_for("Bearer " + s.token).role, Role::kViewer);

  // The last admin stays.
  EXPECT_EQ(auth_->delete_user(admin, "", "admin").http(), 409);  // self
  AuthService::UserChange demote;
  demote.role = Role::kViewer;
  EXPECT_EQ(auth_->update_user(admin, "", "admin", demote).http(), 409);

  // Disabling ends sessions.
  AuthService::UserChange disable;
  disable.disabled = true;
  ASSERT_TRUE(auth_->update_user(admin, "", "ann", disable).ok());
  EXPECT_EQ(principal_for("Bearer " + s.token).kind, Principal::Kind::kNone);

  // Every change is in the audit log.
  auto audit = t_.db->read([](storage::Connection& c) {
    return c.query("SELECT action FROM audit ORDER BY id");
  });
  std::vector<std::string> actions;
  for (const auto& r : audit) actions.push_back(r.text(0));
  EXPECT_EQ(actions, (std::vector<std::string>{"user.create", "user.create", "token.create",
                                               "token.revoke", "user.update", "user.update"}));
}

TEST_P(AuthServiceTest, UsersChangeOnlyTheirOwnPasswordWithTheCurrentOne) {
  Principal admin = sign_in("admin", "admin-password");
  ASSERT_TRUE(auth_->create_user(admin, "", "vic", "vic-password", Role::kViewer).ok());
  Principal vic = sign_in("vic", "vic-password");
  AuthService::UserChange change;
  change.password = "new-password";
  EXPECT_EQ(auth_->update_user(vic, "", "vic", change).http(), 403);  // no current password
  change.current_password = "vic-password";
  EXPECT_TRUE(auth_->update_user(vic, "", "vic", change).ok());
  EXPECT_EQ(auth_->update_user(vic, "", "admin", change).http(), 403);
  AuthService::UserChange promote;
  promote.role = Role::kAdmin;
  EXPECT_EQ(auth_->update_user(vic, "", "vic", promote).http(), 403);
  Session s;
  EXPECT_TRUE(auth_->login("vic", "new-password", "192.0.2.1", false, &s).ok());
}

TEST_P(AuthServiceTest, AgentKeysAndCookies) {
  Principal admin = sign_in("admin", "admin-password");
  Json key;
  EXPECT_EQ(auth_->create_agent_key(admin, "", "../etc", "", &key).http(), 400);
  ASSERT_TRUE(auth_->create_agent_key(admin, "", "shop", "web-1", &key).ok());
  std::string secret = key["key"];
  Principal agent = principal_for("Bearer " + secret);
  EXPECT_EQ(agent.kind, Principal::Kind::kAgent);
  EXPECT_EQ(agent.app, "shop");
  // Stored hashed: the secret is nowhere in the database.
  auto rows = t_.db->read([&](storage::Connection& c) {
    return c.query("SELECT COUNT(*) FROM agent_keys WHERE key_hash = ? OR prefix = ?",
                   {secret, secret});
  });
  EXPECT_EQ(rows[0].integer(0), 0);
  ASSERT_TRUE(auth_->revoke_agent_key(admin, "", key["id"].get<std::int64_t>()).ok());
  EXPECT_EQ(principal_for("Bearer " + secret).kind, Principal::Kind::kNone);

  // A cookie session authenticates from the Cookie header only, with its CSRF hash.
  Session s;
  ASSERT_TRUE(auth_->login("admin", "admin-password", "192.0.2.1", true, &s).ok());
  EXPECT_FALSE(s.csrf_token.empty());
  httplib::Request req;
  req.set_header("Cookie", "theme=dark; vigil_session=" + s.token);
  Principal p;
  ASSERT_TRUE(auth_->authenticate(req, &p));
  EXPECT_TRUE(p.via_cookie);
  EXPECT_FALSE(p.csrf_hash.empty());
  EXPECT_EQ(principal_for("Bearer " + s.token).kind, Principal::Kind::kNone);
  EXPECT_EQ(principal_for("Bearer garbage").kind, Principal::Kind::kNone);
  EXPECT_EQ(principal_for("Basic YWRtaW46eA==").kind, Principal::Kind::kNone);
}

INSTANTIATE_TEST_SUITE_P(Dialects, AuthServiceTest,
                         ::testing::Values(Dialect::kSqlite, Dialect::kPostgres),
                         [](const auto& p) { return testing::dialect_name(p.param); });

}  // namespace
}  // namespace vigil::server::auth
