#include "core/common/ip.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

#include "core/common/ascii.hpp"

namespace vigil::common {
// inet_pton(AF_INET)'s grammar (glibc's inet_pton4: four decimal octets of at most 255, no
// leading zeros), read from the view itself: copying into a C string for inet_pton was most of
// parsing a peer's address. That grammar admits one text per address, the one to_chars()
// writes. Any other byte (':', '%', NUL, ...) fails, and parse() then takes the general path,
// which gives such texts the meaning they always had.
bool IpAddress::parse_canonical_v4(std::string_view text, IpAddress* out) noexcept {
  const char* p = text.data();
  const char* const end = p + text.size();
  if (text.size() < 7 || text.size() > 15) return false;
  std::uint8_t octet[4];
  for (int k = 0; k < 4; ++k) {
    if (k > 0 && (p == end || *p++ != '.')) return false;
    if (p == end || !is_digit(*p)) return false;
    unsigned value = static_cast<unsigned>(*p++ - '0');
    if (p != end && is_digit(*p)) {
      if (value == 0) return false;  // a leading zero
      value = value * 10 + static_cast<unsigned>(*p++ - '0');
      if (p != end && is_digit(*p)) {
        value = value * 10 + static_cast<unsigned>(*p++ - '0');
        if (value > 255) return false;
      }
    }
    octet[k] = static_cast<std::uint8_t>(value);
  }
  if (p != end) return false;
  IpAddress a;
  a.bytes[10] = a.bytes[11] = 0xFF;
  std::memcpy(a.bytes.data() + 12, octet, 4);
  a.v4 = true;
  *out = a;
  return true;
}

bool IpAddress::parse(std::string_view text, IpAddress* out) noexcept {
  text = trim(text);
  if (!text.empty() && text.front() == '"' && text.size() >= 2 && text.back() == '"')
    text = text.substr(1, text.size() - 2);
  if (parse_canonical_v4(text, out)) return true;  // the common case: no port, zone, brackets
  IpAddress a;
  if (!text.empty() && text.front() == '[') {
    std::size_t close = text.find(']');
    if (close == std::string_view::npos) return false;
    text = text.substr(1, close - 1);
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    text = text.substr(0, text.find(':'));  // IPv4 with a port
  }
  std::size_t zone = text.find('%');
  if (zone != std::string_view::npos) text = text.substr(0, zone);
  char buf[64];
  if (text.empty() || text.size() >= sizeof buf) return false;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  if (inet_pton(AF_INET, buf, a.bytes.data() + 12) == 1) {
    a.bytes[10] = a.bytes[11] = 0xFF;
    a.v4 = true;
  } else if (inet_pton(AF_INET6, buf, a.bytes.data()) != 1) {
    return false;
  } else {
    // ::ffff:a.b.c.d is the IPv4 host a.b.c.d (a dual-stack server's peers, the JVM's by
    // default): one address, whichever socket family saw it, for lists and for reports.
    static constexpr std::uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
    a.v4 = std::memcmp(a.bytes.data(), kMapped, sizeof kMapped) == 0;
  }
  *out = a;
  return true;
}

std::size_t IpAddress::to_chars(char* buf) const noexcept {
  if (v4) {
    // Every request's client address goes through here: inet_ntop's snprintf cost more than
    // the rest of resolving the client.
    std::size_t n = 0;
    for (int k = 12; k < 16; ++k) {
      unsigned b = bytes[k];
      if (k > 12) buf[n++] = '.';
      if (b >= 100) buf[n++] = static_cast<char>('0' + b / 100);
      if (b >= 10) buf[n++] = static_cast<char>('0' + b / 10 % 10);
      buf[n++] = static_cast<char>('0' + b % 10);
    }
    return n;
  }
  static_assert(kMaxText >= INET6_ADDRSTRLEN);
  return inet_ntop(AF_INET6, bytes.data(), buf, INET6_ADDRSTRLEN) ? std::strlen(buf) : 0;
}

std::string IpAddress::to_string() const {
  char buf[kMaxText];
  return std::string(buf, to_chars(buf));
}

bool Cidr::parse(std::string_view text, Cidr* out) noexcept {
  text = trim(text);
  std::size_t slash = text.find('/');
  Cidr c;
  if (!IpAddress::parse(text.substr(0, slash), &c.base)) return false;
  unsigned max = c.base.v4 ? 32 : 128;
  unsigned prefix = max;
  if (slash != std::string_view::npos) {
    std::string_view digits = text.substr(slash + 1);
    if (digits.empty() || digits.size() > 3) return false;
    prefix = 0;
    for (char ch : digits) {
      if (!is_digit(ch)) return false;
      prefix = prefix * 10 + static_cast<unsigned>(ch - '0');
    }
    if (prefix > max) return false;
  }
  c.prefix = c.base.v4 ? prefix + 96 : prefix;
  // Clear host bits so that contains() compares whole bytes.
  for (unsigned bit = c.prefix; bit < 128; ++bit) c.base.bytes[bit / 8] &= ~(0x80u >> (bit % 8));
  *out = c;
  return true;
}

bool Cidr::contains(const IpAddress& a) const noexcept {
  if (a.v4 != base.v4 && prefix >= 96) return false;
  unsigned full = prefix / 8;
  if (std::memcmp(a.bytes.data(), base.bytes.data(), full) != 0) return false;
  unsigned rest = prefix % 8;
  if (rest == 0) return true;
  std::uint8_t mask = static_cast<std::uint8_t>(0xFF00u >> rest);
  return (a.bytes[full] & mask) == base.bytes[full];
}

std::string Cidr::to_string() const {
  return base.to_string() + "/" + std::to_string(base.v4 ? prefix - 96 : prefix);
}

}  // namespace vigil::common
