// What a client writes on a MySQL or MariaDB connection (client/server protocol 4.1), followed
// packet by packet so that the SQL of each COM_QUERY and COM_STMT_PREPARE can be checked like the
// SQL handed to libmysqlclient. This is how the agent sees the drivers that speak the protocol
// themselves: PHP's mysqlnd, mysql2 for Node.js, PyMySQL, Connector/J...
#ifndef VIGIL_AGENT_MY_WIRE_HPP_
#define VIGIL_AGENT_MY_WIRE_HPP_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::agent {

class MyWire {
 public:
  // The SQL of one command is kept up to this many bytes; a longer one is handed out cut.
  static constexpr std::size_t kMaxSql = 1 << 20;

  struct Statement {
    char type = 0;     // 'Q' (COM_QUERY) or 'P' (COM_STMT_PREPARE)
    std::string sql;
    bool cut = false;  // longer than kMaxSql: only its start is here
  };

  // `from_start`: the connection's first client bytes will be fed, so they must be its
  // handshake response (sequence 1). Otherwise the first bytes fed must be whole command
  // packets (sequence 0) ending where the write ends.
  explicit MyWire(bool from_start) : from_start_(from_start) {}

  // Feeds the bytes of one write; complete COM_QUERY and COM_STMT_PREPARE commands are appended
  // to *out. Returns false when the bytes are not (or no longer) this protocol (TLS after an
  // SSL request, compression, another protocol): feed no more.
  bool feed(std::string_view data, std::vector<Statement>* out);

  bool confirmed() const noexcept { return confirmed_; }
  // Commands whose SQL could not be read (query attributes with parameters): checked by input
  // analysis only.
  std::size_t unread() const noexcept { return unread_; }

 private:
  bool header(const unsigned char* h);
  void payload_bytes(std::string_view bytes);
  bool end_packet(std::vector<Statement>* out);

  bool from_start_;
  bool started_ = false;
  bool confirmed_ = false;
  bool dead_ = false;
  bool attributes_ = false;       // CLIENT_QUERY_ATTRIBUTES: COM_QUERY carries a parameter block
  unsigned char header_[4] = {};
  std::size_t header_size_ = 0;
  std::uint32_t left_ = 0;        // payload bytes of the current packet still to come
  std::uint32_t length_ = 0;      // its payload length
  std::uint8_t seq_ = 0;
  bool continued_ = false;        // the packet continues a command (its predecessor was 16 MiB - 1)
  bool in_command_ = false;       // the payload gathered belongs to a COM_QUERY / COM_STMT_PREPARE
  bool handshake_ = false;        // the current packet is the handshake response
  std::string payload_;           // a command's payload (kept part), or the handshake's start
  bool cut_ = false;
  std::size_t unread_ = 0;
};

}  // namespace vigil::agent

#endif  // VIGIL_AGENT_MY_WIRE_HPP_
