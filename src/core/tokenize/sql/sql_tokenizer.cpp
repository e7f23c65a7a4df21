#include "core/tokenize/sql/sql_tokenizer.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "core/common/ascii.hpp"

namespace vigil::tokenize::sql {
namespace {

// Reserved words of SQL-92 and of the dialects, lower case, sorted. Only words that cannot be
// ordinary column names are here: a benign name such as "user", "name", "first" or "key" must
// read as an identifier. Function names are identifiers in every dialect.
// clang-format off
constexpr std::string_view kKeywords[] = {
    "add", "all", "alter", "analyze", "and", "any", "as", "asc", "attach", "begin", "between",
    "binary", "both", "by", "call", "cascade", "case", "cast", "check", "collate", "column",
    "commit", "constraint", "create", "cross", "current_date", "current_time", "current_timestamp",
    "current_user", "database", "deallocate", "declare", "default", "delete", "desc", "describe",
    "detach", "distinct", "distinctrow", "div", "do", "drop", "dual", "dumpfile", "else", "elseif",
    "end", "escape", "except", "exec", "execute", "exists", "explain", "false", "fetch", "for",
    "force", "foreign", "from", "full", "fulltext", "glob", "grant", "group", "handler", "having",
    "high_priority", "if", "ignore", "ilike", "in", "index", "infile", "inner", "insert",
    "intersect", "interval", "into", "is", "isnull", "join", "kill", "lateral", "leading", "left",
    "like", "limit", "load", "lock", "match", "mod", "natural", "not", "notnull", "null", "offset",
    "on", "or", "order", "outer", "outfile", "partition", "pragma", "prepare", "primary",
    "procedure", "raiserror", "recursive", "references", "regexp", "reindex", "release", "rename",
    "replace", "return", "returning", "revoke", "right", "rlike", "rollback", "savepoint",
    "select", "set", "show", "shutdown", "similar", "some", "sounds", "sql_calc_found_rows",
    "straight_join", "table", "then", "to", "top", "trailing", "transaction", "trigger", "true",
    "truncate", "union", "unique", "unknown", "unlock", "update", "use", "using", "vacuum",
    "values", "view", "waitfor", "when", "where", "while", "window", "with", "xor",
};
// clang-format on

constexpr bool keywords_sorted() {
  for (std::size_t i = 1; i < std::size(kKeywords); ++i)
    if (!(kKeywords[i - 1] < kKeywords[i])) return false;
  return true;
}
static_assert(keywords_sorted(), "kKeywords must be sorted and unique");

// Keyword lookup is on the hot path (every word of every statement): the keywords are grouped
// by first letter and length at compile time, so a word is compared with the few keywords of its
// bucket, usually failing on its second byte.
constexpr std::size_t kMaxKeyword = 20;
constexpr std::size_t kKeywordCount = std::size(kKeywords);

// The first (up to) eight bytes of a word, ASCII letters folded by OR-ing 0x20, as one
// little-endian integer: a keyword's bucket entry is compared with one integer compare. OR 0x20
// also maps '_' (0x5F) to 0x7F, which is equally what the keywords' '_' becomes; the only other
// byte that folds to a keyword byte is DEL (0x7F), which is never part of a word, and no byte
// that is not a letter folds to one.
constexpr std::uint64_t fold_head(std::string_view w) {
  std::uint64_t key = 0;
  for (std::size_t i = 0; i < w.size() && i < 8; ++i)
    key |= std::uint64_t(static_cast<unsigned char>(w[i]) | 0x20u) << (8 * i);
  return key;
}

struct KeywordBuckets {
  std::uint8_t order[kKeywordCount];  // keyword indexes by (first letter, length)
  std::uint64_t head[kKeywordCount];  // fold_head of kKeywords[order[b]]
  std::uint8_t start[26][kMaxKeyword + 1];
  std::uint8_t count[26][kMaxKeyword + 1];
};

constexpr KeywordBuckets build_keyword_buckets() {
  KeywordBuckets b{};
  std::size_t next = 0;
  for (std::size_t letter = 0; letter < 26; ++letter) {
    for (std::size_t len = 0; len <= kMaxKeyword; ++len) {
      b.start[letter][len] = static_cast<std::uint8_t>(next);
      for (std::size_t k = 0; k < kKeywordCount; ++k) {
        if (kKeywords[k].size() == len && kKeywords[k][0] == static_cast<char>('a' + letter)) {
          b.head[next] = fold_head(kKeywords[k]);
          b.order[next++] = static_cast<std::uint8_t>(k);
          ++b.count[letter][len];
        }
      }
    }
  }
  return b;
}
constexpr KeywordBuckets kKeywordBuckets = build_keyword_buckets();

constexpr bool keywords_fit() {
  if (kKeywordCount > 255) return false;
  for (std::string_view k : kKeywords)
    if (k.size() < 2 || k.size() > kMaxKeyword || k[0] < 'a' || k[0] > 'z') return false;
  return true;
}
static_assert(keywords_fit(), "keywords must be 2-20 bytes, start with a letter, fit a byte index");

// Keywords of up to eight bytes, by a multiplicative hash of their fold_head (which, its
// unused bytes being zero, also encodes the length): a word is looked up with one multiply and
// two compares.
constexpr std::size_t kHashBits = 8;
constexpr std::size_t kHashWays = 2;

struct KeywordHash {
  std::uint64_t multiplier = 0;
  std::uint64_t slot[std::size_t(1) << kHashBits][kHashWays] = {};
};

constexpr std::size_t hash_bucket(std::uint64_t key, std::uint64_t multiplier) {
  return static_cast<std::size_t>((key * multiplier) >> (64 - kHashBits));
}

// A multiplier for which no bucket overflows (found by trying random odd numbers; checked below:
// adding a keyword may need a new one).
constexpr std::uint64_t kKeywordMultiplier = 0x202ab6fac844b8fdu;

constexpr KeywordHash build_keyword_hash() {
  KeywordHash h{};
  h.multiplier = kKeywordMultiplier;
  for (std::string_view k : kKeywords) {
    if (k.size() > 8) continue;
    std::uint64_t* bucket = h.slot[hash_bucket(fold_head(k), h.multiplier)];
    std::size_t way = 0;
    while (way < kHashWays && bucket[way] != 0) ++way;
    if (way == kHashWays) return KeywordHash{};  // multiplier 0: overflow
    bucket[way] = fold_head(k);
  }
  return h;
}
constexpr KeywordHash kKeywordHash = build_keyword_hash();
static_assert(kKeywordHash.multiplier != 0,
              "a keyword hash bucket overflows: pick a new multiplier");

// is_keyword() for a word the lexer scanned (`avail` bytes are readable from `p`): its bytes are
// identifier bytes, '#' or '@', never DEL, so fold_head's folding is exact for it.
inline __attribute__((always_inline)) bool word_is_keyword(const char* p, std::uint32_t len,
                                                           std::uint32_t avail) noexcept {
  if (len - 2 > kMaxKeyword - 2) return false;  // also len < 2
  std::uint64_t key;
  if (std::endian::native == std::endian::little && avail >= 8) {
    std::memcpy(&key, p, 8);
    const std::uint64_t mask = len >= 8 ? ~std::uint64_t(0) : (std::uint64_t(1) << (8 * len)) - 1;
    key = (key | 0x2020202020202020u) & mask;
  } else {
    key = fold_head(std::string_view(p, len));
  }
  if (len <= 8) {
    const std::uint64_t* b = kKeywordHash.slot[hash_bucket(key, kKeywordHash.multiplier)];
    return (b[0] == key) | (b[1] == key);
  }
  const std::uint32_t letter = static_cast<std::uint32_t>(key & 0xff) - 'a';
  if (letter >= 26) return false;
  const std::size_t start = kKeywordBuckets.start[letter][len];
  const std::size_t end = start + kKeywordBuckets.count[letter][len];
  for (std::size_t b = start; b < end; ++b) {
    if (kKeywordBuckets.head[b] != key) continue;
    // Keywords of one bucket may share their first eight bytes (current_date, current_time).
    std::string_view kw = kKeywords[kKeywordBuckets.order[b]];
    std::uint32_t k = 8;
    while (k < len && (static_cast<unsigned char>(p[k]) | 0x20u) ==
                          (static_cast<unsigned char>(kw[k]) | 0x20u))
      ++k;
    if (k == len) return true;
  }
  return false;
}

// Byte classes, looked up once per byte on the hot path.
constexpr std::uint8_t kSpaceClass = 1;
constexpr std::uint8_t kIdentStartClass = 2;
constexpr std::uint8_t kIdentClass = 4;
constexpr std::uint8_t kPrefixEndClass = 8;  // may follow a literal's prefix word: ' " &
// Plain: bytes whose tokens in every dialect are white space, names, keywords, numbers, ( ) , ;
// or operators made of = < > . * only; none of them starts a token that can hold white space
// (strings, quoted names, comments, parameters: ' " ` [ $ - # / @ : ? are not plain).
constexpr std::uint8_t kPlainClass = 16;
// Ends every token it is part of when the next byte is not plain: white space, ( ) , ;
constexpr std::uint8_t kBoundaryClass = 32;

struct ClassTable {
  std::uint8_t c[256];
};
constexpr ClassTable build_classes() {
  ClassTable t{};
  for (int b = 0; b < 256; ++b) {
    char ch = static_cast<char>(b);
    std::uint8_t k = 0;
    if (common::is_space(ch)) k |= kSpaceClass;
    if (common::is_alpha(ch) || ch == '_' || b >= 0x80) k |= kIdentStartClass | kIdentClass;
    if (common::is_digit(ch) || ch == '$') k |= kIdentClass;
    if (ch == '\'' || ch == '"' || ch == '&') k |= kPrefixEndClass;
    if (((k & kIdentClass) && ch != '$') || common::is_space(ch) ||
        std::string_view("(),;=<>.*").find(ch) != std::string_view::npos)
      k |= kPlainClass;
    if (common::is_space(ch) || ch == '(' || ch == ')' || ch == ',' || ch == ';')
      k |= kBoundaryClass;
    t.c[b] = k;
  }
  return t;
}
constexpr ClassTable kClasses = build_classes();

constexpr bool is_ident_start(unsigned char c) { return (kClasses.c[c] & kIdentStartClass) != 0; }
constexpr bool is_ident_char(unsigned char c) { return (kClasses.c[c] & kIdentClass) != 0; }
constexpr bool is_space_byte(unsigned char c) { return (kClasses.c[c] & kSpaceClass) != 0; }
// The end of the run of identifier bytes (kIdentClass) that starts at i: 16 bytes per step
// where they are available.
inline std::uint32_t ident_run_end(const char* s, std::uint32_t i, std::uint32_t n) noexcept {
#if defined(__SSE2__)
  while (i + 16 <= n) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i));
    // Signed compares after a shift that moves each range to the bottom of the int8 range.
    const __m128i lower = _mm_or_si128(v, _mm_set1_epi8(0x20));
    const __m128i letter = _mm_cmplt_epi8(_mm_add_epi8(lower, _mm_set1_epi8(0x80 - 'a')),
                                          _mm_set1_epi8(static_cast<char>(0x80 + 26)));
    const __m128i digit = _mm_cmplt_epi8(_mm_add_epi8(v, _mm_set1_epi8(0x80 - '0')),
                                         _mm_set1_epi8(static_cast<char>(0x80 + 10)));
    const __m128i other = _mm_or_si128(
        _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('_')), _mm_cmpeq_epi8(v, _mm_set1_epi8('$'))),
        _mm_cmplt_epi8(v, _mm_setzero_si128()));  // bytes >= 0x80
    const unsigned ident =
        static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(letter, digit), other)));
    if (ident != 0xFFFF) return i + static_cast<std::uint32_t>(__builtin_ctz(~ident));
    i += 16;
  }
#endif
  while (i < n && is_ident_char(static_cast<unsigned char>(s[i]))) ++i;
  return i;
}

#if defined(__x86_64__)
// kPlainClass as two 16-entry tables for byte shuffles: bit r of hi[b >> 4] says that the bytes
// of that high nibble fall in row pattern r, bit r of lo[b & 15] that pattern r holds that low
// nibble; a byte is plain when the two share a bit. Built from kClasses and checked against it
// for all 256 bytes at compile time.
struct NibbleTables {
  std::uint8_t lo[16];
  std::uint8_t hi[16];
  bool ok;
};
constexpr NibbleTables build_plain_nibbles() {
  NibbleTables t{};
  std::uint16_t rows[8] = {};  // distinct sets of low nibbles, one bit each
  int used = 0;
  t.ok = true;
  for (int h = 0; h < 16; ++h) {
    std::uint16_t set = 0;
    for (int l = 0; l < 16; ++l)
      if (kClasses.c[h * 16 + l] & kPlainClass) set = static_cast<std::uint16_t>(set | 1u << l);
    if (set == 0) continue;
    int r = 0;
    while (r < used && rows[r] != set) ++r;
    if (r == used) {
      if (used == 8) {
        t.ok = false;
        return t;
      }
      rows[used++] = set;
    }
    t.hi[h] = static_cast<std::uint8_t>(1u << r);
    for (int l = 0; l < 16; ++l)
      if (set >> l & 1u) t.lo[l] = static_cast<std::uint8_t>(t.lo[l] | 1u << r);
  }
  for (int b = 0; b < 256; ++b)
    if (((t.lo[b & 15] & t.hi[b >> 4]) != 0) != ((kClasses.c[b] & kPlainClass) != 0)) t.ok = false;
  return t;
}
constexpr NibbleTables kPlainNibbles = build_plain_nibbles();
static_assert(kPlainNibbles.ok, "kPlainClass needs at most 8 row patterns");

// Read once at load time rather than behind a guard on every call.
const bool kHaveAvx2 = [] {
  __builtin_cpu_init();  // may run before libgcc's own constructor
  return __builtin_cpu_supports("avx2") != 0;
}();

// plain_run_end on AVX2 machines for texts of 32 bytes or more: two shuffles and an AND classify
// 32 bytes (the SSE2 range tests below take about 30 operations per 16); the last bytes are one
// more block that ends at the text's end, without the bytes already passed. Returns where a
// non-plain byte is, or n.
__attribute__((target("avx2"), aligned(64))) std::uint32_t plain_run_end_avx2(
    const char* s, std::uint32_t i, std::uint32_t n) noexcept {
  const __m256i lo = _mm256_broadcastsi128_si256(
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(kPlainNibbles.lo)));
  const __m256i hi = _mm256_broadcastsi128_si256(
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(kPlainNibbles.hi)));
  const __m256i low4 = _mm256_set1_epi8(0x0F);
  std::uint32_t keep = ~0u;  // the positions of the block not passed yet
  while (i < n) {
    std::uint32_t j = i;
    if (n - i < 32) {
      j = n - 32;
      keep = ~0u << (i - j);  // i - j < 32
    }
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(s + j));
    const __m256i c = _mm256_and_si256(
        _mm256_shuffle_epi8(lo, _mm256_and_si256(v, low4)),
        _mm256_shuffle_epi8(hi, _mm256_and_si256(_mm256_srli_epi16(v, 4), low4)));
    const unsigned other = static_cast<unsigned>(
                               _mm256_movemask_epi8(_mm256_cmpeq_epi8(c, _mm256_setzero_si256()))) &
                           keep;
    if (other != 0) return j + static_cast<std::uint32_t>(__builtin_ctz(other));
    i = j + 32;
  }
  return n;
}
#endif

// plain_run_end without AVX2 or for texts under 32 bytes; out of line, so that the AVX2 path
// through seek() stays short.
__attribute__((noinline)) std::uint32_t plain_run_end_sse2(const char* s, std::uint32_t i,
                                                          std::uint32_t n) noexcept {
#if defined(__SSE2__)
  // Range tests as in ident_run_end.
  auto in_range = [](__m128i v, char lo, int count) {
    return _mm_cmplt_epi8(_mm_add_epi8(v, _mm_set1_epi8(static_cast<char>(0x80 - lo))),
                          _mm_set1_epi8(static_cast<char>(0x80 + count)));
  };
  while (i + 16 <= n) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i));
    const __m128i name = _mm_or_si128(
        _mm_or_si128(in_range(_mm_or_si128(v, _mm_set1_epi8(0x20)), 'a', 26), in_range(v, '0', 10)),
        _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('_')),
                     _mm_cmplt_epi8(v, _mm_setzero_si128())));  // bytes >= 0x80
    const __m128i space =
        _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(' ')), in_range(v, '\t', 5));  // \t..\r
    const __m128i punct = _mm_or_si128(
        _mm_or_si128(in_range(v, '(', 3), in_range(v, ';', 4)),  // ( ) *  ; < = >
        _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(',')), _mm_cmpeq_epi8(v, _mm_set1_epi8('.'))));
    const unsigned plain =
        static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(name, space), punct)));
    if (plain != 0xFFFF) return i + static_cast<std::uint32_t>(__builtin_ctz(~plain));
    i += 16;
  }
#endif
  while (i < n && (kClasses.c[static_cast<unsigned char>(s[i])] & kPlainClass)) ++i;
  return i;
}

// The first byte at or after i that is not kPlainClass, or n.
inline std::uint32_t plain_run_end(const char* s, std::uint32_t i, std::uint32_t n) noexcept {
#if defined(__x86_64__)
  if (kHaveAvx2 && n >= 32) [[likely]]
    return plain_run_end_avx2(s, i, n);
#endif
  return plain_run_end_sse2(s, i, n);
}

// Where a seek to `target` may start lexing instead of at `pos` (the lexer's state at `pos` is
// its state there, outside a versioned comment). Plain bytes make tokens that end where the plain
// run ends when a boundary byte precedes its end (see kPlainClass): the tokens of the run are
// passed over unlexed. (A name or operator right before the end could run on into a prefixed
// literal or a longer operator; then the run is lexed as usual.) When the run goes on past the
// target, or its end is no boundary, the seek starts where white space ends last in the run at or
// before the target: a plain token holds no white space, and white space ends at the first byte
// that is not, so a token starts there whatever came before (a number compared at the end of a
// statement, "... AND id = 42", was lexed from the statement's start). The scan back covers
// what the lexing would: linear in the bytes passed over.
inline std::uint32_t seek_start(const char* s, std::uint32_t pos, std::uint32_t n,
                                std::uint32_t target) noexcept {
  const std::uint32_t q = plain_run_end(s, pos, n);
  if (q <= pos) return pos;
  if (q <= target && (kClasses.c[static_cast<unsigned char>(s[q - 1])] & kBoundaryClass))
    return q;
  for (std::uint32_t p = std::min(target, q - 1); p > pos; --p)
    if (is_space_byte(static_cast<unsigned char>(s[p - 1])) &&
        !is_space_byte(static_cast<unsigned char>(s[p])))
      return p;
  return pos;
}

// The first ' (or, when `backslash`, \\) at or after i, or n.
inline std::uint32_t find_quote_or_backslash(const char* s, std::uint32_t i, std::uint32_t n,
                                             bool backslash) noexcept {
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('\'');
  const __m128i slash = backslash ? _mm_set1_epi8('\\') : quote;
  while (i + 16 <= n) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i));
    const unsigned hit = static_cast<unsigned>(
        _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, slash))));
    if (hit != 0) return i + static_cast<std::uint32_t>(__builtin_ctz(hit));
    i += 16;
  }
#endif
  while (i < n && s[i] != '\'' && !(backslash && s[i] == '\\')) ++i;
  return i;
}

// MySQL's "--" comment needs a following space or control character.
constexpr bool is_space_or_control(unsigned char c) { return c <= 0x20 || c == 0x7f; }

enum class HexStyle : std::uint8_t { kNone, kNumber, kBlob };

// What a token that starts with a byte is, per dialect (Rules::start): the frequent kinds are
// lexed without going through next_other's switch.
enum StartClass : std::uint8_t {
  kStartOther,     // next_other's switch decides
  kStartSpace,     // white space
  kStartWord,      // a word (or a literal with a word prefix)
  kStartPunct,     // ( ) , ; ] { }
  kStartNumber,    // a digit
  kStartQuote,     // ' (a string in every dialect)
  kStartOperator,  // a byte next_other's switch has no case for: lex_operator decides
};

// Rules::op_class bits.
constexpr std::uint8_t kMultiOpStart = 1;   // the first byte of one of the multi-character ops
constexpr std::uint8_t kSingleOp = 2;       // a single-character operator
constexpr std::uint8_t kMultiOpSecond = 4;  // the second byte of one of the multi-character ops

}  // namespace

struct Lexer::Rules {
  bool dq_string;           // "…" is a string literal rather than a quoted identifier
  bool sq_backslash;        // backslash escapes in '…' and "…" strings
  bool brackets;            // […] is a quoted identifier
  bool bracket_doubling;    // ]] escapes ] inside […]
  bool backticks;           // `…` is a quoted identifier
  bool hash_comment;        // # starts a line comment
  bool dash_needs_space;    // -- starts a comment only before a space/control char or the end
  bool nested_comments;     // /* /* */ */ nests
  bool versioned;           // /*! … */ holds code
  bool dollar;              // $tag$…$tag$ strings and $1 parameters
  bool e_strings;           // E'…' with backslash escapes, U&'…', B'…'
  bool q_quotes;            // q'[…]' alternative quoting
  bool bit_literals;        // b'0101' and 0b0101
  bool digit_identifiers;   // 123abc is one identifier
  bool number_junk_error;   // 123abc is an error
  bool x_blobs;             // X'…'
  bool dollar_ident_start;  // $abc is an identifier
  bool cr_ends_comment;     // a -- comment also ends at CR
  HexStyle hex;             // 0x1F
  bool pg_operators;        // operators are runs of operator characters
  bool unknown_is_error;    // a byte that starts no token is kError (else kOperator)
  // Parameter syntax.
  bool q_param_digits;  // ?NNN
  bool colon_param;     // :name, :1
  bool at_param;        // @name
  bool at_at_param;     // @@name, @'name'
  bool dollar_param;    // $name
  bool hash_param;      // #name (SQLite)
  bool hash_ident;      // #name is an identifier (SQL Server temporary tables)
  // Multi-character operators, longest first within a common prefix; single-character
  // operators.
  std::string_view multi_ops[20];
  std::string_view single_ops;

  // Derived from the fields above by with_tables().
  std::uint8_t start[256] = {};     // StartClass of each byte
  std::uint8_t op_class[256] = {};  // kMultiOpStart | kSingleOp
  char ops[20][3] = {};             // multi_ops, NUL-padded: compared without string_view calls
  std::uint8_t op_count = 0;
  bool word_extra = false;  // '#' (and '@' in SQL Server) continue a name
};

namespace {

using Rules = Lexer::Rules;

// Fills in the derived tables of `r` for a dialect.
constexpr Rules with_tables(Rules r, bool oracle) {
  for (int b = 0; b < 256; ++b) {
    const char ch = static_cast<char>(b);
    std::uint8_t s = kStartOther;
    if (kClasses.c[b] & kSpaceClass)
      s = kStartSpace;
    else if ((kClasses.c[b] & kIdentStartClass) || (ch == '$' && r.dollar_ident_start) ||
             (ch == '#' && r.hash_ident))
      s = kStartWord;
    else if (ch == '(' || ch == ')' || ch == ',' || ch == ';' || ch == ']' || ch == '{' ||
             ch == '}')
      s = kStartPunct;
    else if (common::is_digit(ch))
      s = kStartNumber;
    else if (ch == '\'')
      s = kStartQuote;
    else if (std::string_view("[.\"`-#*/?:$@").find(ch) == std::string_view::npos)
      s = kStartOperator;
    r.start[b] = s;
    r.op_class[b] = 0;
    if (ch != '\0' && r.single_ops.find(ch) != std::string_view::npos) r.op_class[b] |= kSingleOp;
  }
  r.op_count = 0;
  for (std::string_view op : r.multi_ops) {
    if (op.empty()) break;
    r.op_class[static_cast<unsigned char>(op[0])] |= kMultiOpStart;
    r.op_class[static_cast<unsigned char>(op[1])] |= kMultiOpSecond;
    for (std::size_t k = 0; k < 3; ++k) r.ops[r.op_count][k] = k < op.size() ? op[k] : '\0';
    ++r.op_count;
  }
  r.word_extra = r.hash_ident || oracle;
  return r;
}

// Multi-character operators are 2 or 3 bytes without NUL (match_multi_op relies on it).
constexpr bool ops_fit(const Rules& r) {
  for (std::string_view op : r.multi_ops) {
    if (op.empty()) break;
    if (op.size() < 2 || op.size() > 3 || op.find('\0') != std::string_view::npos) return false;
  }
  return true;
}

constexpr Rules kSqliteRules = {
    .dq_string = false,
    .sq_backslash = false,
    .brackets = true,
    .bracket_doubling = false,
    .backticks = true,
    .hash_comment = false,
    .dash_needs_space = false,
    .nested_comments = false,
    .versioned = false,
    .dollar = false,
    .e_strings = false,
    .q_quotes = false,
    .bit_literals = false,
    .digit_identifiers = false,
    .number_junk_error = true,
    .x_blobs = true,
    .dollar_ident_start = false,
    .cr_ends_comment = false,
    .hex = HexStyle::kNumber,
    .pg_operators = false,
    .unknown_is_error = true,
    .q_param_digits = true,
    .colon_param = true,
    .at_param = true,
    .at_at_param = false,
    .dollar_param = true,
    .hash_param = true,
    .hash_ident = false,
    .multi_ops = {"->>", "->", "||", "<<", ">>", "<=", ">=", "==", "!=", "<>"},
    .single_ops = "=<>+-*/%&|~",
};

constexpr Rules kMysqlRules = {
    .dq_string = true,
    .sq_backslash = true,
    .brackets = false,
    .bracket_doubling = false,
    .backticks = true,
    .hash_comment = true,
    .dash_needs_space = true,
    .nested_comments = false,
    .versioned = true,
    .dollar = false,
    .e_strings = false,
    .q_quotes = false,
    .bit_literals = true,
    .digit_identifiers = true,
    .number_junk_error = false,
    .x_blobs = true,
    .dollar_ident_start = true,
    .cr_ends_comment = false,
    .hex = HexStyle::kBlob,
    .pg_operators = false,
    .unknown_is_error = true,
    .q_param_digits = false,
    .colon_param = false,
    .at_param = true,
    .at_at_param = true,
    .dollar_param = false,
    .hash_param = false,
    .hash_ident = false,
    .multi_ops = {"<=>", "->>", "->", ":=", "&&", "||", "<<", ">>", "<=", ">=", "!=", "<>"},
    .single_ops = "=<>+-*/%&|~^!",
};

constexpr Rules kPostgresRules = {
    .dq_string = false,
    .sq_backslash = false,
    .brackets = false,
    .bracket_doubling = false,
    .backticks = false,
    .hash_comment = false,
    .dash_needs_space = false,
    .nested_comments = true,
    .versioned = false,
    .dollar = true,
    .e_strings = true,
    .q_quotes = false,
    .bit_literals = true,
    .digit_identifiers = false,
    .number_junk_error = true,
    .x_blobs = true,
    .dollar_ident_start = false,
    .cr_ends_comment = true,
    .hex = HexStyle::kNumber,
    .pg_operators = true,
    .unknown_is_error = true,
    .q_param_digits = false,
    .colon_param = false,
    .at_param = false,
    .at_at_param = false,
    .dollar_param = false,
    .hash_param = false,
    .hash_ident = false,
    .multi_ops = {"::", ":=", "=>", ".."},
    .single_ops = "",
};

constexpr Rules kMssqlRules = {
    .dq_string = false,
    .sq_backslash = false,
    .brackets = true,
    .bracket_doubling = true,
    .backticks = false,
    .hash_comment = false,
    .dash_needs_space = false,
    .nested_comments = true,
    .versioned = false,
    .dollar = false,
    .e_strings = false,
    .q_quotes = false,
    .bit_literals = false,
    .digit_identifiers = false,
    .number_junk_error = false,
    .x_blobs = false,
    .dollar_ident_start = false,
    .cr_ends_comment = false,
    .hex = HexStyle::kBlob,
    .pg_operators = false,
    .unknown_is_error = true,
    .q_param_digits = false,
    .colon_param = false,
    .at_param = true,
    .at_at_param = true,
    .dollar_param = false,
    .hash_param = false,
    .hash_ident = true,
    .multi_ops = {"::", "<>", "!=", "!<", "!>", "<=", ">=", "+=", "-=", "*=", "/=", "%=", "&=",
                  "|=", "^=", "||"},
    .single_ops = "=<>+-*/%&|~^!",
};

constexpr Rules kOracleRules = {
    .dq_string = false,
    .sq_backslash = false,
    .brackets = false,
    .bracket_doubling = false,
    .backticks = false,
    .hash_comment = false,
    .dash_needs_space = false,
    .nested_comments = false,
    .versioned = false,
    .dollar = false,
    .e_strings = false,
    .q_quotes = true,
    .bit_literals = false,
    .digit_identifiers = false,
    .number_junk_error = false,
    .x_blobs = false,
    .dollar_ident_start = false,
    .cr_ends_comment = false,
    .hex = HexStyle::kNone,
    .pg_operators = false,
    .unknown_is_error = true,
    .q_param_digits = false,
    .colon_param = true,
    .at_param = false,
    .at_at_param = false,
    .dollar_param = false,
    .hash_param = false,
    .hash_ident = false,
    .multi_ops = {"||", "<>", "!=", "^=", "~=", "<=", ">=", "=>", ":=", "**", ".."},
    .single_ops = "=<>+-*/%&|~^!@",
};

// The permissive union: every quote that some dialect reads as a string is a string here, and
// every comment form is a comment, so an input that breaks out anywhere breaks out here.
constexpr Rules kGenericRules = {
    .dq_string = true,
    .sq_backslash = true,
    .brackets = true,
    .bracket_doubling = true,
    .backticks = true,
    .hash_comment = true,
    .dash_needs_space = false,
    .nested_comments = false,
    .versioned = true,
    .dollar = false,
    .e_strings = true,
    .q_quotes = false,
    .bit_literals = true,
    .digit_identifiers = false,
    .number_junk_error = false,
    .x_blobs = true,
    .dollar_ident_start = false,
    .cr_ends_comment = true,
    .hex = HexStyle::kBlob,
    .pg_operators = false,
    .unknown_is_error = false,
    .q_param_digits = true,
    .colon_param = true,
    .at_param = true,
    .at_at_param = true,
    .dollar_param = true,
    .hash_param = false,
    .hash_ident = false,
    .multi_ops = {"<=>", "->>", "->", ":=", "::", "&&", "||", "<<", ">>",
                  "<=", ">=", "==", "!=", "<>"},
    .single_ops = "=<>+-*/%&|~^!",
};

// The lexer's rules: the tables above with their derived tables filled in.
constexpr Rules kSqlite = with_tables(kSqliteRules, false);
constexpr Rules kMysql = with_tables(kMysqlRules, false);
constexpr Rules kPostgres = with_tables(kPostgresRules, false);
constexpr Rules kMssql = with_tables(kMssqlRules, false);
constexpr Rules kOracle = with_tables(kOracleRules, true);
constexpr Rules kGeneric = with_tables(kGenericRules, false);
static_assert(ops_fit(kSqlite) && ops_fit(kMysql) && ops_fit(kPostgres) && ops_fit(kMssql) &&
              ops_fit(kOracle) && ops_fit(kGeneric));


// PostgreSQL operator characters (scan.l: op_chars).
constexpr bool is_pg_op_char(char c) {
  return c != '\0' && std::string_view("~!@#^&|`?+-*/%<>=").find(c) != std::string_view::npos;
}
constexpr bool is_pg_special_op_char(char c) {
  return c != '\0' && std::string_view("~!@#%^&|`?").find(c) != std::string_view::npos;
}

}  // namespace

std::string_view token_kind_name(TokenKind kind) noexcept {
  switch (kind) {
    case TokenKind::kWhitespace:
      return "whitespace";
    case TokenKind::kComment:
      return "comment";
    case TokenKind::kKeyword:
      return "keyword";
    case TokenKind::kIdentifier:
      return "identifier";
    case TokenKind::kQuotedIdentifier:
      return "quoted identifier";
    case TokenKind::kString:
      return "string";
    case TokenKind::kNumber:
      return "number";
    case TokenKind::kBlob:
      return "blob";
    case TokenKind::kParameter:
      return "parameter";
    case TokenKind::kOperator:
      return "operator";
    case TokenKind::kPunctuation:
      return "punctuation";
    case TokenKind::kError:
      return "error";
  }
  return "error";
}

bool is_keyword(std::string_view word) noexcept {
  const std::size_t n = word.size();
  if (n < 2 || n > kMaxKeyword) return false;
  const char first = common::to_lower(word[0]);
  if (first < 'a' || first > 'z') return false;
  const std::size_t letter = static_cast<std::size_t>(first - 'a');
  const std::size_t start = kKeywordBuckets.start[letter][n];
  const std::size_t end = start + kKeywordBuckets.count[letter][n];
  for (std::size_t b = start; b < end; ++b) {
    std::string_view kw = kKeywords[kKeywordBuckets.order[b]];
    std::size_t k = 1;
    while (k < n && common::to_lower(word[k]) == kw[k]) ++k;
    if (k == n) return true;
  }
  return false;
}

// In Dialect's order.
const Lexer::Rules* const Lexer::kRulesOf[kDialects] = {&kGeneric,  &kSqlite, &kMysql,
                                                        &kPostgres, &kMssql,  &kOracle};
static_assert(static_cast<int>(Dialect::kGeneric) == 0 && static_cast<int>(Dialect::kSqlite) == 1 &&
              static_cast<int>(Dialect::kMysql) == 2 && static_cast<int>(Dialect::kPostgres) == 3 &&
              static_cast<int>(Dialect::kMssql) == 4 && static_cast<int>(Dialect::kOracle) == 5);

void Lexer::lex_string(Token* t, std::uint32_t prefix, char quote, bool backslash,
                       bool doubled) noexcept {
  const std::uint32_t n = static_cast<std::uint32_t>(text_.size());
  std::uint32_t i = pos_ + prefix + 1;
  t->inner_begin = i;
  if (backslash) t->flags |= kBackslashEscapes;
  while (i < n) {
    char c = text_[i];
    if (backslash && c == '\\') {
      i += 2;
      continue;
    }
    if (c == quote) {
      if (doubled && i + 1 < n && text_[i + 1] == quote) {
        i += 2;
        continue;
      }
      t->inner_end = i;
      t->end = pos_ = i + 1;
      return;
    }
    ++i;
  }
  t->flags |= kUnterminated;
  t->inner_end = t->end = pos_ = n;
}

void Lexer::lex_block_comment(Token* t) noexcept {
  const std::uint32_t n = static_cast<std::uint32_t>(text_.size());
  t->kind = TokenKind::kComment;
  std::uint32_t i = pos_ + 2;
  t->inner_begin = i;
  std::uint32_t depth = 1;
  while (i < n) {
    if (text_[i] == '*' && i + 1 < n && text_[i + 1] == '/') {
      if (--depth == 0) {
        t->inner_end = i;
        t->end = pos_ = i + 2;
        return;
      }
      i += 2;
    } else if (rules_->nested_comments && text_[i] == '/' && i + 1 < n && text_[i + 1] == '*') {
      if (depth < UINT32_MAX) ++depth;
      i += 2;
    } else {
      ++i;
    }
  }
  t->flags |= kUnterminated;
  t->inner_end = t->end = pos_ = n;
}

void Lexer::lex_number(Token* t) noexcept {
  const std::uint32_t n = static_cast<std::uint32_t>(text_.size());
  const std::uint32_t start = pos_;
  std::uint32_t i = pos_;
  t->kind = TokenKind::kNumber;
  auto digit = [&](std::uint32_t k) { return k < n && common::is_digit(text_[k]); };
  auto ident = [&](std::uint32_t k) {
    return k < n && is_ident_char(static_cast<unsigned char>(text_[k]));
  };
  bool integer = true;
  const char radix = i + 2 < n && text_[i] == '0' ? common::to_lower(text_[i + 1]) : '\0';
  if (radix == 'x' && rules_->hex != HexStyle::kNone && common::is_xdigit(text_[i + 2])) {
    i += 2;
    std::uint32_t first = i;
    while (i < n && common::is_xdigit(text_[i])) ++i;
    t->kind = rules_->hex == HexStyle::kBlob ? TokenKind::kBlob : TokenKind::kNumber;
    // SQLite: a hex integer wider than 64 bits is an error ("hex literal too big").
    while (first < i && text_[first] == '0') ++first;
    if (dialect_ == Dialect::kSqlite && i - first > 16) t->kind = TokenKind::kError;
  } else if (radix == 'b' && rules_->bit_literals && (text_[i + 2] == '0' || text_[i + 2] == '1')) {
    i += 2;
    while (i < n && (text_[i] == '0' || text_[i] == '1')) ++i;
    // PostgreSQL 16 reads 0b101 as an integer, MySQL as a bit-value literal.
    t->kind = dialect_ == Dialect::kPostgres ? TokenKind::kNumber : TokenKind::kBlob;
  } else if (radix == 'o' && dialect_ == Dialect::kPostgres && text_[i + 2] >= '0' &&
             text_[i + 2] <= '7') {
    i += 2;
    while (i < n && text_[i] >= '0' && text_[i] <= '7') ++i;
  } else {
    auto digits = [&] {
      while (digit(i) || (dialect_ == Dialect::kPostgres && i < n && text_[i] == '_' &&
                          digit(i + 1) && i > start && common::is_digit(text_[i - 1])))
        ++i;
    };
    digits();
    if (i < n && text_[i] == '.' &&
        !(i + 1 < n && text_[i + 1] == '.' && dialect_ == Dialect::kPostgres)) {
      integer = false;
      ++i;
      digits();
    }
    if (i < n && (text_[i] == 'e' || text_[i] == 'E')) {
      std::uint32_t k = i + 1;
      if (k < n && (text_[k] == '+' || text_[k] == '-')) ++k;
      if (digit(k)) {
        integer = false;
        i = k;
        digits();
      }
    }
  }
  if (ident(i)) {
    if (rules_->digit_identifiers && (integer || t->kind == TokenKind::kBlob)) {
      // MySQL: "123abc" and "0x1g" are identifiers (names may start with digits).
      while (ident(i)) ++i;
      t->kind = TokenKind::kIdentifier;
    } else if (rules_->number_junk_error) {
      while (ident(i)) ++i;
      t->kind = TokenKind::kError;
    }
  }
  t->inner_begin = start;
  t->end = t->inner_end = pos_ = i;
}

// X'..', B'..', N'..', E'..', U&'..', _charset'..', q'[..]' — a literal whose prefix is a word.
// Called with pos_ at the word and word_end past it; returns false if the word is no prefix.
bool Lexer::lex_prefixed_literal(Token* t, std::uint32_t word_end) noexcept {
  const std::uint32_t n = static_cast<std::uint32_t>(text_.size());
  const std::uint32_t len = word_end - pos_;
  if (word_end >= n) return false;
  const char next = text_[word_end];
  const char c0 = common::to_lower(text_[pos_]);
  const bool sq_backslash = rules_->sq_backslash;
  if (next == '\'' && len == 1) {
    if (c0 == 'x' && rules_->x_blobs) {
      lex_string(t, 1, '\'', false, false);
      t->kind = TokenKind::kBlob;
      bool ok = !t->unterminated();
      for (std::uint32_t k = t->inner_begin; ok && k < t->inner_end; ++k)
        ok = common::is_xdigit(text_[k]);
      // SQLite and MySQL want an even number of hex digits; PostgreSQL any.
      if (ok && dialect_ != Dialect::kPostgres && ((t->inner_end - t->inner_begin) & 1u))
        ok = false;
      if (!ok && !t->unterminated()) t->kind = TokenKind::kError;
      return true;
    }
    if (c0 == 'b' && rules_->bit_literals) {
      lex_string(t, 1, '\'', false, false);
      t->kind = TokenKind::kBlob;
      bool ok = !t->unterminated();
      for (std::uint32_t k = t->inner_begin; ok && k < t->inner_end; ++k)
        ok = text_[k] == '0' || text_[k] == '1';
      if (!ok && !t->unterminated()) t->kind = TokenKind::kError;
      return true;
    }
    if (c0 == 'n' && dialect_ != Dialect::kSqlite) {
      lex_string(t, 1, '\'', sq_backslash, true);
      t->kind = TokenKind::kString;
      return true;
    }
    if (c0 == 'e' && rules_->e_strings) {
      lex_string(t, 1, '\'', true, true);
      t->kind = TokenKind::kString;
      return true;
    }
    if (c0 == 'q' && rules_->q_quotes) {
      // q'<delim>…<closing delim>'
      t->kind = TokenKind::kString;
      std::uint32_t d = word_end + 1;
      if (d >= n || common::is_space(text_[d])) {
        // q' needs a delimiter character: what follows is read as a plain (invalid) literal.
        lex_string(t, 1, '\'', false, true);
        t->kind = TokenKind::kError;
        return true;
      }
      char open = text_[d];
      char close = open == '['   ? ']'
                   : open == '{' ? '}'
                   : open == '(' ? ')'
                   : open == '<' ? '>'
                                 : open;
      t->inner_begin = d + 1;
      for (std::uint32_t k = d + 1; k + 1 < n; ++k) {
        if (text_[k] == close && text_[k + 1] == '\'') {
          t->inner_end = k;
          t->end = pos_ = k + 2;
          return true;
        }
      }
      t->flags |= kUnterminated;
      t->inner_end = t->end = pos_ = n;
      return true;
    }
  }
  if (rules_->q_quotes && len == 2 && next == '\'' && c0 == 'n' &&
      common::to_lower(text_[pos_ + 1]) == 'q') {
    // nq'[…]': re-lex from the q.
    std::uint32_t start = pos_;
    ++pos_;
    bool r = lex_prefixed_literal(t, word_end);
    t->begin = start;
    return r;
  }
  if (rules_->e_strings && dialect_ == Dialect::kPostgres && len == 1 && c0 == 'u' && next == '&' &&
      word_end + 1 < n && (text_[word_end + 1] == '\'' || text_[word_end + 1] == '"')) {
    char q = text_[word_end + 1];
    lex_string(t, 2, q, false, true);
    t->kind = q == '\'' ? TokenKind::kString : TokenKind::kQuotedIdentifier;
    return true;
  }
  if (dialect_ == Dialect::kMysql && text_[pos_] == '_' && len > 1 &&
      (next == '\'' || next == '"')) {
    // A character set introducer: _utf8mb4'…', _binary'…'.
    lex_string(t, len, next, true, true);
    t->kind = TokenKind::kString;
    return true;
  }
  return false;
}

bool Lexer::lex_word(Token* t) noexcept {
  const std::uint32_t n = static_cast<std::uint32_t>(text_.size());
  const char* s = text_.data();
  auto ident = [&](std::uint32_t k) { return kClasses.c[static_cast<unsigned char>(s[k])]; };
  std::uint32_t i = ident_run_end(s, pos_ + 1, n);
  if (rules_->word_extra) {
    // SQL Server names may hold # and @, Oracle names #.
    while (i < n &&
           ((ident(i) & kIdentClass) || s[i] == '#' || (rules_->hash_ident && s[i] == '@')))
      ++i;
  }
  if (i < n && (ident(i) & kPrefixEndClass) && lex_prefixed_literal(t, i)) return true;
  t->kind =
      word_is_keyword(s + pos_, i - pos_, n - pos_) ? TokenKind::kKeyword : TokenKind::kIdentifier;
  t->inner_begin = pos_;
  t->end = t->inner_end = pos_ = i;
  return true;
}

// $1, $tag$…$tag$ (PostgreSQL).
bool Lexer::lex_dollar(Token* t) noexcept {
  const std::uint32_t n = static_cast<std::uint32_t>(text_.size());
  std::uint32_t i = pos_ + 1;
  if (i < n && common::is_digit(text_[i])) {
    while (i < n && common::is_digit(text_[i])) ++i;
    t->kind = TokenKind::kParameter;
    t->inner_begin = pos_;
    t->end = t->inner_end = pos_ = i;
    return true;
  }
  if (i < n && is_ident_start(static_cast<unsigned char>(text_[i]))) {
    while (i < n && is_ident_char(static_cast<unsigned char>(text_[i])) && text_[i] != '$') ++i;
  }
  if (i >= n || text_[i] != '$') return false;
  // The delimiter is text_[pos_ .. i]; the tag holds no '$', so a failed comparison stops at
  // the next '$' at the latest and the search stays linear.
  std::string_view delim = text_.substr(pos_, i + 1 - pos_);
  t->kind = TokenKind::kString;
  t->inner_begin = i + 1;
  std::uint32_t k = i + 1;
  while (k < n) {
    if (text_[k] == '$' && text_.substr(k, delim.size()) == delim) {
      t->inner_end = k;
      t->end = pos_ = k + static_cast<std::uint32_t>(delim.size());
      return true;
    }
    ++k;
  }
  t->flags |= kUnterminated;
  t->inner_end = t->end = pos_ = n;
  return true;
}

bool Lexer::match_multi_op(Token* t, std::string_view rest) noexcept {
  const Rules& r = *rules_;
  if (!(r.op_class[static_cast<unsigned char>(rest[0])] & kMultiOpStart) || rest.size() < 2 ||
      !(r.op_class[static_cast<unsigned char>(rest[1])] & kMultiOpSecond))
    return false;
  // Operators hold no NUL, so a missing third byte reads as one that matches none.
  const char r1 = rest[1], r2 = rest.size() > 2 ? rest[2] : '\0';
  for (std::uint32_t k = 0; k < r.op_count; ++k) {
    const char* op = r.ops[k];
    if (op[0] != rest[0] || op[1] != r1 || (op[2] != '\0' && op[2] != r2)) continue;
    t->kind = TokenKind::kOperator;
    t->end = t->inner_end = pos_ += op[2] != '\0' ? 3 : 2;
    return true;
  }
  return false;
}

void Lexer::lex_operator(Token* t) noexcept {
  const std::uint32_t n = static_cast<std::uint32_t>(text_.size());
  std::string_view rest = text_.substr(pos_);
  t->inner_begin = pos_;
  if (rules_->pg_operators) {
    if (match_multi_op(t, rest)) return;
    if (is_pg_op_char(rest[0])) {
      // scan.l: the longest run of operator characters, cut before a comment start; a
      // multi-character operator cannot end in + or - unless it contains one of ~!@#%^&|`?.
      std::uint32_t i = pos_;
      bool special = false;
      while (i < n && is_pg_op_char(text_[i])) {
        if (i > pos_ && ((text_[i] == '-' && i + 1 < n && text_[i + 1] == '-') ||
                         (text_[i] == '/' && i + 1 < n && text_[i + 1] == '*')))
          break;
        if (is_pg_special_op_char(text_[i])) special = true;
        ++i;
      }
      if (!special) {
        while (i - pos_ > 1 && (text_[i - 1] == '+' || text_[i - 1] == '-')) --i;
      }
      t->kind = TokenKind::kOperator;
      t->end = t->inner_end = pos_ = i;
      return;
    }
  } else {
    if (match_multi_op(t, rest)) return;
    if (rules_->op_class[static_cast<unsigned char>(rest[0])] & kSingleOp) {
      t->kind = TokenKind::kOperator;
      t->end = t->inner_end = ++pos_;
      return;
    }
  }
  // A byte no token starts with; a run of the same byte is one token (as SQLite reports one
  // "unrecognized token"), which also keeps pathological texts from one token per byte.
  t->kind = rules_->unknown_is_error ? TokenKind::kError : TokenKind::kOperator;
  std::uint32_t i = pos_ + 1;
  if (t->kind == TokenKind::kError)
    while (i < n && text_[i] == text_[pos_]) ++i;
  t->end = t->inner_end = pos_ = i;
}

bool Lexer::next(Token* t) noexcept { return next_batch(t, 1) == 1; }

std::size_t Lexer::next_batch(Token* out, std::size_t cap) noexcept {
  return run<false>(out, cap, 0);
}


// The frequent tokens (white space, words, numbers, punctuation, plain strings) are lexed here
// with the cursor in locals (a store through `out` could alias the members, which would then be
// re-read after each one); the rest by the member functions, out of line. kSeek: every token is
// written to out[0], words are classified only at `target`, and the run stops after the token
// that holds `target`.
template <bool kSeek>
__attribute__((noinline)) std::size_t Lexer::run(Token* out, std::size_t cap,
                                                 std::uint32_t target) noexcept {
  const char* s = text_.data();
  const std::uint32_t n = static_cast<std::uint32_t>(text_.size());
  const Rules& r = *rules_;
  std::uint32_t pos = pos_;
  auto lex_one = [&](Token* t) __attribute__((always_inline)) {
    const unsigned char c = static_cast<unsigned char>(s[pos]);
    const std::uint8_t start = r.start[c];
    if (start == kStartSpace) {
      std::uint32_t i = pos + 1;
      while (i < n && is_space_byte(static_cast<unsigned char>(s[i]))) ++i;
      *t = Token{TokenKind::kWhitespace, 0, pos, i, pos, i};
      pos = i;
      return;
    }
    if (start == kStartWord) {
      const std::uint32_t i = ident_run_end(s, pos + 1, n);
      if (!r.word_extra &&
          !(i < n && (kClasses.c[static_cast<unsigned char>(s[i])] & kPrefixEndClass))) {
        const bool keyword = (!kSeek || i > target) && word_is_keyword(s + pos, i - pos, n - pos);
        *t = Token{keyword ? TokenKind::kKeyword : TokenKind::kIdentifier, 0, pos, i, pos, i};
        pos = i;
        return;
      }
    } else if (start == kStartPunct) {
      *t = Token{TokenKind::kPunctuation, 0, pos, pos + 1, pos, pos + 1};
      ++pos;
      return;
    } else if (start == kStartNumber) {
      // Digits followed by nothing that could continue a number (., e, x, _, a name byte).
      std::uint32_t i = pos + 1;
      while (i < n && common::is_digit(s[i])) ++i;
      if (i == n ||
          (s[i] != '.' && !(kClasses.c[static_cast<unsigned char>(s[i])] & kIdentClass))) {
        *t = Token{TokenKind::kNumber, 0, pos, i, pos, i};
        pos = i;
        return;
      }
    } else if (start == kStartQuote) {
      // A string whose first quote or backslash (where escapes apply) is its closing quote.
      const std::uint32_t q = find_quote_or_backslash(s, pos + 1, n, r.sq_backslash);
      if (q < n && s[q] == '\'' && !(q + 1 < n && s[q + 1] == '\'')) {
        const std::uint8_t flags = r.sq_backslash ? kBackslashEscapes : 0;
        *t = Token{TokenKind::kString, flags, pos, q + 1, pos + 1, q};
        pos = q + 1;
        return;
      }
    } else if (start == kStartOperator && !r.pg_operators) {
      // A one-byte operator that starts no multi-byte one here (lex_operator's first answer).
      const unsigned char c1 = pos + 1 < n ? static_cast<unsigned char>(s[pos + 1]) : 0;
      if ((r.op_class[c] & kSingleOp) &&
          !((r.op_class[c] & kMultiOpStart) && (r.op_class[c1] & kMultiOpSecond))) {
        *t = Token{TokenKind::kOperator, 0, pos, pos + 1, pos, pos + 1};
        ++pos;
        return;
      }
    }
    t->flags = 0;
    t->begin = t->inner_begin = pos;
    pos_ = pos;
    if (start == kStartWord)
      lex_word(t);
    else if (start == kStartNumber)
      lex_number(t);
    else if (start == kStartOperator)
      lex_operator(t);
    else
      next_other(t);
    pos = pos_;
  };
  if (kSeek && !in_versioned_) pos = seek_start(s, pos, n, target);
  std::size_t count = 0;
  for (; (kSeek || count < cap) && pos < n; ++count) {
    Token* t = kSeek ? out : out + count;
    lex_one(t);
    if (kSeek && t->end > target) {
      pos_ = pos;
      return 1;
    }
  }
  pos_ = pos;
  return kSeek ? 0 : count;
}

// The usual seek (into a string literal that follows a run of plain bytes, as a search term in a
// LIKE pattern) on a short path of its own: the same steps as run<true>'s first ones. Anything
// else goes on through run<true>. Starts a cache line, as plain_run_end_avx2 (see
// Engine::check_sink).
__attribute__((aligned(64))) bool Lexer::seek(std::uint32_t target, Token* token) noexcept {
  const char* s = text_.data();
  const std::uint32_t n = static_cast<std::uint32_t>(text_.size());
  std::uint32_t pos = pos_;
  if (!in_versioned_) pos = seek_start(s, pos, n, target);  // run<true>'s pass over plain bytes
  if (pos < n && s[pos] == '\'') {  // lex_one's plain string (kStartQuote is exactly ')
    const bool backslash = rules_->sq_backslash;
    const std::uint32_t q = find_quote_or_backslash(s, pos + 1, n, backslash);
    if (q < n && s[q] == '\'' && !(q + 1 < n && s[q + 1] == '\'') && q >= target) {
      *token = Token{TokenKind::kString, backslash ? kBackslashEscapes : std::uint8_t{0}, pos,
                     q + 1, pos + 1, q};
      pos_ = q + 1;
      return true;
    }
  }
  pos_ = pos;
  return run<true>(token, 1, target) == 1;
}

bool Lexer::next_other(Token* t) noexcept {
  const std::uint32_t n = static_cast<std::uint32_t>(text_.size());
  const std::uint32_t start = pos_;
  const unsigned char c = static_cast<unsigned char>(text_[start]);
  const Rules& r = *rules_;

  const char c1 = start + 1 < n ? text_[start + 1] : '\0';
  auto finish = [&](TokenKind kind, std::uint32_t end) {
    t->kind = kind;
    t->end = t->inner_end = pos_ = end;
    return true;
  };
  auto line_comment = [&](std::uint32_t skip) {
    std::uint32_t i = start + skip;
    while (i < n && text_[i] != '\n' && !(r.cr_ends_comment && text_[i] == '\r')) ++i;
    t->inner_begin = start + skip;
    return finish(TokenKind::kComment, i);
  };
  auto ident_run = [&](std::uint32_t from) {
    std::uint32_t i = from;
    while (i < n && is_ident_char(static_cast<unsigned char>(text_[i]))) ++i;
    return i;
  };
  auto quoted = [&](char quote, bool backslash, bool doubled, TokenKind kind) {
    lex_string(t, 0, quote, backslash, doubled);
    t->kind = kind;
    return true;
  };

  // run() sends only kStartOther bytes here (with_tables lists the bytes of the cases below that
  // need this switch; a new case must be added there); the other cases keep next_other whole.
  switch (c) {
    case '(':
    case ')':
    case ',':
    case ';':
    case ']':
    case '{':
    case '}':
      return finish(TokenKind::kPunctuation, start + 1);
    case '[':
      if (r.brackets) return quoted(']', false, r.bracket_doubling, TokenKind::kQuotedIdentifier);
      return finish(TokenKind::kPunctuation, start + 1);
    case '.':
      if (common::is_digit(c1)) {
        lex_number(t);
        return true;
      }
      if (c1 == '.' && r.pg_operators) return finish(TokenKind::kOperator, start + 2);
      return finish(TokenKind::kPunctuation, start + 1);
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
    case '8':
    case '9':
      lex_number(t);
      return true;
    case '\'':
      return quoted('\'', r.sq_backslash, true, TokenKind::kString);
    case '"':
      if (r.dq_string) return quoted('"', r.sq_backslash, true, TokenKind::kString);
      return quoted('"', false, true, TokenKind::kQuotedIdentifier);
    case '`':
      if (r.backticks) return quoted('`', false, true, TokenKind::kQuotedIdentifier);
      break;
    case '-':
      if (c1 == '-' && (!r.dash_needs_space || start + 2 >= n ||
                        is_space_or_control(static_cast<unsigned char>(text_[start + 2]))))
        return line_comment(2);
      break;
    case '#':
      if (r.hash_comment) return line_comment(1);
      if (r.hash_param && is_ident_char(static_cast<unsigned char>(c1)))
        return finish(TokenKind::kParameter, ident_run(start + 1));
      break;
    case '*':
      if (in_versioned_ && c1 == '/') {
        in_versioned_ = false;
        t->flags |= kVersionedClose;
        return finish(TokenKind::kComment, start + 2);
      }
      break;
    case '/':
      if (c1 != '*') break;
      if (r.versioned && !in_versioned_ && start + 2 < n &&
          (text_[start + 2] == '!' ||
           (start + 3 < n && (text_[start + 2] == 'M' || text_[start + 2] == 'm') &&
            text_[start + 3] == '!'))) {
        // MySQL/MariaDB executable comment: "/*!", "/*!50000", "/*M!100100"; its body is code.
        std::uint32_t i = start + (text_[start + 2] == '!' ? 3 : 4);
        std::uint32_t digits = 0;
        while (i < n && digits < 6 && common::is_digit(text_[i])) ++i, ++digits;
        in_versioned_ = true;
        t->flags |= kVersionedOpen;
        return finish(TokenKind::kComment, i);
      }
      lex_block_comment(t);
      return true;
    case '?':
      if (r.pg_operators) break;  // PostgreSQL: a JSON operator character
      {
        std::uint32_t i = start + 1;
        if (r.q_param_digits)
          while (i < n && common::is_digit(text_[i])) ++i;
        return finish(TokenKind::kParameter, i);
      }
    case ':':
      if (r.colon_param && is_ident_char(static_cast<unsigned char>(c1)))
        return finish(TokenKind::kParameter, ident_run(start + 1));
      // ":=" and "::" are operators where the dialect has them; a lone colon is an array-slice
      // or label separator, or a byte SQLite and MySQL reject.
      if (c1 == '=' || c1 == ':') break;
      return finish(dialect_ == Dialect::kSqlite || dialect_ == Dialect::kMysql
                        ? TokenKind::kError
                        : TokenKind::kPunctuation,
                    start + 1);
    case '$':
      if (r.dollar && lex_dollar(t)) return true;
      if (r.dollar_param && is_ident_char(static_cast<unsigned char>(c1)))
        return finish(TokenKind::kParameter, ident_run(start + 1));
      break;
    case '@': {
      if (!r.at_param && !r.at_at_param) break;
      std::uint32_t i = start + 1;
      if (r.at_at_param && c1 == '@') {
        ++i;
      } else if (r.at_at_param && (c1 == '\'' || c1 == '"' || c1 == '`')) {
        // @'user variable'
        lex_string(t, 1, c1, c1 != '`' && r.sq_backslash, true);
        t->kind = TokenKind::kParameter;
        return true;
      }
      std::uint32_t e = i;
      // @@session.sql_mode: dots separate scope and name.
      while (e < n && (is_ident_char(static_cast<unsigned char>(text_[e])) ||
                       (r.at_at_param && text_[e] == '.' && i == start + 2) ||
                       (r.hash_ident && (text_[e] == '@' || text_[e] == '#'))))
        ++e;
      if (e > i || (r.at_at_param && i == start + 2)) return finish(TokenKind::kParameter, e);
      if (r.single_ops.find('@') == std::string_view::npos) {
        std::uint32_t run = start + 1;
        while (run < n && text_[run] == '@') ++run;
        return finish(TokenKind::kError, run);
      }
      break;
    }
    default:
      break;
  }
  lex_operator(t);
  return true;
}

void tokenize(std::string_view text, Dialect dialect, std::vector<Token>* out) {
  // Tokens are written in place (no copy per token). The vector grows geometrically but first
  // uses the capacity a previous call left, and is cut to size at the end; growing it
  // value-initialises only the part added.
  Lexer lexer(text, dialect);
  std::size_t count = 0;
  out->resize(
      std::min<std::size_t>(std::max<std::size_t>(out->capacity(), 64), text.size() / 4 + 64));
  for (;;) {
    const std::size_t room = out->size() - count;
    const std::size_t got = lexer.next_batch(out->data() + count, room);
    count += got;
    if (got < room) break;
    out->resize(out->capacity() > out->size() ? std::min(out->capacity(), 2 * out->size())
                                              : 2 * out->size());
  }
  out->resize(count);
}

std::span<const Token> tokenize(std::string_view text, Dialect dialect, TokenBuffer* buffer) {
  Lexer lexer(text, dialect);
  std::vector<Token>& slots = buffer->slots;
  if (slots.empty()) slots.resize(64);
  std::size_t count = 0;
  for (;;) {
    const std::size_t room = slots.size() - count;
    const std::size_t got = lexer.next_batch(slots.data() + count, room);
    count += got;
    if (got < room) break;
    slots.resize(2 * slots.size());
  }
  return {slots.data(), count};
}

}  // namespace vigil::tokenize::sql
