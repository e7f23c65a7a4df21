#include "core/common/ascii.hpp"

namespace vigil::common {

void fold_ascii(const char* in, std::size_t n, char* out) noexcept {
  // Branch-free so that the compiler vectorises it: this runs on every SQL/HTML sink call.
  for (std::size_t i = 0; i < n; ++i) {
    unsigned char c = static_cast<unsigned char>(in[i]);
    unsigned char upper = static_cast<unsigned char>(c - 'A') < 26;
    out[i] = static_cast<char>(c | (upper << 5));
  }
}

std::string folded(std::string_view s) {
  std::string out(s.size(), '\0');
  fold_ascii(s.data(), s.size(), out.data());
  return out;
}

std::string truncate_utf8(std::string_view s, std::size_t max) {
  if (s.size() <= max) return std::string(s);
  std::size_t cut = max;
  // Back up to a lead byte so that no UTF-8 sequence is split.
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  std::string out(s.substr(0, cut));
  out += "\xE2\x80\xA6";
  return out;
}

}  // namespace vigil::common
