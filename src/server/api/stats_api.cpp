// GET /api/v1/stats: the dashboard's overview (counts over time, top rules and attackers, open
// incidents by severity), read from the rollup tables kept at ingest (ingest/event_stats.hpp).
#include <algorithm>
#include <iterator>

#include "server/api/api.hpp"
#include "server/common/names.hpp"
#include "server/common/time.hpp"
#include "server/ingest/event_stats.hpp"

namespace vigil::server::api {

using http::Access;
using http::Reply;
using http::Request;

namespace {

constexpr std::int64_t kDayMs = 86'400'000;

Reply bad(const std::string& field, const std::string& why) {
  return Reply::error(400, "bad_field", field + ": " + why, field);
}

}  // namespace

void add_stats_routes(Services& s, std::vector<http::Route>* routes) {
  routes->push_back({"GET", "/api/v1/stats", Access::kViewer, 0, [&s](Request& req) {
    ingest::StatsQuery q;
    if (auto app = req.query("app")) {
      if (!valid_app_name(*app)) return bad("app", "not an application name");
      q.app = *app;
    }
    q.until_ms = now_ms();
    if (auto t = req.query("until")) {
      auto ms = parse_rfc3339(*t);
      if (!ms) return bad("until", "an RFC 3339 time (2026-11-26T03:12:45Z)");
      q.until_ms = *ms;
    }
    q.since_ms = q.until_ms - kDayMs;
    if (auto t = req.query("since")) {
      auto ms = parse_rfc3339(*t);
      if (!ms) return bad("since", "an RFC 3339 time (2026-11-26T03:12:45Z)");
      q.since_ms = *ms;
    }
    if (q.since_ms > q.until_ms) return bad("since", "must not be after until");
    if (auto b = req.query("bucket")) {
      std::int64_t v = 0;
      if (!parse_id(*b, &v) || std::find(std::begin(ingest::kStatsBuckets),
                                         std::end(ingest::kStatsBuckets),
                                         v) == std::end(ingest::kStatsBuckets))
        return bad("bucket", "60, 300, 3600 or 86400 (seconds)");
      q.bucket_s = v;
    } else {
      q.bucket_s = ingest::default_stats_bucket_s(q.since_ms, q.until_ms);
    }
    if (ingest::stats_bucket_count(q.since_ms, q.until_ms, q.bucket_s) > ingest::kMaxStatsBuckets)
      return bad(req.query("bucket") ? "bucket" : "since",
                 "at most " + std::to_string(ingest::kMaxStatsBuckets) +
                     " buckets: a larger bucket or a shorter range");
    return Reply::json(200, ingest::event_stats(*s.db, q));
  }});
}

}  // namespace vigil::server::api
