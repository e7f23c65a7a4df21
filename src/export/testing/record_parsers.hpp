// Test support: parsers for what the exporters write, used to read records back from real
// receivers field by field. Strict where the formats are (an unescaped delimiter in a value is
// a parse error), so a formatter bug shows up as a failed parse.
#ifndef VIGIL_EXPORT_TESTING_RECORD_PARSERS_HPP_
#define VIGIL_EXPORT_TESTING_RECORD_PARSERS_HPP_

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::exports::testing {

struct Syslog5424 {
  int pri = -1;
  std::string version, timestamp, hostname, app_name, procid, msgid, structured_data, msg;
};

// "<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG" (SD "-" or one or more [..] elements).
inline std::optional<Syslog5424> parse_syslog5424(std::string_view line) {
  Syslog5424 r;
  if (line.empty() || line[0] != '<') return std::nullopt;
  std::size_t gt = line.find('>');
  if (gt == std::string_view::npos || gt < 2 || gt > 4) return std::nullopt;
  r.pri = std::stoi(std::string(line.substr(1, gt - 1)));
  std::string_view rest = line.substr(gt + 1);
  auto word = [&](std::string* out) {
    std::size_t sp = rest.find(' ');
    if (sp == std::string_view::npos) return false;
    *out = std::string(rest.substr(0, sp));
    rest = rest.substr(sp + 1);
    return !out->empty();
  };
  if (!word(&r.version) || !word(&r.timestamp) || !word(&r.hostname) || !word(&r.app_name) ||
      !word(&r.procid) || !word(&r.msgid))
    return std::nullopt;
  if (!rest.empty() && rest[0] == '-') {
    r.structured_data = "-";
    rest = rest.substr(1);
  } else {
    std::size_t i = 0;
    while (i < rest.size() && rest[i] == '[') {
      bool in_quote = false;
      for (++i; i < rest.size(); ++i) {
        if (in_quote && rest[i] == '\\') { ++i; continue; }
        if (rest[i] == '"') in_quote = !in_quote;
        else if (!in_quote && rest[i] == ']') { ++i; break; }
      }
    }
    r.structured_data = std::string(rest.substr(0, i));
    rest = rest.substr(i);
  }
  if (!rest.empty()) {
    if (rest[0] != ' ') return std::nullopt;
    rest = rest.substr(1);
  }
  r.msg = std::string(rest);
  return r;
}

struct KeyValueRecord {
  std::vector<std::string> header;  // CEF: 7 fields after "CEF:"; LEEF 2.0: 6 after "LEEF:"
  std::map<std::string, std::string> fields;
  std::vector<std::string> order;   // keys in record order (duplicates show here)
};

// CEF:0|a|b|c|d|e|f|k=v k2=v2 ... Header: \| and \\ unescaped. Extension values: \= \\ \n \r.
inline std::optional<KeyValueRecord> parse_cef(std::string_view s) {
  std::size_t at = s.find("CEF:");
  if (at == std::string_view::npos) return std::nullopt;
  s = s.substr(at + 4);
  KeyValueRecord r;
  std::string cur;
  std::size_t i = 0;
  while (r.header.size() < 7 && i < s.size()) {
    char c = s[i];
    if (c == '\\' && i + 1 < s.size() && (s[i + 1] == '|' || s[i + 1] == '\\')) {
      cur.push_back(s[i + 1]);
      i += 2;
    } else if (c == '|') {
      r.header.push_back(cur);
      cur.clear();
      ++i;
    } else if (c == '\n' || c == '\r') {
      return std::nullopt;
    } else {
      cur.push_back(c);
      ++i;
    }
  }
  if (r.header.size() != 7) return std::nullopt;
  std::string_view ext = s.substr(i);
  // Unescaped '=' positions mark keys: the key is the word just before each.
  std::vector<std::size_t> eqs;
  for (std::size_t k = 0; k < ext.size(); ++k) {
    if (ext[k] == '\\') { ++k; continue; }
    if (ext[k] == '=') eqs.push_back(k);
    if (ext[k] == '\n' || ext[k] == '\r') return std::nullopt;
  }
  std::vector<std::pair<std::size_t, std::size_t>> keys;  // [start, eq)
  for (std::size_t eq : eqs) {
    std::size_t start = eq;
    while (start > 0 && ext[start - 1] != ' ') --start;
    if (start == eq) return std::nullopt;
    keys.push_back({start, eq});
  }
  for (std::size_t k = 0; k < keys.size(); ++k) {
    std::string key(ext.substr(keys[k].first, keys[k].second - keys[k].first));
    std::size_t vstart = keys[k].second + 1;
    std::size_t vend = k + 1 < keys.size() ? keys[k + 1].first - 1 : ext.size();
    std::string value;
    for (std::size_t p = vstart; p < vend; ++p) {
      if (ext[p] == '\\' && p + 1 < vend) {
        char n = ext[++p];
        value.push_back(n == 'n' ? '\n' : n == 'r' ? '\r' : n);
      } else {
        value.push_back(ext[p]);
      }
    }
    if (r.fields.count(key)) r.order.push_back(key + "(dup)");
    r.order.push_back(key);
    r.fields[key] = value;
  }
  return r;
}

// LEEF:2.0|Vendor|Product|Version|EventID|x09|k=v<TAB>k=v. Values: \\ \t \n \r unescaped.
inline std::optional<KeyValueRecord> parse_leef(std::string_view s) {
  std::size_t at = s.find("LEEF:");
  if (at == std::string_view::npos) return std::nullopt;
  s = s.substr(at + 5);
  KeyValueRecord r;
  std::string cur;
  std::size_t i = 0;
  while (r.header.size() < 6 && i < s.size()) {
    char c = s[i];
    if (c == '\\' && i + 1 < s.size() && (s[i + 1] == '|' || s[i + 1] == '\\')) {
      cur.push_back(s[i + 1]);
      i += 2;
    } else if (c == '|') {
      r.header.push_back(cur);
      cur.clear();
      ++i;
    } else {
      cur.push_back(c);
      ++i;
    }
  }
  if (r.header.size() != 6 || r.header[0] != "2.0") return std::nullopt;
  char delim = r.header[5] == "x09" || r.header[5] == "0x09" ? '\t'
               : r.header[5].size() == 1                      ? r.header[5][0]
                                                              : 0;
  if (!delim) return std::nullopt;
  std::string_view attrs = s.substr(i);
  std::size_t pos = 0;
  while (pos <= attrs.size()) {
    std::size_t end = attrs.find(delim, pos);
    if (end == std::string_view::npos) end = attrs.size();
    std::string_view a = attrs.substr(pos, end - pos);
    if (!a.empty()) {
      if (a.find('\n') != std::string_view::npos || a.find('\r') != std::string_view::npos)
        return std::nullopt;
      std::size_t eq = a.find('=');
      if (eq == std::string_view::npos || eq == 0) return std::nullopt;
      std::string key(a.substr(0, eq)), value;
      for (std::size_t p = eq + 1; p < a.size(); ++p) {
        if (a[p] == '\\' && p + 1 < a.size()) {
          char n = a[++p];
          value.push_back(n == 't' ? '\t' : n == 'n' ? '\n' : n == 'r' ? '\r' : n);
        } else {
          value.push_back(a[p]);
        }
      }
      if (r.fields.count(key)) r.order.push_back(key + "(dup)");
      r.order.push_back(key);
      r.fields[key] = value;
    }
    pos = end + 1;
  }
  return r;
}

}  // namespace vigil::exports::testing

#endif  // VIGIL_EXPORT_TESTING_RECORD_PARSERS_HPP_
