#include "agent/my_wire.hpp"

#include <algorithm>
#include <cstring>

namespace vigil::agent {
namespace {

constexpr std::uint32_t kClientCompress = 0x20;
constexpr std::uint32_t kClientSsl = 0x800;
constexpr std::uint32_t kClientQueryAttributes = 1u << 27;
constexpr std::uint32_t kMaxPacket = 0xFFFFFF;     // a longer command continues in the next one
constexpr std::uint32_t kMaxHandshake = 64 * 1024;
constexpr std::size_t kHandshakeKept = 32;         // capabilities, max packet, charset, filler
constexpr std::size_t kMaxKept = MyWire::kMaxSql + 32;  // the SQL and what precedes it
constexpr std::size_t kKeptCapacity = 64 * 1024;
constexpr unsigned char kComQuery = 0x03;
constexpr unsigned char kComStmtPrepare = 0x16;

// A packet header's payload length (3 bytes, little-endian).
std::uint32_t le24(const unsigned char* p) noexcept {
  return std::uint32_t{p[0]} | (std::uint32_t{p[1]} << 8) | (std::uint32_t{p[2]} << 16);
}

std::uint32_t le32(const unsigned char* p) noexcept {
  return std::uint32_t{p[0]} | (std::uint32_t{p[1]} << 8) | (std::uint32_t{p[2]} << 16) |
         (std::uint32_t{p[3]} << 24);
}

// A client command byte (COM_SLEEP .. COM_RESET_CONNECTION; MariaDB's COM_MULTI).
bool command_byte(unsigned char c) noexcept { return c <= 0x1f || c == 0xfe; }

// A length-encoded integer at the start of `s`: its value and size; false when it is none.
bool lenenc(std::string_view s, std::uint64_t* value, std::size_t* size) noexcept {
  if (s.empty()) return false;
  const auto* u = reinterpret_cast<const unsigned char*>(s.data());
  std::size_t n = u[0] < 0xfb ? 0 : u[0] == 0xfc ? 2 : u[0] == 0xfd ? 3 : u[0] == 0xfe ? 8 : 99;
  if (n == 99 || s.size() < 1 + n) return false;
  if (n == 0) {
    *value = u[0];
  } else {
    *value = 0;
    for (std::size_t i = 0; i < n; ++i) *value |= std::uint64_t{u[1 + i]} << (8 * i);
  }
  *size = 1 + n;
  return true;
}

}  // namespace

bool MyWire::header(const unsigned char* h) {
  length_ = le24(h);
  seq_ = h[3];
  left_ = length_;
  handshake_ = false;
  if (continued_) return true;  // the rest of a command longer than one packet
  if (!confirmed_ && from_start_) {
    // The connection's first client packet: the handshake response (or an SSL request).
    if (seq_ != 1 || length_ < kHandshakeKept || length_ > kMaxHandshake) return false;
    handshake_ = true;
    payload_.clear();
    return true;
  }
  in_command_ = seq_ == 0;  // packets with another sequence continue an exchange (auth, files)
  payload_.clear();
  cut_ = false;
  return true;
}

void MyWire::payload_bytes(std::string_view bytes) {
  if (handshake_) {
    const std::size_t room = kHandshakeKept - std::min(payload_.size(), kHandshakeKept);
    payload_.append(bytes.data(), std::min(bytes.size(), room));
    return;
  }
  if (!in_command_) return;
  if (payload_.empty() && !continued_ && !bytes.empty()) {
    const auto command = static_cast<unsigned char>(bytes[0]);
    // Only the commands that carry SQL are kept; the others' payload (binary parameters of
    // COM_STMT_EXECUTE, long data) is skipped.
    if (!command_byte(command)) {
      dead_ = true;
      return;
    }
    if (command != kComQuery && command != kComStmtPrepare) {
      in_command_ = false;
      return;
    }
  }
  const std::size_t room = kMaxKept - std::min(payload_.size(), kMaxKept);
  if (bytes.size() > room) cut_ = true;
  payload_.append(bytes.data(), std::min(bytes.size(), room));
}

bool MyWire::end_packet(std::vector<Statement>* out) {
  if (dead_) return false;
  if (handshake_) {
    handshake_ = false;
    const auto* p = reinterpret_cast<const unsigned char*>(payload_.data());
    // capabilities (4), max packet size (4), character set (1), then 23 zero bytes.
    for (std::size_t i = 9; i < kHandshakeKept; ++i)
      if (p[i] != 0) return false;
    const std::uint32_t caps = le32(p);
    // An SSL request (TLS follows) or compression (compressed packets follow): not readable.
    if ((caps & kClientSsl) != 0 && length_ == kHandshakeKept) return false;
    if ((caps & kClientCompress) != 0) return false;
    attributes_ = (caps & kClientQueryAttributes) != 0;
    confirmed_ = true;
    payload_.clear();
    return true;
  }
  if (length_ == kMaxPacket) {  // the command goes on in the next packet
    continued_ = in_command_;
    return true;
  }
  continued_ = false;
  if (!in_command_) return true;
  in_command_ = false;
  confirmed_ = true;
  std::string_view body = payload_;
  if (body.empty()) return true;
  const auto command = static_cast<unsigned char>(body[0]);
  body.remove_prefix(1);
  if (command == kComQuery && attributes_) {
    // parameter count, parameter set count (1), then (with parameters) their types, names and
    // values before the query.
    std::uint64_t count = 0, sets = 0;
    std::size_t a = 0, b = 0;
    if (!lenenc(body, &count, &a) || !lenenc(body.substr(a), &sets, &b) || count != 0) {
      ++unread_;
      payload_.clear();
      return true;
    }
    body.remove_prefix(a + b);
  }
  std::string_view sql = body;
  bool cut = cut_;
  if (sql.size() > kMaxSql) {
    sql = sql.substr(0, kMaxSql);
    cut = true;
  }
  if (!sql.empty()) out->push_back(Statement{command == kComQuery ? 'Q' : 'P', std::string(sql), cut});
  if (payload_.capacity() > kKeptCapacity) std::string().swap(payload_);
  payload_.clear();
  return true;
}

bool MyWire::feed(std::string_view data, std::vector<Statement>* out) {
  if (dead_) return false;
  const bool joined = !started_ && !from_start_;
  started_ = true;
  if (joined) {
    // Whole command packets only (sequence 0, a command byte), the last ending with the write.
    std::size_t i = 0;
    while (i < data.size()) {
      if (data.size() - i < 5) break;
      const auto* h = reinterpret_cast<const unsigned char*>(data.data() + i);
      const std::uint32_t len = le24(h);
      if (h[3] != 0 || len == 0 || len >= kMaxPacket || data.size() - i - 4 < len ||
          !command_byte(h[4]))
        break;
      i += 4 + len;
    }
    if (i != data.size() || data.empty()) {
      dead_ = true;
      return false;
    }
    confirmed_ = true;  // and read below like any stream
  }
  std::size_t i = 0;
  while (i < data.size()) {
    if (header_size_ < 4) {
      const std::size_t take = std::min<std::size_t>(4 - header_size_, data.size() - i);
      std::memcpy(header_ + header_size_, data.data() + i, take);
      header_size_ += take;
      i += take;
      if (header_size_ < 4) break;
      if (!header(header_)) {
        dead_ = true;
        return false;
      }
      if (left_ == 0) {
        header_size_ = 0;
        if (!end_packet(out)) {
          dead_ = true;
          return false;
        }
      }
      continue;
    }
    const std::size_t take = std::min<std::size_t>(left_, data.size() - i);
    payload_bytes(data.substr(i, take));
    if (dead_) return false;
    left_ -= static_cast<std::uint32_t>(take);
    i += take;
    if (left_ == 0) {
      header_size_ = 0;
      if (!end_packet(out)) {
        dead_ = true;
        return false;
      }
    }
  }
  return true;
}

}  // namespace vigil::agent
