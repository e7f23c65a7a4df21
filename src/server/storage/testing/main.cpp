// vigil_test_pg: start or stop the throwaway PostgreSQL of the tests (CTest fixtures and
// tests/server/). `start DIR` prints the server's base URI (database "postgres").
#include <cstdio>
#include <cstring>
#include <string>

#include "server/storage/testing/test_postgres.hpp"

int main(int argc, char** argv) {
  if (argc != 3 || (std::strcmp(argv[1], "start") != 0 && std::strcmp(argv[1], "stop") != 0)) {
    std::fprintf(stderr, "usage: vigil_test_pg start|stop STATE_DIR\n");
    return 2;
  }
  std::string error;
  if (std::strcmp(argv[1], "start") == 0) {
    std::string stale;  // a server left by an interrupted run: stop it first
    vigil::server::testing::TestPostgres::stop(argv[2], &stale);
    auto pg = vigil::server::testing::TestPostgres::start(argv[2], &error);
    if (!pg) {
      // The tests that need PostgreSQL skip, saying why; the others still run.
      std::fprintf(stderr, "vigil_test_pg: PostgreSQL tests will be skipped: %s\n", error.c_str());
      vigil::server::testing::TestPostgres::mark_unavailable(argv[2], error);
      return 0;
    }
    pg->release();
    std::printf("%s\n", pg->uri("postgres").c_str());
    return 0;
  }
  if (!vigil::server::testing::TestPostgres::stop(argv[2], &error)) {
    std::fprintf(stderr, "vigil_test_pg: %s\n", error.c_str());
    return 1;
  }
  return 0;
}
