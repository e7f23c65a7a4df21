#include "core/context/http1_parser.hpp"

#include <algorithm>

#include "core/common/ascii.hpp"

namespace vigil::context {
namespace {

bool is_tchar(char c) {
  return common::is_alnum(c) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// Parses a non-negative decimal (Content-Length) or hex (chunk size) number; false on garbage
// or overflow.
bool parse_number(std::string_view s, int base, std::uint64_t* out) {
  s = common::trim(s);
  if (s.empty() || s.size() > 16) return false;
  std::uint64_t v = 0;
  for (char c : s) {
    int d = base == 16 ? common::hex_value(c) : (common::is_digit(c) ? c - '0' : -1);
    if (d < 0) return false;
    v = v * base + d;
  }
  *out = v;
  return true;
}

}  // namespace

std::vector<Header> ParsedRequest::header_views() const {
  std::vector<Header> out;
  out.reserve(headers.size());
  for (const auto& [n, v] : headers) out.push_back(Header{n, v});
  return out;
}

Http1Parser::Http1Parser(Limits limits) : limits_(limits) {}

Http1Parser::Status Http1Parser::fail(std::string why) {
  state_ = State::kError;
  error_ = std::move(why);
  buffer_.clear();
  return Status::kError;
}

void Http1Parser::keep_body(std::string_view bytes) {
  request_.body_length += bytes.size();
  std::size_t room = limits_.max_body_bytes > request_.body.size()
                         ? limits_.max_body_bytes - request_.body.size() : 0;
  if (bytes.size() > room) request_.body_truncated = true;
  request_.body.append(bytes.substr(0, room));
}

bool Http1Parser::parse_head(std::string_view head) {
  request_ = ParsedRequest{};
  // Request line: METHOD SP target SP HTTP/1.x
  std::size_t eol = head.find('\n');
  std::string_view line = head.substr(0, eol);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  std::size_t sp1 = line.find(' ');
  std::size_t sp2 = line.rfind(' ');
  if (sp1 == std::string_view::npos || sp2 == sp1) return false;
  std::string_view method = line.substr(0, sp1);
  std::string_view version = line.substr(sp2 + 1);
  if (method.empty() || !std::all_of(method.begin(), method.end(), is_tchar)) return false;
  if (version.substr(0, 7) != "HTTP/1.") return false;
  request_.method = std::string(method);
  request_.target = std::string(line.substr(sp1 + 1, sp2 - sp1 - 1));
  request_.version = std::string(version);

  bool chunked = false;
  bool have_length = false;
  std::uint64_t length = 0;
  std::size_t pos = eol == std::string_view::npos ? head.size() : eol + 1;
  while (pos < head.size()) {
    std::size_t end = head.find('\n', pos);
    std::string_view h = head.substr(pos, end == std::string_view::npos ? end : end - pos);
    pos = end == std::string_view::npos ? head.size() : end + 1;
    if (!h.empty() && h.back() == '\r') h.remove_suffix(1);
    if (h.empty()) continue;
    if ((h.front() == ' ' || h.front() == '\t') && !request_.headers.empty()) {
      // Obsolete line folding: part of the previous value.
      request_.headers.back().second += ' ';
      request_.headers.back().second += std::string(common::trim(h));
      continue;
    }
    std::size_t colon = h.find(':');
    if (colon == std::string_view::npos) continue;  // kept lenient: the app decides
    std::string_view name = h.substr(0, colon);
    std::string_view value = common::trim(h.substr(colon + 1));
    if (common::iequals(name, "content-length")) {
      std::uint64_t v;
      if (!parse_number(value, 10, &v)) return false;
      if (have_length && v != length) return false;  // conflicting lengths: smuggling shape
      have_length = true;
      length = v;
    } else if (common::iequals(name, "transfer-encoding")) {
      std::string lower = common::folded(value);
      if (lower.find("chunked") != std::string::npos) chunked = true;
    } else if (common::iequals(name, "expect") && common::iequals(value, "100-continue")) {
      request_.expect_continue = true;
    }
    request_.headers.emplace_back(std::string(name), std::string(value));
  }
  if (chunked) {
    state_ = State::kChunkSize;
  } else if (have_length && length > 0) {
    state_ = State::kBody;
    remaining_ = length;
  } else {
    state_ = State::kHead;  // no body: complete
  }
  return true;
}

Http1Parser::Status Http1Parser::feed(std::string_view bytes) {
  if (state_ == State::kError) return Status::kError;
  buffer_.append(bytes);
  std::size_t consumed = 0;
  Status status = Status::kNeedMore;
  while (status == Status::kNeedMore) {
    std::string_view rest = std::string_view(buffer_).substr(consumed);
    if (state_ == State::kHead) {
      // Tolerate CRLFs between pipelined requests (RFC 9112 2.2).
      std::size_t skip = 0;
      while (skip < rest.size() && (rest[skip] == '\r' || rest[skip] == '\n')) ++skip;
      consumed += skip;
      rest.remove_prefix(skip);
      if (scan_from_ > skip) scan_from_ -= skip; else scan_from_ = 0;
      // Decide early that a connection does not speak HTTP/1 (TLS, HTTP/2 preface, binary):
      // a method is a token of at most a few dozen bytes followed by a space.
      if (!rest.empty() && !is_tchar(rest.front())) return fail("not an HTTP/1.x request");
      std::size_t method_end = rest.find(' ');
      if ((method_end == std::string_view::npos && rest.size() > 32) ||
          (method_end != std::string_view::npos && method_end > 32))
        return fail("not an HTTP/1.x request");
      std::size_t end = rest.find("\r\n\r\n", scan_from_);
      std::size_t sep = 4;
      std::size_t lf = rest.find("\n\n", scan_from_);
      if (lf != std::string_view::npos && (end == std::string_view::npos || lf < end)) {
        end = lf;
        sep = 2;
      }
      if (end == std::string_view::npos) {
        if (rest.size() > limits_.max_header_bytes) return fail("header block larger than the limit");
        scan_from_ = rest.size() > 3 ? rest.size() - 3 : 0;
        break;
      }
      scan_from_ = 0;
      if (end > limits_.max_header_bytes) return fail("header block larger than the limit");
      if (!parse_head(rest.substr(0, end))) return fail("not an HTTP/1.x request");
      consumed += end + sep;
      if (state_ == State::kHead) status = Status::kRequest;
    } else if (state_ == State::kBody) {
      std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, rest.size()));
      keep_body(rest.substr(0, take));
      consumed += take;
      remaining_ -= take;
      if (remaining_ > 0) break;
      state_ = State::kHead;
      status = Status::kRequest;
    } else if (state_ == State::kChunkSize) {
      std::size_t eol = rest.find('\n');
      if (eol == std::string_view::npos) {
        if (rest.size() > 1024) return fail("chunk size line too long");
        break;
      }
      std::string_view line = rest.substr(0, eol);
      line = line.substr(0, line.find(';'));  // chunk extensions
      if (!parse_number(line, 16, &remaining_)) return fail("bad chunk size");
      consumed += eol + 1;
      state_ = remaining_ == 0 ? State::kTrailers : State::kChunkData;
    } else if (state_ == State::kChunkData) {
      std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, rest.size()));
      keep_body(rest.substr(0, take));
      consumed += take;
      remaining_ -= take;
      if (remaining_ > 0) break;
      state_ = State::kChunkDataEnd;
    } else if (state_ == State::kChunkDataEnd) {
      std::size_t eol = rest.find('\n');
      if (eol == std::string_view::npos) {
        if (rest.size() > 2) return fail("missing CRLF after chunk data");
        break;
      }
      consumed += eol + 1;
      state_ = State::kChunkSize;
    } else if (state_ == State::kTrailers) {
      // Trailer fields end with an empty line.
      std::size_t eol = rest.find('\n');
      if (eol == std::string_view::npos) {
        if (rest.size() > limits_.max_header_bytes) return fail("trailers larger than the limit");
        break;
      }
      std::string_view line = rest.substr(0, eol);
      consumed += eol + 1;
      if (line.empty() || line == "\r") {
        state_ = State::kHead;
        status = Status::kRequest;
      }
    } else {
      return Status::kError;
    }
  }
  buffer_.erase(0, consumed);
  return status;
}

}  // namespace vigil::context
