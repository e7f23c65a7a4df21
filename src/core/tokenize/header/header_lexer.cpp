#include "core/tokenize/header/header_lexer.hpp"

#include <cstring>

namespace vigil::tokenize::header {
namespace {

constexpr bool is_ows(char c) noexcept { return c == ' ' || c == '\t'; }

}  // namespace

bool is_token_char(char c) noexcept {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return c != '\0' && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

std::string_view line_end_name(LineEnd end) noexcept {
  switch (end) {
    case LineEnd::kCrlf:
      return "CRLF";
    case LineEnd::kLf:
      return "bare LF";
    case LineEnd::kCr:
      return "bare CR";
    case LineEnd::kNone:
      break;
  }
  return "none";
}

std::string_view line_kind_name(LineKind kind) noexcept {
  switch (kind) {
    case LineKind::kField:
      return "field";
    case LineKind::kContinuation:
      return "continuation";
    case LineKind::kEmpty:
      return "empty";
    case LineKind::kMalformed:
      return "malformed";
    case LineKind::kBody:
      break;
  }
  return "body";
}

Lexer::Lexer(std::string_view block) noexcept
    : block_(block.size() > UINT32_MAX ? block.substr(0, UINT32_MAX) : block) {}

bool Lexer::next(Line* out) noexcept {
  const std::size_t size = block_.size();
  if (pos_ >= size) return false;
  const char* data = block_.data();
  *out = Line{};
  out->begin = static_cast<std::uint32_t>(pos_);
  if (in_body_) {
    out->kind = LineKind::kBody;
    out->end = out->next = static_cast<std::uint32_t>(size);
    out->value_begin = out->begin;
    out->value_end = out->end;
    pos_ = size;
    return true;
  }
  // The content runs to the first CR or LF.
  std::size_t end = pos_;
  while (end < size && data[end] != '\r' && data[end] != '\n') ++end;
  std::size_t next = end;
  if (end == size) {
    out->end_kind = LineEnd::kNone;
  } else if (data[end] == '\n') {
    out->end_kind = LineEnd::kLf;
    next = end + 1;
  } else if (end + 1 < size && data[end + 1] == '\n') {
    out->end_kind = LineEnd::kCrlf;
    next = end + 2;
  } else {
    out->end_kind = LineEnd::kCr;
    next = end + 1;
  }
  out->end = static_cast<std::uint32_t>(end);
  out->next = static_cast<std::uint32_t>(next);

  std::size_t value_from = pos_;
  if (end == pos_) {
    out->kind = LineKind::kEmpty;
    // Only a terminated empty line ends the block; what follows it is the body.
    if (out->end_kind != LineEnd::kNone) in_body_ = true;
  } else if (is_ows(data[pos_])) {
    out->kind = LineKind::kContinuation;
  } else {
    std::size_t n = pos_;
    while (n < end && is_token_char(data[n])) ++n;
    if (n > pos_ && n < end && data[n] == ':') {
      out->kind = LineKind::kField;
      out->name_end = static_cast<std::uint32_t>(n);
      value_from = n + 1;
    } else {
      out->kind = LineKind::kMalformed;
    }
  }
  if (out->kind == LineKind::kField || out->kind == LineKind::kContinuation) {
    std::size_t vb = value_from, ve = end;
    while (vb < ve && is_ows(data[vb])) ++vb;
    while (ve > vb && is_ows(data[ve - 1])) --ve;
    out->value_begin = static_cast<std::uint32_t>(vb);
    out->value_end = static_cast<std::uint32_t>(ve);
    for (std::size_t i = vb; i < ve; ++i) {
      if (is_invalid_value_byte(data[i])) {
        out->invalid_value_byte = true;
        break;
      }
    }
  }
  pos_ = next;
  return true;
}

}  // namespace vigil::tokenize::header
