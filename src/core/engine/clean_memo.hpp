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
#include <cstring>
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
    // set*<false> leaves the hash to rehash(): the lookups share one out-of-line copy of it.
    template <bool kHash = true>
    [[gnu::always_inline]] inline bool set(std::size_t head_size, std::string_view a,
                                           std::string_view b) noexcept;
    template <bool kHash = true>
    [[gnu::always_inline]] inline bool set_input(Source source, std::string_view name, Form form,
                                                 std::string_view value) noexcept;
    template <bool kHash = true>
    [[gnu::always_inline]] inline bool set_signals(std::string_view user_agent,
                                                   std::string_view path) noexcept;
    [[gnu::always_inline]] inline void rehash() noexcept;
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
  inline bool lookup(Key* key, Source source, std::string_view name, Form form, std::string_view value,
              bool* rememberable) const noexcept;
  inline bool lookup_signals(Key* key, std::string_view user_agent, std::string_view path,
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
  // rehash() then probe(): out of line, one copy of the code for both lookups (they run once
  // per request each, and their code lines are the cost, more than the call).
  [[gnu::noinline]] bool hash_and_probe(Key* key) const noexcept;
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

// Inline definitions: the analyser looks up every value of every request, and a call with the
// key's parts (eight arguments, saved registers) cost about a quarter of a lookup. The parts are
// stored inline; the hash and the probe are one out-of-line call of two (hash_and_probe).
namespace clean_memo_detail {

constexpr std::uint64_t kMul = 0x9E3779B97F4A7C15ull;

// The bytes of a part shorter than a word, as one word: overlapping loads instead of a byte
// loop. Injective for a given length (every byte lands at a fixed place), so two parts of one
// length are equal exactly when their words are.
[[gnu::always_inline]] inline std::uint64_t short_word(const char* p, std::size_t n) noexcept {
  if (n >= 4) {
    std::uint32_t lo, hi;
    std::memcpy(&lo, p, 4);
    std::memcpy(&hi, p + n - 4, 4);
    return lo | (std::uint64_t{hi} << 32);
  }
  if (n == 0) return 0;
  return std::uint64_t{static_cast<unsigned char>(p[0])} |
         std::uint64_t{static_cast<unsigned char>(p[n / 2])} << 8 |
         std::uint64_t{static_cast<unsigned char>(p[n - 1])} << 16;
}

[[gnu::always_inline]] inline std::uint64_t mix(std::uint64_t h, std::uint64_t w) noexcept {
  h = (h ^ w) * kMul;
  return h ^ (h >> 29);
}

// Multiply-xorshift over 8-byte words, the last one overlapping the one before: a few cycles
// per word. Collisions only cost a miss (keys are compared in full), so an attacker who aims
// for one gains nothing.
// `*word` gets short_word(p, n) for a part shorter than a word, for the compare with a slot.
[[gnu::always_inline]] inline std::uint64_t hash_part(std::uint64_t h, const char* p,
                                                      std::size_t n,
                                                      std::uint64_t* word) noexcept {
  if (n < 8) {
    *word = short_word(p, n);
    return mix(h, *word);
  }
  std::uint64_t w;
  for (std::size_t i = 0; i + 8 <= n; i += 8) {
    std::memcpy(&w, p + i, 8);
    h = mix(h, w);
  }
  if (n % 8 != 0) {
    std::memcpy(&w, p + n - 8, 8);
    h = mix(h, w);
  }
  return h;
}

// `word` is short_word(part) when the part is shorter than a word.
[[gnu::always_inline]] inline bool part_equals(const char* stored, std::string_view part,
                                               std::uint64_t word) noexcept {
  if (part.size() < 8) return short_word(stored, part.size()) == word;
  return std::memcmp(stored, part.data(), part.size()) == 0;
}

}  // namespace clean_memo_detail

template <bool kHash>
inline bool CleanMemo::Key::set(std::size_t head_size, std::string_view a,
                                std::string_view b) noexcept {
  const std::size_t size = a.size() + b.size();
  if (head_size + size > kMaxKey) return false;  // the bounds of when the head was stored too
  a_ = a;
  b_ = b;
  size_ = size;
  if constexpr (kHash) rehash();
  return true;
}

inline void CleanMemo::Key::rehash() noexcept {
  using clean_memo_detail::hash_part, clean_memo_detail::kMul, clean_memo_detail::mix;
  std::uint64_t h = mix(0x243F6A8885A308D3ull ^ (size_ * kMul), head_);
  h = hash_part(h, a_.data(), a_.size(), &a_word_);
  h = hash_part(h, b_.data(), b_.size(), &b_word_);
  hash_ = h ^ (h >> 32);
}

template <bool kHash>
inline bool CleanMemo::Key::set_input(Source source, std::string_view name, Form form,
                                      std::string_view value) noexcept {
  if (value.size() < kMinValue || name.size() > 255) return false;
  head_ = static_cast<std::uint32_t>(source) | static_cast<std::uint32_t>(form) << 8 |
          static_cast<std::uint32_t>(name.size()) << 16;
  return set<kHash>(3, name, value);
}

template <bool kHash>
inline bool CleanMemo::Key::set_signals(std::string_view user_agent,
                                        std::string_view path) noexcept {
  constexpr std::uint32_t kSignalsTag = 0xFF000000u;  // no input's head has this top byte
  if (path.size() > 255) return false;
  head_ = kSignalsTag | static_cast<std::uint32_t>(path.size());
  return set<kHash>(2, path, user_agent);
}

inline bool CleanMemo::probe(const Key& key) const noexcept {
  const Shard& shard = shards_[key.hash_ % kShards];
  if (shard.busy.exchange(true, std::memory_order_acquire)) return false;
  using clean_memo_detail::part_equals;
  auto holds = [&](const Slot& slot) __attribute__((always_inline)) {
    return slot.hash == key.hash_ && slot.head == key.head_ && slot.size == key.size_ &&
           part_equals(slot.bytes, key.a_, key.a_word_) &&
           part_equals(slot.bytes + key.a_.size(), key.b_, key.b_word_);
  };
  const bool hit = holds(shard.slots[first_slot(key.hash_)]) ||
                   holds(shard.slots[second_slot(key.hash_)]);
  shard.busy.store(false, std::memory_order_release);
  return hit;
}

[[gnu::always_inline]] inline bool CleanMemo::lookup(Key* key, Source source,
                                                   std::string_view name, Form form,
                                                   std::string_view value,
                                                   bool* rememberable) const noexcept {
  *rememberable = key->set_input<false>(source, name, form, value);
  return *rememberable && hash_and_probe(key);
}

[[gnu::always_inline]] inline bool CleanMemo::lookup_signals(Key* key,
                                                           std::string_view user_agent,
                                                           std::string_view path,
                                                           bool* rememberable) const noexcept {
  *rememberable = key->set_signals<false>(user_agent, path);
  return *rememberable && hash_and_probe(key);
}

}  // namespace vigil::engine

#endif  // VIGIL_CORE_ENGINE_CLEAN_MEMO_HPP_
