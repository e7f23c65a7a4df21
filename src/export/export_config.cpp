#include "export/export_config.hpp"

#include <yaml-cpp/yaml.h>

#include <cstdlib>

namespace vigil::exports {
namespace {

bool percent_decode(std::string_view s, std::string* out) {
  auto hex = [](char h) -> int {
    if (h >= '0' && h <= '9') return h - '0';
    if (h >= 'a' && h <= 'f') return h - 'a' + 10;
    if (h >= 'A' && h <= 'F') return h - 'A' + 10;
    return -1;
  };
  out->clear();
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size()) return false;
      int a = hex(s[i + 1]), b = hex(s[i + 2]);
      if (a < 0 || b < 0) return false;
      out->push_back(static_cast<char>(a * 16 + b));
      i += 2;
    } else if (c == '+') {
      out->push_back(' ');
    } else {
      out->push_back(c);
    }
  }
  return true;
}

bool parse_uint(std::string_view s, std::uint64_t lo, std::uint64_t hi, std::uint64_t* out) {
  if (s.empty() || s.size() > 19) return false;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (v < lo || v > hi) return false;
  *out = v;
  return true;
}

bool parse_bool(std::string_view s, bool* out) {
  if (s == "true" || s == "1" || s == "yes" || s == "on") *out = true;
  else if (s == "false" || s == "0" || s == "no" || s == "off") *out = false;
  else return false;
  return true;
}

std::vector<std::string> split_list(std::string_view s) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos <= s.size()) {
    std::size_t comma = s.find(',', pos);
    if (comma == std::string_view::npos) comma = s.size();
    std::string_view item = s.substr(pos, comma - pos);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) out.emplace_back(item);
    pos = comma + 1;
  }
  return out;
}

bool valid_field_name(std::string_view k) {
  if (k.empty() || k.size() > 63) return false;
  if (!((k[0] >= 'A' && k[0] <= 'Z') || (k[0] >= 'a' && k[0] <= 'z'))) return false;
  for (char c : k)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
      return false;
  return true;
}

bool parse_host_port(std::string_view authority, std::string* host, int* port, std::string* error) {
  std::string_view h, p;
  if (!authority.empty() && authority[0] == '[') {
    std::size_t close = authority.find(']');
    if (close == std::string_view::npos || close + 1 >= authority.size() || authority[close + 1] != ':') {
      *error = "expected [IPV6]:PORT";
      return false;
    }
    h = authority.substr(1, close - 1);
    p = authority.substr(close + 2);
  } else {
    std::size_t colon = authority.rfind(':');
    if (colon == std::string_view::npos) {
      *error = "a port is required (HOST:PORT)";
      return false;
    }
    h = authority.substr(0, colon);
    p = authority.substr(colon + 1);
  }
  std::uint64_t v;
  if (h.empty() || h.size() > 253 || !parse_uint(p, 1, 65535, &v)) {
    *error = "expected HOST:PORT with a port in 1-65535";
    return false;
  }
  for (char c : h)
    if (c <= 0x20 || c >= 0x7F || c == '/' || c == '@') {
      *error = "bad host name";
      return false;
    }
  *host = std::string(h);
  *port = static_cast<int>(v);
  return true;
}

// Applies the options of a query string; for http(s), unknown keys are kept in *kept.
bool apply_query(ExportConfig* c, std::string_view query, std::string* kept, std::string* error) {
  std::size_t pos = 0;
  while (pos < query.size()) {
    std::size_t amp = query.find('&', pos);
    if (amp == std::string_view::npos) amp = query.size();
    std::string_view pair = query.substr(pos, amp - pos);
    pos = amp + 1;
    if (pair.empty()) continue;
    std::size_t eq = pair.find('=');
    std::string key, value;
    if (!percent_decode(pair.substr(0, eq), &key) ||
        !percent_decode(eq == std::string_view::npos ? "" : pair.substr(eq + 1), &value)) {
      *error = "bad percent-encoding in the query";
      return false;
    }
    std::string e;
    if (!apply_export_option(c, key, value, &e)) {
      if (kept && e.rfind("unknown option", 0) == 0) {
        if (!kept->empty()) kept->push_back('&');
        kept->append(pair);
        continue;
      }
      *error = e;
      return false;
    }
  }
  return true;
}

bool finish(ExportConfig* c, std::string* error) {
  if (c->format == Format::kSlack && c->kind != ExportConfig::Kind::kHttp) {
    *error = "format=slack needs an http(s) URL";
    return false;
  }
  if (c->format == Format::kHec && c->kind == ExportConfig::Kind::kHttp && c->token.empty()) {
    *error = "format=hec needs token=HEC_TOKEN";
    return false;
  }
  if (c->format == Format::kSlack) c->max_batch = 1;
  if (c->retry_max < c->retry_initial) c->retry_max = c->retry_initial;
  if (c->kind == ExportConfig::Kind::kSyslogUdp) c->max_message = std::min<std::size_t>(c->max_message, 65000);
  if (c->tls.cert_file.empty() && !c->tls.key_file.empty()) {
    *error = "key= needs cert=";
    return false;
  }
  return true;
}

}  // namespace

bool parse_duration(std::string_view s, std::chrono::milliseconds* out) noexcept {
  std::uint64_t scale = 1000;
  if (s.size() > 2 && s.substr(s.size() - 2) == "ms") {
    scale = 1;
    s.remove_suffix(2);
  } else if (!s.empty() && (s.back() == 's' || s.back() == 'm' || s.back() == 'h')) {
    scale = s.back() == 's' ? 1000 : s.back() == 'm' ? 60000 : 3600000;
    s.remove_suffix(1);
  }
  std::uint64_t v;
  if (!parse_uint(s, 0, 1000000000, &v)) return false;
  *out = std::chrono::milliseconds(static_cast<std::int64_t>(v * scale));
  return true;
}

bool FieldTemplate::compile(std::string_view text, FieldTemplate* out, std::string* error) {
  static constexpr std::pair<std::string_view, Part> kNames[] = {
      {"app", Part::kApp},           {"rule", Part::kRule},
      {"outcome", Part::kOutcome},   {"severity", Part::kSeverity},
      {"client_ip", Part::kClientIp}, {"event_id", Part::kEventId},
      {"method", Part::kMethod},     {"path", Part::kPath},
      {"cwe", Part::kCwe},           {"host", Part::kHost},
      {"input_source", Part::kInputSource}, {"input_name", Part::kInputName},
      {"sink_type", Part::kSinkType}};
  out->parts_.clear();
  if (text.size() > 1024) {
    *error = "template longer than 1024 bytes";
    return false;
  }
  std::string literal;
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '$' && i + 1 < text.size() && text[i + 1] == '{') {
      std::size_t close = text.find('}', i + 2);
      if (close == std::string_view::npos) {
        *error = "unclosed ${ in template";
        return false;
      }
      std::string_view name = text.substr(i + 2, close - i - 2);
      if (name.rfind("env:", 0) == 0) {
        const char* v = std::getenv(std::string(name.substr(4)).c_str());
        literal += v ? v : "";
      } else {
        bool found = false;
        for (const auto& [n, p] : kNames)
          if (n == name) {
            if (!literal.empty()) out->parts_.emplace_back(Part::kLiteral, std::move(literal));
            literal.clear();
            out->parts_.emplace_back(p, "");
            found = true;
          }
        if (!found) {
          *error = "unknown placeholder ${" + std::string(name) + "}";
          return false;
        }
      }
      i = close + 1;
    } else {
      literal.push_back(text[i++]);
    }
  }
  if (!literal.empty()) out->parts_.emplace_back(Part::kLiteral, std::move(literal));
  return true;
}

std::string FieldTemplate::render(const Event& e, const std::string& host) const {
  std::string out;
  for (const auto& [part, lit] : parts_) {
    switch (part) {
      case Part::kLiteral: out += lit; break;
      case Part::kApp: out += e.app; break;
      case Part::kRule: out += e.rule; break;
      case Part::kOutcome: out += outcome_name(e.outcome); break;
      case Part::kSeverity: out += severity_name(e.severity); break;
      case Part::kClientIp: out += e.request.client_ip; break;
      case Part::kEventId: out += e.event_id; break;
      case Part::kMethod: out += e.request.method; break;
      case Part::kPath: out += e.request.path; break;
      case Part::kCwe: out += e.cwe; break;
      case Part::kHost: out += host; break;
      case Part::kInputSource: out += e.input.source; break;
      case Part::kInputName: out += e.input.name; break;
      case Part::kSinkType: out += e.sink.type; break;
    }
  }
  return out;
}

bool apply_export_option(ExportConfig* c, std::string_view key, std::string_view v,
                         std::string* error) {
  std::uint64_t n = 0;
  std::chrono::milliseconds d{};
  bool b = false;
  auto bad = [&](const char* what) {
    *error = std::string(key) + ": " + what;
    return false;
  };
  auto text = [&](std::string* out, std::size_t max) {
    if (v.size() > max) return bad("too long");
    for (char ch : v)
      if (static_cast<unsigned char>(ch) < 0x20) return bad("control characters");
    *out = std::string(v);
    return true;
  };
  if (key == "format") {
    if (!parse_format(v, &c->format)) return bad("cef, leef, json, ocsf, ecs, hec or slack");
  } else if (key == "name") {
    return text(&c->name, 128);
  } else if (key == "token") {
    return text(&c->token, 4096);
  } else if (key == "auth") {
    if (v != "auto" && v != "splunk" && v != "bearer" && v != "none") return bad("auto, splunk, bearer or none");
    c->auth = std::string(v);
  } else if (key == "facility") {
    if (!parse_facility(v, &c->syslog.facility)) return bad("a syslog facility name or 0-23");
  } else if (key == "app_name") {
    return text(&c->syslog.app_name, 48);
  } else if (key == "hostname") {
    c->format_options.host = std::string(v.substr(0, 255));
    return text(&c->syslog.hostname, 255);
  } else if (key == "max_message") {
    if (!parse_uint(v, 480, 1 << 20, &n)) return bad("480 to 1048576 bytes");
    c->max_message = n;
  } else if (key == "ca") {
    return text(&c->tls.ca_file, 4096);
  } else if (key == "cert") {
    return text(&c->tls.cert_file, 4096);
  } else if (key == "key") {
    return text(&c->tls.key_file, 4096);
  } else if (key == "tls_verify") {
    if (!parse_bool(v, &c->tls.verify)) return bad("true or false");
  } else if (key == "sourcetype") {
    return text(&c->format_options.hec_sourcetype, 256);
  } else if (key == "source") {
    return text(&c->format_options.hec_source, 256);
  } else if (key == "index") {
    return text(&c->format_options.hec_index, 256);
  } else if (key == "vendor") {
    return text(&c->format_options.vendor, 64);
  } else if (key == "product") {
    return text(&c->format_options.product, 64);
  } else if (key == "max_bytes") {
    if (!parse_uint(v, 4096, 1ull << 40, &n)) return bad("4096 bytes to 1 TiB");
    c->file.max_bytes = n;
  } else if (key == "max_files") {
    if (!parse_uint(v, 0, 1000, &n)) return bad("0 to 1000");
    c->file.max_files = static_cast<int>(n);
  } else if (key == "fsync") {
    if (!parse_bool(v, &c->file.fsync)) return bad("true or false");
  } else if (key == "min_outcome") {
    if (!parse_outcome(v, &c->min_outcome)) return bad("exploited, blocked, probed or suspicious");
  } else if (key == "min_severity") {
    if (!parse_severity(v, &c->min_severity)) return bad("critical, high, medium or low");
  } else if (key == "apps") {
    c->apps = split_list(v);
  } else if (key == "rules") {
    c->rules = split_list(v);
  } else if (key == "one_by_one") {
    if (!parse_bool(v, &c->one_by_one)) return bad("true or false");
  } else if (key == "summary_interval") {
    if (!parse_duration(v, &d) || d < std::chrono::milliseconds(100) || d > std::chrono::hours(24))
      return bad("a duration from 100ms to 24h");
    c->summary_interval = d;
  } else if (key == "summary_max_keys") {
    if (!parse_uint(v, 1, 10000000, &n)) return bad("1 to 10000000");
    c->summary_max_keys = n;
  } else if (key.rfind("field.", 0) == 0) {
    std::string_view name = key.substr(6);
    if (!valid_field_name(name)) return bad("field names are [A-Za-z][A-Za-z0-9_]{0,62}");
    FieldTemplate t;
    std::string e;
    if (!FieldTemplate::compile(v, &t, &e)) return bad(e.c_str());
    for (auto& [k, existing] : c->fields)
      if (k == name) {
        existing = std::move(t);
        return true;
      }
    if (c->fields.size() >= 64) return bad("at most 64 fields");
    c->fields.emplace_back(std::string(name), std::move(t));
  } else if (key == "max_batch") {
    if (!parse_uint(v, 1, 100000, &n)) return bad("1 to 100000");
    c->max_batch = n;
  } else if (key == "max_batch_bytes") {
    if (!parse_uint(v, 1024, 1ull << 30, &n)) return bad("1 KiB to 1 GiB");
    c->max_batch_bytes = n;
  } else if (key == "flush_interval") {
    if (!parse_duration(v, &d) || d > std::chrono::minutes(10)) return bad("a duration up to 10m");
    c->flush_interval = d;
  } else if (key == "buffer_events") {
    if (!parse_uint(v, 1, 10000000, &n)) return bad("1 to 10000000");
    c->buffer_events = n;
  } else if (key == "buffer_bytes") {
    if (!parse_uint(v, 4096, 1ull << 36, &n)) return bad("4 KiB to 64 GiB");
    c->buffer_bytes = n;
  } else if (key == "retry_initial" || key == "retry_max" || key == "timeout" ||
             key == "shutdown_timeout") {
    if (!parse_duration(v, &d) || d < std::chrono::milliseconds(1) || d > std::chrono::hours(1))
      return bad("a duration from 1ms to 1h");
    (key == "retry_initial" ? c->retry_initial
     : key == "retry_max"   ? c->retry_max
     : key == "timeout"     ? c->timeout
                            : c->shutdown_timeout) = d;
  } else {
    *error = "unknown option '" + std::string(key.substr(0, 64)) + "'";
    return false;
  }
  (void)b;
  return true;
}

bool parse_export_url(std::string_view url, ExportConfig* c, std::string* error) {
  *c = ExportConfig();
  if (url.size() > 8192) {
    *error = "export URL longer than 8 KiB";
    return false;
  }
  for (char ch : url)
    if (static_cast<unsigned char>(ch) <= 0x20 || ch == 0x7F) {
      *error = "export URL with spaces or control characters";
      return false;
    }
  std::size_t q = url.find('?');
  std::string_view base = url.substr(0, q), query = q == std::string_view::npos ? "" : url.substr(q + 1);
  std::size_t hash = query.find('#');
  if (hash != std::string_view::npos) query = query.substr(0, hash);
  auto fail = [&](const std::string& e) {
    *error = "export '" + std::string(base) + "': " + e;
    return false;
  };
  std::string e;
  if (base.rfind("syslog+udp://", 0) == 0 || base.rfind("syslog+tcp://", 0) == 0 ||
      base.rfind("syslog+tls://", 0) == 0) {
    c->kind = base[7] == 'u' ? ExportConfig::Kind::kSyslogUdp
              : base[8] == 'c' ? ExportConfig::Kind::kSyslogTcp
                               : ExportConfig::Kind::kSyslogTls;
    std::string_view authority = base.substr(13);
    if (!authority.empty() && authority.back() == '/') authority.remove_suffix(1);
    if (authority.find('/') != std::string_view::npos || authority.find('@') != std::string_view::npos)
      return fail("syslog URLs are HOST:PORT only");
    if (!parse_host_port(authority, &c->host, &c->port, &e)) return fail(e);
    c->format = Format::kCef;
    if (!apply_query(c, query, nullptr, &e)) return fail(e);
    if (c->name.empty()) c->name = std::string(base.substr(0, 13)) + std::string(authority);
  } else if (base.rfind("http://", 0) == 0 || base.rfind("https://", 0) == 0) {
    c->kind = ExportConfig::Kind::kHttp;
    std::size_t start = base.find("://") + 3;
    std::size_t slash = base.find('/', start);
    std::string_view authority = base.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (authority.empty()) return fail("no host");
    if (authority.find('@') != std::string_view::npos)
      return fail("credentials in the URL are not supported: use token=");
    c->format = Format::kJson;
    std::string kept;
    if (!apply_query(c, query, &kept, &e)) return fail(e);
    c->http_url = std::string(base) + (kept.empty() ? "" : "?" + kept);
    if (c->name.empty()) c->name = std::string(base);
  } else if (base.rfind("file://", 0) == 0) {
    c->kind = ExportConfig::Kind::kFile;
    std::string path;
    if (!percent_decode(base.substr(7), &path) || path.empty() || path[0] != '/' ||
        path.back() == '/' || path.find('\0') != std::string::npos)
      return fail("expected file:///ABSOLUTE/PATH");
    c->file_path = path;
    c->format = Format::kJson;
    if (!apply_query(c, query, nullptr, &e)) return fail(e);
    c->file.path = path;
    if (c->name.empty()) c->name = "file://" + path;
  } else {
    return fail("unsupported scheme (syslog+udp://, syslog+tcp://, syslog+tls://, http://, https://, file://)");
  }
  if (!finish(c, &e)) return fail(e);
  return true;
}

bool parse_export_yaml(const YAML::Node& node, ExportConfig* c, std::string* error) {
  try {
    if (node.IsScalar()) return parse_export_url(node.Scalar(), c, error);
    if (!node.IsMap() || !node["url"] || !node["url"].IsScalar()) {
      *error = "an export is a URL or a map with a url";
      return false;
    }
    if (!parse_export_url(node["url"].Scalar(), c, error)) return false;
    std::string kept_query;  // http(s): options given in the file never go into the URL
    for (const auto& kv : node) {
      std::string key = kv.first.Scalar();
      const YAML::Node& v = kv.second;
      if (key == "url") continue;
      std::string e;
      if (key == "fields") {
        if (!v.IsMap()) {
          *error = "fields: a map of NAME: TEMPLATE";
          return false;
        }
        for (const auto& f : v) {
          if (!f.second.IsScalar() ||
              !apply_export_option(c, "field." + f.first.Scalar(), f.second.Scalar(), &e)) {
            *error = e.empty() ? "fields." + f.first.Scalar() + ": a string" : e;
            return false;
          }
        }
        continue;
      }
      std::string value;
      if (v.IsSequence()) {
        if (key != "apps" && key != "rules") {
          *error = key + ": a single value";
          return false;
        }
        for (const auto& item : v) {
          if (!item.IsScalar() || item.Scalar().find(',') != std::string::npos) {
            *error = key + ": a list of names";
            return false;
          }
          if (!value.empty()) value.push_back(',');
          value += item.Scalar();
        }
      } else if (v.IsScalar()) {
        value = v.Scalar();
      } else {
        *error = key + ": a single value";
        return false;
      }
      if (!apply_export_option(c, key, value, &e)) {
        *error = e;
        return false;
      }
    }
    if (!finish(c, error)) return false;
    return true;
  } catch (const std::exception& ex) {
    *error = std::string("export: ") + ex.what();
    return false;
  }
}

bool parse_export_list_yaml(const YAML::Node& node, std::vector<ExportConfig>* configs,
                            std::string* error) {
  try {
    if (!node.IsSequence()) {
      ExportConfig c;
      if (!parse_export_yaml(node, &c, error)) return false;
      configs->push_back(std::move(c));
      return true;
    }
    std::size_t i = 0;
    for (const auto& item : node) {
      ExportConfig c;
      std::string e;
      if (!parse_export_yaml(item, &c, &e)) {
        *error = "exports[" + std::to_string(i) + "]: " + e;
        return false;
      }
      configs->push_back(std::move(c));
      ++i;
    }
    return true;
  } catch (const std::exception& ex) {
    *error = std::string("exports: ") + ex.what();
    return false;
  }
}

}  // namespace vigil::exports
