// A memo of input values that input analysis found clean.
//
// A client repeats most of what it sends on every request: its User-Agent, Accept headers,
// cookies, the Referer of the page it came from. Analysing such a value costs microseconds (the
// detectors read it in several languages); finding it in this memo costs a hash and a compare.
// Only "no detector fired" is remembered: the input detectors are pure functions of the form's
// bytes, the input's source and name, and the form (Candidate), so a remembered value gets the
// verdict it would get again. Policy (modes, exclusions) is applied after the detectors and is
// not part of what is remembered. Attacks are never remembered: they are analysed every time.
//
// Exact: a hit compares every byte of the key, so a hash collision costs a miss, never a wrong
// verdict. Bounded: a fixed table of kSlots direct-mapped slots (about 256 KiB), keys of at most
// kMaxKey bytes; values that do not fit are analysed as before.
//
// Thread safety: any number of threads. Each shard has a flag that is only ever try-locked (one
// atomic exchange, cheaper than a mutex's call): a contended shard (or one left locked in a
// forked child) is a miss, never a wait.
#ifndef VIGIL_CORE_ENGINE_CLEAN_MEMO_HPP_
#define VIGIL_CORE_ENGINE_CLEAN_MEMO_HPP_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "vigil/engine.hpp"

namespace vigil::engine {

class CleanMemo {
 public:
  // Shorter values reach few detectors (their minimum lengths) and are cheap to analyse.
  static constexpr std::size_t kMinValue = 3;
  static constexpr std::size_t kMaxKey = 246;
  static constexpr std::size_t kShards = 16;
  static constexpr std::size_t kSlotsPerShard = 64;

  // The key of one candidate: what the detectors read besides the bytes' features.
  class Key {
   public:
    // False when the candidate is too short or too long to be remembered.
    bool build(Source source, std::string_view name, Form form, std::string_view value) noexcept;
    // The key of the request-level scanner check (a User-Agent and a path): tagged where an
    // input's key has its Source, so it never equals one. False when it does not fit.
    bool build_signals(std::string_view user_agent, std::string_view path) noexcept;
    std::string_view bytes() const noexcept { return {bytes_, size_}; }
    std::uint64_t hash() const noexcept { return hash_; }

   private:
    // The key is head + a + b (the lengths in `head` keep the parts apart).
    bool assemble(std::string_view head, std::string_view a, std::string_view b) noexcept;
    char bytes_[kMaxKey];
    std::size_t size_ = 0;
    std::uint64_t hash_ = 0;
  };

  CleanMemo();
  ~CleanMemo();
  CleanMemo(const CleanMemo&) = delete;
  CleanMemo& operator=(const CleanMemo&) = delete;

  bool contains(const Key& key) const noexcept;
  void insert(const Key& key) noexcept;

 private:
  struct Slot {
    std::uint64_t hash = 0;
    std::uint16_t size = 0;  // 0: empty
    char bytes[kMaxKey];
  };
  struct Shard {
    mutable std::atomic<bool> busy{false};
    Slot slots[kSlotsPerShard];
  };
  std::unique_ptr<Shard[]> shards_;
};

}  // namespace vigil::engine

#endif  // VIGIL_CORE_ENGINE_CLEAN_MEMO_HPP_
