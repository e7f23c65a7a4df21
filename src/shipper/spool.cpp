#include "shipper/spool.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <vector>

namespace vigil::shipper {
namespace {

namespace fs = std::filesystem;

constexpr const char* kSuffix = ".batch";
constexpr const char* kClaim = ".sending-";

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool write_all(int fd, const std::string& data) {
  const char* p = data.data();
  std::size_t left = data.size();
  while (left > 0) {
    ssize_t w = ::write(fd, p, left);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    left -= static_cast<std::size_t>(w);
  }
  return true;
}

// "TIME-PID-COUNTER-EVENTS.batch": the events count is in the name (no parse to know it).
std::size_t events_of(const std::string& name) {
  auto end = name.find(kSuffix);
  auto dash = name.rfind('-', end);
  if (end == std::string::npos || dash == std::string::npos) return 0;
  return std::strtoull(name.c_str() + dash + 1, nullptr, 10);
}

}  // namespace

bool read_file(const std::string& path, std::string* out, std::size_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  out->clear();
  // Small enough for any thread's stack: the agent reads its key file on the host's thread.
  char buf[16384];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      return n == 0;
    }
    out->append(buf, static_cast<std::size_t>(n));
    if (out->size() > max_bytes) {
      ::close(fd);
      return false;
    }
  }
}

Spool::Spool(std::string dir, std::uint64_t max_bytes) : dir_(std::move(dir)), max_bytes_(max_bytes) {
  if (dir_.empty()) return;
  std::error_code ec;
  fs::create_directories(dir_, ec);
  // Take back the claims of processes that are gone, and the temporaries they left.
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    std::string name = entry.path().filename().string();
    auto claim = name.find(kClaim);
    if (claim != std::string::npos) {
      pid_t pid = static_cast<pid_t>(std::atoi(name.c_str() + claim + std::string(kClaim).size()));
      if (pid > 0 && ::kill(pid, 0) != 0 && errno == ESRCH)
        fs::rename(entry.path(), fs::path(dir_) / name.substr(0, claim), ec);
    } else if (ends_with(name, ".tmp")) {
      fs::remove(entry.path(), ec);
    }
  }
  rescan();
}

void Spool::rescan() noexcept {
  if (dir_.empty()) return;
  std::error_code ec;
  std::uint64_t total = 0;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    auto size = entry.file_size(ec);
    if (!ec) total += size;
  }
  bytes_ = total;
}

bool Spool::put(const std::string& batch, std::size_t events) noexcept {
  if (dir_.empty()) return false;
  try {
    if (bytes_ + batch.size() > max_bytes_) {
      rescan();  // others may have delivered meanwhile
      if (bytes_ + batch.size() > max_bytes_) return false;
    }
    char name[128];
    std::snprintf(name, sizeof name, "%013lld-%d-%06llu-%zu",
                  static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                             std::chrono::system_clock::now().time_since_epoch())
                                             .count()),
                  static_cast<int>(::getpid()),
                  static_cast<unsigned long long>(++counter_ % 1000000), events);
    std::string final_path = dir_ + "/" + name + kSuffix;
    std::string tmp = final_path + ".tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return false;
    bool ok = write_all(fd, batch) && ::fsync(fd) == 0;
    ::close(fd);
    if (!ok || ::rename(tmp.c_str(), final_path.c_str()) != 0) {
      ::unlink(tmp.c_str());
      return false;
    }
    bytes_ += batch.size();
    return true;
  } catch (...) {
    return false;
  }
}

std::optional<Spool::Claimed> Spool::claim() noexcept {
  if (dir_.empty()) return std::nullopt;
  try {
    std::error_code ec;
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir_, ec)) {
      std::string name = entry.path().filename().string();
      if (ends_with(name, kSuffix)) names.push_back(name);
    }
    std::sort(names.begin(), names.end());  // the time prefix: oldest first
    for (const auto& name : names) {
      std::string from = dir_ + "/" + name;
      std::string to = from + kClaim + std::to_string(::getpid());
      if (::rename(from.c_str(), to.c_str()) != 0) continue;  // another process was faster
      Claimed c;
      c.path = to;
      c.events = events_of(name);
      if (!read_file(to, &c.batch)) {
        release(c);
        continue;
      }
      return c;
    }
  } catch (...) {
  }
  return std::nullopt;
}

void Spool::done(const Claimed& c) noexcept {
  if (::unlink(c.path.c_str()) == 0) bytes_ = bytes_ > c.batch.size() ? bytes_ - c.batch.size() : 0;
}

void Spool::release(const Claimed& c) noexcept {
  auto at = c.path.rfind(kClaim);
  if (at == std::string::npos) return;
  std::string back = c.path.substr(0, at);
  ::rename(c.path.c_str(), back.c_str());
}

}  // namespace vigil::shipper
