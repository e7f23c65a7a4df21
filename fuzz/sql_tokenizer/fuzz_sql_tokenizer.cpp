// SQL lexer: never crashes; in every dialect the tokens cover the input in order without gaps,
// every token is non-empty and its content span nests inside it; the pull lexer and tokenize()
// agree, and so do the reusable TokenBuffer and seek(). Also runs the SQLite LIMIT evaluator from
// every LIMIT keyword.
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string_view>
#include <vector>

#include "core/tokenize/sql/sql_tokenizer.hpp"
#include "core/tokenize/sql/sqlite_limit.hpp"

namespace {

using vigil::Dialect;
using namespace vigil::tokenize::sql;

void check(std::string_view src, Dialect dialect) {
  static std::vector<Token> tokens;  // reused, as the detector does
  tokenize(src, dialect, &tokens);
  std::uint32_t at = 0;
  for (const Token& t : tokens) {
    if (t.begin != at || t.end <= t.begin || t.end > src.size()) std::abort();
    if (t.inner_begin < t.begin || t.inner_end < t.inner_begin || t.inner_end > t.end) std::abort();
    if (static_cast<int>(t.kind) > static_cast<int>(TokenKind::kError)) std::abort();
    at = t.end;
  }
  if (at != src.size()) std::abort();
  Lexer lexer(src, dialect);
  Token t;
  std::size_t n = 0;
  while (lexer.next(&t)) {
    if (n >= tokens.size() || t.begin != tokens[n].begin || t.end != tokens[n].end ||
        t.kind != tokens[n].kind)
      std::abort();
    ++n;
  }
  if (n != tokens.size()) std::abort();
  // The reusable buffer gives the same tokens; seek() from a fresh lexer gives the token that
  // holds a byte (up to 16 tokens spread over the text, at three bytes of each), also after an
  // earlier seek.
  static TokenBuffer buffer;
  std::span<const Token> again = tokenize(src, dialect, &buffer);
  if (again.size() != tokens.size()) std::abort();
  auto same = [](const Token& a, const Token& b) {
    return a.kind == b.kind && a.flags == b.flags && a.begin == b.begin && a.end == b.end &&
           a.inner_begin == b.inner_begin && a.inner_end == b.inner_end;
  };
  for (std::size_t i = 0; i < tokens.size(); ++i)
    if (!same(again[i], tokens[i])) std::abort();
  const std::size_t step = tokens.size() / 16 + 1;
  Lexer chained(src, dialect);
  for (std::size_t i = 0; i < tokens.size(); i += step) {
    const std::uint32_t target = tokens[i].end - 1;
    Lexer fresh(src, dialect);
    Token a, b;
    if (!fresh.seek(target, &a) || !same(a, tokens[i])) std::abort();
    if (!chained.seek(target, &b) || !same(b, tokens[i])) std::abort();
    // Also to the token's first byte and one between (a seek may start inside a plain run).
    const Token& e = tokens[i];
    for (std::uint32_t inside : {e.begin, e.begin + (e.end - e.begin) / 2}) {
      Lexer other(src, dialect);
      if (!other.seek(inside, &a) || !same(a, e)) std::abort();
    }
  }
  if (dialect == Dialect::kSqlite) {
    for (std::uint32_t i = 0; i < tokens.size(); ++i)
      if (tokens[i].kind == TokenKind::kKeyword && is_keyword(tokens[i].text(src)) &&
          tokens[i].end - tokens[i].begin == 5)
        (void)sqlite_limit_verdict(src, tokens, i);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view src(reinterpret_cast<const char*>(data), size);
  for (Dialect d : {Dialect::kGeneric, Dialect::kSqlite, Dialect::kMysql, Dialect::kPostgres,
                    Dialect::kMssql, Dialect::kOracle})
    check(src, d);
  return 0;
}
