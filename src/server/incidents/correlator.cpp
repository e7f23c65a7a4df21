#include "server/incidents/correlator.hpp"

#include <algorithm>
#include <deque>
#include <map>
#include <set>

#include "server/common/names.hpp"
#include "server/common/time.hpp"
#include "server/incidents/incident.hpp"

namespace vigil::server::incidents {
namespace {

using ingest::EventRecord;
using storage::Connection;

constexpr std::size_t kFacetBytes = 256;
constexpr std::size_t kRouteBytes = 1024;

// (kind, value) -> +n. Views into the events being correlated (or into Correlate's own copies
// of composed values): counting a batch copies no string.
using FacetCounts = std::map<std::pair<std::string_view, std::string_view>, std::int64_t>;

struct Work {
  Incident inc;
  bool dirty = false;
  FacetCounts facets;
};

std::string json_array(const std::vector<std::string>& v) { return dump_json(Json(v)); }

// The input facet ("source:name"): a view of the event's name, or of the composed value kept
// in *texts (a deque: its strings stay where they are).
std::string_view input_of(const EventRecord& e, std::deque<std::string>* texts) {
  if (e.input_name.empty()) return {};
  if (e.input_source.empty()) return ingest::utf8_prefix(e.input_name, kFacetBytes);
  std::string in = e.input_source + ":" + e.input_name;
  if (!texts->empty() && texts->back() == in)
    return ingest::utf8_prefix(texts->back(), kFacetBytes);
  return ingest::utf8_prefix(texts->emplace_back(std::move(in)), kFacetBytes);
}

}  // namespace

void Correlator::lock_attackers(Connection& c, const std::vector<EventRecord*>& events) const {
  // SQLite has one writer at a time (BEGIN IMMEDIATE, other processes included): the row
  // locks would serialise nothing more. correlate() creates the rows.
  if (c.dialect() == storage::Dialect::kSqlite) return;
  std::set<std::pair<std::string, std::string>> keys;
  for (const EventRecord* e : events) keys.emplace(e->app, e->attacker);
  std::int64_t now = now_ms();
  // In sorted order: two transactions with attackers in common lock them in the same order.
  for (const auto& [app, attacker] : keys)
    c.exec(
        "INSERT INTO attackers (app, attacker, first_seen_ms, last_seen_ms, events) "
        "VALUES (?, ?, ?, ?, 0) ON CONFLICT (app, attacker) DO UPDATE SET events = attackers.events",
        {app, attacker, now, now});
}

void Correlator::correlate(Connection& c, std::vector<EventRecord*>& events) const {
  std::map<std::pair<std::string, std::string>, std::vector<EventRecord*>> groups;
  for (EventRecord* e : events) groups[{e->app, e->attacker}].push_back(e);
  const std::int64_t window = options_.window_ms;
  const std::int64_t now = now_ms();

  for (auto& [key, group] : groups) {
    const auto& [app, attacker] = key;
    std::stable_sort(group.begin(), group.end(), [](const EventRecord* a, const EventRecord* b) {
      return a->time_ms < b->time_ms;
    });

    // The attacker's state, read under its lock.
    std::map<std::string, std::int64_t> keys;  // family -> incident
    std::map<std::int64_t, Work> incidents;
    for (const auto& r : c.query("SELECT family, incident_id FROM incident_keys "
                                 "WHERE app = ? AND attacker = ?",
                                 {app, attacker}))
      keys[r.text(0)] = r.integer(1);
    // One lookup per incident (an attacker has one or two): an IN (subquery) costs SQLite a
    // temporary table per statement.
    for (const auto& [family, id] : keys) {
      if (incidents.count(id)) continue;
      for (const auto& r : c.query(std::string("SELECT ") + kIncidentColumns +
                                       " FROM incidents WHERE id = ?",
                                   {id}))
        incidents[r.integer(0)].inc = incident_from_row(r);
    }
    std::set<std::string> changed_keys;

    auto active = [&](const Incident& i, std::int64_t t) {
      return !i.closed() && t <= i.last_seen_ms + window && t >= i.first_seen_ms - window;
    };
    // The attacker's most recently seen active incident (optionally: without a proof yet).
    auto latest_active = [&](std::int64_t t, bool unproven_only) -> Work* {
      Work* best = nullptr;
      for (auto& [id, w] : incidents) {
        if (!active(w.inc, t)) continue;
        if (unproven_only && (w.inc.outcome >= ingest::kBlocked || w.inc.status != "open"))
          continue;
        if (!best || w.inc.last_seen_ms > best->inc.last_seen_ms) best = &w;
      }
      return best;
    };
    auto open_incident = [&](const EventRecord& e) -> Work* {
      Incident i;
      i.app = app;
      i.attacker = attacker;
      i.client_ip = e.client_ip;
      i.family = e.family;
      i.status = "open";
      i.outcome = e.outcome;
      i.first_seen_ms = i.last_seen_ms = e.time_ms;
      i.created_ms = i.updated_ms = now;
      auto rows = c.query(
          "INSERT INTO incidents (app, attacker, client_ip, family, status, closed, outcome, "
          "score, rank_key, first_seen_ms, last_seen_ms, created_ms, updated_ms) "
          "VALUES (?, ?, ?, ?, 'open', 0, ?, 0, 0, ?, ?, ?, ?) RETURNING id",
          {app, attacker, i.client_ip, i.family, std::int64_t{i.outcome}, i.first_seen_ms,
           i.last_seen_ms, now, now});
      i.id = rows.at(0).integer(0);
      c.exec(
          "INSERT INTO incident_history (incident_id, time_ms, actor, action, to_status) "
          "VALUES (?, ?, 'vigild', 'created', 'open')",
          {i.id, now});
      Work& w = incidents[i.id];
      w.inc = std::move(i);
      return &w;
    };

    std::deque<std::string> texts;  // composed facet values the facet maps point into
    std::int64_t first = INT64_MAX, last = INT64_MIN;
    for (EventRecord* e : group) {
      first = std::min(first, e->time_ms);
      last = std::max(last, e->time_ms);
      Work* target = nullptr;
      auto k = keys.find(e->family);
      if (k != keys.end()) {
        auto it = incidents.find(k->second);
        if (it != incidents.end() && active(it->second.inc, e->time_ms)) target = &it->second;
      }
      if (!target) {
        bool proof = e->outcome >= ingest::kBlocked;
        target = latest_active(e->time_ms, proof);
        if (target && proof) target->inc.family = e->family;  // probes became an attack
        if (!target) target = open_incident(*e);
        if (keys[e->family] != target->inc.id) {
          keys[e->family] = target->inc.id;
          changed_keys.insert(e->family);
        }
      }
      e->incident_id = target->inc.id;

      Incident& i = target->inc;
      target->dirty = true;
      i.counts[std::clamp(e->outcome, 0, 3)] += 1;
      i.first_seen_ms = std::min(i.first_seen_ms, e->time_ms);
      i.last_seen_ms = std::max(i.last_seen_ms, e->time_ms);
      i.outcome = std::max(i.outcome, e->outcome);
      if (i.client_ip.empty()) i.client_ip = e->client_ip;
      if (e->outcome > i.top_outcome) {
        i.top_outcome = e->outcome;
        i.top_rule = e->rule;
        i.top_route = truncate_utf8(e->path, kRouteBytes);
        i.top_input = std::string(input_of(*e, &texts));
        i.top_sink = e->sink_type;
        i.top_event = e->event_id;
      }
      auto& f = target->facets;
      f[{"rule", e->rule}] += 1;
      if (!e->path.empty()) f[{"route", ingest::utf8_prefix(e->path, kFacetBytes)}] += 1;
      if (std::string_view in = input_of(*e, &texts); !in.empty()) f[{"input", in}] += 1;
      if (!e->tool.empty()) f[{"tool", e->tool}] += 1;
      if (!e->user.empty()) f[{"user", ingest::utf8_prefix(e->user, kFacetBytes)}] += 1;
    }

    for (auto& [id, w] : incidents) {
      if (!w.dirty) continue;
      Incident& i = w.inc;
      // The facets in multi-row upserts (sorted keys: two vigild lock rows in the same order).
      // New route and input facets widen the spread: they are inserted first (with a count of
      // 0, the upsert below adds), and the rows inserted are counted, so the spread is kept
      // without counting an incident's facets again. (An upsert RETURNING its rows, to tell
      // the new ones, cost SQLite more than both statements.) Lists are read in key order and
      // ranked here: an ORDER BY would cost SQLite a sorter per statement.
      using Facet = FacetCounts::value_type;
      std::vector<const Facet*> all, spread;
      bool users_changed = false, tools_changed = false;
      for (const auto& kv : w.facets) {
        all.push_back(&kv);
        std::string_view kind = kv.first.first;
        if (kind == "route" || kind == "input") spread.push_back(&kv);
        users_changed |= kind == "user";
        tools_changed |= kind == "tool";
      }
      auto upsert = [&](const std::vector<const Facet*>& fs, bool add) {
        for (std::size_t at = 0; at < fs.size();) {
          std::size_t n = fs.size() - at >= 16 ? 16 : fs.size() - at >= 4 ? 4 : 1;
          std::string sql = "INSERT INTO incident_facets (incident_id, kind, value, count) VALUES ";
          storage::Params p;
          p.reserve(n * 4);
          for (std::size_t k = 0; k < n; ++k) {
            sql += k ? ", (?, ?, ?, ?)" : "(?, ?, ?, ?)";
            const auto& [fk, count] = *fs[at + k];
            p.push_back(id);
            p.push_back(storage::TextRef{fk.first});
            p.push_back(storage::TextRef{fk.second});
            p.push_back(add ? count : std::int64_t{0});
          }
          sql += add ? " ON CONFLICT (incident_id, kind, value) DO UPDATE SET "
                       "count = incident_facets.count + excluded.count"
                     : " ON CONFLICT (incident_id, kind, value) DO NOTHING";
          std::int64_t changed = c.exec(sql, p);
          if (!add) i.spread += changed;
          at += n;
        }
      };
      upsert(spread, false);
      upsert(all, true);
      auto ranked = [&](const char* kind, std::size_t limit) {
        std::vector<std::pair<std::int64_t, std::string>> v;
        for (const auto& r : c.query("SELECT value, count FROM incident_facets WHERE "
                                     "incident_id = ? AND kind = ?",
                                     {id, std::string(kind)}))
          v.emplace_back(-r.integer(1), r.text(0));
        std::sort(v.begin(), v.end());  // count descending, then value
        std::vector<std::string> out;
        for (std::size_t k = 0; k < v.size() && k < limit; ++k) out.push_back(std::move(v[k].second));
        return out;
      };
      i.rules = ranked("rule", 32);
      if (users_changed) i.users = ranked("user", 16);
      // Counts only grow: when the only tool this batch saw is the incident's top one, it
      // stays on top (an attack tool's every request says so: this is the common case).
      if (tools_changed &&
          !(w.facets.count({"tool", i.tool}) &&
            std::count_if(w.facets.begin(), w.facets.end(),
                          [](const auto& kv) { return kv.first.first == "tool"; }) == 1)) {
        auto tools = ranked("tool", 1);
        i.tool = tools.empty() ? "" : tools[0];
      }
      i.score = score_of(i);
      Incident open_copy = i;
      open_copy.status = "open";
      double open_rank = rank_key_of(open_copy);  // the status part is decided in SQL below
      // The status is not ours to change (PATCH may have changed it since we read it): the
      // rank's open/closed part is computed from the row as it is now.
      c.exec(
          "UPDATE incidents SET family = ?, client_ip = ?, outcome = ?, score = ?, "
          "rank_key = CAST(? AS DOUBLE PRECISION) - CASE WHEN status IN ('resolved', "
          "'false_positive') THEN 10000000.0 ELSE 0.0 END, first_seen_ms = ?, last_seen_ms = ?, n_suspicious = ?, n_probed = ?, "
          "n_blocked = ?, n_exploited = ?, spread = ?, tool = ?, top_rule = ?, top_outcome = ?, "
          "top_route = ?, top_input = ?, top_sink = ?, top_event = ?, rules = ?, users = ?, "
          "updated_ms = ? WHERE id = ?",
          {i.family, i.client_ip, std::int64_t{i.outcome}, i.score, open_rank, i.first_seen_ms,
           i.last_seen_ms, i.counts[0], i.counts[1], i.counts[2], i.counts[3], i.spread, i.tool,
           i.top_rule, std::int64_t{i.top_outcome}, i.top_route, i.top_input, i.top_sink,
           i.top_event, json_array(i.rules), json_array(i.users), now, id});
    }
    for (const auto& family : changed_keys)
      c.exec(
          "INSERT INTO incident_keys (app, attacker, family, incident_id) VALUES (?, ?, ?, ?) "
          "ON CONFLICT (app, attacker, family) DO UPDATE SET incident_id = excluded.incident_id",
          {app, attacker, family, keys[family]});
    // An upsert: on SQLite the row may not exist yet (lock_attackers() makes none there).
    c.exec(
        "INSERT INTO attackers (app, attacker, first_seen_ms, last_seen_ms, events) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (app, attacker) DO UPDATE SET "
        "events = attackers.events + excluded.events, "
        "first_seen_ms = CASE WHEN attackers.events = 0 OR excluded.first_seen_ms < "
        "attackers.first_seen_ms THEN excluded.first_seen_ms ELSE attackers.first_seen_ms END, "
        "last_seen_ms = CASE WHEN attackers.events = 0 OR excluded.last_seen_ms > "
        "attackers.last_seen_ms THEN excluded.last_seen_ms ELSE attackers.last_seen_ms END",
        {app, attacker, first, last, static_cast<std::int64_t>(group.size())});
  }
}

}  // namespace vigil::server::incidents
