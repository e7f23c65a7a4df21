#include "core/engine/clean_memo.hpp"

#include <cstring>

namespace vigil::engine {
namespace {

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

}  // namespace

inline bool CleanMemo::Key::set(std::size_t head_size, std::string_view a,
                                std::string_view b) noexcept {
  const std::size_t size = a.size() + b.size();
  if (head_size + size > kMaxKey) return false;  // the bounds of when the head was stored too
  a_ = a;
  b_ = b;
  size_ = size;
  std::uint64_t h = mix(0x243F6A8885A308D3ull ^ (size * kMul), head_);
  h = hash_part(h, a.data(), a.size(), &a_word_);
  h = hash_part(h, b.data(), b.size(), &b_word_);
  hash_ = h ^ (h >> 32);
  return true;
}

inline bool CleanMemo::Key::set_input(Source source, std::string_view name, Form form,
                                      std::string_view value) noexcept {
  if (value.size() < kMinValue || name.size() > 255) return false;
  head_ = static_cast<std::uint32_t>(source) | static_cast<std::uint32_t>(form) << 8 |
          static_cast<std::uint32_t>(name.size()) << 16;
  return set(3, name, value);
}

inline bool CleanMemo::Key::set_signals(std::string_view user_agent,
                                        std::string_view path) noexcept {
  constexpr std::uint32_t kSignalsTag = 0xFF000000u;  // no input's head has this top byte
  if (path.size() > 255) return false;
  head_ = kSignalsTag | static_cast<std::uint32_t>(path.size());
  return set(2, path, user_agent);
}

bool CleanMemo::Key::build(Source source, std::string_view name, Form form,
                           std::string_view value) noexcept {
  return set_input(source, name, form, value);
}

bool CleanMemo::Key::build_signals(std::string_view user_agent, std::string_view path) noexcept {
  return set_signals(user_agent, path);
}

CleanMemo::CleanMemo() : shards_(new Shard[kShards]) {}
CleanMemo::~CleanMemo() = default;

inline bool CleanMemo::probe(const Key& key) const noexcept {
  const Shard& shard = shards_[key.hash_ % kShards];
  if (shard.busy.exchange(true, std::memory_order_acquire)) return false;
  auto holds = [&](const Slot& slot) {
    return slot.hash == key.hash_ && slot.head == key.head_ && slot.size == key.size_ &&
           part_equals(slot.bytes, key.a_, key.a_word_) &&
           part_equals(slot.bytes + key.a_.size(), key.b_, key.b_word_);
  };
  const bool hit = holds(shard.slots[first_slot(key.hash_)]) ||
                   holds(shard.slots[second_slot(key.hash_)]);
  shard.busy.store(false, std::memory_order_release);
  return hit;
}

bool CleanMemo::contains(const Key& key) const noexcept { return probe(key); }

bool CleanMemo::lookup(Key* key, Source source, std::string_view name, Form form,
                       std::string_view value, bool* rememberable) const noexcept {
  *rememberable = key->set_input(source, name, form, value);
  return *rememberable && probe(*key);
}

bool CleanMemo::lookup_signals(Key* key, std::string_view user_agent, std::string_view path,
                               bool* rememberable) const noexcept {
  *rememberable = key->set_signals(user_agent, path);
  return *rememberable && probe(*key);
}

void CleanMemo::insert(const Key& key) noexcept {
  Shard& shard = shards_[key.hash_ % kShards];
  if (shard.busy.exchange(true, std::memory_order_acquire)) return;
  // An empty place first; when both are taken, one of them by a bit of the hash.
  Slot* slot = &shard.slots[first_slot(key.hash_)];
  Slot* other = &shard.slots[second_slot(key.hash_)];
  if (slot->size != 0 && (other->size == 0 || (key.hash_ >> 63) != 0)) slot = other;
  slot->hash = key.hash_;
  slot->head = key.head_;
  slot->size = static_cast<std::uint16_t>(key.size_);
  // An empty part may have no bytes at all (a null data()): memcpy must not see it.
  if (!key.a_.empty()) std::memcpy(slot->bytes, key.a_.data(), key.a_.size());
  if (!key.b_.empty()) std::memcpy(slot->bytes + key.a_.size(), key.b_.data(), key.b_.size());
  shard.busy.store(false, std::memory_order_release);
}

}  // namespace vigil::engine
