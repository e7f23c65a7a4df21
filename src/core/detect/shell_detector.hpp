// Shell-command analysis shared by the shell detector and the exec detector (`sh -c CODE`,
// `bash -c CODE`, ssh's remote command).
//
// The question asked of every occurrence is the one the evaluation oracle asks: does the command
// still parse into the same syntax as it would with the input as one single-quoted word? An
// input stays data when, read from the lexer state the application left at its first byte, it
//   * produces only literal text, escapes and balanced quotes (no expansion, substitution,
//     operator, redirection, comment, extended glob or here-document terminator),
//   * stays inside one word (white space only at its edges, where a word boundary already is;
//     a newline or ';' only at the very end of the command or a newline at the start of a
//     command line; a comment only when it ends the command, hiding nothing but the input),
//   * leaves the lexer in the same quoting mode and nesting depth it found (so the rest of the
//     command is read exactly as before), and
//   * does not turn the command word into a variable assignment.
// Glob characters (* ? [) and brace or tilde forms are data: they do not change the syntax; so
// is a word inside the name of a `$NAME` expansion, after its '$' (as inside `${NAME}`).
#ifndef VIGIL_CORE_DETECT_SHELL_DETECTOR_HPP_
#define VIGIL_CORE_DETECT_SHELL_DETECTOR_HPP_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/detect/detector.hpp"
#include "core/tokenize/shell/shell_tokenizer.hpp"
#include "vigil/engine.hpp"

namespace vigil::detect {

// Why a span changed the command: a sentence fragment and the tokens involved.
struct ShellFinding {
  std::string reason;             // "closed the double-quoted string and added the operator ';'"
  std::vector<TokenNote> tokens;  // spans relative to the analysed text
};

// One command string, tokenized once, queried for any number of spans.
// Not thread-safe; cheap to reuse (keeps its buffers).
class ShellAnalysis {
 public:
  // Tokenizes `command` (borrowed: must outlive the queries).
  void reset(std::string_view command, tokenize::shell::Dialect dialect);

  // True when the span [begin, end) of the command stayed data. When it did not and `finding`
  // is not null, fills it. Time: O(log parts) when the span is data; O(span) otherwise.
  // REQUIRES: begin < end <= command size.
  bool span_is_data(std::uint32_t begin, std::uint32_t end, ShellFinding* finding) const;

  const tokenize::shell::Tokens& tokens() const noexcept { return tokens_; }

 private:
  std::string_view text_;
  tokenize::shell::Tokens tokens_;
  // prefix_[k]: parts among [0, k) that are not inert text (operators, expansions, blanks...).
  std::vector<std::uint32_t> prefix_;
};

// The spans of recent occurrences judged clean. A decoded form of an input found inside a
// clean occurrence of the same input is a coincidence of decoding (the application inserted the
// larger form), not a second insertion, and is not judged on its own.
class CleanSpans {
 public:
  bool covers(const Occurrence& occ) const noexcept;
  void add(const Occurrence& occ) noexcept;

 private:
  std::array<Occurrence, 16> spans_{};
  std::size_t count_ = 0;
  std::size_t next_ = 0;
};

}  // namespace vigil::detect

#endif  // VIGIL_CORE_DETECT_SHELL_DETECTOR_HPP_
