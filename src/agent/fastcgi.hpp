// FastCGI on a connection the program accepted (PHP-FPM, a FastCGI application behind nginx or
// Apache): the records the web server sends are turned into the HTTP/1.1 request they carry,
// and the records the program writes back into the HTTP/1.1 response, so that the agent's HTTP
// reading (request context, input analysis, response checks) serves FastCGI unchanged.
//
// Requests become "METHOD REQUEST_URI HTTP/1.1", one header line per HTTP_* parameter (and
// Content-Type), the Content-Length of CONTENT_LENGTH, then that much of the STDIN stream as
// the body: a request is whole when its parameters end (PHP-FPM runs a GET's script before it
// reads the empty STDIN that ends it). Responses become
// "HTTP/1.1 200 OK", the CGI header block (without its Content-Length), "Transfer-Encoding:
// chunked", and the STDOUT stream as chunks, ended by END_REQUEST. One request at a time per
// connection (nginx and PHP-FPM do not multiplex).
#ifndef VIGIL_AGENT_FASTCGI_HPP_
#define VIGIL_AGENT_FASTCGI_HPP_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace vigil::agent {

// True when the first bytes of a connection are a FastCGI BEGIN_REQUEST record.
bool looks_like_fastcgi(std::string_view first_bytes) noexcept;

// The records a FastCGI connection carries, in either direction, read one at a time.
class FcgiRecords {
 public:
  struct Record {
    std::uint8_t type = 0;
    std::uint16_t request_id = 0;
    std::string_view content;  // valid until the next feed
  };
  // Feeds bytes; calls on_record(const Record&) for each complete record (whose content may
  // have been gathered over several feeds). False on bytes that are not FastCGI (a version
  // other than 1), after which nothing more is read.
  template <class F>
  bool feed(std::string_view data, F&& on_record);

 private:
  enum class Phase : std::uint8_t { kHeader, kContent, kPadding };
  Phase phase_ = Phase::kHeader;
  unsigned char header_[8] = {};
  std::size_t header_size_ = 0;
  std::size_t content_left_ = 0, padding_left_ = 0;
  std::string content_;  // a record's content gathered over feeds
  bool dead_ = false;
};

// Web server -> program: the HTTP/1.1 text of the requests.
class FcgiRequestReader {
 public:
  static constexpr std::size_t kMaxParams = 64 * 1024;  // a request's PARAMS stream
  // Appends to *http the HTTP/1.1 text of what `data` completes. False when the bytes are not
  // FastCGI or a request's parameters are malformed or too large: read no more.
  bool feed(std::string_view data, std::string* http);
  std::uint16_t request_id() const noexcept { return request_id_; }
  // The client's address (REMOTE_ADDR) of the last request whose head was produced.
  const std::string& remote_addr() const noexcept { return remote_addr_; }

 private:
  bool params_done(std::string* http);
  FcgiRecords records_;
  std::uint16_t request_id_ = 0;
  std::string params_;
  bool in_request_ = false;
  bool head_sent_ = false;  // the current request's head was produced (its PARAMS ended)
  std::uint64_t body_left_ = 0;  // body bytes the head announced, still to come
  std::string remote_addr_;
};

// Program -> web server: the HTTP/1.1 text of the responses.
class FcgiResponseWriter {
 public:
  static constexpr std::size_t kMaxHead = 64 * 1024;  // a CGI header block
  // Appends to *http the HTTP/1.1 text of what `data` writes. False when the bytes are not
  // FastCGI: read no more.
  bool feed(std::string_view data, std::string* http);
  // The records of a whole response (STDOUT with `cgi`, an empty STDOUT, END_REQUEST) for
  // request `id`: what the agent writes to answer a blocked request.
  static std::string response(std::uint16_t id, std::string_view cgi);

 private:
  void stdout_bytes(std::string_view bytes, std::string* http);
  void end(std::string* http);
  FcgiRecords records_;
  bool head_done_ = false;
  bool started_ = false;  // STDOUT bytes of the current response were seen
  std::string head_;
};

template <class F>
bool FcgiRecords::feed(std::string_view data, F&& on_record) {
  if (dead_) return false;
  // Hands out the record whose content is `content`; then its padding, or the next header.
  auto deliver = [&](std::string_view content) {
    Record r;
    r.type = header_[1];
    r.request_id = static_cast<std::uint16_t>((header_[2] << 8) | header_[3]);
    r.content = content;
    phase_ = padding_left_ > 0 ? Phase::kPadding : Phase::kHeader;
    header_size_ = 0;
    if (!on_record(r)) dead_ = true;
    return !dead_;
  };
  std::size_t i = 0;
  while (i < data.size()) {
    switch (phase_) {
      case Phase::kHeader: {
        const std::size_t take = std::min<std::size_t>(8 - header_size_, data.size() - i);
        for (std::size_t k = 0; k < take; ++k)
          header_[header_size_ + k] = static_cast<unsigned char>(data[i + k]);
        header_size_ += take;
        i += take;
        if (header_size_ < 8) return true;
        if (header_[0] != 1) {  // FastCGI 1 is the only version
          dead_ = true;
          return false;
        }
        content_left_ = (std::size_t{header_[4]} << 8) | header_[5];
        padding_left_ = header_[6];
        content_.clear();
        phase_ = Phase::kContent;
        if (content_left_ == 0 && !deliver(std::string_view())) return false;
        break;
      }
      case Phase::kContent: {
        const std::size_t take = std::min(content_left_, data.size() - i);
        std::string_view piece = data.substr(i, take);
        content_left_ -= take;
        i += take;
        if (content_left_ > 0) {
          content_.append(piece);
          return true;
        }
        if (content_.empty()) {  // whole in this feed: handed out where it is
          if (!deliver(piece)) return false;
        } else {
          content_.append(piece);
          if (!deliver(content_)) return false;
        }
        break;
      }
      case Phase::kPadding: {
        const std::size_t skip = std::min(padding_left_, data.size() - i);
        padding_left_ -= skip;
        i += skip;
        if (padding_left_ == 0) phase_ = Phase::kHeader;
        break;
      }
    }
  }
  return true;
}

}  // namespace vigil::agent

#endif  // VIGIL_AGENT_FASTCGI_HPP_
