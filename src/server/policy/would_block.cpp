#include "server/policy/would_block.hpp"

#include <rapidjson/document.h>

#include <map>
#include <set>

#include "server/common/time.hpp"
#include "server/ingest/event_batch.hpp"
#include "vigil/analysis.hpp"
#include "vigil/request.hpp"

namespace vigil::server::policy {
namespace {

bool weak_rule(std::string_view rule) {
  return rule == "scanner" || rule == "protocol-anomaly" || rule == "analysis-budget";
}

std::string url_encode(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// The virtual patch (in block mode) that matches the request rebuilt from the event.
std::string matching_patch(const vigil::Policy& policy, const StoredEvent& e) {
  std::string uri = e.path.empty() ? "/" : e.path;
  std::string body, header_name, header_value;
  std::vector<vigil::Header> headers;
  std::string cookie;
  if (!e.input_name.empty()) {
    std::string pair = url_encode(e.input_name) + "=" + url_encode(e.input_value);
    if (e.input_source == "query") {
      uri += "?" + pair;
    } else if (e.input_source == "body") {
      body = pair;
      headers.push_back({"Content-Type", "application/x-www-form-urlencoded"});
    } else if (e.input_source == "header") {
      header_name = e.input_name;
      header_value = e.input_value;
      headers.push_back({header_name, header_value});
    } else if (e.input_source == "cookie") {
      cookie = e.input_name + "=" + e.input_value;
      headers.push_back({"Cookie", cookie});
    }
  }
  vigil::HttpRequest req{e.method.empty() ? "GET" : e.method, uri, headers, body,
                         e.client_ip.empty() ? "0.0.0.0" : e.client_ip};
  vigil::RequestContext ctx;
  ctx.parse(req);
  std::vector<vigil::Finding> findings;
  policy.match_virtual_patches(ctx, &findings);
  for (const auto& f : findings)
    if (f.mode == vigil::Mode::kBlock) return f.rule;
  return {};
}

}  // namespace

std::string would_block(const vigil::Policy& policy, const StoredEvent& e,
                        vigil::PolicyClock::time_point now) {
  if (!e.client_ip.empty()) {
    auto d = policy.ip_decision(e.client_ip, now);
    if (d == vigil::Policy::IpDecision::kAllow) return {};  // allowlisted: not analysed at all
    if (d == vigil::Policy::IpDecision::kDeny) return "ip-denylist";
  }
  bool excluded = policy.excluded(e.rule, e.path, vigil::parse_source(e.input_source),
                                  e.input_name, e.client_ip);
  if (!excluded) {
    vigil::Mode mode;
    bool block = weak_rule(e.rule) ? policy.explicit_mode(e.rule, &mode) && mode == vigil::Mode::kBlock
                                   : policy.mode_for(e.rule) == vigil::Mode::kBlock;
    if (block) return e.rule;
  }
  if (policy.virtual_patch_count() > 0) return matching_patch(policy, e);
  return {};
}

Json preview(storage::Database& db, const std::string& app, const vigil::Policy& policy,
             const PreviewOptions& o) {
  std::int64_t now = now_ms();
  std::int64_t since = now - static_cast<std::int64_t>(o.days) * 86400000;
  auto clock_now = vigil::PolicyClock::now();
  bool need_values = policy.virtual_patch_count() > 0;
  std::int64_t events = 0, blocked = 0, newly = 0, no_longer = 0;
  std::map<std::string, std::int64_t> by_rule;
  std::set<std::string> attackers;
  bool truncated = false;
  // Pages along (time_ms, seq): the (app, time_ms, seq) index, bounded memory.
  std::int64_t after_time = since - 1, after_seq = 0;
  for (;;) {
    auto rows = db.read([&](storage::Connection& c) {
      return c.query(
          std::string("SELECT seq, time_ms, rule, outcome, client_ip, method, path, input_source, "
                      "input_name, ") +
              (need_values ? "doc" : "''") +
              " FROM events WHERE app = ? AND time_ms >= ? AND (time_ms > ? OR (time_ms = ? AND "
              "seq > ?)) ORDER BY time_ms, seq LIMIT 5000",
          {app, since, after_time, after_time, after_seq});
    });
    if (rows.empty()) break;
    for (const auto& r : rows) {
      if (events >= o.max_events) {
        truncated = true;
        break;
      }
      StoredEvent e;
      e.rule = r.text(2);
      e.outcome = static_cast<int>(r.integer(3));
      e.client_ip = r.text(4);
      e.method = r.text(5);
      e.path = r.text(6);
      e.input_source = r.text(7);
      e.input_name = r.text(8);
      if (need_values) {
        rapidjson::Document doc;
        doc.Parse(r.text(9).c_str(), r.text(9).size());
        if (!doc.HasParseError() && doc.IsObject()) {
          auto in = doc.FindMember("input");
          if (in != doc.MemberEnd() && in->value.IsObject()) {
            auto v = in->value.FindMember("value");
            if (v != in->value.MemberEnd() && v->value.IsString())
              e.input_value.assign(v->value.GetString(), v->value.GetStringLength());
          }
        }
      }
      ++events;
      std::string rule = would_block(policy, e, clock_now);
      bool was_blocked = e.outcome == ingest::kBlocked;
      if (!rule.empty()) {
        ++blocked;
        ++by_rule[rule];
        if (!was_blocked) ++newly;
        if (!e.client_ip.empty()) attackers.insert(e.client_ip);
      } else if (was_blocked) {
        ++no_longer;
      }
    }
    if (truncated || rows.size() < 5000) break;
    after_time = rows.back().integer(1);
    after_seq = rows.back().integer(0);
  }
  Json rules = Json::object();
  for (const auto& [rule, n] : by_rule) rules[rule] = n;
  return {{"app", app},
          {"days", o.days},
          {"events", events},
          {"would_block", blocked},
          {"newly_blocked", newly},
          {"no_longer_blocked", no_longer},
          {"by_rule", rules},
          {"attackers_blocked", attackers.size()},
          {"truncated", truncated}};
}

}  // namespace vigil::server::policy
