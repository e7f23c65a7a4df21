#include "server/incidents/incident.hpp"

#include <algorithm>
#include <cmath>

#include "server/common/time.hpp"
#include "server/ingest/event_batch.hpp"

namespace vigil::server::incidents {
namespace {

std::vector<std::string> string_array(const std::string& text) {
  std::vector<std::string> out;
  std::string error;
  auto j = parse_json(text, &error);
  if (j && j->is_array())
    for (const auto& v : *j)
      if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

std::string thousands(std::int64_t n) {
  std::string digits = std::to_string(n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

}  // namespace

bool valid_status(std::string_view s) noexcept {
  for (const char* st : kStatuses)
    if (s == st) return true;
  return false;
}

bool closed_status(std::string_view s) noexcept {
  return s == "resolved" || s == "false_positive";
}

const char* const kIncidentColumns =
    "id, app, attacker, client_ip, family, status, outcome, score, rank_key, first_seen_ms, "
    "last_seen_ms, n_suspicious, n_probed, n_blocked, n_exploited, spread, tool, top_rule, "
    "top_outcome, top_route, top_input, top_sink, top_event, rules, users, created_ms, "
    "updated_ms";

Incident incident_from_row(const storage::Row& r) {
  Incident i;
  i.id = r.integer(0);
  i.app = r.text(1);
  i.attacker = r.text(2);
  i.client_ip = r.text(3);
  i.family = r.text(4);
  i.status = r.text(5);
  i.outcome = static_cast<int>(r.integer(6));
  i.score = r.real(7);
  i.rank_key = r.real(8);
  i.first_seen_ms = r.integer(9);
  i.last_seen_ms = r.integer(10);
  for (int k = 0; k < 4; ++k) i.counts[k] = r.integer(11 + k);
  i.spread = r.integer(15);
  i.tool = r.text(16);
  i.top_rule = r.text(17);
  i.top_outcome = static_cast<int>(r.integer(18));
  i.top_route = r.text(19);
  i.top_input = r.text(20);
  i.top_sink = r.text(21);
  i.top_event = r.text(22);
  i.rules = string_array(r.text(23));
  i.users = string_array(r.text(24));
  i.created_ms = r.integer(25);
  i.updated_ms = r.integer(26);
  return i;
}

double score_of(const Incident& i) {
  static constexpr double kBase[] = {5, 25, 50, 75};
  double s = kBase[std::clamp(i.outcome, 0, 3)];
  s += std::min(10.0, 2.5 * std::log10(1.0 + static_cast<double>(i.events())));
  s += std::min(10.0, 3.0 * std::log2(1.0 + static_cast<double>(i.spread)));
  std::size_t families = 0;
  std::vector<std::string> seen;
  for (const auto& r : i.rules) {
    std::string f = ingest::family_of(r);
    if (std::find(seen.begin(), seen.end(), f) == seen.end()) {
      seen.push_back(f);
      ++families;
    }
  }
  if (families > 1) s += std::min(5.0, 2.5 * static_cast<double>(families - 1));
  return std::round(s * 10) / 10;
}

double rank_key_of(const Incident& i) {
  constexpr double kSixHoursMs = 6.0 * 3600 * 1000;
  double key = score_of(i) + static_cast<double>(i.last_seen_ms) / kSixHoursMs;
  return i.closed() ? key : key + 1e7;
}

std::string rule_label(std::string_view rule) {
  static constexpr std::pair<const char*, const char*> kLabels[] = {
      {"sql-injection", "SQL injection"},
      {"command-injection", "command injection"},
      {"argument-injection", "argument injection"},
      {"code-injection", "code injection"},
      {"path-traversal", "path traversal"},
      {"ssrf", "SSRF"},
      {"remote-file-inclusion", "remote file inclusion"},
      {"xss", "XSS"},
      {"xxe", "XXE"},
      {"ssti", "template injection"},
      {"nosql-injection", "NoSQL injection"},
      {"log4shell", "Log4Shell"},
      {"ldap-injection", "LDAP injection"},
      {"xpath-injection", "XPath injection"},
      {"ssi-injection", "SSI injection"},
      {"crlf-injection", "CRLF injection"},
      {"header-injection", "header injection"},
      {"open-redirect", "open redirect"},
      {"scanner", "scanning"},
      {"protocol-anomaly", "malformed requests"},
      {"ip-denylist", "denylisted address"},
      {"analysis-budget", "analysis budget overrun"},
  };
  std::string family = ingest::family_of(rule);
  for (const auto& [name, label] : kLabels)
    if (family == name) return label;
  if (rule.substr(0, 3) == "vp-") return "virtual patch " + std::string(rule);
  return std::string(rule);
}

std::string summary_of(const Incident& i) {
  std::string who = !i.client_ip.empty() ? i.client_ip
                    : !i.users.empty()   ? "user " + i.users[0]
                                         : "an unknown client";
  if (!i.client_ip.empty() && !i.users.empty()) who += " (user " + i.users[0] + ")";
  std::string s = who + (i.tool.empty() ? " attacked " : " ran " + i.tool + " against ") + i.app;
  s += ": " + rule_label(i.top_rule) + " ";
  switch (i.top_outcome) {
    case ingest::kExploited: s += "exploited"; break;
    case ingest::kBlocked: s += "blocked"; break;
    case ingest::kProbed: s += "attempted"; break;
    default: s += "seen"; break;
  }
  if (!i.top_route.empty()) {
    s += " on " + i.top_route;
    if (!i.top_input.empty()) {
      // "query:id" -> "id"; other sources keep theirs ("header User-Agent").
      std::string_view in = i.top_input;
      auto colon = in.find(':');
      std::string source(in.substr(0, colon == std::string_view::npos ? 0 : colon));
      std::string name(colon == std::string_view::npos ? in : in.substr(colon + 1));
      bool plain = source.empty() || source == "query" || source == "body" || source == "json" ||
                   source == "path" || source == "multipart";
      s += " (" + (plain ? name : source + " " + name) + ")";
    }
  }
  std::int64_t probes = i.counts[ingest::kProbed] + i.counts[ingest::kSuspicious];
  if (probes > 0 && !(probes == 1 && i.events() == 1))
    s += ", " + thousands(probes) + (probes == 1 ? " probe" : " probes");
  return s;
}

Json incident_json(const Incident& i) {
  Json counts = {{"exploited", i.counts[ingest::kExploited]},
                 {"blocked", i.counts[ingest::kBlocked]},
                 {"probed", i.counts[ingest::kProbed]},
                 {"suspicious", i.counts[ingest::kSuspicious]}};
  Json top = {{"rule", i.top_rule},
              {"outcome", ingest::outcome_name(i.top_outcome)},
              {"route", i.top_route},
              {"input", i.top_input},
              {"sink", i.top_sink},
              {"event_id", i.top_event}};
  return {{"id", i.id},
          {"app", i.app},
          {"status", i.status},
          {"outcome", ingest::outcome_name(i.outcome)},
          {"rules", i.rules},
          {"client_ip", i.client_ip},
          {"attacker", i.attacker},
          {"users", i.users},
          {"family", i.family},
          {"tool", i.tool},
          {"counts", counts},
          {"event_count", i.events()},
          {"spread", i.spread},
          {"first_seen", format_rfc3339(i.first_seen_ms)},
          {"last_seen", format_rfc3339(i.last_seen_ms)},
          {"score", i.score},
          {"severity", i.outcome >= ingest::kExploited ? "critical"
                       : i.outcome == ingest::kBlocked ? "high"
                       : i.outcome == ingest::kProbed  ? "medium"
                                                       : "low"},
          {"summary", summary_of(i)},
          {"top", top},
          {"created_at", format_rfc3339(i.created_ms)},
          {"updated_at", format_rfc3339(i.updated_ms)}};
}

}  // namespace vigil::server::incidents
