// Files: one record per line, appended, rotated by size.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "export/transport.hpp"

namespace vigil::exports {
namespace {

class FileTransport : public Transport {
 public:
  explicit FileTransport(FileOptions o) : options_(std::move(o)) {}
  ~FileTransport() override { close(); }

  SendResult send(const std::vector<std::string>& records,
                  std::chrono::milliseconds) noexcept override {
    if (fd_ < 0 && !open()) return SendResult::retry(error_);
    // Lines go out in chunks that fit the current file; the file rotates between chunks. After
    // a failure the whole batch is retried: lines already written appear twice (same ids).
    std::string buf;
    for (const auto& r : records) {
      if (size_ + buf.size() > 0 && size_ + buf.size() + r.size() + 1 > options_.max_bytes) {
        if (!write_all(buf)) return SendResult::retry(error_);
        buf.clear();
        if (size_ > 0) {
          rotate();
          if (!open()) return SendResult::retry(error_);
        }
      }
      buf += r;
      buf.push_back('\n');
    }
    if (!write_all(buf)) return SendResult::retry(error_);
    if (options_.fsync) ::fdatasync(fd_);
    return SendResult::ok();
  }

  void close() noexcept override {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  bool write_all(const std::string& buf) {
    std::size_t off = 0;
    while (off < buf.size()) {
      ssize_t n = ::write(fd_, buf.data() + off, buf.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        error_ = "write " + options_.path + ": " + std::strerror(errno);
        // A partial line would corrupt the file: cut back to where this chunk began.
        if (off > 0 && ::ftruncate(fd_, static_cast<off_t>(size_)) != 0) {
          // Nothing better to do: the next write starts a new line after it anyway.
        }
        close();
        return false;
      }
      off += static_cast<std::size_t>(n);
    }
    size_ += buf.size();
    return true;
  }

  bool open() {
    fd_ = ::open(options_.path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd_ < 0) {
      error_ = "open " + options_.path + ": " + std::strerror(errno);
      return false;
    }
    struct stat st;
    size_ = ::fstat(fd_, &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
    return true;
  }

  void rotate() {
    close();
    const std::string& p = options_.path;
    if (options_.max_files <= 0) {
      ::unlink(p.c_str());
      return;
    }
    std::string oldest = p + "." + std::to_string(options_.max_files);
    ::unlink(oldest.c_str());
    for (int i = options_.max_files - 1; i >= 1; --i)
      std::rename((p + "." + std::to_string(i)).c_str(), (p + "." + std::to_string(i + 1)).c_str());
    std::rename(p.c_str(), (p + ".1").c_str());
  }

  FileOptions options_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
  std::string error_;
};

}  // namespace

std::unique_ptr<Transport> make_file_transport(const FileOptions& options) {
  return std::make_unique<FileTransport>(options);
}

}  // namespace vigil::exports
