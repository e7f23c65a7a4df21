// CR/LF injection (HTTP response splitting, header injection, log forging): a line break
// followed by something a header block or a response would take as its own line.
#include "core/common/ascii.hpp"
#include "core/detect/input/input_detector.hpp"

namespace vigil::detect::input {
namespace {

bool is_token_char(char c) { return common::is_alnum(c) || c == '-' || c == '_'; }

// Does `rest` begin a header line ("Set-Cookie:"), a status line ("HTTP/1.1"), markup, or
// another line break (an empty line ends the header block)?
bool starts_line_payload(std::string_view rest, std::string* what) {
  if (rest.empty()) return false;
  if (rest.front() == '\r' || rest.front() == '\n') {
    *what = "an empty line that ends the header block early (response splitting)";
    return true;
  }
  if (common::istarts_with(rest, "HTTP/")) {
    *what = "a second HTTP status line (response splitting)";
    return true;
  }
  if (rest.front() == '<') {
    *what = "markup after the header block";
    return true;
  }
  std::size_t i = 0;
  while (i < rest.size() && i < 64 && is_token_char(rest[i])) ++i;
  if (i >= 2 && i < rest.size() && rest[i] == ':') {
    *what = "a new header line \"" + std::string(rest.substr(0, i)) + ":\"";
    return true;
  }
  return false;
}

}  // namespace

bool detect_crlf(const Candidate& c, Hit* hit) {
  std::string_view v = c.value;
  std::string what;
  if (c.features & kCrLf) {
    for (std::size_t i = v.find_first_of("\r\n"); i != std::string_view::npos;
         i = v.find_first_of("\r\n", i + 1)) {
      std::size_t j = i + 1;
      if (v[i] == '\r' && j < v.size() && v[j] == '\n') ++j;
      if (starts_line_payload(v.substr(j), &what) ||
          (j == v.size() && (c.source == Source::kHeader || i == 0))) {
        if (what.empty()) what = "a line break at the end of the value";
        hit->reason = "a CR/LF line break followed by " + what;
        hit->evidence = evidence(v.substr(i));
        return true;
      }
    }
    // A value made of line breaks alone is a probe.
    if (v.find_first_not_of("\r\n \t") == std::string_view::npos) {
      hit->reason = "a value made only of CR/LF line breaks, a probe for header injection";
      hit->evidence = evidence(v);
      return true;
    }
  }
  // Escaped line breaks that a later decoding step turns into real ones: "%0d%0a" that
  // survived one decoding, "\r\n" written out, "%u000a".
  static constexpr std::string_view kEscaped[] = {"%0d%0a", "%0a", "%0d", "\\r\\n", "%u000a",
                                                  "%u000d", "0x0d0x0a"};
  for (std::string_view e : kEscaped) {
    std::size_t at = std::string_view::npos;
    for (std::size_t i = 0; i + e.size() <= v.size(); ++i) {
      if (common::iequals(v.substr(i, e.size()), e)) {
        at = i;
        break;
      }
    }
    if (at == std::string_view::npos) continue;
    std::size_t j = at + e.size();
    std::string_view rest = v.substr(j);
    // Repeated escapes, or the escape followed by a header line, or a value that is nothing
    // but escapes.
    bool payload = starts_line_payload(rest, &what) || common::istarts_with(rest, "%0") ||
                   common::istarts_with(rest, "\\n") || common::istarts_with(rest, "0x0");
    if (!payload && v.size() <= e.size() + 4) {
      payload = true;
      what = "nothing else (a probe)";
    }
    if (payload) {
      if (what.empty()) what = "more line breaks";
      hit->reason = "an encoded CR/LF (" + std::string(e) + ") followed by " + what +
                    ", injected once the value is decoded";
      hit->evidence = evidence(v.substr(at));
      return true;
    }
  }
  return false;
}

}  // namespace vigil::detect::input
