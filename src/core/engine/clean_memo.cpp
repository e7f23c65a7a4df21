#include "core/engine/clean_memo.hpp"

#include <cstring>

namespace vigil::engine {
namespace {

// 64-bit multiply-xorshift over 8-byte words: a few cycles per word. Collisions only cost a
// miss (keys are compared in full), so an attacker who aims for one gains nothing.
std::uint64_t hash_bytes(const char* p, std::size_t n) noexcept {
  constexpr std::uint64_t kMul = 0x9E3779B97F4A7C15ull;
  std::uint64_t h = 0x243F6A8885A308D3ull ^ (n * kMul);
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, p + i, 8);
    h = (h ^ w) * kMul;
    h ^= h >> 29;
  }
  std::uint64_t tail = 0;
  std::memcpy(&tail, p + i, n - i);
  h = (h ^ tail) * kMul;
  h ^= h >> 32;
  return h;
}

}  // namespace

bool CleanMemo::Key::assemble(std::string_view head, std::string_view a,
                              std::string_view b) noexcept {
  const std::size_t size = head.size() + a.size() + b.size();
  if (size > kMaxKey) return false;
  std::memcpy(bytes_, head.data(), head.size());
  std::memcpy(bytes_ + head.size(), a.data(), a.size());
  std::memcpy(bytes_ + head.size() + a.size(), b.data(), b.size());
  size_ = size;
  hash_ = hash_bytes(bytes_, size_);
  return true;
}

bool CleanMemo::Key::build(Source source, std::string_view name, Form form,
                           std::string_view value) noexcept {
  if (value.size() < kMinValue || name.size() > 255) return false;
  const char head[] = {static_cast<char>(source), static_cast<char>(form),
                       static_cast<char>(name.size())};
  return assemble({head, sizeof head}, name, value);
}

bool CleanMemo::Key::build_signals(std::string_view user_agent, std::string_view path) noexcept {
  constexpr char kSignalsTag = '\xFF';  // no Source has this value
  if (path.size() > 255) return false;
  const char head[] = {kSignalsTag, static_cast<char>(path.size())};
  return assemble({head, sizeof head}, path, user_agent);
}

CleanMemo::CleanMemo() : shards_(new Shard[kShards]) {}
CleanMemo::~CleanMemo() = default;

bool CleanMemo::contains(const Key& key) const noexcept {
  const Shard& shard = shards_[key.hash() % kShards];
  if (shard.busy.exchange(true, std::memory_order_acquire)) return false;
  const Slot& slot = shard.slots[(key.hash() / kShards) % kSlotsPerShard];
  const bool hit = slot.size == key.bytes().size() && slot.hash == key.hash() &&
                   std::memcmp(slot.bytes, key.bytes().data(), slot.size) == 0;
  shard.busy.store(false, std::memory_order_release);
  return hit;
}

void CleanMemo::insert(const Key& key) noexcept {
  Shard& shard = shards_[key.hash() % kShards];
  if (shard.busy.exchange(true, std::memory_order_acquire)) return;
  Slot& slot = shard.slots[(key.hash() / kShards) % kSlotsPerShard];
  slot.hash = key.hash();
  slot.size = static_cast<std::uint16_t>(key.bytes().size());
  std::memcpy(slot.bytes, key.bytes().data(), slot.size);
  shard.busy.store(false, std::memory_order_release);
}

}  // namespace vigil::engine
