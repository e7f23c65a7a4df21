#include "server/common/names.hpp"

#include <arpa/inet.h>

#include <string>

namespace vigil::server {
namespace {
bool alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
}  // namespace

bool valid_app_name(std::string_view s) noexcept {
  if (s.empty() || s.size() > 64 || !alnum(s[0])) return false;
  for (char c : s)
    if (!alnum(c) && c != '.' && c != '_' && c != '-') return false;
  return true;
}

bool valid_username(std::string_view s) noexcept {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s)
    if (!alnum(c) && c != '.' && c != '_' && c != '-' && c != '@') return false;
  return true;
}

bool printable_utf8(std::string_view s, bool allow_newlines) noexcept {
  for (std::size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if ((c < 0x20 && c != '\t' && !(allow_newlines && (c == '\n' || c == '\r'))) ||
          c == 0x7f)
        return false;
      ++i;
      continue;
    }
    std::size_t n = (c >= 0xc2 && c <= 0xdf)   ? 1
                    : (c >= 0xe0 && c <= 0xef) ? 2
                    : (c >= 0xf0 && c <= 0xf4) ? 3
                                               : 0;
    if (n == 0 || i + n >= s.size()) return false;  // a bad lead byte, or cut short
    unsigned char c1 = static_cast<unsigned char>(s[i + 1]);
    if ((c == 0xe0 && c1 < 0xa0) || (c == 0xed && c1 > 0x9f) || (c == 0xf0 && c1 < 0x90) ||
        (c == 0xf4 && c1 > 0x8f))
      return false;  // overlong, surrogate, beyond U+10FFFF
    for (std::size_t k = 1; k <= n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return false;
    i += n + 1;
  }
  return true;
}

std::string truncate_utf8(std::string_view text, std::size_t max) {
  if (text.size() <= max) return std::string(text);
  std::size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xc0) == 0x80) --n;
  return std::string(text.substr(0, n));
}

bool valid_ip(std::string_view text) noexcept {
  if (text.empty() || text.size() > 45) return false;
  char buf[46];
  text.copy(buf, text.size());
  buf[text.size()] = '\0';
  unsigned char out[16];
  return inet_pton(AF_INET, buf, out) == 1 || inet_pton(AF_INET6, buf, out) == 1;
}

}  // namespace vigil::server
