#include <string>

#include "core/common/ascii.hpp"
#include "vigil/engine.hpp"

namespace vigil {
namespace {

constexpr std::size_t kContext = 60;   // bytes of operation shown around the input
constexpr std::size_t kMaxSpan = 240;  // bytes of the input span shown

// Appends one byte as it should appear on a terminal; returns the columns it takes.
std::size_t render_byte(unsigned char c, std::string* out) {
  static const char* const kHex = "0123456789abcdef";
  switch (c) {
    case '\n': out->append("\\n"); return 2;
    case '\r': out->append("\\r"); return 2;
    case '\t': out->append("\\t"); return 2;
    default: break;
  }
  if (c < 0x20 || c == 0x7F) {
    out->append("\\x");
    out->push_back(kHex[c >> 4]);
    out->push_back(kHex[c & 15]);
    return 4;
  }
  out->push_back(static_cast<char>(c));
  // UTF-8 continuation bytes take no column of their own.
  return (c & 0xC0) == 0x80 ? 0 : 1;
}

// Renders text[from, to) and a marker line under [begin, end).
void render_marked(std::string_view text, std::size_t begin, std::size_t end, std::string* out) {
  std::size_t from = begin > kContext ? begin - kContext : 0;
  std::size_t to = std::min(text.size(), end + kContext);
  while (from > 0 && (static_cast<unsigned char>(text[from]) & 0xC0) == 0x80) --from;
  std::string line = "    ";
  std::string marks = "    ";
  if (from > 0) {
    line += "\xE2\x80\xA6";
    marks += ' ';
  }
  for (std::size_t i = from; i < to; ++i) {
    bool in_span = i >= begin && i < end;
    if (in_span && i - begin == kMaxSpan) {
      line += "\xE2\x80\xA6";
      marks += '^';
      i = end - 1;
      continue;
    }
    std::size_t cols = render_byte(static_cast<unsigned char>(text[i]), &line);
    marks.append(cols, in_span ? '^' : ' ');
  }
  if (to < text.size()) line += "\xE2\x80\xA6";
  while (!marks.empty() && marks.back() == ' ') marks.pop_back();
  *out += line + "\n" + marks + "\n";
}

std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : common::truncate_utf8(s, 200)) render_byte(c, &out);
  return out + "\"";
}

}  // namespace

std::string describe(const Sink& sink, std::span<const Input> inputs, const Verdict& verdict) {
  std::string out;
  std::string sink_label(sink_type_name(sink.type));
  if (sink.type == SinkType::kSql) sink_label += " (" + std::string(dialect_name(sink.dialect)) + ")";
  if (!verdict.attack()) {
    out = "clean: no input changed the " + sink_label + " operation.\n";
    if (verdict.failed_open) out += "note: " + verdict.note + "\n";
    return out;
  }
  for (const Detection& d : verdict.detections) {
    out += "ATTACK " + d.rule + " (" + d.cwe + "): " + d.reason + "\n";
    if (d.input < inputs.size()) {
      const Input& in = inputs[d.input];
      out += "  input: " + std::string(source_name(in.source)) + " " + quoted(in.name) + " = " +
             quoted(in.value) +
             (d.form == Form::kName ? std::string(" (found its name)")
                                    : " (found " + std::string(form_name(d.form)) + ")") +
             "\n";
    }
    std::string_view text = sink.value;
    out += "  operation: " + sink_label;
    if (sink.type == SinkType::kExec) {
      text = d.element < sink.argv.size() ? sink.argv[d.element] : std::string_view();
      out += ", argv[" + std::to_string(d.element) + "]";
    }
    out += ", input at bytes " + std::to_string(d.begin) + ".." + std::to_string(d.end) + "\n";
    if (d.begin <= d.end && d.end <= text.size()) render_marked(text, d.begin, d.end, &out);
    if (!d.tokens.empty()) {
      out += "  tokens:\n";
      for (const TokenNote& t : d.tokens) {
        out += "    " + t.kind + " " + quoted(t.text) + " at " + std::to_string(t.begin) + ".." +
               std::to_string(t.end) + "\n";
      }
    }
  }
  return out;
}

}  // namespace vigil
