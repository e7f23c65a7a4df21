#include "agent/handoff.hpp"

#include <cstring>

#include "core/common/ascii.hpp"

namespace vigil::agent {
namespace {

constexpr std::string_view kMagic = "VIGILH1\n";
constexpr std::size_t kCountAt = kMagic.size();  // a byte: how many requests follow

void put_u64(std::string* out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void put_text(std::string* out, std::string_view s) {
  put_u64(out, s.size());
  out->append(s);
}

// Reads the encoding's fields from the front of `in`; false at the first that is not whole.
struct Reader {
  std::string_view in;
  bool u64(std::uint64_t* v) {
    if (in.size() < 8) return false;
    *v = 0;
    for (int i = 7; i >= 0; --i) *v = (*v << 8) | static_cast<unsigned char>(in[i]);
    in.remove_prefix(8);
    return true;
  }
  bool text(std::string* s) {
    std::uint64_t n = 0;
    if (!u64(&n) || n > in.size()) return false;
    s->assign(in.substr(0, n));
    in.remove_prefix(n);
    return true;
  }
};

bool holds_line_break(std::string_view s) { return s.find_first_of("\r\n") != s.npos; }

}  // namespace

void begin_handoff(std::string* out) {
  out->assign(kMagic);
  out->push_back('\0');
}

bool append_handoff(std::string* out, const HandedRequest& r) {
  if (out->size() <= kCountAt) return false;
  auto count = static_cast<unsigned char>((*out)[kCountAt]);
  std::size_t size = 8 + 8 + 1 + 8 + r.peer.size() + 8 + r.http.size();
  if (count >= kMaxHandedRequests || out->size() + size > kMaxHandoffBytes) return false;
  put_u64(out, r.serial);
  put_u64(out, r.id_salt);
  out->push_back(r.own ? '\1' : '\0');
  put_text(out, r.peer);
  put_text(out, r.http);
  (*out)[kCountAt] = static_cast<char>(count + 1);
  return true;
}

bool decode_handoff(std::string_view bytes, std::vector<HandedRequest>* out) {
  out->clear();
  if (bytes.size() > kMaxHandoffBytes || bytes.size() <= kCountAt ||
      bytes.substr(0, kMagic.size()) != kMagic)
    return false;
  auto count = static_cast<unsigned char>(bytes[kCountAt]);
  if (count > kMaxHandedRequests) return false;
  Reader r{bytes.substr(kCountAt + 1)};
  std::vector<HandedRequest> requests(count);
  for (HandedRequest& h : requests) {
    if (!r.u64(&h.serial) || !r.u64(&h.id_salt) || r.in.empty()) return false;
    char own = r.in.front();
    if (own != '\0' && own != '\1') return false;
    h.own = own == '\1';
    r.in.remove_prefix(1);
    if (!r.text(&h.peer) || !r.text(&h.http)) return false;
  }
  if (!r.in.empty()) return false;
  *out = std::move(requests);
  return true;
}

bool http1_text(std::string_view method, std::string_view target,
                const std::vector<Header>& headers, std::string_view body, std::string* out) {
  if (method.empty() || target.empty() || method.find_first_of(" \r\n") != method.npos ||
      target.find_first_of(" \r\n") != target.npos)
    return false;
  out->clear();
  out->append(method).append(" ").append(target).append(" HTTP/1.1\r\n");
  for (const Header& h : headers) {
    if (common::iequals(h.name, "content-length") || common::iequals(h.name, "transfer-encoding"))
      continue;
    if (h.name.empty() || holds_line_break(h.name) || h.name.find(':') != h.name.npos ||
        holds_line_break(h.value))
      return false;
    out->append(h.name).append(": ").append(h.value).append("\r\n");
  }
  out->append("Content-Length: ").append(std::to_string(body.size())).append("\r\n\r\n");
  out->append(body);
  return true;
}

bool is_launcher(const char* path) noexcept {
  if (path == nullptr) return false;
  const char* slash = std::strrchr(path, '/');
  return std::strcmp(slash != nullptr ? slash + 1 : path, "jspawnhelper") == 0;
}

}  // namespace vigil::agent
