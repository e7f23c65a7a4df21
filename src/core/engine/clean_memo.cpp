#include "core/engine/clean_memo.hpp"

#include <cstring>

namespace vigil::engine {

bool CleanMemo::Key::build(Source source, std::string_view name, Form form,
                           std::string_view value) noexcept {
  return set_input(source, name, form, value);
}

bool CleanMemo::Key::build_signals(std::string_view user_agent, std::string_view path) noexcept {
  return set_signals(user_agent, path);
}

CleanMemo::CleanMemo() : shards_(new Shard[kShards]) {}
CleanMemo::~CleanMemo() = default;

bool CleanMemo::contains(const Key& key) const noexcept { return probe(key); }

bool CleanMemo::hash_and_probe(Key* key) const noexcept {
  key->rehash();
  return probe(*key);
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
