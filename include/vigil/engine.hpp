// Vigil detection engine: the C++ API.
//
// An Engine is immutable after creation and may be shared by any number of threads. Each
// request prepares its inputs once (PreparedInputs), then every sink call the application makes
// while serving that request is checked against them with Engine::check_sink().
//
//   vigil::Engine engine;
//   vigil::Input inputs[] = {{vigil::Source::kQuery, "q", "x' OR 1=1--"}};
//   vigil::PreparedInputs prepared(inputs);
//   vigil::Sink sink = vigil::Sink::sql(vigil::Dialect::kSqlite, query);
//   vigil::Verdict v = engine.check_sink(sink, prepared);
//   if (v.attack()) { ... v.detections[0].explanation ... }
//
// Nothing here throws. Strings passed in are borrowed (std::string_view) and must outlive the
// call that receives them; PreparedInputs borrows the Input values it was built from.
#ifndef VIGIL_ENGINE_HPP_
#define VIGIL_ENGINE_HPP_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace vigil {

// Where a request input came from.
enum class Source : std::uint8_t {
  kQuery,
  kBody,
  kJson,
  kHeader,
  kCookie,
  kPath,
  kMultipart,
  kOther,
};

// "query", "body", ...; "other" for kOther.
std::string_view source_name(Source source) noexcept;
// Parses a source name; unknown names give kOther. Never fails.
Source parse_source(std::string_view name) noexcept;

// One value a request carries, as the application received it (after its own decoding).
struct Input {
  Source source = Source::kOther;
  std::string_view name;
  std::string_view value;
};

// The kind of dangerous operation.
enum class SinkType : std::uint8_t {
  kSql,
  kShell,
  kExec,
  kPath,
  kUrl,
  kHtml,
  kHeader,
  kRedirect,
};
inline constexpr std::size_t kSinkTypeCount = 8;

std::string_view sink_type_name(SinkType type) noexcept;
// Returns false (and leaves *out alone) when the name is not a sink type.
bool parse_sink_type(std::string_view name, SinkType* out) noexcept;

// SQL dialect of a kSql sink. kGeneric accepts the union of the common lexical rules.
enum class Dialect : std::uint8_t {
  kGeneric,
  kSqlite,
  kMysql,
  kPostgres,
  kMssql,
  kOracle,
};

std::string_view dialect_name(Dialect dialect) noexcept;
// Unknown names give kGeneric ("an unknown dialect is analysed with the generic lexer").
Dialect parse_dialect(std::string_view name) noexcept;

// A dangerous operation, as the application is about to perform it.
struct Sink {
  SinkType type = SinkType::kSql;
  Dialect dialect = Dialect::kGeneric;  // kSql only.
  // The operation: the SQL text, the shell command, the path, the URL, the HTML, the header
  // line(s), or the redirect target. Unused for kExec.
  std::string_view value;
  // kExec only: the argument vector, argv[0] being the program.
  std::span<const std::string_view> argv;
  // kPath: the directory the application meant to stay in (optional).
  // kRedirect: the URL of the page the target is resolved against (optional).
  std::string_view base;
  // kHtml: `value` is the start of a page still being written. What is left open at its end (a
  // <script> block not closed yet) is not judged: a string or comment cut there is not one the
  // input broke. Check the whole page again, not partial, once it is written.
  bool partial = false;

  static Sink sql(Dialect d, std::string_view query) noexcept {
    Sink s;
    s.type = SinkType::kSql;
    s.dialect = d;
    s.value = query;
    return s;
  }
  static Sink of(SinkType t, std::string_view value, std::string_view base = {}) noexcept {
    Sink s;
    s.type = t;
    s.value = value;
    s.base = base;
    return s;
  }
  static Sink exec(std::span<const std::string_view> argv) noexcept {
    Sink s;
    s.type = SinkType::kExec;
    s.argv = argv;
    return s;
  }
};

// What a detection means to a SOC (SPEC.md "outcome").
enum class Outcome : std::uint8_t {
  kExploited,   // sink analysis fired and the operation ran (monitor mode)
  kBlocked,     // the sink call or the request was stopped
  kProbed,      // input analysis fired; no sink was affected (yet)
  kSuspicious,  // weaker evidence: scanner fingerprint, protocol anomaly, budget overrun
};
std::string_view outcome_name(Outcome outcome) noexcept;

// A rule's mode, set by policy.
enum class Mode : std::uint8_t { kOff, kMonitor, kBlock };
std::string_view mode_name(Mode mode) noexcept;
bool parse_mode(std::string_view name, Mode* out) noexcept;

// The decoded form of an input in which it was found in the operation.
enum class Form : std::uint8_t {
  kRaw,           // as received
  kUrlDecoded,    // percent- and '+'-decoded once
  kUrlDecoded2,   // decoded twice
  kHtmlDecoded,   // HTML character references resolved
  kJsonUnescaped, // JSON/JavaScript string escapes resolved
  kTrimmed,       // leading and trailing white space removed
  kQuoteDoubled,  // ' doubled to '' as a SQL-quoting application would (its backslashes kept)
  kNulTruncated,  // cut at the first NUL, as a C string API (sqlite3_prepare, system, execve) reads it
  kName,          // the input's name (a key the client chose), or its first or last key segment
  kJsonField,     // a string (or a key) inside a value that is a JSON document, as a program that
                  // parses the value reads it (a form field, cookie or parameter holding JSON)
  kBase64Decoded, // base64-decoded, when that gives text (a return URL or path sent encoded)
};
std::string_view form_name(Form form) noexcept;

// A token of the operation that the input created or crossed.
struct TokenNote {
  std::string kind;    // tokenizer's name for it: "keyword", "operator", "comment", "string"...
  std::string text;    // the token's text (truncated to 80 bytes)
  std::uint32_t begin = 0;  // byte offsets in the operation (argv element for kExec)
  std::uint32_t end = 0;
};

// One proof that an input changed the meaning of the operation.
struct Detection {
  std::string rule;          // "sql-injection", "command-injection", ...
  Mode mode = Mode::kMonitor;  // the policy's mode for the rule
  std::string cwe;           // "CWE-89"
  std::uint32_t input = 0;   // index into the inputs the check was given
  Form form = Form::kRaw;    // the input form that occurs in the operation
  std::uint32_t element = 0; // argv index for kExec; 0 otherwise
  std::uint32_t begin = 0;   // the input's span in the operation (or argv element)
  std::uint32_t end = 0;
  std::string reason;        // one sentence for a person
  std::vector<TokenNote> tokens;  // what the input created or crossed
};

// The result of one check. attack() is true when at least one detection was made.
struct Verdict {
  std::vector<Detection> detections;
  // Internal trouble (a limit hit, an unexpected state): the check failed open. Counted.
  bool failed_open = false;
  std::string note;

  bool attack() const noexcept { return !detections.empty(); }
};

// The inputs of one request in every form an application might have turned them into.
// Built once per request; check_sink() reuses it for every sink call. Borrows the values.
// Thread-compatible: build and use it on one thread at a time.
class PreparedInputs {
 public:
  PreparedInputs();
  explicit PreparedInputs(std::span<const Input> inputs);
  PreparedInputs(const PreparedInputs&) = delete;
  PreparedInputs& operator=(const PreparedInputs&) = delete;
  PreparedInputs(PreparedInputs&&) noexcept;
  PreparedInputs& operator=(PreparedInputs&&) noexcept;
  ~PreparedInputs();

  // Re-prepares for another request, reusing memory.
  void reset(std::span<const Input> inputs);

  std::span<const Input> inputs() const noexcept { return inputs_; }

  // Opaque to users; the engine reads it.
  struct Impl;
  const Impl* impl() const noexcept { return impl_.get(); }

 private:
  std::span<const Input> inputs_;
  std::unique_ptr<Impl> impl_;
};

struct EngineOptions {
  // Inputs shorter than this many bytes (in every form) are not searched for. Two bytes is the
  // shortest input that can both break out of a context and add syntax ("'#", "1;").
  std::size_t min_input_length = 2;
  // Occurrences of one input form examined per sink call; more are counted in Verdict::note.
  std::size_t max_occurrences_per_input = 4096;
  // Remember input values input analysis found clean (User-Agent, cookies, Referer: what a
  // client repeats on every request) and skip their analysis when they come again. Verdicts are
  // the same either way; off, every value is analysed every time.
  bool remember_clean_inputs = true;
};

class Policy;
class RequestContext;
namespace engine {
class CleanMemo;
}
struct RequestVerdict;

// Counters of what the engine did, for the sensor-health view. Monotonic.
struct EngineStats {
  std::uint64_t requests = 0;         // analyze_request() calls
  std::uint64_t sinks = 0;            // check_sink() calls
  std::uint64_t findings = 0;         // input-analysis findings reported
  std::uint64_t detections = 0;       // sink detections reported
  std::uint64_t budget_overruns = 0;  // requests whose analysis hit the time budget
  std::uint64_t fail_opens = 0;       // checks that failed open (limits, internal errors)
};

// The detection engine. Thread-safe: every method may be called concurrently, including
// set_policy() while requests are being analysed (each call uses one policy snapshot).
class Engine {
 public:
  explicit Engine(EngineOptions options = {}) noexcept;
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Replaces the policy atomically; null restores Policy::defaults().
  void set_policy(std::shared_ptr<const Policy> policy) noexcept;
  std::shared_ptr<const Policy> policy() const noexcept;

  // Input analysis of one request under the current policy: IP lists, virtual patches, the
  // input detectors (within the policy's time budget), scanner and protocol signals. Findings
  // of rules in mode off, and excluded findings, are dropped. Never throws.
  RequestVerdict analyze_request(const RequestContext& request,
                                 const PreparedInputs& inputs) const noexcept;

  EngineStats stats() const noexcept;

  // Sink analysis: does any input occur in the operation and change its meaning?
  // Each detection's mode is the policy's mode for its rule (detections of rules in mode off,
  // or excluded for the route/input/client in `request` when given, are dropped).
  // Never throws; on internal failure returns a clean verdict with failed_open set.
  Verdict check_sink(const Sink& sink, const PreparedInputs& inputs,
                     const RequestContext* request = nullptr) const noexcept;

  // Convenience for one-off checks (prepares the inputs each call).
  Verdict check_sink(const Sink& sink, std::span<const Input> inputs) const noexcept;
  // True when an input (a form check_sink would look for) occurs in sink.value ending after
  // byte `from`: whether text appended since a check at `from` needs another. Linear in the
  // text after `from` (and the longest input before it); true on any internal error.
  bool input_occurs_after(const Sink& sink, std::size_t from,
                          const PreparedInputs& inputs) const noexcept;

  const EngineOptions& options() const noexcept { return options_; }

 private:
  struct Counters;
  EngineOptions options_;
  std::atomic<std::shared_ptr<const Policy>> policy_;
  std::unique_ptr<Counters> counters_;
  std::unique_ptr<engine::CleanMemo> memo_;  // null when remember_clean_inputs is off
};

// A readable, multi-line account of a verdict: the operation with the input's span marked,
// and the tokens it created or crossed.
std::string describe(const Sink& sink, std::span<const Input> inputs, const Verdict& verdict);

}  // namespace vigil

#endif  // VIGIL_ENGINE_HPP_
