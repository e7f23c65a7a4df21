#include "server/ingest/event_stats.hpp"

#include <algorithm>
#include <array>
#include <map>
#include <set>
#include <tuple>

#include "server/common/time.hpp"

namespace vigil::server::ingest {
namespace {

using storage::Connection;
using storage::Params;

constexpr std::int64_t kMinuteMs = 60'000;
constexpr std::int64_t kHourMs = 3'600'000;
constexpr const char* kMinuteTable = "event_counts_minute";
constexpr const char* kHourTable = "event_counts_hour";

std::int64_t floor_to(std::int64_t t, std::int64_t unit) noexcept {
  std::int64_t q = t / unit;
  if (t % unit < 0) --q;
  return q * unit;
}

// Views into the events being written (they outlive the upserts): summing a batch copies no
// string.
using CountKey =
    std::tuple<std::string_view, std::int64_t, int, std::string_view, std::string_view>;

// Few fixed statement shapes (as the event insert): a handful of prepared statements.
constexpr std::size_t kChunks[] = {64, 16, 4, 1};

using Count = std::pair<CountKey, std::int64_t>;

// Sorts `rows` by key and adds up the rows of each key into one. (A sort of the batch costs a
// fraction of a std::map's insertions.)
void sum_by_key(std::vector<Count>* rows) {
  std::sort(rows->begin(), rows->end(),
            [](const Count& a, const Count& b) { return a.first < b.first; });
  std::size_t out = 0;
  for (std::size_t i = 0; i < rows->size(); ++i) {
    if (out > 0 && (*rows)[out - 1].first == (*rows)[i].first) {
      (*rows)[out - 1].second += (*rows)[i].second;
    } else {
      (*rows)[out++] = (*rows)[i];
    }
  }
  rows->resize(out);
}

// REQUIRES: rows sorted by key, one per key (sum_by_key).
void upsert_counts(Connection& c, const char* table, const std::vector<Count>& rows) {
  std::size_t at = 0;
  for (std::size_t chunk : kChunks) {
    while (rows.size() - at >= chunk) {
      std::string sql = std::string("INSERT INTO ") + table +
                        " (app, bucket_ms, outcome, rule, client_ip, count) VALUES ";
      Params p;
      p.reserve(chunk * 6);
      for (std::size_t i = 0; i < chunk; ++i) {
        sql += i ? ", (?, ?, ?, ?, ?, ?)" : "(?, ?, ?, ?, ?, ?)";
        const auto& [key, n] = rows[at + i];
        p.push_back(storage::TextRef{std::get<0>(key)});
        p.push_back(std::get<1>(key));
        p.push_back(std::int64_t{std::get<2>(key)});
        p.push_back(storage::TextRef{std::get<3>(key)});
        p.push_back(storage::TextRef{std::get<4>(key)});
        p.push_back(n);
      }
      // Rows are sorted by key, so two transactions upserting the same rows (PostgreSQL, two
      // vigild) lock them in the same order.
      sql += std::string(" ON CONFLICT (app, bucket_ms, outcome, rule, client_ip) DO UPDATE SET "
                         "count = ") +
             table + ".count + excluded.count";
      c.exec(sql, p);
      at += chunk;
    }
  }
}

// A part of the counted range and the table that holds it at the coarsest exact grain.
struct Piece {
  const char* table;
  std::int64_t from, to;  // [from, to)
};

std::vector<Piece> pieces_of(std::int64_t from, std::int64_t to, bool hours_allowed) {
  std::vector<Piece> out;
  std::int64_t h0 = floor_to(from + kHourMs - 1, kHourMs), h1 = floor_to(to, kHourMs);
  if (!hours_allowed || h0 >= h1) {
    out.push_back({kMinuteTable, from, to});
    return out;
  }
  if (from < h0) out.push_back({kMinuteTable, from, h0});
  out.push_back({kHourTable, h0, h1});
  if (h1 < to) out.push_back({kMinuteTable, h1, to});
  return out;
}

struct Tally {
  std::int64_t count = 0;
  int worst = -1;
  std::set<std::string> apps;
  void add(std::int64_t n, int outcome) {
    count += n;
    worst = std::max(worst, outcome);
  }
};

const char* severity_of(int outcome) {
  return outcome >= kExploited ? "critical"
         : outcome == kBlocked ? "high"
         : outcome == kProbed  ? "medium"
                               : "low";
}

Json outcome_counts(const std::int64_t (&n)[4]) {
  return {{"exploited", n[kExploited]},
          {"blocked", n[kBlocked]},
          {"probed", n[kProbed]},
          {"suspicious", n[kSuspicious]}};
}

// The `top` largest tallies (by count, then worst outcome, then name).
std::vector<std::pair<std::string, const Tally*>> top_of(const std::map<std::string, Tally>& m,
                                                         int top) {
  std::vector<std::pair<std::string, const Tally*>> v;
  v.reserve(m.size());
  for (const auto& [name, t] : m) v.emplace_back(name, &t);
  auto before = [](const auto& a, const auto& b) {
    if (a.second->count != b.second->count) return a.second->count > b.second->count;
    if (a.second->worst != b.second->worst) return a.second->worst > b.second->worst;
    return a.first < b.first;
  };
  std::size_t n = std::min(v.size(), static_cast<std::size_t>(std::max(0, top)));
  std::partial_sort(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(n), v.end(), before);
  v.resize(n);
  return v;
}

std::int64_t minute_end(std::int64_t until_ms) { return floor_to(until_ms, kMinuteMs) + kMinuteMs; }

}  // namespace

void add_event_counts(Connection& c, const std::vector<EventRecord*>& events) {
  std::vector<Count> minutes;
  minutes.reserve(events.size());
  for (const EventRecord* e : events)
    minutes.push_back(
        {{e->app, floor_to(e->time_ms, kMinuteMs), e->outcome, e->rule, e->client_ip}, 1});
  sum_by_key(&minutes);
  std::vector<Count> hours = minutes;
  for (Count& h : hours) std::get<1>(h.first) = floor_to(std::get<1>(h.first), kHourMs);
  sum_by_key(&hours);
  upsert_counts(c, kMinuteTable, minutes);
  upsert_counts(c, kHourTable, hours);
}

std::int64_t stats_bucket_count(std::int64_t since_ms, std::int64_t until_ms,
                                std::int64_t bucket_s) noexcept {
  std::int64_t b = bucket_s * 1000;
  std::int64_t first = floor_to(floor_to(since_ms, kMinuteMs), b);
  return (minute_end(until_ms) - first + b - 1) / b;
}

std::int64_t default_stats_bucket_s(std::int64_t since_ms, std::int64_t until_ms) noexcept {
  for (std::int64_t b : kStatsBuckets)
    if (stats_bucket_count(since_ms, until_ms, b) <= 100) return b;
  return kStatsBuckets[std::size(kStatsBuckets) - 1];
}

Json event_stats(storage::Database& db, const StatsQuery& q) {
  const std::int64_t from = floor_to(q.since_ms, kMinuteMs), to = minute_end(q.until_ms);
  const std::int64_t bucket_ms = q.bucket_s * 1000;
  const std::int64_t first = floor_to(from, bucket_ms);
  const std::size_t n_buckets = static_cast<std::size_t>((to - first + bucket_ms - 1) / bucket_ms);

  std::vector<std::array<std::int64_t, 4>> series(n_buckets, std::array<std::int64_t, 4>{});
  std::int64_t totals[4] = {0, 0, 0, 0};
  std::map<std::string, Tally> rules, attackers;
  std::int64_t open[4] = {0, 0, 0, 0};

  db.read([&](Connection& c) {
    std::vector<std::string> apps;
    if (!q.app.empty()) {
      apps.push_back(q.app);
    } else {
      // Every application, one index seek each (the hourly table has a row for each).
      std::string last;
      for (;;) {
        auto r = c.query("SELECT app FROM event_counts_hour WHERE app > ? ORDER BY app LIMIT 1",
                         {last});
        if (r.empty()) break;
        apps.push_back(last = r[0].text(0));
      }
    }
    for (const std::string& app : apps) {
      // Series: hours serve only buckets of an hour or more.
      for (const Piece& piece : pieces_of(from, to, bucket_ms >= kHourMs)) {
        for (const auto& r : c.query(std::string("SELECT bucket_ms, outcome, SUM(count) FROM ") +
                                         piece.table +
                                         " WHERE app = ? AND bucket_ms >= ? AND bucket_ms < ? "
                                         "GROUP BY bucket_ms, outcome",
                                     {app, piece.from, piece.to})) {
          std::int64_t i = (floor_to(r.integer(0), bucket_ms) - first) / bucket_ms;
          int outcome = static_cast<int>(r.integer(1));
          if (i < 0 || i >= static_cast<std::int64_t>(n_buckets) || outcome < 0 || outcome > 3)
            continue;
          series[static_cast<std::size_t>(i)][static_cast<std::size_t>(outcome)] += r.integer(2);
        }
      }
      for (const Piece& piece : pieces_of(from, to, true)) {
        Params p{app, piece.from, piece.to};
        for (const auto& r : c.query(std::string("SELECT rule, outcome, SUM(count) FROM ") +
                                         piece.table +
                                         " WHERE app = ? AND bucket_ms >= ? AND bucket_ms < ? "
                                         "GROUP BY rule, outcome",
                                     p)) {
          int outcome = static_cast<int>(r.integer(1));
          if (outcome < 0 || outcome > 3) continue;
          rules[r.text(0)].add(r.integer(2), outcome);
          totals[outcome] += r.integer(2);
        }
        for (const auto& r : c.query(std::string("SELECT client_ip, outcome, SUM(count) FROM ") +
                                         piece.table +
                                         " WHERE app = ? AND bucket_ms >= ? AND bucket_ms < ? "
                                         "AND client_ip <> '' GROUP BY client_ip, outcome",
                                     p)) {
          Tally& t = attackers[r.text(0)];
          t.add(r.integer(2), static_cast<int>(std::clamp<std::int64_t>(r.integer(1), 0, 3)));
          t.apps.insert(app);
        }
      }
    }
    auto rows = q.app.empty()
                    ? c.query("SELECT outcome, COUNT(*) FROM incidents WHERE closed = 0 "
                              "GROUP BY outcome")
                    : c.query("SELECT outcome, COUNT(*) FROM incidents WHERE closed = 0 AND "
                              "app = ? GROUP BY outcome",
                              {q.app});
    for (const auto& r : rows) open[std::clamp<std::int64_t>(r.integer(0), 0, 3)] += r.integer(1);
  });

  Json out_series = Json::array();
  for (std::size_t i = 0; i < n_buckets; ++i) {
    const auto& b = series[i];
    out_series.push_back({{"t", format_rfc3339(first + static_cast<std::int64_t>(i) * bucket_ms)},
                          {"exploited", b[kExploited]},
                          {"blocked", b[kBlocked]},
                          {"probed", b[kProbed]},
                          {"suspicious", b[kSuspicious]}});
  }
  Json out_rules = Json::array();
  for (const auto& [rule, t] : top_of(rules, q.top))
    out_rules.push_back(
        {{"rule", rule}, {"count", t->count}, {"worst_outcome", outcome_name(t->worst)}});
  Json out_attackers = Json::array();
  for (const auto& [ip, t] : top_of(attackers, q.top))
    out_attackers.push_back({{"client_ip", ip},
                             {"count", t->count},
                             {"worst_outcome", outcome_name(t->worst)},
                             {"apps", Json(std::vector<std::string>(t->apps.begin(), t->apps.end()))}});
  Json incidents_open = Json::object();
  for (int o : {kExploited, kBlocked, kProbed, kSuspicious}) incidents_open[severity_of(o)] = open[o];
  return {{"since", format_rfc3339(from)},
          {"until", format_rfc3339(to)},
          {"bucket_s", q.bucket_s},
          {"series", std::move(out_series)},
          {"totals", outcome_counts(totals)},
          {"top_rules", std::move(out_rules)},
          {"top_attackers", std::move(out_attackers)},
          {"incidents_open", std::move(incidents_open)}};
}

}  // namespace vigil::server::ingest
