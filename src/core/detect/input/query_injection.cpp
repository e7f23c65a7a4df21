// Injections into query languages other than SQL: MongoDB operators and server-side
// JavaScript (NoSQL), LDAP filters, XPath expressions.
#include "core/common/ascii.hpp"
#include "core/detect/input/input_detector.hpp"

namespace vigil::detect::input {
namespace {

bool is_ident(char c) { return common::is_alnum(c) || c == '_'; }

// MongoDB query and update operators (case-sensitive, as MongoDB is).
constexpr std::string_view kMongoOperators[] = {
    "ne", "eq", "gt", "gte", "lt", "lte", "in", "nin", "regex", "where", "exists", "or", "and",
    "not", "nor", "expr", "elemMatch", "size", "type", "all", "mod", "text", "function",
    "accumulator", "jsonSchema", "options", "set", "unset", "push", "lookup", "match"};

// Finds "$op" delimited as a key: preceded by start, [, {, ., space, quote or comma, and
// followed by end, ], quote, colon or space.
bool find_operator(std::string_view v, std::string_view* op) {
  for (std::size_t i = v.find('$'); i != std::string_view::npos; i = v.find('$', i + 1)) {
    char before = i == 0 ? '[' : v[i - 1];
    if (!(before == '[' || before == '{' || before == '.' || before == ' ' || before == '"' ||
          before == '\'' || before == ',' || before == '\t'))
      continue;
    std::size_t j = i + 1;
    while (j < v.size() && is_ident(v[j])) ++j;
    std::string_view name = v.substr(i + 1, j - i - 1);
    char after = j < v.size() ? v[j] : ']';
    if (!(after == ']' || after == '"' || after == '\'' || after == ':' || after == ' ')) continue;
    for (std::string_view o : kMongoOperators) {
      if (name == o) {
        *op = v.substr(i, j - i);
        return true;
      }
    }
  }
  return false;
}

// Server-side JavaScript after a quote break-out: "' && this.x.match(/.*/)//",
// "';return true;var a='", "';sleep(5000);".
bool javascript_breakout(std::string_view v, std::size_t* at) {
  static constexpr std::string_view kMarkers[] = {"this.", "return ", "return(", "sleep(",
                                                  "new Date", "while(",  "db.",    "function(",
                                                  "==",     "&&",        "||"};
  std::size_t quote = common::find_any(v, "'\"");
  if (quote == std::string_view::npos) {
    // "0;return true": a statement separator followed by a JavaScript statement.
    std::size_t semi = v.find(';');
    if (semi == std::string_view::npos) return false;
    std::string_view rest = common::trim(v.substr(semi + 1));
    if (common::istarts_with(rest, "return") || common::istarts_with(rest, "sleep(") ||
        common::istarts_with(rest, "while(")) {
      *at = semi;
      return true;
    }
    return false;
  }
  std::string_view rest = v.substr(quote + 1);
  std::size_t k = 0;
  while (k < rest.size() && common::is_space(rest[k])) ++k;
  // The break-out must be followed by an operator or a statement boundary.
  if (!(rest.substr(k, 2) == "&&" || rest.substr(k, 2) == "||" || rest.substr(k, 1) == ";"))
    return false;
  for (std::string_view m : kMarkers) {
    if (rest.find(m, k + 1) != std::string_view::npos) {
      *at = quote;
      return true;
    }
  }
  return false;
}

}  // namespace

bool detect_nosqli(const Candidate& c, Hit* hit) {
  std::string_view op;
  // The operator may sit in the input's name (user[$ne]=1, JSON key path "password.$gt").
  if (c.features & kDollar) {
    if (find_operator(c.value, &op) || find_operator(c.name, &op)) {
      hit->reason = "a MongoDB query operator " + std::string(op) +
                    " where the application expects a plain value (operator injection)";
      hit->evidence = evidence(c.value.empty() ? c.name : c.value);
      return true;
    }
  }
  std::size_t at = 0;
  if (javascript_breakout(c.value, &at)) {
    hit->reason = "closes a string and adds server-side JavaScript ($where / mapReduce injection)";
    hit->evidence = evidence(c.value.substr(at));
    return true;
  }
  return false;
}

namespace {

// RFC 4515: an attribute description (a name or a numeric OID, options after ';') followed by a
// filter type (=, ~=, >=, <=, or an extensible ':' match).
bool ldap_item_at(std::string_view v, std::size_t i) {
  std::size_t start = i;
  while (i < v.size() && (common::is_alnum(v[i]) || v[i] == '-' || v[i] == '.' || v[i] == ';'))
    ++i;
  if (i == start || i >= v.size()) return false;
  if (v[i] == '=' || v[i] == ':') return true;
  return (v[i] == '~' || v[i] == '>' || v[i] == '<') && i + 1 < v.size() && v[i + 1] == '=';
}

// After the application's item was closed: what follows must be filter syntax (a new item, a
// boolean filter, more closing parentheses, or the end of the value, possibly a NUL that
// truncates the rest of the application's filter).
bool ldap_continuation_at(std::string_view v, std::size_t i, bool* added_item) {
  std::size_t closers = 0;
  while (i < v.size() && v[i] == ')') ++i, ++closers;
  if (i >= v.size()) return closers > 0;
  if (v[i] == '\0' || v.substr(i, 3) == "%00") return true;
  if (v[i] != '(') return false;
  while (i < v.size() && v[i] == '(') ++i;
  if (i < v.size() && (v[i] == '&' || v[i] == '|' || v[i] == '!')) {
    *added_item = true;
    return i + 1 >= v.size() || v[i + 1] == '(' || v[i + 1] == ')' || ldap_item_at(v, i + 1);
  }
  *added_item = ldap_item_at(v, i);
  return *added_item;
}

}  // namespace

// The application puts the value inside an item of its filter, "(uid=VALUE)". The value is an
// injection when it closes that item (more ')' than '(' so far) and what follows is filter
// syntax, or when it is itself a boolean filter of items. Parentheses in prose balance or are
// followed by words, so they stay data.
bool detect_ldapi(const Candidate& c, Hit* hit) {
  std::string_view v = c.value;
  int depth = 0;
  for (std::size_t i = 0; i < v.size(); ++i) {
    char ch = v[i];
    if (ch == '\\') {  // RFC 4515 escapes: \29 is a literal ')'
      ++i;
      continue;
    }
    if (ch == '(') {
      // A boolean filter of items inside the value: "(|(uid=*)(cn=x))".
      if (i + 2 < v.size() && (v[i + 1] == '&' || v[i + 1] == '|' || v[i + 1] == '!') &&
          v[i + 2] == '(' && ldap_item_at(v, i + 3)) {
        hit->reason = std::string("an LDAP boolean filter (") + v[i + 1] +
                      ") of new conditions, which widens the application's filter";
        hit->evidence = evidence(v.substr(i));
        return true;
      }
      ++depth;
      continue;
    }
    if (ch != ')') continue;
    if (--depth >= 0) continue;
    // This ')' closes the application's item. A wildcard right before it makes the item match
    // everything ("*)"), and what follows must be filter syntax.
    bool added_item = false;
    if (!ldap_continuation_at(v, i, &added_item)) break;
    bool wildcard = i > 0 && v[i - 1] == '*';
    if (!added_item && !wildcard) break;
    // Only syntax, never prose, comes before the break-out: no spaces in the closed value.
    if (v.substr(0, i).find(' ') != std::string_view::npos) break;
    hit->reason = added_item ? "closes the application's LDAP filter item and adds new filter "
                               "conditions"
                             : "a wildcard that closes the application's LDAP filter item, so "
                               "it matches every entry";
    hit->evidence = evidence(v.substr(i > 0 && wildcard ? i - 1 : i));
    return true;
  }
  // A bare wildcard-and-operators probe: "*()|&'", "*|", "*(|(mail=*))".
  if (!v.empty() && v.size() <= 12 && v.front() == '*' && common::find_any(v, "|&()") != std::string_view::npos) {
    hit->reason = "an LDAP wildcard with filter operators, a probe for filter injection";
    hit->evidence = evidence(v);
    return true;
  }
  return false;
}

bool detect_xpathi(const Candidate& c, Hit* hit) {
  std::string_view v = c.value;
  static constexpr std::string_view kFunctions[] = {"count(/", "name()", "string-length(",
                                                    "substring(", "/child::", "/descendant::",
                                                    "text()", "node()", "comment()", "position()"};
  if (common::find_any(v, "'\"") == std::string_view::npos) return false;
  for (std::string_view f : kFunctions) {
    std::size_t at = v.find(f);
    if (at == std::string_view::npos) continue;
    // An XPath function after a quote break-out with a boolean operator.
    std::size_t op = std::min(v.find(" or "), v.find(" and "));
    if (op == std::string_view::npos) continue;
    hit->reason = "closes a string and adds an XPath expression (" + std::string(f) + ")";
    hit->evidence = evidence(v);
    return true;
  }
  return false;
}

}  // namespace vigil::detect::input
