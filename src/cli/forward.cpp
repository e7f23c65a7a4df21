// vigil forward: ship an agent's events file to SOC exports directly, without vigild (issue 7,
// docs/exports.md "Without vigild").
//   vigil forward --events FILE --export URL [--export URL]... [--from-end] [--position FILE]
//                 [--once]
//
// Follows FILE as `vigil run --events FILE` writes it (JSON Lines, appended) and hands each line
// to the same exporters vigild uses: formats, filters, summaries, batching, retries, bounded
// buffers and their drop counters. Rotation is survived: when FILE is renamed and a new one
// created, what was left in the old file is read to its end before the new one is opened; when
// FILE is truncated in place (copytruncate) reading starts again at its beginning.
//
// --position FILE keeps where reading stopped (device, inode, offset), written only when every
// export's buffer is empty: after a restart nothing before it is sent again, and nothing after it
// was only queued in memory. SIGINT/SIGTERM stop reading; the exports then deliver what they hold
// within their shutdown_timeout, and the counters are printed on stderr.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cli/commands.hpp"
#include "export/exporter.hpp"

namespace vigil::cli {
namespace {

constexpr std::size_t kMaxLine = 4 << 20;  // an event line longer than this is skipped
constexpr auto kPoll = std::chrono::milliseconds(200);

std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop = true; }

struct Position {
  dev_t dev = 0;
  ino_t ino = 0;
  off_t offset = 0;
};

bool load_position(const std::string& path, Position* p) {
  std::ifstream in(path);
  unsigned long long dev = 0, ino = 0;
  long long off = 0;
  if (!(in >> dev >> ino >> off) || off < 0) return false;
  p->dev = static_cast<dev_t>(dev);
  p->ino = static_cast<ino_t>(ino);
  p->offset = static_cast<off_t>(off);
  return true;
}

void save_position(const std::string& path, const Position& p) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << static_cast<unsigned long long>(p.dev) << " " << static_cast<unsigned long long>(p.ino)
        << " " << static_cast<long long>(p.offset) << "\n";
    if (!out) return;
  }
  std::rename(tmp.c_str(), path.c_str());
}

// Reads complete lines from a file that grows, is renamed away, or is truncated.
class Follower {
 public:
  explicit Follower(std::string path) : path_(std::move(path)) {}
  ~Follower() {
    if (fd_ >= 0) ::close(fd_);
  }

  // Opens the file (when it exists), at `start` if it is the same file, else at its beginning
  // or (from_end) its end.
  void open(const Position* start, bool from_end) {
    fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) return;
    struct stat st {};
    ::fstat(fd_, &st);
    pos_ = Position{st.st_dev, st.st_ino, 0};
    if (start && start->dev == st.st_dev && start->ino == st.st_ino && start->offset <= st.st_size)
      pos_.offset = start->offset;
    else if (from_end)
      pos_.offset = st.st_size;
    ::lseek(fd_, pos_.offset, SEEK_SET);
  }

  // Calls line(text) for each complete line available now; handles rotation and truncation.
  template <class F>
  void poll(F&& line) {
    if (fd_ < 0) {
      open(nullptr, false);  // created since
      if (fd_ < 0) return;
    }
    drain(line);
    struct stat now {}, mine {};
    if (::fstat(fd_, &mine) == 0 && mine.st_size < pos_.offset) {
      // Truncated in place (copytruncate): what is there now is new.
      ::lseek(fd_, 0, SEEK_SET);
      pos_.offset = 0;
      partial_.clear();
      skipping_ = false;
      drain(line);
    }
    if (::stat(path_.c_str(), &now) == 0 && (now.st_ino != pos_.ino || now.st_dev != pos_.dev)) {
      // Renamed away and replaced: finish the old file (drained above), then the new one.
      drain(line);
      ::close(fd_);
      fd_ = -1;
      partial_.clear();
      skipping_ = false;
      open(nullptr, false);
      if (fd_ >= 0) drain(line);
    }
  }

  // Where the next complete line starts.
  Position position() const {
    Position p = pos_;
    p.offset -= static_cast<off_t>(partial_.size());
    return p;
  }
  std::uint64_t skipped() const { return skipped_; }

 private:
  template <class F>
  void drain(F&& line) {
    char buf[64 * 1024];
    for (;;) {
      ssize_t n = ::read(fd_, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;
      pos_.offset += n;
      std::size_t start = 0;
      for (std::size_t i = 0; i < static_cast<std::size_t>(n); ++i) {
        if (buf[i] != '\n') continue;
        if (!skipping_) {
          partial_.append(buf + start, i - start);
          if (!partial_.empty()) line(partial_);
        }
        partial_.clear();
        skipping_ = false;
        start = i + 1;
      }
      if (!skipping_) partial_.append(buf + start, static_cast<std::size_t>(n) - start);
      if (partial_.size() > kMaxLine) {
        // Not an event: skip to the next newline.
        ++skipped_;
        partial_.clear();
        skipping_ = true;
      }
    }
  }

  std::string path_;
  int fd_ = -1;
  Position pos_;
  std::string partial_;
  bool skipping_ = false;
  std::uint64_t skipped_ = 0;
};

bool queues_empty(exports::ExportSet& set) {
  for (std::size_t i = 0; i < set.size(); ++i)
    if (set.at(i).stats().queue_depth != 0) return false;
  return true;
}

}  // namespace

Command add_forward(CLI::App& app) {
  struct Options {
    std::string events, position;
    std::vector<std::string> exports;
    bool from_end = false, once = false;
  };
  auto o = std::make_shared<Options>();
  auto* sub = app.add_subcommand(
      "forward", "Ship an agent's events file to SOC exports without vigild (docs/exports.md)");
  sub->add_option("--events", o->events, "The agent's events file (vigil run --events FILE)")
      ->required();
  sub->add_option("--export", o->exports,
                  "Export URL, as vigild's --export (repeatable; see docs/exports.md)")
      ->required();
  sub->add_flag("--from-end", o->from_end,
                "Start at the end of the file (default: its beginning), unless --position says");
  sub->add_option("--position", o->position,
                  "Keep the reading position in FILE (resume there after a restart)");
  sub->add_flag("--once", o->once, "Forward what the file holds now, deliver it, and exit");
  return {sub, [o]() {
            std::vector<exports::ExportConfig> configs;
            std::string error;
            for (const auto& url : o->exports) {
              configs.emplace_back();
              if (!exports::parse_export_url(url, &configs.back(), &error)) {
                std::cerr << "vigil forward: --export: " << error << "\n";
                return 2;
              }
            }
            auto set = exports::ExportSet::create(std::move(configs), &error);
            if (!set) {
              std::cerr << "vigil forward: " << error << "\n";
              return 2;
            }
            ::signal(SIGPIPE, SIG_IGN);
            ::signal(SIGINT, on_signal);
            ::signal(SIGTERM, on_signal);
            set->start();

            Position saved;
            const bool resume = !o->position.empty() && load_position(o->position, &saved);
            Follower follower(o->events);
            follower.open(resume ? &saved : nullptr, o->from_end);
            std::uint64_t lines = 0;
            Position last_saved = resume ? saved : Position{};
            for (;;) {
              follower.poll([&](const std::string& line) {
                ++lines;
                set->submit_json(line);
              });
              if (!o->position.empty()) {
                Position p = follower.position();
                if ((p.offset != last_saved.offset || p.ino != last_saved.ino) &&
                    queues_empty(*set)) {
                  save_position(o->position, p);
                  last_saved = p;
                }
              }
              if (g_stop || o->once) break;
              std::this_thread::sleep_for(kPoll);
            }
            if (o->once) {
              // Deliver what was read (retrying as long as each export's buffer holds it),
              // unless a signal asks to stop first.
              while (!g_stop && !queues_empty(*set)) std::this_thread::sleep_for(kPoll);
            }
            set->stop();
            std::uint64_t dropped = 0, failed = 0, left = 0;
            for (std::size_t i = 0; i < set->size(); ++i)
              left += set->at(i).stats().dropped_shutdown;
            // Events still queued at the stop are read again next time (same ids) rather than lost.
            if (!o->position.empty() && left == 0) save_position(o->position, follower.position());

            std::cerr << "vigil forward: " << lines << " lines read";
            if (set->invalid_events()) std::cerr << ", " << set->invalid_events() << " not events";
            if (follower.skipped()) std::cerr << ", " << follower.skipped() << " too long";
            std::cerr << "\n";
            for (std::size_t i = 0; i < set->size(); ++i) {
              auto s = set->at(i).stats();
              dropped += s.dropped();
              failed += s.failed;
              std::cerr << "  " << set->at(i).name() << ": " << s.sent << " sent, " << s.failed
                        << " refused, " << s.dropped() << " dropped, " << s.filtered
                        << " filtered, " << s.summarized << " in " << s.summaries
                        << " summaries\n";
            }
            return dropped || failed ? 1 : 0;
          }};
}

}  // namespace vigil::cli
