#include "agent/pg_wire.hpp"

#include <algorithm>
#include <cstring>

namespace vigil::agent {
namespace {

// The codes a startup-phase message carries where a typed message has its type byte.
constexpr std::uint32_t kProtocolMajor3 = 3;   // 3.x, in the code's high 16 bits
constexpr std::uint32_t kCancelRequest = 80877102;
constexpr std::uint32_t kSslRequest = 80877103;
constexpr std::uint32_t kGssEncRequest = 80877104;
constexpr std::uint32_t kMaxStartup = 10000;   // PostgreSQL refuses a longer startup packet
// Body bytes kept of a Query or Parse message: the SQL, and a Parse's statement name before it.
constexpr std::size_t kMaxKept = PgWire::kMaxSql + 256;
constexpr std::size_t kKeptCapacity = 64 * 1024;  // a body buffer larger than this is freed
// Body bytes kept of a Bind or Close message: the names it starts with (PostgreSQL cuts a name
// at 63 bytes; a driver's are shorter still). A longer name is not looked up.
constexpr std::size_t kMaxKeptName = 256;

// The NUL-terminated string at the start of `body` and what follows it; false without a NUL.
bool take_cstring(std::string_view* body, std::string_view* out) noexcept {
  const std::size_t nul = body->find('\0');
  if (nul == std::string_view::npos) return false;
  *out = body->substr(0, nul);
  body->remove_prefix(nul + 1);
  return true;
}

std::uint32_t be32(const char* p) noexcept {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return (std::uint32_t{u[0]} << 24) | (std::uint32_t{u[1]} << 16) | (std::uint32_t{u[2]} << 8) |
         std::uint32_t{u[3]};
}

// The message types a client sends after startup (PostgreSQL 16, "Message Formats").
bool frontend_type(char c) noexcept {
  switch (c) {
    case 'B': case 'C': case 'c': case 'D': case 'd': case 'E': case 'F': case 'f': case 'H':
    case 'P': case 'p': case 'Q': case 'S': case 'X':
      return true;
    default:
      return false;
  }
}

// A startup-phase header (length, code) that opens a connection, and the body length it
// announces; false when it is none.
bool startup_message(const char* h, std::uint32_t* body, bool* then_typed) noexcept {
  const std::uint32_t len = be32(h), code = be32(h + 4);
  if ((code >> 16) == kProtocolMajor3 && len >= 8 && len <= kMaxStartup) {
    *body = len - 8;
    *then_typed = true;
    return true;
  }
  if ((code == kSslRequest || code == kGssEncRequest) && len == 8) {
    *body = 0;
    *then_typed = false;  // the server answers; a startup message (or TLS) follows
    return true;
  }
  if (code == kCancelRequest && len == 16) {
    *body = 8;
    *then_typed = false;
    return true;
  }
  return false;
}

}  // namespace

bool PgWire::startup_header(std::string_view header) {
  std::uint32_t body = 0;
  bool then_typed = false;
  if (!startup_message(header.data(), &body, &then_typed)) return false;
  type_ = 0;
  left_ = body;
  keep_ = false;
  if (then_typed) confirmed_ = true;
  after_ = then_typed ? Phase::kHeader : Phase::kStartup;
  return true;
}

bool PgWire::typed_header(std::string_view header) {
  const char type = header[0];
  const std::uint32_t len = be32(header.data() + 1);
  if (!frontend_type(type) || len < 4 || len > kMaxMessage) return false;
  type_ = type;
  left_ = len - 4;
  keep_ = type == 'Q' || type == 'P' || type == 'B' || type == 'C';
  body_.clear();
  cut_ = false;
  after_ = Phase::kHeader;
  return true;
}

void PgWire::body_bytes(std::string_view bytes) {
  if (!keep_) return;
  const std::size_t limit = type_ == 'B' || type_ == 'C' ? kMaxKeptName : kMaxKept;
  const std::size_t room = limit - std::min(body_.size(), limit);
  if (bytes.size() > room) cut_ = true;
  body_.append(bytes.data(), std::min(bytes.size(), room));
}

void PgWire::end_message(std::vector<Statement>* out) {
  if (type_ != 0) confirmed_ = true;
  if (keep_) {
    std::string_view body = body_, name;
    if (type_ == 'B') {  // the portal's name, then the statement's
      std::string_view portal;
      if (take_cstring(&body, &portal) && take_cstring(&body, &name) && !name.empty())
        bind_named(name, out);
    } else if (type_ == 'C') {  // 'S' and a statement's name, or 'P' and a portal's
      if (body.size() >= 2 && body[0] == 'S') {
        body.remove_prefix(1);
        if (take_cstring(&body, &name)) close_named(name);
      }
    } else {
      if (type_ == 'P' && !take_cstring(&body, &name)) body = {};  // the name, then the SQL
      // Without its NUL, the SQL ran past what was kept (or the message is malformed).
      const std::size_t end = body.find('\0');
      std::string_view sql = body.substr(0, end);
      bool cut = end == std::string_view::npos && cut_;
      if (sql.size() > PgWire::kMaxSql) {
        sql = sql.substr(0, PgWire::kMaxSql);
        cut = true;
      }
      if (!name.empty()) keep_named(name, sql, cut);
      if (!sql.empty()) out->push_back(Statement{type_, std::string(sql), cut});
    }
    if (body_.capacity() > kKeptCapacity) std::string().swap(body_);
    body_.clear();
  }
  keep_ = false;
  phase_ = after_;
}

void PgWire::keep_named(std::string_view name, std::string_view sql, bool cut) {
  close_named(name);  // a Parse under a name in use replaces it (the server refuses it otherwise)
  if (sql.size() > kMaxNamedBytes) return;
  while (!named_.empty() && (named_.size() >= kMaxNamed || named_bytes_ + sql.size() > kMaxNamedBytes)) {
    named_bytes_ -= named_.front().sql.size();
    named_.erase(named_.begin());
  }
  named_.push_back(Named{std::string(name), std::string(sql), cut, true});
  named_bytes_ += sql.size();
}

void PgWire::bind_named(std::string_view name, std::vector<Statement>* out) {
  for (Named& n : named_) {
    if (n.name != name) continue;
    if (n.fresh) {
      n.fresh = false;
    } else if (!n.sql.empty()) {
      out->push_back(Statement{'B', n.sql, n.cut});
    }
    return;
  }
  ++unknown_binds_;
}

void PgWire::close_named(std::string_view name) {
  for (auto it = named_.begin(); it != named_.end(); ++it) {
    if (it->name != name) continue;
    named_bytes_ -= it->sql.size();
    named_.erase(it);
    return;
  }
}

bool PgWire::feed_joined(std::string_view data, std::vector<Statement>* out) {
  // The connection's opening after all (the agent started between connect and the first write).
  std::uint32_t body = 0;
  bool then_typed = false;
  if (data.size() >= 8 && startup_message(data.data(), &body, &then_typed)) {
    phase_ = Phase::kStartup;
    return feed(data, out);
  }
  // Otherwise whole typed messages only, the last one ending with the write.
  std::vector<Statement> found;
  std::size_t i = 0;
  while (i < data.size()) {
    if (data.size() - i < 5 || !typed_header(data.substr(i, 5)) ||
        data.size() - i - 5 < left_) {
      phase_ = Phase::kDead;
      keep_ = false;
      body_.clear();
      return false;
    }
    body_bytes(data.substr(i + 5, left_));
    i += 5 + left_;
    left_ = 0;
    end_message(&found);
  }
  for (auto& s : found) out->push_back(std::move(s));
  return true;
}

bool PgWire::feed(std::string_view data, std::vector<Statement>* out) {
  if (phase_ == Phase::kDead) return false;
  if (!started_) {
    started_ = true;
    if (!from_start_) {
      phase_ = Phase::kHeader;
      return feed_joined(data, out);
    }
  }
  std::size_t i = 0;
  while (i < data.size()) {
    if (phase_ == Phase::kBody) {
      const std::size_t take = std::min<std::size_t>(left_, data.size() - i);
      body_bytes(data.substr(i, take));
      left_ -= static_cast<std::uint32_t>(take);
      i += take;
      if (left_ == 0) end_message(out);
      continue;
    }
    const bool startup = phase_ == Phase::kStartup;
    // A TLS record where a startup message was due: the server accepted the SSL request.
    if (startup && header_size_ == 0 && data[i] == 0x16) {
      phase_ = Phase::kDead;
      return false;
    }
    const std::size_t want = startup ? 8 : 5;
    const std::size_t take = std::min(want - header_size_, data.size() - i);
    std::memcpy(header_ + header_size_, data.data() + i, take);
    header_size_ += take;
    i += take;
    if (header_size_ < want) break;
    header_size_ = 0;
    const bool ok = startup ? startup_header(std::string_view(header_, 8))
                            : typed_header(std::string_view(header_, 5));
    if (!ok) {
      phase_ = Phase::kDead;
      body_.clear();
      return false;
    }
    if (left_ == 0) {
      end_message(out);
    } else {
      phase_ = Phase::kBody;
    }
  }
  return true;
}

}  // namespace vigil::agent
