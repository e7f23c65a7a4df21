// The contract between the engine and the per-sink detectors.
//
// The engine finds where inputs occur in an operation (the fast path: most sink calls stop
// there with no occurrence) and hands the occurrences to the one detector registered for the
// sink type. A detector tokenizes the operation once and decides, for each occurrence, whether
// the input stayed data (one literal, or one identifier where the application meant one) or
// changed the operation (crossed a token boundary, added operators, keywords, comments,
// separators, commands, elements or a new destination). It appends one Detection per input it
// convicts, with the reason and the tokens involved.
#ifndef VIGIL_CORE_DETECT_DETECTOR_HPP_
#define VIGIL_CORE_DETECT_DETECTOR_HPP_

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "vigil/engine.hpp"

namespace vigil::detect {

// One place where one form of one input occurs in the operation.
struct Occurrence {
  std::uint32_t input = 0;    // index into SinkCheck::inputs
  Form form = Form::kRaw;
  std::uint32_t element = 0;  // argv index for kExec, else 0
  std::uint32_t begin = 0;    // byte span in text(element)
  std::uint32_t end = 0;
};

// What a detector is given for one sink call.
struct SinkCheck {
  const Sink* sink = nullptr;
  std::span<const Input> inputs;
  // Sorted by (element, begin, longer first). Overlapping occurrences of different inputs
  // (or forms) are all present. Never empty when a detector is called.
  std::span<const Occurrence> occurrences;

  // The text an occurrence's offsets refer to: argv[element] for kExec, sink->value otherwise.
  std::string_view text(std::uint32_t element) const noexcept {
    if (sink->type == SinkType::kExec)
      return element < sink->argv.size() ? sink->argv[element] : std::string_view();
    return sink->value;
  }
  // What the client sent that an occurrence is a form of: the input's name for Form::kName,
  // else its value.
  std::string_view sent(const Occurrence& occ) const noexcept {
    const Input& in = inputs[occ.input];
    return occ.form == Form::kName ? in.name : in.value;
  }
};

// Appends detections to *out. Must run in time linear in the operation's size plus the number
// of occurrences (times a log factor at most), must not crash on any bytes, and may allocate
// only when it records a detection (std::bad_alloc is the only exception it may let through).
using DetectFn = void (*)(const SinkCheck& check, std::vector<Detection>* out);

// One entry of the detector table (detect/registry.cpp).
struct DetectorInfo {
  std::string_view name;     // "sql-injection"
  int version;               // bumped whenever verdicts may change
  SinkType sink;
  std::string_view rule;     // default Detection::rule
  std::string_view cwe;      // default Detection::cwe
  bool case_insensitive;     // search inputs ASCII-case-folded in this sink's operations
  // One-byte inputs are searched only when they are one of these bytes: a lone CR or LF can
  // split a header block, a lone "/" replaces a joined path's base, a NUL truncates it.
  std::string_view single_bytes;
  DetectFn fn;
};

std::span<const DetectorInfo> detectors() noexcept;
// The detector for a sink type; never null.
const DetectorInfo* detector_for(SinkType type) noexcept;

// Builds a TokenNote (text truncated to 80 bytes).
TokenNote note_token(std::string_view kind, std::string_view text, std::uint32_t begin,
                     std::uint32_t end);

// The detector functions, one per sink type, each in its own file under detect/.
void detect_sql(const SinkCheck& check, std::vector<Detection>* out);
void detect_shell(const SinkCheck& check, std::vector<Detection>* out);
void detect_exec(const SinkCheck& check, std::vector<Detection>* out);
void detect_path(const SinkCheck& check, std::vector<Detection>* out);
void detect_url(const SinkCheck& check, std::vector<Detection>* out);
void detect_html(const SinkCheck& check, std::vector<Detection>* out);
// detect_html without its filter of inert words: every occurrence analysed (for the test that
// the filter leaves out only what the analysis would clear).
void detect_html_all(const SinkCheck& check, std::vector<Detection>* out);
void detect_header(const SinkCheck& check, std::vector<Detection>* out);
void detect_redirect(const SinkCheck& check, std::vector<Detection>* out);

// A redirect target in which no input occurs as written, because the server that wrote it
// rewrote the application's target: WEBrick makes a Location absolute with the request's
// scheme and port ("//evil.example/login" goes out as
// "http://evil.example:8080/login"); a server may lower-case a host. An input that, resolved
// against the page as the application's target would be, names the target's off-site host
// with the target's own path and query is convicted: the server changed only its spelling.
// Linear in the target's and the inputs' sizes; most inputs are rejected by their first bytes.
void detect_rewritten_redirect(const Sink& sink, std::span<const Input> inputs,
                               std::vector<Detection>* out);

// A header block in which an input with a line feed occurs nowhere whole, because the server
// split the application's value at its line breaks into lines of the same name (Rack's
// convention: Puma), dropping a line that still holds a control byte: "lang=fr\nadmin=1" in
// a Set-Cookie goes out as "Set-Cookie: lang=fr" and "Set-Cookie: admin=1". An input whose text
// on either side of a line feed ends one field line and is (or begins) the next, of the same
// name, is convicted: its line feed added that line. A CRLF in the input leaves its line with
// a CR, which the server drops: nothing was added there. Linear in the block's size times a
// small bound (16 inputs, 8 line feeds each).
void detect_split_header(const Sink& sink, std::span<const Input> inputs,
                         std::vector<Detection>* out);

}  // namespace vigil::detect

#endif  // VIGIL_CORE_DETECT_DETECTOR_HPP_
