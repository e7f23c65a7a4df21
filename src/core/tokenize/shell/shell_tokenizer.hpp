// POSIX shell tokenizer (bash-compatible; a POSIX dialect follows dash for `sh -c`).
//
// The tokenizer reads a command string the way a shell's lexer does and produces two views of
// it, both zero-copy (offsets into the source):
//
//  * tokens: words, operators, redirections, comments, newlines and here-document bodies, in
//    source order. Words inside command substitutions ($(...), `...`, <(...), >(...)) are
//    tokens too, with a greater depth and `parent` naming the word that holds the substitution.
//  * parts: a partition of the whole source into consecutive pieces (every byte belongs to
//    exactly one part, in order): blanks, literal text, escapes, quote delimiters, quoted text,
//    expansion delimiters and bodies, operators... Each part records the quoting mode its first
//    byte is read in and the substitution depth, so a caller can tell what state the lexer was
//    in at any offset and which syntax a byte range creates. Detectors use parts to decide
//    whether an input's span stayed literal text inside one word.
//
// Faithfulness: the lexer follows the rules of bash and dash for quoting (' " $' $" \),
// expansions ($name $1 $@ ${...} $(...) $((...)) $[...] `...`), process substitution, extended
// globs (?( *( +( @( !( ), operators, redirections with file-descriptor prefixes (2> {fd}>),
// here-documents (<< <<- with quoted or unquoted delimiters; <<< here-strings), comments (# at the
// start of a word), assignments and reserved words in command position. Like the mvdan/sh
// parser (the reference the evaluation uses) it treats a carriage return as a blank and starts a
// comment at a '#' that directly follows a quoted part or an expansion ("a"#b; bash would keep
// it in the word). Known simplifications: the inside of an unquoted here-document body marks
// expansions by their first bytes without nesting into them; `case`
// patterns' closing parentheses are operators.
//
// Robustness: linear time in the source size on any bytes (NUL, invalid UTF-8, megabytes); no
// recursion (nesting uses an explicit stack bounded by kMaxDepth; deeper input ends in a kError
// part); no exceptions other than std::bad_alloc from the result vectors, whose capacity is reused
// across calls. An unterminated construct is reported (flags, eof_quote), never a failure.
//
// Thread safety: tokenize() is reentrant; a Tokens object must not be shared while being filled.
#ifndef VIGIL_CORE_TOKENIZE_SHELL_SHELL_TOKENIZER_HPP_
#define VIGIL_CORE_TOKENIZE_SHELL_SHELL_TOKENIZER_HPP_

#include <cstdint>
#include <string_view>
#include <vector>

namespace vigil::tokenize::shell {

// kBash accepts bash syntax ($'...', $"...", <(...), |&, &>, ;&, ;;&, ((...)), $[...]).
// kPosix reads those the way dash does (as plain characters or separate operators).
enum class Dialect : std::uint8_t { kBash, kPosix };

enum class TokenKind : std::uint8_t {
  kWord,         // one shell word; its parts say how it is quoted and what it expands
  kOperator,     // ; & && || | |& ( ) ;; ;& ;;& and the (( that opens a bash arithmetic command
  kRedirection,  // < > >> <& >& <> >| &> &>> << <<- <<<, with an fd prefix (2>, {fd}>) if any
  kComment,      // from # to the end of the line (newline excluded)
  kNewline,      // an unquoted newline: ends a command
  kHeredocBody,  // the body of a here-document, including its delimiter line
};

// Token flags (Token::flags).
enum : std::uint16_t {
  kFlagParam = 1u << 0,           // word contains a parameter expansion ($x, ${x})
  kFlagSubstitution = 1u << 1,    // word contains $(...), `...`, <(...) or >(...)
  kFlagArithmetic = 1u << 2,      // word contains $((...)) or $[...], or is a ((...)) command
  kFlagGlob = 1u << 3,            // word has unquoted * ? [ (pathname expansion)
  kFlagExtGlob = 1u << 4,         // word has an extended glob ?( *( +( @( !(
  kFlagQuoted = 1u << 5,          // word has quotes or backslash escapes
  kFlagAssignment = 1u << 6,      // NAME=value in command-prefix position (Token::aux = '=' offset)
  kFlagReserved = 1u << 7,        // a reserved word (if, then, {, !, ...) in command position
  kFlagCommandName = 1u << 8,     // the word names the command to run
  kFlagUnterminated = 1u << 9,    // a quote, expansion or here-document runs to the end of input
  kFlagHeredocQuoted = 1u << 10,  // here-document body whose delimiter was quoted (no expansion)
};

// The quoting mode a byte is read in.
enum class Quote : std::uint8_t {
  kNone,           // unquoted shell text
  kSingle,         // inside '...'
  kDouble,         // inside "..." (or bash $"...")
  kAnsi,           // inside bash $'...'
  kParam,          // inside ${...}, outside nested quotes
  kArith,          // inside $((...)), $[...] or ((...))
  kExtGlob,        // inside an extended-glob pattern list
  kComment,        // inside a comment
  kHeredoc,        // inside an unquoted here-document body (expansions active)
  kHeredocQuoted,  // inside a quoted-delimiter here-document body (all literal)
};

enum class PartKind : std::uint8_t {
  kBlank,             // unquoted spaces, tabs and carriage returns outside words
  kNewline,           // an unquoted newline (also a kNewline token)
  kLiteral,           // unquoted literal characters of a word (glob characters included)
  kEscape,            // a backslash and the byte it quotes
  kContinuation,      // backslash-newline: removed by the shell, joins the lines
  kQuoteOpen,         // ' " $' $"
  kQuoteClose,        // the matching ' or "
  kQuotedText,        // literal text inside quotes
  kParam,             // $name, $1, $@, $?, ... (whole)
  kParamOpen,         // ${
  kParamText,         // name, operators and literal words inside ${...}
  kParamClose,        // the } that closes ${
  kSubstOpen,         // $( ` <( >(
  kSubstClose,        // the ) or ` that closes a substitution
  kArithOpen,         // $(( $[ ((
  kArithText,         // names, numbers and blanks inside arithmetic
  kArithOp,           // operators inside arithmetic
  kArithClose,        // )) or ]
  kExtGlobOpen,       // ?( *( +( @( !(
  kExtGlobText,       // pattern text inside an extended glob
  kExtGlobClose,      // its )
  kOperator,          // an operator token's bytes
  kRedirection,       // a redirection token's bytes (fd prefix included)
  kComment,           // a comment's bytes
  kHeredocText,       // here-document body text
  kHeredocExpansion,  // $x, ${, $(, ` inside an unquoted here-document body (first bytes)
  kHeredocEnd,        // the delimiter line that ends a here-document (newline included)
  kError,             // the rest of the input after the nesting limit was exceeded
};

inline constexpr std::uint32_t kNoToken = 0xFFFFFFFFu;
// Maximum nesting of quotes, expansions and substitutions inside each other.
inline constexpr std::size_t kMaxDepth = 128;

struct Part {
  PartKind kind;
  Quote quote;          // the mode the part's first byte is read in
  std::uint16_t depth;  // command-substitution depth (0 = top-level command list)
  std::uint32_t begin;  // [begin, end) in the source
  std::uint32_t end;
  std::uint32_t token;  // index in Tokens::tokens of the token the part belongs to, or kNoToken
};

struct Token {
  TokenKind kind;
  std::uint16_t flags;
  std::uint16_t depth;
  std::uint32_t begin;
  std::uint32_t end;
  std::uint32_t parent;      // the word holding this token's substitution, or kNoToken
  std::uint32_t first_part;  // index of the token's first part (its parts are not contiguous
                             // when a substitution nests other tokens' parts inside it)
  std::uint32_t aux;         // kFlagAssignment: offset of the '='; otherwise 0
};

struct Tokens {
  std::vector<Token> tokens;
  std::vector<Part> parts;
  // The lexer state at the end of the input: the quoting mode and depth an input appended to
  // the source would be read in. Anything other than {kNone, 0} means something is unterminated.
  Quote eof_quote = Quote::kNone;
  std::uint16_t eof_depth = 0;
  bool unterminated = false;    // a quote, expansion, substitution or here-document is open
  bool depth_exceeded = false;  // kMaxDepth was hit; the rest is one kError part

  void clear() noexcept {
    tokens.clear();
    parts.clear();
    eof_quote = Quote::kNone;
    eof_depth = 0;
    unterminated = false;
    depth_exceeded = false;
  }
};

// Tokenizes `src` into *out (cleared first; its capacity is reused). Sources of 4 GiB or more
// are not supported (offsets are 32-bit): the caller must not pass them.
void tokenize(std::string_view src, Dialect dialect, Tokens* out);

// Index of the part containing byte `offset` (< src size), by binary search. REQUIRES: tokens
// produced by tokenize() for a source longer than `offset`.
std::size_t part_at(const Tokens& tokens, std::uint32_t offset) noexcept;

// Short names for diagnostics and explanations ("word", "operator", "single-quoted text", ...).
std::string_view token_kind_name(TokenKind kind) noexcept;
std::string_view part_kind_name(PartKind kind) noexcept;

}  // namespace vigil::tokenize::shell

#endif  // VIGIL_CORE_TOKENIZE_SHELL_SHELL_TOKENIZER_HPP_
