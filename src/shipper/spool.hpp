// The shipper's on-disk spool: batches that could not be delivered yet, one file each (a JSON
// array of events, as it will be sent), oldest first. Bounded in bytes: past the bound, new
// batches are refused and counted as dropped, so a long outage costs disk space up to the
// bound and never memory.
//
// Several processes may share one spool directory (the workers of a pre-fork server): a batch
// is claimed by renaming its file to "NAME.sending-PID" (rename is atomic: one claimant wins),
// deleted once delivered, renamed back if not. Claims of processes that died are taken back
// when a spool opens. Thread-compatible (the shipper's sender thread uses it).
#ifndef VIGIL_SHIPPER_SPOOL_HPP_
#define VIGIL_SHIPPER_SPOOL_HPP_

#include <cstdint>
#include <optional>
#include <string>

namespace vigil::shipper {

// Reads the whole file at `path` into `out`. False when it cannot be opened or read, or when it
// holds more than `max_bytes` (what was read is then left in `out`). Retries EINTR.
bool read_file(const std::string& path, std::string* out,
               std::size_t max_bytes = static_cast<std::size_t>(-1));

class Spool {
 public:
  // `dir` is created if missing. An empty dir disables the spool (every call fails softly).
  Spool(std::string dir, std::uint64_t max_bytes);

  bool enabled() const noexcept { return !dir_.empty(); }
  // Writes a batch (atomically: a temporary file renamed into place). False when the spool is
  // disabled, full, or the write failed.
  bool put(const std::string& batch, std::size_t events) noexcept;

  struct Claimed {
    std::string path;     // the claimed file
    std::string batch;    // its content
    std::size_t events;   // from its name
  };
  // Claims the oldest batch nobody holds, or nullopt.
  std::optional<Claimed> claim() noexcept;
  // Delivered (or refused for good): the file goes.
  void done(const Claimed& c) noexcept;
  // Not delivered: back into the spool for a later attempt.
  void release(const Claimed& c) noexcept;

  std::uint64_t bytes() const noexcept { return bytes_; }
  // Recomputes bytes() from the directory (other processes add and remove files too).
  void rescan() noexcept;

 private:
  std::string dir_;
  std::uint64_t max_bytes_;
  std::uint64_t bytes_ = 0;
  std::uint64_t counter_ = 0;
};

}  // namespace vigil::shipper

#endif  // VIGIL_SHIPPER_SPOOL_HPP_
