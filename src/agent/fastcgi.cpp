#include "agent/fastcgi.hpp"

#include <cstdio>
#include <vector>

#include "core/common/ascii.hpp"

namespace vigil::agent {
namespace {

enum RecordType : std::uint8_t {
  kBeginRequest = 1,
  kEndRequest = 3,
  kParams = 4,
  kStdin = 5,
  kStdout = 6,
};
constexpr std::size_t kMaxContent = 65535;  // a record's content length is 16 bits

void chunk(std::string_view bytes, std::string* http) {
  char size[24];
  const int n = std::snprintf(size, sizeof size, "%zx\r\n", bytes.size());
  http->append(size, static_cast<std::size_t>(n));
  http->append(bytes);
  http->append("\r\n");
}

// A name-value pair length (1 byte, or 4 with the high bit set) at *at of `s`.
bool pair_length(std::string_view s, std::size_t* at, std::size_t* length) {
  if (*at >= s.size()) return false;
  const auto b0 = static_cast<unsigned char>(s[*at]);
  if ((b0 & 0x80) == 0) {
    *length = b0;
    *at += 1;
    return true;
  }
  if (s.size() - *at < 4) return false;
  const auto* u = reinterpret_cast<const unsigned char*>(s.data() + *at);
  *length = (std::size_t{u[0] & 0x7fu} << 24) | (std::size_t{u[1]} << 16) | (std::size_t{u[2]} << 8) | u[3];
  *at += 4;
  return true;
}

// A parameter value as a header value: line breaks and NULs (which no HTTP header carries, and
// which would end the synthesized line) become spaces.
void append_value(std::string_view v, std::string* out) {
  for (char c : v) out->push_back(c == '\r' || c == '\n' || c == '\0' ? ' ' : c);
}

// The request target: bytes a request line cannot hold are percent-encoded.
void append_target(std::string_view t, std::string* out) {
  static const char kHex[] = "0123456789ABCDEF";
  for (char c : t) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) {
      out->push_back('%');
      out->push_back(kHex[u >> 4]);
      out->push_back(kHex[u & 15]);
    } else {
      out->push_back(c);
    }
  }
}

bool is_method(std::string_view m) {
  if (m.empty() || m.size() > 32) return false;
  for (char c : m)
    if (!common::is_alnum(c) && c != '-' && c != '_') return false;
  return true;
}

}  // namespace

bool looks_like_fastcgi(std::string_view b) noexcept {
  // version 1, BEGIN_REQUEST, a request id, content length 8 (the role and flags).
  return b.size() >= 2 && b[0] == 1 && b[1] == kBeginRequest &&
         (b.size() < 6 || (b[4] == 0 && b[5] == 8));
}

bool FcgiRequestReader::feed(std::string_view data, std::string* http) {
  return records_.feed(data, [&](const FcgiRecords::Record& r) {
    switch (r.type) {
      case kBeginRequest:
        request_id_ = r.request_id;
        params_.clear();
        in_request_ = true;
        head_sent_ = false;
        return true;
      case kParams:
        if (!in_request_ || r.request_id != request_id_ || head_sent_) return true;
        if (r.content.empty()) return params_done(http);
        if (params_.size() + r.content.size() > kMaxParams) return false;
        params_.append(r.content);
        return true;
      case kStdin: {
        // The body, up to the length the head announced (what goes past it is not the request's).
        if (!in_request_ || r.request_id != request_id_ || !head_sent_) return true;
        const std::size_t take = std::min<std::size_t>(body_left_, r.content.size());
        http->append(r.content.substr(0, take));
        body_left_ -= take;
        return true;
      }
      default:  // ABORT_REQUEST, DATA, management records: no part of the request's HTTP
        return true;
    }
  });
}

bool FcgiRequestReader::params_done(std::string* http) {
  std::string_view method = "GET", uri, script, query, content_type, content_length;
  std::vector<std::pair<std::string_view, std::string_view>> headers;
  remote_addr_.clear();
  const std::string_view p = params_;
  for (std::size_t at = 0; at < p.size();) {
    std::size_t name_length = 0, value_length = 0;
    if (!pair_length(p, &at, &name_length) || !pair_length(p, &at, &value_length) ||
        p.size() - at < name_length || p.size() - at - name_length < value_length)
      return false;
    const std::string_view name = p.substr(at, name_length);
    const std::string_view value = p.substr(at + name_length, value_length);
    at += name_length + value_length;
    if (name == "REQUEST_METHOD") method = value;
    else if (name == "REQUEST_URI") uri = value;
    else if (name == "SCRIPT_NAME") script = value;
    else if (name == "QUERY_STRING") query = value;
    else if (name == "CONTENT_TYPE") content_type = value;
    else if (name == "CONTENT_LENGTH") content_length = value;
    else if (name == "REMOTE_ADDR") remote_addr_.assign(value);
    else if (name.size() > 5 && name.substr(0, 5) == "HTTP_") headers.emplace_back(name.substr(5), value);
  }
  if (!is_method(method)) return false;
  http->append(method);
  http->push_back(' ');
  if (!uri.empty()) {
    append_target(uri, http);
  } else {
    append_target(script.empty() ? std::string_view("/") : script, http);
    if (!query.empty()) {
      http->push_back('?');
      append_target(query, http);
    }
  }
  http->append(" HTTP/1.1\r\n");
  for (const auto& [name, value] : headers) {
    std::string field;
    for (char c : name) field.push_back(c == '_' ? '-' : common::to_lower(c));
    // The framing is the reader's own (CONTENT_LENGTH).
    if (field == "content-length" || field == "transfer-encoding") continue;
    http->append(field);
    http->append(": ");
    append_value(value, http);
    http->append("\r\n");
  }
  if (!content_type.empty()) {
    http->append("content-type: ");
    append_value(content_type, http);
    http->append("\r\n");
  }
  // The request is whole when its parameters are: the application may run before it reads its
  // body, or without reading it (PHP-FPM reads STDIN only for a body it is told of). A body it
  // announces follows, as STDIN.
  body_left_ = 0;
  for (char c : content_length) {
    if (!common::is_digit(c) || body_left_ > (std::uint64_t{1} << 40)) return false;
    body_left_ = body_left_ * 10 + static_cast<std::uint64_t>(c - '0');
  }
  http->append("content-length: ");
  http->append(std::to_string(body_left_));
  http->append("\r\n\r\n");
  head_sent_ = true;
  params_.clear();
  return true;
}

bool FcgiResponseWriter::feed(std::string_view data, std::string* http) {
  return records_.feed(data, [&](const FcgiRecords::Record& r) {
    if (r.type == kStdout && !r.content.empty()) stdout_bytes(r.content, http);
    else if (r.type == kEndRequest) end(http);
    return true;  // STDERR and the rest: not the response
  });
}

void FcgiResponseWriter::stdout_bytes(std::string_view bytes, std::string* http) {
  started_ = true;
  if (head_done_) return chunk(bytes, http);
  head_.append(bytes);
  std::size_t end = head_.find("\r\n\r\n");
  std::size_t after = end == std::string::npos ? end : end + 4;
  if (const std::size_t lf = head_.find("\n\n"); lf != std::string::npos && lf + 2 < after) after = lf + 2;
  if (after == std::string::npos) {
    if (head_.size() < kMaxHead) return;
    after = 0;  // no header block in sight: all of it is body
  }
  http->append("HTTP/1.1 200 OK\r\n");
  std::string_view block = std::string_view(head_).substr(0, after);
  for (std::size_t at = 0; at < block.size();) {
    std::size_t nl = block.find('\n', at);
    if (nl == std::string_view::npos) nl = block.size();
    std::string_view line = block.substr(at, nl - at);
    at = nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    // The framing is the writer's own (chunked STDOUT).
    if (common::istarts_with(line, "content-length:") || common::istarts_with(line, "transfer-encoding:"))
      continue;
    http->append(line);
    http->append("\r\n");
  }
  http->append("transfer-encoding: chunked\r\n\r\n");
  head_done_ = true;
  if (after < head_.size()) chunk(std::string_view(head_).substr(after), http);
  head_.clear();
}

void FcgiResponseWriter::end(std::string* http) {
  if (!head_done_) {
    // No header block came (no output, or output without one): a response of what came.
    std::string rest;
    rest.swap(head_);
    http->append("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n");
    if (!rest.empty()) chunk(rest, http);
  }
  http->append("0\r\n\r\n");
  head_done_ = false;
  started_ = false;
  head_.clear();
}

std::string FcgiResponseWriter::response(std::uint16_t id, std::string_view cgi) {
  std::string out;
  auto record = [&](std::uint8_t type, std::string_view content) {
    const unsigned char h[8] = {1, type, static_cast<unsigned char>(id >> 8), static_cast<unsigned char>(id),
                                static_cast<unsigned char>(content.size() >> 8),
                                static_cast<unsigned char>(content.size()), 0, 0};
    out.append(reinterpret_cast<const char*>(h), 8);
    out.append(content);
  };
  for (std::size_t at = 0; at < cgi.size(); at += kMaxContent) record(kStdout, cgi.substr(at, kMaxContent));
  record(kStdout, std::string_view());
  record(kEndRequest, std::string_view("\0\0\0\0\0\0\0\0", 8));  // app status 0, request complete
  return out;
}

}  // namespace vigil::agent
