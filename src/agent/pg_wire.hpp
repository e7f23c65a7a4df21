// What a client writes on a PostgreSQL connection (frontend protocol 3.0), followed message by
// message so that the SQL of each Query and Parse message can be checked like the SQL handed to
// libpq. This is how the agent sees the drivers that speak the protocol themselves instead of
// calling libpq: node-postgres, pg8000, JDBC, Npgsql...
#ifndef VIGIL_AGENT_PG_WIRE_HPP_
#define VIGIL_AGENT_PG_WIRE_HPP_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::agent {

class PgWire {
 public:
  // The SQL of one message is kept up to this many bytes; a longer one is handed out cut.
  static constexpr std::size_t kMaxSql = 1 << 20;
  // A message longer than this is not one a client writes: the bytes are not this protocol.
  static constexpr std::uint32_t kMaxMessage = 256u << 20;

  // Named statements kept per connection (what a Bind of one is checked on), and their text.
  static constexpr std::size_t kMaxNamed = 128;
  static constexpr std::size_t kMaxNamedBytes = 128 * 1024;

  struct Statement {
    // 'Q' (simple query), 'P' (Parse: a statement to prepare) or 'B' (Bind: a named statement
    // prepared earlier run again, with the SQL its Parse had)
    char type = 0;
    std::string sql;
    bool cut = false;  // longer than kMaxSql: only its start is here
  };

  // `from_start`: the connection's first bytes will be fed (it was followed from connect), so
  // they must open with a startup message (or an SSL or GSS encryption request). Otherwise the
  // first bytes fed must be whole messages, ending where the write ends: a stream joined late is
  // trusted only when it parses that strictly.
  explicit PgWire(bool from_start) : from_start_(from_start) {}

  // Feeds the bytes of one write. Complete Query and Parse messages are appended to *out, and
  // each Bind of a named statement after the first one following its Parse: drivers keep a
  // statement they ran often on the server (JDBC after five runs, psycopg 3 likewise) and then
  // send only Bind, so a later request that makes the same text would run it unchecked.
  // Returns false when the bytes are not (or no longer) this protocol (TLS after an SSL
  // request, another protocol, a malformed message): feed no more.
  bool feed(std::string_view data, std::vector<Statement>* out);

  // True once a startup message or a whole typed message was read.
  bool confirmed() const noexcept { return confirmed_; }

  // Binds of a named statement whose Parse was not seen (followed late, or forgotten for room).
  std::size_t unknown_binds() const noexcept { return unknown_binds_; }

 private:
  enum class Phase : std::uint8_t { kStartup, kHeader, kBody, kDead };
  bool startup_header(std::string_view header);
  bool typed_header(std::string_view header);
  void body_bytes(std::string_view bytes);
  void end_message(std::vector<Statement>* out);
  void keep_named(std::string_view name, std::string_view sql, bool cut);
  void bind_named(std::string_view name, std::vector<Statement>* out);
  void close_named(std::string_view name);
  bool feed_joined(std::string_view data, std::vector<Statement>* out);

  bool from_start_;
  bool started_ = false;    // bytes have been fed
  bool confirmed_ = false;
  Phase phase_ = Phase::kStartup;
  Phase after_ = Phase::kHeader;  // the phase after the current message
  char header_[8] = {};
  std::size_t header_size_ = 0;  // bytes of header_ gathered
  char type_ = 0;                // of the message whose body is being read (0: a startup one)
  std::uint32_t left_ = 0;       // body bytes of that message still to come
  bool keep_ = false;            // its body is kept (Query, Parse)
  std::string body_;
  bool cut_ = false;

  struct Named {
    std::string name;
    std::string sql;
    bool cut;
    bool fresh;  // no Bind since its Parse: that one runs what the Parse's check just saw
  };
  std::vector<Named> named_;  // oldest first
  std::size_t named_bytes_ = 0;
  std::size_t unknown_binds_ = 0;
};

}  // namespace vigil::agent

#endif  // VIGIL_AGENT_PG_WIRE_HPP_
