#include "vigil/policy.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdint>
#include <ctime>

#include <re2/re2.h>

#include "core/common/ascii.hpp"
#include "core/common/ip.hpp"
#include "vigil/request.hpp"

namespace vigil {
namespace {

constexpr std::size_t kMaxDocumentBytes = 4 << 20;
constexpr int kMaxFlowDepth = 64;

// How a string condition matches.
struct Matcher {
  enum class Kind : std::uint8_t { kAny, kExact, kPrefix, kContains, kRegex } kind = Kind::kAny;
  std::string text;
  std::shared_ptr<RE2> regex;

  bool matches(std::string_view v) const {
    switch (kind) {
      case Kind::kAny: return true;
      case Kind::kExact: return v == text;
      case Kind::kPrefix: return v.substr(0, text.size()) == text;
      case Kind::kContains: return v.find(text) != std::string_view::npos;
      case Kind::kRegex: return RE2::PartialMatch(re2::StringPiece(v.data(), v.size()), *regex);
    }
    return false;
  }
};

// A route pattern: "/exact", "/prefix/*", or any Matcher.
Matcher route_matcher(std::string_view route) {
  Matcher m;
  if (!route.empty() && route.back() == '*') {
    m.kind = Matcher::Kind::kPrefix;
    m.text = std::string(route.substr(0, route.size() - 1));
  } else {
    m.kind = Matcher::Kind::kExact;
    m.text = std::string(route);
  }
  return m;
}

struct InputSelector {
  bool any_source = true;
  Source source = Source::kOther;
  Matcher name;  // kAny: every input

  bool matches(Source s, std::string_view n) const {
    return (any_source || s == source) && name.matches(n);
  }
};

// "query:id", "id", "json:user.*", "*".
InputSelector parse_selector(std::string_view text) {
  InputSelector sel;
  std::size_t colon = text.find(':');
  if (colon != std::string_view::npos) {
    std::string_view src = text.substr(0, colon);
    Source s = parse_source(src);
    if (s != Source::kOther || src == "other") {
      sel.any_source = false;
      sel.source = s;
      text = text.substr(colon + 1);
    }
  }
  if (text.empty() || text == "*") return sel;
  sel.name = route_matcher(text);
  return sel;
}

struct Exclusion {
  std::vector<std::string> rules;  // empty: every rule
  std::vector<Matcher> routes;
  std::vector<InputSelector> inputs;
  std::vector<common::Cidr> clients;
};

struct IpEntry {
  common::Cidr cidr;
  PolicyClock::time_point expires = PolicyClock::time_point::max();
};

struct Condition {
  InputSelector input;
  Matcher value;
};

struct VirtualPatch {
  std::string id;
  Mode mode = Mode::kBlock;
  std::string reason;
  std::vector<std::string> methods;  // upper-case; empty: any
  std::vector<Matcher> routes;       // empty: any
  std::vector<Condition> conditions; // all must hold
  std::vector<common::Cidr> clients; // empty: any
};

}  // namespace

struct Policy::Impl {
  Mode default_mode = Mode::kMonitor;
  std::vector<std::pair<std::string, Mode>> rules;
  std::chrono::microseconds budget{1000};
  std::vector<Exclusion> exclusions;
  std::vector<IpEntry> allow, deny;
  std::vector<VirtualPatch> patches;
  std::string source_json = "{}";
};

namespace {

class Compiler {
 public:
  explicit Compiler(std::vector<PolicyDiagnostic>* diags) : diags_(diags) {}

  void error(const YAML::Node& at, std::string location, std::string code, std::string message,
             PolicyDiagnostic::Severity severity = PolicyDiagnostic::Severity::kError) {
    if (!diags_) return;
    PolicyDiagnostic d;
    d.severity = severity;
    d.code = std::move(code);
    d.location = std::move(location);
    if (at.IsDefined() && at.Mark().line >= 0) {
      d.line = at.Mark().line + 1;
      d.column = at.Mark().column + 1;
    }
    d.message = std::move(message);
    diags_->push_back(std::move(d));
  }

  bool scalar(const YAML::Node& n, const std::string& where, std::string* out) {
    if (!n.IsScalar()) {
      error(n, where, "policy.type", where + " must be a string");
      return false;
    }
    *out = n.Scalar();
    return true;
  }

  // A list of strings, or one string.
  std::vector<std::string> strings(const YAML::Node& n, const std::string& where) {
    std::vector<std::string> out;
    if (!n.IsDefined() || n.IsNull()) return out;
    if (n.IsScalar()) {
      out.push_back(n.Scalar());
      return out;
    }
    if (!n.IsSequence()) {
      error(n, where, "policy.type", where + " must be a string or a list of strings");
      return out;
    }
    for (std::size_t i = 0; i < n.size(); ++i) {
      std::string s;
      if (scalar(n[i], where + "[" + std::to_string(i) + "]", &s)) out.push_back(std::move(s));
    }
    return out;
  }

  bool mode(const YAML::Node& n, const std::string& where, Mode* out) {
    std::string s;
    if (!scalar(n, where, &s)) return false;
    if (!parse_mode(s, out)) {
      error(n, where, "policy.bad_mode", "mode \"" + s + "\" is not off, monitor or block");
      return false;
    }
    return true;
  }

  bool cidr(const YAML::Node& n, const std::string& where, const std::string& text,
            common::Cidr* out) {
    if (!common::Cidr::parse(text, out)) {
      error(n, where, "policy.bad_cidr", "\"" + text + "\" is not an IP address or CIDR block");
      return false;
    }
    return true;
  }

  // A value condition: a string (exact), or {exact|prefix|contains|regex: "..."}.
  bool matcher(const YAML::Node& n, const std::string& where, Matcher* out) {
    if (n.IsScalar()) {
      out->kind = Matcher::Kind::kExact;
      out->text = n.Scalar();
      return true;
    }
    if (!n.IsMap() || n.size() != 1) {
      error(n, where, "policy.bad_matcher",
            "a value condition is a string or one of {exact|prefix|contains|regex: ...}");
      return false;
    }
    auto it = n.begin();
    std::string kind = it->first.as<std::string>();
    std::string text;
    if (!scalar(it->second, where + "." + kind, &text)) return false;
    out->text = text;
    if (kind == "exact") out->kind = Matcher::Kind::kExact;
    else if (kind == "prefix") out->kind = Matcher::Kind::kPrefix;
    else if (kind == "contains") out->kind = Matcher::Kind::kContains;
    else if (kind == "regex") {
      RE2::Options opts;
      opts.set_log_errors(false);
      opts.set_max_mem(8 << 20);
      out->regex = std::make_shared<RE2>(text, opts);
      if (!out->regex->ok()) {
        error(it->second, where + ".regex", "policy.bad_regex",
              "the regular expression does not compile: " + out->regex->error());
        return false;
      }
      out->kind = Matcher::Kind::kRegex;
    } else {
      error(it->first, where, "policy.bad_matcher",
            "unknown condition \"" + kind + "\" (exact, prefix, contains or regex)");
      return false;
    }
    return true;
  }

  bool time(const YAML::Node& n, const std::string& where, PolicyClock::time_point* out) {
    std::string s;
    if (!scalar(n, where, &s)) return false;
    std::tm tm{};
    const char* end = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
    if (end == nullptr) end = strptime(s.c_str(), "%Y-%m-%d", &tm);
    if (end == nullptr || (*end != '\0' && *end != 'Z')) {
      error(n, where, "policy.bad_time", "\"" + s + "\" is not an RFC 3339 UTC time (2026-12-01T00:00:00Z)");
      return false;
    }
    // The clock counts nanoseconds in 64 bits (1678 to 2262): a later time ("9999-12-31", a
    // common "never") is the clock's end, not an overflow that wraps into the past.
    const std::int64_t seconds = timegm(&tm);
    using Seconds = std::chrono::duration<std::int64_t>;
    constexpr std::int64_t kMax =
        std::chrono::duration_cast<Seconds>(PolicyClock::time_point::max().time_since_epoch()).count();
    constexpr std::int64_t kMin =
        std::chrono::duration_cast<Seconds>(PolicyClock::time_point::min().time_since_epoch()).count();
    if (seconds >= kMax) *out = PolicyClock::time_point::max();
    else if (seconds <= kMin) *out = PolicyClock::time_point::min();
    else *out = PolicyClock::from_time_t(static_cast<std::time_t>(seconds));
    return true;
  }

  void ip_list(const YAML::Node& n, const std::string& where, std::vector<IpEntry>* out) {
    if (!n.IsDefined() || n.IsNull()) return;
    if (!n.IsSequence()) {
      error(n, where, "policy.type", where + " must be a list");
      return;
    }
    for (std::size_t i = 0; i < n.size(); ++i) {
      std::string at = where + "[" + std::to_string(i) + "]";
      const YAML::Node e = n[i];
      IpEntry entry;
      if (e.IsScalar()) {
        if (cidr(e, at, e.Scalar(), &entry.cidr)) out->push_back(entry);
        continue;
      }
      if (!e.IsMap() || !e["cidr"]) {
        error(e, at, "policy.type", "an IP list entry is a CIDR string or {cidr, expires, reason}");
        continue;
      }
      std::string c;
      if (!scalar(e["cidr"], at + ".cidr", &c) || !cidr(e["cidr"], at + ".cidr", c, &entry.cidr))
        continue;
      if (e["expires"] && !time(e["expires"], at + ".expires", &entry.expires)) continue;
      out->push_back(entry);
    }
  }

  void exclusions(const YAML::Node& n, Policy::Impl* p) {
    if (!n.IsDefined() || n.IsNull()) return;
    if (!n.IsSequence()) return error(n, "exclusions", "policy.type", "exclusions must be a list");
    for (std::size_t i = 0; i < n.size(); ++i) {
      std::string at = "exclusions[" + std::to_string(i) + "]";
      const YAML::Node e = n[i];
      if (!e.IsMap()) {
        error(e, at, "policy.type", "an exclusion is a map of rules, routes, inputs, clients");
        continue;
      }
      Exclusion x;
      bool ok = true;
      for (auto& r : strings(e["rules"], at + ".rules")) x.rules.push_back(r);
      for (auto& r : strings(e["routes"], at + ".routes")) x.routes.push_back(route_matcher(r));
      for (auto& s : strings(e["inputs"], at + ".inputs")) x.inputs.push_back(parse_selector(s));
      for (auto& c : strings(e["clients"], at + ".clients")) {
        common::Cidr cidr_value;
        if (cidr(e["clients"], at + ".clients", c, &cidr_value)) x.clients.push_back(cidr_value);
        else ok = false;
      }
      if (x.rules.empty() && x.routes.empty() && x.inputs.empty() && x.clients.empty()) {
        error(e, at, "policy.empty_exclusion",
              "an exclusion with no rules, routes, inputs or clients would disable everything; skipped");
        continue;
      }
      if (ok) p->exclusions.push_back(std::move(x));
    }
  }

  void patches(const YAML::Node& n, Policy::Impl* p) {
    if (!n.IsDefined() || n.IsNull()) return;
    if (!n.IsSequence())
      return error(n, "virtual_patches", "policy.type", "virtual_patches must be a list");
    for (std::size_t i = 0; i < n.size(); ++i) {
      std::string at = "virtual_patches[" + std::to_string(i) + "]";
      const YAML::Node e = n[i];
      if (!e.IsMap()) {
        error(e, at, "policy.type", "a virtual patch is a map");
        continue;
      }
      VirtualPatch vp;
      if (!e["id"] || !scalar(e["id"], at + ".id", &vp.id) || vp.id.empty()) {
        error(e, at, "policy.missing_id", "a virtual patch needs an id");
        continue;
      }
      bool ok = true;
      if (e["action"] && !mode(e["action"], at + ".action", &vp.mode)) ok = false;
      if (e["mode"] && !mode(e["mode"], at + ".mode", &vp.mode)) ok = false;
      if (e["reason"]) scalar(e["reason"], at + ".reason", &vp.reason);
      for (auto& m : strings(e["methods"], at + ".methods")) {
        for (char& c : m) c = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c;
        vp.methods.push_back(m);
      }
      auto add_route = [&](const YAML::Node& r, const std::string& where) {
        Matcher m;
        if (r.IsScalar()) vp.routes.push_back(route_matcher(r.Scalar()));
        else if (matcher(r, where, &m)) vp.routes.push_back(std::move(m));
        else ok = false;
      };
      if (const YAML::Node r = e["route"]) add_route(r, at + ".route");
      if (const YAML::Node rs = e["routes"]) {
        if (rs.IsSequence()) {
          for (std::size_t k = 0; k < rs.size(); ++k) add_route(rs[k], at + ".routes[" + std::to_string(k) + "]");
        } else {
          add_route(rs, at + ".routes");
        }
      }
      for (auto& c : strings(e["clients"], at + ".clients")) {
        common::Cidr cidr_value;
        if (cidr(e["clients"], at + ".clients", c, &cidr_value)) vp.clients.push_back(cidr_value);
        else ok = false;
      }
      if (const YAML::Node conds = e["inputs"]) {
        if (!conds.IsSequence()) {
          error(conds, at + ".inputs", "policy.type", "inputs must be a list of conditions");
          ok = false;
        } else {
          for (std::size_t k = 0; k < conds.size(); ++k) {
            std::string cat = at + ".inputs[" + std::to_string(k) + "]";
            const YAML::Node c = conds[k];
            if (!c.IsMap()) {
              error(c, cat, "policy.type", "a condition is {name, source, exact|prefix|contains|regex}");
              ok = false;
              continue;
            }
            Condition cond;
            std::string name = c["name"] && c["name"].IsScalar() ? c["name"].Scalar() : "*";
            if (c["source"] && c["source"].IsScalar()) name = c["source"].Scalar() + ":" + name;
            cond.input = parse_selector(name);
            bool has_value = false;
            for (const char* kind : {"exact", "prefix", "contains", "regex"}) {
              if (!c[kind]) continue;
              YAML::Node m;
              m[kind] = c[kind];
              if (has_value) {
                error(c, cat, "policy.bad_matcher", "a condition takes one of exact, prefix, contains, regex");
                ok = false;
              } else if (!matcher(m, cat, &cond.value)) {
                ok = false;
              }
              has_value = true;
            }
            vp.conditions.push_back(std::move(cond));
          }
        }
      }
      if (vp.methods.empty() && vp.routes.empty() && vp.conditions.empty() && vp.clients.empty()) {
        error(e, at, "policy.empty_patch", "a virtual patch must have a method, route, client or input condition");
        continue;
      }
      if (ok) p->patches.push_back(std::move(vp));
    }
  }

  void compile(const YAML::Node& root, Policy::Impl* p) {
    if (!root.IsMap()) {
      if (!root.IsNull()) error(root, "", "policy.type", "a policy is a map (YAML or JSON object)");
      return;
    }
    static constexpr std::string_view kKnown[] = {"version", "mode", "rules", "budget_us",
                                                  "exclusions", "ip_denylist", "ip_allowlist",
                                                  "virtual_patches", "app", "description"};
    for (auto it = root.begin(); it != root.end(); ++it) {
      std::string key = it->first.IsScalar() ? it->first.Scalar() : "";
      if (std::find(std::begin(kKnown), std::end(kKnown), key) == std::end(kKnown))
        error(it->first, key, "policy.unknown_key", "unknown key \"" + key + "\" ignored",
              PolicyDiagnostic::Severity::kWarning);
    }
    if (root["mode"]) mode(root["mode"], "mode", &p->default_mode);
    if (const YAML::Node b = root["budget_us"]) {
      long v = -1;
      try {
        v = b.as<long>();
      } catch (const YAML::Exception&) {
      }
      if (v < 10 || v > 1000000) error(b, "budget_us", "policy.bad_budget", "budget_us must be 10..1000000");
      else p->budget = std::chrono::microseconds(v);
    }
    if (const YAML::Node rules = root["rules"]) {
      if (!rules.IsMap()) {
        error(rules, "rules", "policy.type", "rules must be a map of rule name to mode");
      } else {
        for (auto it = rules.begin(); it != rules.end(); ++it) {
          std::string name = it->first.IsScalar() ? it->first.Scalar() : "";
          std::string where = "rules." + name;
          AttackClass cls;
          if (!parse_rule_name(name, &cls) && name != "header-injection") {
            error(it->first, where, "policy.unknown_rule",
                  "unknown rule \"" + name + "\" (see docs/policy.md for rule names)");
            continue;
          }
          Mode m;
          if (mode(it->second, where, &m)) p->rules.emplace_back(name, m);
        }
      }
    }
    exclusions(root["exclusions"], p);
    ip_list(root["ip_denylist"], "ip_denylist", &p->deny);
    ip_list(root["ip_allowlist"], "ip_allowlist", &p->allow);
    patches(root["virtual_patches"], p);
  }

 private:
  std::vector<PolicyDiagnostic>* diags_;
};

// YAML (and so JSON) nesting guard: yaml-cpp parses recursively.
bool flow_depth_ok(std::string_view doc) {
  int depth = 0;
  char quote = 0;
  for (char c : doc) {
    if (quote) {
      if (c == quote) quote = 0;
      continue;
    }
    if (c == '"' || c == '\'') quote = c;
    else if (c == '[' || c == '{') {
      if (++depth > kMaxFlowDepth) return false;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return true;
}

void to_json(const YAML::Node& n, std::string* out, int depth) {
  if (depth > kMaxFlowDepth) {
    *out += "null";
    return;
  }
  auto quote = [&](const std::string& s) {
    *out += '"';
    for (unsigned char c : s) {
      if (c == '"' || c == '\\') {
        *out += '\\';
        *out += static_cast<char>(c);
      } else if (c < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", c);
        *out += buf;
      } else {
        *out += static_cast<char>(c);
      }
    }
    *out += '"';
  };
  if (n.IsMap()) {
    *out += '{';
    bool first = true;
    for (auto it = n.begin(); it != n.end(); ++it) {
      if (!first) *out += ',';
      first = false;
      quote(it->first.IsScalar() ? it->first.Scalar() : "");
      *out += ':';
      to_json(it->second, out, depth + 1);
    }
    *out += '}';
  } else if (n.IsSequence()) {
    *out += '[';
    for (std::size_t i = 0; i < n.size(); ++i) {
      if (i) *out += ',';
      to_json(n[i], out, depth + 1);
    }
    *out += ']';
  } else if (n.IsScalar()) {
    const std::string& s = n.Scalar();
    bool number = !s.empty() && n.Tag() != "!" &&
                  s.find_first_not_of("0123456789") == std::string::npos && s.size() < 16;
    if (number || ((s == "true" || s == "false") && n.Tag() != "!")) *out += s;
    else quote(s);
  } else {
    *out += "null";
  }
}

}  // namespace

Policy::Policy(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Policy::~Policy() = default;

std::shared_ptr<const Policy> Policy::defaults() {
  static const std::shared_ptr<const Policy> kDefaults =
      std::make_shared<Policy>(std::make_unique<Impl>());
  return kDefaults;
}

std::shared_ptr<const Policy> Policy::compile(std::string_view document,
                                              std::vector<PolicyDiagnostic>* diagnostics) {
  auto impl = std::make_unique<Impl>();
  Compiler compiler(diagnostics);
  auto fail = [&](std::string code, std::string message, int line = 0, int column = 0) {
    if (diagnostics)
      diagnostics->push_back(PolicyDiagnostic{PolicyDiagnostic::Severity::kError, std::move(code),
                                              "", line, column, std::move(message)});
    return std::make_shared<Policy>(std::make_unique<Impl>());
  };
  if (document.size() > kMaxDocumentBytes)
    return fail("policy.too_large", "the policy document is larger than 4 MiB");
  if (!flow_depth_ok(document))
    return fail("policy.too_deep", "the policy document nests more than 64 levels");
  YAML::Node root;
  try {
    root = YAML::Load(std::string(document));
  } catch (const YAML::Exception& e) {
    return fail("policy.syntax", "the document is neither valid YAML nor JSON: " + e.msg,
                e.mark.line + 1, e.mark.column + 1);
  }
  try {
    compiler.compile(root, impl.get());
    impl->source_json.clear();
    to_json(root, &impl->source_json, 0);
  } catch (const std::exception& e) {
    return fail("policy.internal", std::string("the policy could not be read: ") + e.what());
  }
  return std::make_shared<Policy>(std::move(impl));
}

Mode Policy::mode_for(std::string_view rule) const noexcept {
  for (const auto& [name, mode] : impl_->rules)
    if (name == rule) return mode;
  for (const auto& vp : impl_->patches)
    if (vp.id == rule) return vp.mode;
  return impl_->default_mode;
}
Mode Policy::default_mode() const noexcept { return impl_->default_mode; }

bool Policy::explicit_mode(std::string_view rule, Mode* mode) const noexcept {
  for (const auto& [name, m] : impl_->rules) {
    if (name == rule) {
      *mode = m;
      return true;
    }
  }
  return false;
}
std::chrono::microseconds Policy::budget() const noexcept { return impl_->budget; }
std::size_t Policy::virtual_patch_count() const noexcept { return impl_->patches.size(); }
const std::string& Policy::source_json() const noexcept { return impl_->source_json; }

bool Policy::excluded(std::string_view rule, std::string_view route, Source source,
                      std::string_view name, std::string_view client) const noexcept {
  if (impl_->exclusions.empty()) return false;
  common::IpAddress client_ip;
  bool have_ip = common::IpAddress::parse(client, &client_ip);
  for (const Exclusion& x : impl_->exclusions) {
    if (!x.rules.empty() &&
        std::find(x.rules.begin(), x.rules.end(), rule) == x.rules.end())
      continue;
    if (!x.routes.empty() && std::none_of(x.routes.begin(), x.routes.end(),
                                          [&](const Matcher& m) { return m.matches(route); }))
      continue;
    if (!x.inputs.empty() &&
        (name.empty() || std::none_of(x.inputs.begin(), x.inputs.end(), [&](const InputSelector& s) {
           return s.matches(source, name);
         })))
      continue;
    if (!x.clients.empty() &&
        (!have_ip || std::none_of(x.clients.begin(), x.clients.end(),
                                  [&](const common::Cidr& c) { return c.contains(client_ip); })))
      continue;
    return true;
  }
  return false;
}

bool Policy::has_ip_lists() const noexcept {
  return !impl_->allow.empty() || !impl_->deny.empty();
}

Policy::IpDecision Policy::ip_decision(std::string_view client,
                                       PolicyClock::time_point now) const noexcept {
  if (impl_->allow.empty() && impl_->deny.empty()) return IpDecision::kNone;
  common::IpAddress ip;
  if (!common::IpAddress::parse(client, &ip)) return IpDecision::kNone;
  for (const IpEntry& e : impl_->allow)
    if (e.expires > now && e.cidr.contains(ip)) return IpDecision::kAllow;
  for (const IpEntry& e : impl_->deny)
    if (e.expires > now && e.cidr.contains(ip)) return IpDecision::kDeny;
  return IpDecision::kNone;
}

void Policy::match_virtual_patches(const RequestContext& request, std::vector<Finding>* out) const {
  if (impl_->patches.empty()) return;
  common::IpAddress client_ip;
  bool have_ip = common::IpAddress::parse(request.client_ip(), &client_ip);
  for (const VirtualPatch& vp : impl_->patches) {
    if (!vp.methods.empty() &&
        std::find(vp.methods.begin(), vp.methods.end(), request.method()) == vp.methods.end())
      continue;
    if (!vp.routes.empty() && std::none_of(vp.routes.begin(), vp.routes.end(), [&](const Matcher& m) {
          return m.matches(request.path());
        }))
      continue;
    if (!vp.clients.empty() &&
        (!have_ip || std::none_of(vp.clients.begin(), vp.clients.end(),
                                  [&](const common::Cidr& c) { return c.contains(client_ip); })))
      continue;
    std::int32_t matched_input = -1;
    bool all = true;
    for (const Condition& cond : vp.conditions) {
      bool any = false;
      auto inputs = request.inputs();
      for (std::size_t i = 0; i < inputs.size(); ++i) {
        if (cond.input.matches(inputs[i].source, inputs[i].name) && cond.value.matches(inputs[i].value)) {
          any = true;
          if (matched_input < 0) matched_input = static_cast<std::int32_t>(i);
          break;
        }
      }
      if (!any) {
        all = false;
        break;
      }
    }
    if (!all) continue;
    Finding f;
    f.rule = vp.id;
    f.cwe = "";
    f.outcome = Outcome::kProbed;
    f.mode = vp.mode;
    f.input = matched_input;
    f.reason = vp.reason.empty() ? "the request matches virtual patch " + vp.id : vp.reason;
    f.evidence = std::string(request.method()) + " " + std::string(request.path());
    out->push_back(std::move(f));
  }
}

}  // namespace vigil
