#include "shipper/spool.hpp"

#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

namespace vigil::shipper {
namespace {

class SpoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/vigil-spool-XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(SpoolTest, OldestFirstAndBounded) {
  Spool s(dir_, 100);
  EXPECT_TRUE(s.put("[1]", 1));
  EXPECT_TRUE(s.put("[2,3]", 2));
  EXPECT_FALSE(s.put(std::string(200, 'x'), 1));  // over the bound
  EXPECT_EQ(s.bytes(), 8u);
  auto a = s.claim();
  ASSERT_TRUE(a);
  EXPECT_EQ(a->batch, "[1]");
  EXPECT_EQ(a->events, 1u);
  auto b = s.claim();
  ASSERT_TRUE(b);
  EXPECT_EQ(b->batch, "[2,3]");
  EXPECT_EQ(b->events, 2u);
  EXPECT_FALSE(s.claim());  // both held
  s.release(*a);
  s.done(*b);
  auto again = s.claim();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->batch, "[1]");
  s.done(*again);
  EXPECT_FALSE(s.claim());
  EXPECT_EQ(s.bytes(), 0u);
}

TEST_F(SpoolTest, SurvivesTheProcessAndTakesBackDeadClaims) {
  {
    Spool s(dir_, 1 << 20);
    ASSERT_TRUE(s.put("[\"a\"]", 1));
    ASSERT_TRUE(s.put("[\"b\"]", 1));
  }
  // A claim by a process that no longer exists (pid 2^22+ is above pid_max here).
  Spool s(dir_, 1 << 20);
  auto c = s.claim();
  ASSERT_TRUE(c);
  std::string dead = c->path.substr(0, c->path.rfind('-') + 1) + "4194999";
  std::filesystem::rename(c->path, dead);
  Spool reopened(dir_, 1 << 20);
  auto first = reopened.claim();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->batch, "[\"a\"]");
  auto second = reopened.claim();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->batch, "[\"b\"]");
}

TEST_F(SpoolTest, DisabledSpoolRefusesQuietly) {
  Spool s("", 100);
  EXPECT_FALSE(s.enabled());
  EXPECT_FALSE(s.put("[1]", 1));
  EXPECT_FALSE(s.claim());
}

TEST_F(SpoolTest, ReadFileReadsWholeFilesWithinTheirBound) {
  std::string path = dir_ + "/f";
  std::string big(40000, 'x');  // more than one read's buffer
  big += "end";
  {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::fwrite(big.data(), 1, big.size(), f);
    std::fclose(f);
  }
  std::string out = "stale";
  ASSERT_TRUE(read_file(path, &out));
  EXPECT_EQ(out, big);
  EXPECT_TRUE(read_file(path, &out, big.size()));
  EXPECT_FALSE(read_file(path, &out, big.size() - 1));
  EXPECT_FALSE(read_file(dir_ + "/missing", &out));
}

}  // namespace
}  // namespace vigil::shipper
