// HTML tokenizer and skeleton builder target. Checks that tokens are ordered, non-overlapping
// and in bounds, that attributes lie inside their tag, and that stopping at any position,
// snapshotting and resuming in a fresh tokenizer gives exactly the same tokens.
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "core/tokenize/html/html_tokenizer.hpp"
#include "core/tokenize/html/html_tree.hpp"

namespace html = vigil::tokenize::html;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  // The first byte picks where to stop and resume.
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  const std::uint32_t cut = text.empty() ? 0 : std::uint32_t(data[0] * text.size() / 256);

  html::TokenList whole;
  html::tokenize(text, &whole);
  std::uint32_t prev = 0;
  for (const html::Token& t : whole.tokens) {
    if (t.begin < prev || t.end < t.begin || t.end > text.size()) std::abort();
    if (t.is_text() && t.end == t.begin) std::abort();
    if (t.attr_begin + t.attr_count > whole.attributes.size()) std::abort();
    for (const html::Attribute& a : whole.attributes_of(t)) {
      if (a.name.begin < t.begin || a.name.end > t.end || a.name.end < a.name.begin) std::abort();
      if (a.quote != html::Quote::kNone &&
          (a.value.begin < a.name.end || a.value.end > t.end || a.value.end < a.value.begin))
        std::abort();
    }
    prev = t.end;
  }

  // Stop at `cut`, resume from a snapshot in another tokenizer.
  html::TokenList first;
  html::Tokenizer a(text, &first);
  a.run_to(cut);
  const html::Tokenizer::Snapshot snap = a.snapshot();
  html::TokenList second;
  for (std::uint32_t i = 0; i < snap.attr_count; ++i)
    second.attributes.push_back(first.attributes[first.attributes.size() - snap.attr_count + i]);
  html::Tokenizer b(text, &second);
  b.restore(snap);
  b.finish();
  if (first.tokens.size() + second.tokens.size() != whole.tokens.size()) std::abort();
  for (std::size_t i = 0; i < second.tokens.size(); ++i) {
    const html::Token& x = second.tokens[i];
    const html::Token& y = whole.tokens[first.tokens.size() + i];
    if (x.kind != y.kind || x.begin != y.begin || x.end != y.end || x.attr_count != y.attr_count)
      std::abort();
  }

  // A virtual character never breaks the machine.
  html::TokenList third;
  for (std::uint32_t i = 0; i < snap.attr_count; ++i)
    third.attributes.push_back(first.attributes[first.attributes.size() - snap.attr_count + i]);
  html::Tokenizer c(text, &third);
  c.restore(snap);
  c.feed_virtual('x', std::uint32_t(cut + (text.size() - cut) / 2));
  while (!c.finished()) c.run_until_emit(std::uint32_t(text.size()));
  for (const html::Token& t : third.tokens)
    if (t.end > text.size() || t.end < t.begin) std::abort();

  html::SkeletonBuilder builder;
  std::vector<html::Creation> created;
  for (std::uint32_t i = 0; i < whole.tokens.size(); ++i) {
    builder.process(text, whole, i, &created);
    if (builder.depth() < 0) std::abort();
  }
  for (const html::Creation& cr : created)
    if (cr.token >= whole.tokens.size()) std::abort();
  return 0;
}
