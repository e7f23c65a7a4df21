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
// verdict. Bounded: a fixed table of slots (about 264 KiB), keys of at most kMaxKey bytes;
// values that do not fit are analysed as before. A key may sit in either of two slots of its
// shard (chosen by its hash): with one place per key, two values of one request that shared it
// evicted each other on every request (a typical form POST has ~40 keys in 1,024 slots: such a
// pair was more likely than not), and both were analysed every time.
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

  // The key of one candidate: what the detectors read besides the bytes' features. It refers
  // to the name and value it was built from (no copy): they must outlive its use.
  class Key {
   public:
    // False when the candidate is too short or too long to be remembered.
    bool build(Source source, std::string_view name, Form form, std::string_view value) noexcept;
    // The key of the request-level scanner check (a User-Agent and a path): tagged where an
    // input's key has its Source, so it never equals one. False when it does not fit.
    bool build_signals(std::string_view user_agent, std::string_view path) noexcept;
    std::size_t size() const noexcept { return size_; }
    std::uint64_t hash() const noexcept { return hash_; }

   private:
    friend class CleanMemo;
    // Defined (and used) in clean_memo.cpp only, inlined into its callers.
    [[gnu::always_inline]] inline bool set(std::size_t head_size, std::string_view a,
                                           std::string_view b) noexcept;
    [[gnu::always_inline]] inline bool set_input(Source source, std::string_view name, Form form,
                                                 std::string_view value) noexcept;
    [[gnu::always_inline]] inline bool set_signals(std::string_view user_agent,
                                                   std::string_view path) noexcept;
    // The key's bytes are head, a, b (the lengths in head keep the parts apart). They are never
    // assembled: hashed in place, compared with a slot part by part, copied only into a slot.
    std::uint32_t head_ = 0;  // source, form and name length; or the signals tag and path length
    std::string_view a_, b_;
    std::uint64_t a_word_ = 0, b_word_ = 0;  // a part shorter than a word, as one (short_word)
    std::size_t size_ = 0;    // a's and b's bytes
    std::uint64_t hash_ = 0;
  };

  CleanMemo();
  ~CleanMemo();
  CleanMemo(const CleanMemo&) = delete;
  CleanMemo& operator=(const CleanMemo&) = delete;

  bool contains(const Key& key) const noexcept;
  void insert(const Key& key) noexcept;

  // build() then contains(), in one call (the analyser's per-value path): true when the
  // candidate is remembered clean. *rememberable tells whether the key was built, that is,
  // whether insert(*key) may follow.
  bool lookup(Key* key, Source source, std::string_view name, Form form, std::string_view value,
              bool* rememberable) const noexcept;
  bool lookup_signals(Key* key, std::string_view user_agent, std::string_view path,
                      bool* rememberable) const noexcept;

 private:
  struct Slot {
    std::uint64_t hash = 0;
    std::uint32_t head = 0;
    std::uint16_t size = 0;  // of bytes; 0: empty (no key is that short)
    char bytes[kMaxKey];     // a, then b
  };
  struct Shard {
    mutable std::atomic<bool> busy{false};
    Slot slots[kSlotsPerShard];
  };
  [[gnu::always_inline]] inline bool probe(const Key& key) const noexcept;
  // The key's two places in its shard (different from each other).
  static std::size_t first_slot(std::uint64_t hash) noexcept {
    return (hash / kShards) % kSlotsPerShard;
  }
  static std::size_t second_slot(std::uint64_t hash) noexcept {
    const std::size_t s = (hash >> 40) % kSlotsPerShard;
    return s != first_slot(hash) ? s : s ^ 1;
  }

  std::unique_ptr<Shard[]> shards_;
};

}  // namespace vigil::engine

#endif  // VIGIL_CORE_ENGINE_CLEAN_MEMO_HPP_
