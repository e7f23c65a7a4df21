// multipart/form-data (RFC 7578): each field becomes an input named by the field; a file part
// contributes its file name (the content is the application's business, not an input value).
#include "core/common/ascii.hpp"
#include "core/context/input_builder.hpp"
#include "core/decode/decode.hpp"

namespace vigil::context {
namespace {

// Splits a part into its header block and content; accepts CRLF or bare LF line ends.
bool split_part(std::string_view part, std::string_view* headers, std::string_view* content) {
  std::size_t crlf = part.find("\r\n\r\n");
  std::size_t lf = part.find("\n\n");
  if (crlf == std::string_view::npos && lf == std::string_view::npos) return false;
  if (crlf != std::string_view::npos && (lf == std::string_view::npos || crlf < lf)) {
    *headers = part.substr(0, crlf);
    *content = part.substr(crlf + 4);
  } else {
    *headers = part.substr(0, lf);
    *content = part.substr(lf + 2);
  }
  return true;
}

std::string_view find_header(std::string_view block, std::string_view name) {
  std::size_t start = 0;
  while (start < block.size()) {
    std::size_t nl = block.find('\n', start);
    std::string_view line = block.substr(start, nl == std::string_view::npos ? nl : nl - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::size_t colon = line.find(':');
    if (colon != std::string_view::npos && common::iequals(common::trim(line.substr(0, colon)), name))
      return common::trim(line.substr(colon + 1));
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  return {};
}

// A field sent with a Content-Transfer-Encoding (which RFC 7578 deprecates, and browsers never
// send) is what python-multipart (Starlette, FastAPI), WebOb and undici's formData() hand the
// program decoded: `b=27||=27ob` is b'||'ob to a FastAPI handler. The decoded text is an input
// too, by the same name (PHP, busboy and Werkzeug 2 hand over the bytes as sent).
[[gnu::cold, gnu::noinline]] bool add_transfer_decoded(std::string_view name,
                                                       std::string_view content,
                                                       std::string_view encoding, InputBuilder* b) {
  std::string decoded, already;
  bool changed = false;
  if (common::iequals(encoding, "quoted-printable"))
    changed = decode::quoted_printable(content, &decoded);
  else if (common::iequals(encoding, "base64"))
    // Base64 on one line is a form of the value already (base64-decoded): not an input twice.
    changed = decode::mime_base64_text(content, &decoded) &&
              !(decode::base64_text(content, &already) && already == decoded);
  return !changed || b->add(Source::kMultipart, Ref::of(name), b->copy(decoded));
}

}  // namespace

void parse_multipart_body(std::string_view body, std::string_view content_type, InputBuilder* b) {
  std::string_view boundary = header_parameter(content_type, "boundary");
  auto malformed = [&](const char* what) {
    b->flag(kAnomalyBodyMismatch);
    b->diagnose("malformed.multipart", std::string("the multipart body is malformed: ") + what +
                                           "; the whole body is analysed as one input");
    b->add(Source::kBody, std::string_view(), body);
  };
  if (boundary.empty() || boundary.size() > 200) return malformed("no usable boundary");
  std::string delimiter = "--" + std::string(boundary);
  std::size_t pos = body.find(delimiter);
  if (pos == std::string_view::npos) return malformed("the boundary never occurs");
  std::size_t parts = 0;
  while (true) {
    pos += delimiter.size();
    if (body.substr(pos, 2) == "--") return;  // closing delimiter
    std::size_t next = body.find(delimiter, pos);
    // PHP and Python's email package read a last part that no delimiter closes to the body's
    // end (busboy refuses it): its fields are the program's inputs all the same.
    // Its parts are read, so the whole body is not one more input (its part headers' line
    // breaks looked like header injection).
    const bool unclosed = next == std::string_view::npos;
    if (unclosed) {
      b->flag(kAnomalyBodyMismatch);
      b->diagnose("malformed.multipart",
                  "the multipart body is malformed: no closing boundary; its last part is read "
                  "to the body's end");
      next = body.size();
    }
    if (++parts > b->limits().max_multipart_parts) {
      b->flag(kAnomalyLimitHit);
      b->diagnose("limit.multipart_parts", "more than " +
                                               std::to_string(b->limits().max_multipart_parts) +
                                               " multipart parts; the rest were not analysed");
      return;
    }
    std::string_view part = body.substr(pos, next - pos);
    // The CRLF before a delimiter belongs to the delimiter.
    if (part.size() >= 2 && part.substr(part.size() - 2) == "\r\n") part.remove_suffix(2);
    else if (!part.empty() && part.back() == '\n') part.remove_suffix(1);
    if (part.substr(0, 2) == "\r\n") part.remove_prefix(2);
    else if (!part.empty() && part.front() == '\n') part.remove_prefix(1);
    std::string_view headers, content;
    if (!split_part(part, &headers, &content)) {
      malformed("a part has no header block");
      return;
    }
    std::string_view disposition = find_header(headers, "content-disposition");
    std::string_view name = header_parameter(disposition, "name");
    std::string_view filename = header_parameter(disposition, "filename");
    bool is_file = disposition.find("filename") != std::string_view::npos;
    if (is_file) {
      if (!b->add(Source::kMultipart, name, filename)) return;
      // RFC 6266's filename*=UTF-8''..%2F..%2Fx.php, which Werkzeug (Flask), Python's email
      // package and busboy (Node.js) prefer to filename: the name the program saves under.
      // Its value is charset'language'percent-encoded-name.
      const std::string_view extended = header_parameter(disposition, "filename*");
      const std::size_t charset_end = extended.find('\'');
      const std::size_t quote = charset_end == std::string_view::npos
                                    ? charset_end
                                    : extended.find('\'', charset_end + 1);
      if (quote != std::string_view::npos) [[unlikely]] {
        if (!b->add(Source::kMultipart, Ref::of(name), b->decoded(extended.substr(quote + 1), false)))
          return;
      }
    } else {
      if (!b->add(Source::kMultipart, name, content)) return;
      const std::string_view encoding = find_header(headers, "content-transfer-encoding");
      if (!encoding.empty()) [[unlikely]]
        if (!add_transfer_decoded(name, content, encoding, b)) return;
    }
    if (unclosed) return;
    pos = next;
  }
}

}  // namespace vigil::context
