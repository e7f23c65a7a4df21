// IP addresses and CIDR blocks for client addresses, trusted proxies and IP lists.
#ifndef VIGIL_CORE_COMMON_IP_HPP_
#define VIGIL_CORE_COMMON_IP_HPP_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace vigil::common {

// An IPv4 address is held as its IPv4-mapped IPv6 form (::ffff:a.b.c.d) so that one
// comparison serves both families.
struct IpAddress {
  std::array<std::uint8_t, 16> bytes{};
  bool v4 = false;

  // Accepts dotted-quad IPv4 and RFC 4291 IPv6 text (with an optional "%zone", ignored),
  // optionally in brackets and/or followed by ":port" (IPv4, bracketed IPv6). Strict:
  // no octal or short IPv4 forms (these are client addresses, not URLs). An IPv4-mapped IPv6
  // address (::ffff:1.2.3.4, how a dual-stack socket sees an IPv4 peer) is that IPv4 address.
  static bool parse(std::string_view text, IpAddress* out) noexcept;
  // Parses text that is exactly an IPv4 address as to_chars() writes it (dotted quad, no
  // leading zeros, nothing around it), such as the peer address a server's accept() gives.
  // False for any other text, which parse() may still accept.
  static bool parse_canonical_v4(std::string_view text, IpAddress* out) noexcept;
  std::string to_string() const;
  // Writes the canonical text (what to_string() returns) into `buf`, which must hold
  // kMaxText bytes; returns its length. No allocation, no NUL written.
  static constexpr std::size_t kMaxText = 46;  // INET6_ADDRSTRLEN
  std::size_t to_chars(char* buf) const noexcept;
  bool operator==(const IpAddress&) const = default;
};

struct Cidr {
  IpAddress base;
  unsigned prefix = 0;  // over the 128-bit form: an IPv4 /8 is stored as /104

  // "10.0.0.0/8", "2001:db8::/32", or a single address (a /32 or /128).
  static bool parse(std::string_view text, Cidr* out) noexcept;
  bool contains(const IpAddress& a) const noexcept;
  std::string to_string() const;
};

}  // namespace vigil::common

#endif  // VIGIL_CORE_COMMON_IP_HPP_
