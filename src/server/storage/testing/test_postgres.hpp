// A throwaway PostgreSQL server for tests: Debian's initdb and pg_ctl
// (/usr/lib/postgresql/*/bin), data in a fresh temporary directory, listening on a free
// loopback port with its unix socket in that directory, durability switched off (tests only).
// Run as root, the server runs as user `nobody` (PostgreSQL refuses to run as root).
//
// CTest starts one for the whole run (`vigil_test_pg start DIR`, a FIXTURES_SETUP test) and
// stops it at the end (`vigil_test_pg stop DIR`); tests find it through VIGIL_TEST_PG_DIR and
// each works in a database of its own. A test binary run by hand starts its own instead.
#ifndef VIGIL_SERVER_STORAGE_TESTING_TEST_POSTGRES_HPP_
#define VIGIL_SERVER_STORAGE_TESTING_TEST_POSTGRES_HPP_

#include <memory>
#include <string>

namespace vigil::server::testing {

class TestPostgres {
 public:
  // Starts a server; its state (port, data directory) is written into `state_dir` (created),
  // so that another process can attach() and stop it. Null with *error when it cannot.
  static std::unique_ptr<TestPostgres> start(const std::string& state_dir, std::string* error);
  // Attaches to a server started by start() (another process). Does not own it.
  static std::unique_ptr<TestPostgres> attach(const std::string& state_dir, std::string* error);
  // Records why no server could be started: attach() then fails with that reason.
  static void mark_unavailable(const std::string& state_dir, const std::string& why);
  // Stops the server whose state is in `state_dir` and removes its data.
  static bool stop(const std::string& state_dir, std::string* error);

  ~TestPostgres();  // stops the server if this object started it (and was not released)
  TestPostgres(const TestPostgres&) = delete;
  TestPostgres& operator=(const TestPostgres&) = delete;

  int port() const noexcept { return port_; }
  // "postgresql://vigil@127.0.0.1:PORT/DATABASE"
  std::string uri(const std::string& database) const;
  // Creates a new empty database with a unique name; returns its URI ("" and *error on failure).
  std::string create_database(std::string* error);
  // Keeps the server running after this object is destroyed.
  void release() noexcept { owned_ = false; }

 private:
  TestPostgres() = default;
  std::string state_dir_;
  int port_ = 0;
  bool owned_ = false;
};

// The PostgreSQL every test of this process shares: attached from VIGIL_TEST_PG_DIR when set
// (and started by the CTest fixture), else started once in a temporary directory and stopped at
// exit. Null with *why when PostgreSQL is not installed or cannot start.
TestPostgres* shared_test_postgres(std::string* why);

}  // namespace vigil::server::testing

#endif  // VIGIL_SERVER_STORAGE_TESTING_TEST_POSTGRES_HPP_
