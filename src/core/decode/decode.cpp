#include "core/decode/decode.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include "core/common/ascii.hpp"

namespace vigil::decode {
namespace {

using common::hex_value;

struct NamedEntity {
  std::string_view name;  // without '&' and ';'
  std::string_view utf8;
};

// Sorted by name for binary search. The names attackers use to hide markup and script, and
// the common typographic ones that benign text carries.
constexpr std::array<NamedEntity, 46> kEntities = {{
    {"AMP", "&"},       {"GT", ">"},          {"LT", "<"},          {"NewLine", "\n"},
    {"QUOT", "\""},     {"Tab", "\t"},        {"amp", "&"},         {"apos", "'"},
    {"ast", "*"},       {"bsol", "\\"},       {"colon", ":"},       {"comma", ","},
    {"copy", "\xC2\xA9"}, {"dollar", "$"},    {"equals", "="},      {"excl", "!"},
    {"grave", "`"},     {"gt", ">"},          {"hellip", "\xE2\x80\xA6"}, {"lbrace", "{"},
    {"lbrack", "["},    {"lcub", "{"},        {"ldquo", "\xE2\x80\x9C"},  {"lowbar", "_"},
    {"lpar", "("},      {"lsqb", "["},        {"lsquo", "\xE2\x80\x98"},  {"lt", "<"},
    {"mdash", "\xE2\x80\x94"}, {"nbsp", "\xC2\xA0"}, {"ndash", "\xE2\x80\x93"}, {"num", "#"},
    {"percnt", "%"},    {"period", "."},      {"plus", "+"},        {"quest", "?"},
    {"quot", "\""},     {"rbrace", "}"},      {"rbrack", "]"},      {"rcub", "}"},
    {"rdquo", "\xE2\x80\x9D"}, {"rpar", ")"}, {"rsqb", "]"},        {"rsquo", "\xE2\x80\x99"},
    {"semi", ";"},      {"sol", "/"},
}};

const NamedEntity* find_entity(std::string_view name) {
  auto it = std::lower_bound(kEntities.begin(), kEntities.end(), name,
                             [](const NamedEntity& e, std::string_view n) { return e.name < n; });
  return (it != kEntities.end() && it->name == name) ? &*it : nullptr;
}

// The decoders build their result here and copy it out only when something changed: the
// buffer keeps its capacity, so the common call allocates nothing (a fresh string per call was
// a malloc and a free for every decoded input).
std::string& result_buffer(std::size_t size) {
  thread_local std::string buffer;
  buffer.clear();
  buffer.reserve(size);
  return buffer;
}

// Writes the UTF-8 form of `cp` at `o` and returns the end: 1 to 4 bytes, a surrogate or a value
// past U+10FFFF as U+FFFD (3 bytes).
char* put_utf8(std::uint32_t cp, char* o) noexcept {
  if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) cp = 0xFFFD;
  if (cp < 0x80) {
    *o++ = static_cast<char>(cp);
  } else if (cp < 0x800) {
    *o++ = static_cast<char>(0xC0 | (cp >> 6));
    *o++ = static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    *o++ = static_cast<char>(0xE0 | (cp >> 12));
    *o++ = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *o++ = static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    *o++ = static_cast<char>(0xF0 | (cp >> 18));
    *o++ = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    *o++ = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *o++ = static_cast<char>(0x80 | (cp & 0x3F));
  }
  return o;
}

}  // namespace

void append_utf8(std::uint32_t cp, std::string* out) {
  char buf[4];
  out->append(buf, static_cast<std::size_t>(put_utf8(cp, buf) - buf));
}

WideEncoding detect_wide(std::string_view body) noexcept {
  const auto* b = reinterpret_cast<const unsigned char*>(body.data());
  const std::size_t n = body.size();
  if (n >= 4 && b[0] == 0 && b[1] == 0 && b[2] == 0xFE && b[3] == 0xFF)
    return WideEncoding::kUtf32Be;
  if (n >= 4 && b[0] == 0xFF && b[1] == 0xFE && b[2] == 0 && b[3] == 0)
    return WideEncoding::kUtf32Le;
  if (n >= 2 && b[0] == 0xFE && b[1] == 0xFF) return WideEncoding::kUtf16Be;
  if (n >= 2 && b[0] == 0xFF && b[1] == 0xFE) return WideEncoding::kUtf16Le;
  if (n >= 4) {
    if (b[0] == 0) return b[1] != 0 ? WideEncoding::kUtf16Be : WideEncoding::kUtf32Be;
    if (b[1] == 0) return b[2] != 0 || b[3] != 0 ? WideEncoding::kUtf16Le : WideEncoding::kUtf32Le;
  } else if (n == 2) {
    if (b[0] == 0) return WideEncoding::kUtf16Be;
    if (b[1] == 0) return WideEncoding::kUtf16Le;
  }
  return WideEncoding::kNone;
}

void wide_to_utf8(std::string_view in, WideEncoding encoding, std::string* out) {
  out->clear();
  const auto* b = reinterpret_cast<const unsigned char*>(in.data());
  const std::size_t n = in.size();
  const bool utf32 = encoding == WideEncoding::kUtf32Le || encoding == WideEncoding::kUtf32Be;
  const bool big = encoding == WideEncoding::kUtf16Be || encoding == WideEncoding::kUtf32Be;
  if (encoding == WideEncoding::kNone) return;
  out->reserve(n / (utf32 ? 4 : 2) * (utf32 ? 4 : 3));
  char buf[4];
  auto put = [&](std::uint32_t cp) {
    out->append(buf, static_cast<std::size_t>(put_utf8(cp, buf) - buf));
  };
  if (utf32) {
    for (std::size_t i = 0; i + 4 <= n; i += 4) {
      const std::size_t hi = big ? i : i + 3, step = big ? 1 : static_cast<std::size_t>(-1);
      const std::uint32_t cp = std::uint32_t{b[hi]} << 24 | std::uint32_t{b[hi + step]} << 16 |
                               std::uint32_t{b[hi + 2 * step]} << 8 | b[hi + 3 * step];
      if (i == 0 && cp == 0xFEFF) continue;
      put(cp);  // surrogates and values over U+10FFFF: U+FFFD
    }
    return;
  }
  auto unit = [&](std::size_t i) -> std::uint32_t {
    return big ? (std::uint32_t{b[i]} << 8 | b[i + 1]) : (std::uint32_t{b[i + 1]} << 8 | b[i]);
  };
  for (std::size_t i = 0; i + 2 <= n; i += 2) {
    std::uint32_t u = unit(i);
    if (i == 0 && u == 0xFEFF) continue;
    if (u >= 0xD800 && u <= 0xDBFF && i + 4 <= n) {
      const std::uint32_t low = unit(i + 2);
      if (low >= 0xDC00 && low <= 0xDFFF) {
        put(0x10000 + ((u - 0xD800) << 10) + (low - 0xDC00));
        i += 2;
        continue;
      }
    }
    put(u);  // a lone surrogate: U+FFFD
  }
}

bool url_decode(std::string_view in, bool plus_as_space, std::string* out) {
  std::size_t first = common::find_any(in, plus_as_space ? "%+" : "%");
  if (first == std::string_view::npos) return false;
  // The result is never longer than the input (%XX is one byte, %uXXXX at most three: no code
  // point of four hex digits needs four), so it is written through a pointer into a buffer
  // sized once.
  std::string& result = result_buffer(in.size());
  result.resize(in.size());
  char* const begin = result.data();
  char* o = begin;
  std::memcpy(o, in.data(), first);
  o += first;
  bool changed = false;
  for (std::size_t i = first; i < in.size(); ++i) {
    char c = in[i];
    if (c == '+' && plus_as_space) {
      *o++ = ' ';
      changed = true;
    } else if (c == '%' && i + 2 < in.size() && hex_value(in[i + 1]) >= 0 && hex_value(in[i + 2]) >= 0) {
      *o++ = static_cast<char>(hex_value(in[i + 1]) * 16 + hex_value(in[i + 2]));
      i += 2;
      changed = true;
    } else if (c == '%' && i + 5 < in.size() && (in[i + 1] == 'u' || in[i + 1] == 'U') &&
               hex_value(in[i + 2]) >= 0 && hex_value(in[i + 3]) >= 0 &&
               hex_value(in[i + 4]) >= 0 && hex_value(in[i + 5]) >= 0) {
      std::uint32_t cp = (hex_value(in[i + 2]) << 12) | (hex_value(in[i + 3]) << 8) |
                         (hex_value(in[i + 4]) << 4) | hex_value(in[i + 5]);
      o = put_utf8(cp, o);  // at most 3 bytes for the 6 read
      i += 5;
      changed = true;
    } else {
      *o++ = c;
    }
  }
  if (!changed) return false;
  out->assign(begin, static_cast<std::size_t>(o - begin));
  return true;
}

bool html_entity_decode(std::string_view in, std::string* out) {
  std::size_t first = in.find('&');
  if (first == std::string_view::npos) return false;
  std::string& result = result_buffer(in.size());
  result.append(in.substr(0, first));
  bool changed = false;
  std::size_t i = first;
  while (i < in.size()) {
    // Text between references is copied a run at a time.
    std::size_t amp = in.find('&', i);
    if (amp == std::string_view::npos) {
      result.append(in.substr(i));
      break;
    }
    result.append(in.substr(i, amp - i));
    i = amp;
    std::size_t j = i + 1;
    if (j < in.size() && in[j] == '#') {
      ++j;
      bool hex = j < in.size() && (in[j] == 'x' || in[j] == 'X');
      if (hex) ++j;
      std::size_t digits_begin = j;
      std::uint64_t cp = 0;
      while (j < in.size() && (hex ? common::is_xdigit(in[j]) : common::is_digit(in[j]))) {
        // Saturate: browsers map anything out of range to U+FFFD.
        if (cp <= 0x10FFFF) cp = cp * (hex ? 16 : 10) + hex_value(in[j]);
        ++j;
      }
      if (j > digits_begin) {
        if (j < in.size() && in[j] == ';') ++j;
        if (cp == 0 || cp > 0x10FFFF) cp = 0xFFFD;
        append_utf8(static_cast<std::uint32_t>(cp), &result);
        changed = true;
        i = j;
        continue;
      }
    } else {
      std::size_t name_begin = j;
      while (j < in.size() && j - name_begin < 32 && common::is_alnum(in[j])) ++j;
      std::string_view name = in.substr(name_begin, j - name_begin);
      if (const NamedEntity* e = name.empty() ? nullptr : find_entity(name)) {
        bool semicolon = j < in.size() && in[j] == ';';
        // Without ';' only the legacy names are references (WHATWG "named character reference").
        bool legacy = name == "amp" || name == "lt" || name == "gt" || name == "quot" ||
                      name == "AMP" || name == "LT" || name == "GT" || name == "QUOT" ||
                      name == "nbsp" || name == "copy";
        if (semicolon || legacy) {
          result.append(e->utf8);
          changed = true;
          i = j + (semicolon ? 1 : 0);
          continue;
        }
      }
    }
    result.push_back('&');
    ++i;
  }
  if (!changed) return false;
  out->assign(result);
  return true;
}

bool json_unescape(std::string_view in, std::string* out) {
  std::size_t first = in.find('\\');
  if (first == std::string_view::npos) return false;
  std::string& result = result_buffer(in.size());
  result.append(in.substr(0, first));
  bool changed = false;
  auto hex4 = [&](std::size_t at, std::uint32_t* v) {
    if (at + 4 > in.size()) return false;
    std::uint32_t x = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      int h = hex_value(in[at + k]);
      if (h < 0) return false;
      x = x * 16 + h;
    }
    *v = x;
    return true;
  };
  std::size_t i = first;
  while (i < in.size()) {
    char c = in[i];
    if (c != '\\' || i + 1 >= in.size()) {
      result.push_back(c);
      ++i;
      continue;
    }
    char e = in[i + 1];
    char simple = 0;
    switch (e) {
      case '"': simple = '"'; break;
      case '\\': simple = '\\'; break;
      case '/': simple = '/'; break;
      case '\'': simple = '\''; break;
      case 'b': simple = '\b'; break;
      case 'f': simple = '\f'; break;
      case 'n': simple = '\n'; break;
      case 'r': simple = '\r'; break;
      case 't': simple = '\t'; break;
      default: break;
    }
    if (simple) {
      result.push_back(simple);
      i += 2;
      changed = true;
      continue;
    }
    std::uint32_t cp = 0;
    if (e == 'u' && hex4(i + 2, &cp)) {
      std::size_t next = i + 6;
      std::uint32_t low = 0;
      if (cp >= 0xD800 && cp <= 0xDBFF && next + 1 < in.size() && in[next] == '\\' &&
          in[next + 1] == 'u' && hex4(next + 2, &low) && low >= 0xDC00 && low <= 0xDFFF) {
        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        next += 6;
      }
      append_utf8(cp, &result);
      i = next;
      changed = true;
      continue;
    }
    if (e == 'x' && i + 3 < in.size() && hex_value(in[i + 2]) >= 0 && hex_value(in[i + 3]) >= 0) {
      append_utf8(static_cast<std::uint32_t>(hex_value(in[i + 2]) * 16 + hex_value(in[i + 3])),
                  &result);
      i += 4;
      changed = true;
      continue;
    }
    result.push_back(c);
    ++i;
  }
  if (!changed) return false;
  out->assign(result);
  return true;
}

namespace {

// The bytes that the base64 digits of `in` stand for (`digit` gives a character's value, or -1
// for one to skip), appended to *out; false at the first byte that is not text: a control byte
// other than tab, CR and LF, DEL, and with `high` false any byte above DEL.
template <class Digit>
bool base64_to_text(std::string_view in, Digit digit, bool high, std::string* out) {
  out->reserve(out->size() + in.size() / 4 * 3 + 2);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    const int v = digit(c);
    if (v < 0) continue;
    acc = (acc << 6 | static_cast<std::uint32_t>(v)) & 0xFFFFFF;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      const auto byte = static_cast<unsigned char>((acc >> bits) & 0xFF);
      if ((byte < 0x20 && byte != '\t' && byte != '\n' && byte != '\r') || byte == 0x7F ||
          (byte > 0x7F && !high))
        return false;
      out->push_back(static_cast<char>(byte));
    }
  }
  return true;
}

}  // namespace

bool base64_text(std::string_view in, std::string* out) {
  std::size_t body = in.size();
  while (body > 0 && in[body - 1] == '=') --body;
  const std::size_t pad = in.size() - body;
  if (body < 8 || pad > 2 || (pad > 0 && in.size() % 4 != 0) || body % 4 == 1) return false;
  // Most values that come here are not base64 (a space, a dot): told before any allocation.
  for (std::size_t i = 0; i < body; ++i)
    if (base64_value(in[i]) < 0) return false;
  std::string result;
  if (!base64_to_text(in.substr(0, body), base64_value, /*high=*/false, &result)) return false;
  out->assign(result);
  return true;
}

bool quoted_printable(std::string_view in, std::string* out) {
  const std::size_t first = in.find('=');
  if (first == std::string_view::npos) return false;
  std::string result(in.substr(0, first));
  for (std::size_t i = first; i < in.size(); ++i) {
    const char c = in[i];
    if (c != '=') {
      result.push_back(c);
      continue;
    }
    if (i + 1 >= in.size()) break;  // a last '=' joins the value to nothing
    const char next = in[i + 1];
    if (next == '\r' || next == '\n') {  // a soft line break: to the end of the line
      i = next == '\n' ? i + 1 : in.find('\n', i + 1);
      if (i == std::string_view::npos) break;
    } else if (i + 2 < in.size() && hex_value(next) >= 0 && hex_value(in[i + 2]) >= 0) {
      result.push_back(static_cast<char>(hex_value(next) * 16 + hex_value(in[i + 2])));
      i += 2;
    } else {
      result.push_back('=');
    }
  }
  out->assign(result);
  return true;
}

bool mime_base64_text(std::string_view in, std::string* out) {
  constexpr auto standard = [](char c) {  // '-' and '_' are skipped, as b64decode skips them
    return c == '-' || c == '_' ? -1 : base64_value(c);
  };
  std::string result;
  if (!base64_to_text(in.substr(0, in.find('=')), standard, /*high=*/true, &result) ||
      result.empty())
    return false;
  out->assign(result);
  return true;
}

}  // namespace vigil::decode
