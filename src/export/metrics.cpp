#include "export/metrics.hpp"

#include <cmath>
#include <cstdio>

#include "export/exporter.hpp"

namespace vigil::exports {

void PrometheusWriter::family(std::string_view name, std::string_view type, std::string_view help) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  for (char c : help) {
    if (c == '\\') out_ += "\\\\";
    else if (c == '\n') out_ += "\\n";
    else out_ += c;
  }
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type;
  out_ += '\n';
}

void PrometheusWriter::labels(const Labels& labels) {
  if (labels.empty()) return;
  out_ += '{';
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out_ += ',';
    first = false;
    out_ += k;
    out_ += "=\"";
    for (char c : v) {
      if (c == '\\') out_ += "\\\\";
      else if (c == '"') out_ += "\\\"";
      else if (c == '\n') out_ += "\\n";
      else out_ += c;
    }
    out_ += '"';
  }
  out_ += '}';
}

void PrometheusWriter::sample(std::string_view name, const Labels& l, std::uint64_t value) {
  out_ += name;
  labels(l);
  out_ += ' ';
  out_ += std::to_string(value);
  out_ += '\n';
}

void PrometheusWriter::sample(std::string_view name, const Labels& l, double value) {
  out_ += name;
  labels(l);
  char buf[64];
  if (std::isnan(value)) std::snprintf(buf, sizeof buf, " NaN\n");
  else std::snprintf(buf, sizeof buf, " %.17g\n", value);
  out_ += buf;
}

std::string render_export_metrics(const std::vector<std::pair<std::string, ExporterStats>>& stats,
                                  std::uint64_t invalid_events) {
  PrometheusWriter w;
  struct Counter {
    const char* name;
    const char* help;
    std::uint64_t ExporterStats::*field;
  };
  static const Counter kCounters[] = {
      {"vigil_export_sent_total", "Records the export's receiver took.", &ExporterStats::sent},
      {"vigil_export_failed_total", "Records the receiver refused (not retried).", &ExporterStats::failed},
      {"vigil_export_retried_total", "Records sent again after a failed attempt.", &ExporterStats::retried},
      {"vigil_export_send_errors_total", "Delivery attempts that failed and will be retried.", &ExporterStats::send_errors},
      {"vigil_export_filtered_total", "Events the export's filters kept out.", &ExporterStats::filtered},
      {"vigil_export_summarized_total", "Probed and suspicious events counted into summaries.", &ExporterStats::summarized},
      {"vigil_export_summaries_total", "Summary records queued.", &ExporterStats::summaries},
      {"vigil_export_compacted_total", "Records shortened to fit the syslog message size.", &ExporterStats::compacted},
      {"vigil_export_truncated_total", "Records cut at the syslog message size.", &ExporterStats::truncated},
  };
  for (const auto& c : kCounters) {
    w.family(c.name, "counter", c.help);
    for (const auto& [name, s] : stats) w.sample(c.name, {{"export", name}}, s.*c.field);
  }
  w.family("vigil_export_dropped_total", "counter",
           "Events or records dropped: buffer full, summary table full, or left at shutdown.");
  for (const auto& [name, s] : stats) {
    w.sample("vigil_export_dropped_total", {{"export", name}, {"reason", "buffer_full"}}, s.dropped_buffer_full);
    w.sample("vigil_export_dropped_total", {{"export", name}, {"reason", "summary_full"}}, s.dropped_summary_full);
    w.sample("vigil_export_dropped_total", {{"export", name}, {"reason", "shutdown"}}, s.dropped_shutdown);
  }
  struct Gauge {
    const char* name;
    const char* help;
    std::size_t ExporterStats::*field;
  };
  static const Gauge kGauges[] = {
      {"vigil_export_queue_depth", "Records waiting for delivery.", &ExporterStats::queue_depth},
      {"vigil_export_queue_bytes", "Approximate memory held by the waiting records.", &ExporterStats::queue_bytes},
      {"vigil_export_buffer_capacity", "Records the buffer holds before it drops.", &ExporterStats::buffer_events},
      {"vigil_export_summary_keys", "Summaries being counted for the current interval.", &ExporterStats::summary_keys},
  };
  for (const auto& g : kGauges) {
    w.family(g.name, "gauge", g.help);
    for (const auto& [name, s] : stats)
      w.sample(g.name, {{"export", name}}, static_cast<std::uint64_t>(s.*g.field));
  }
  w.family("vigil_export_last_success_timestamp_seconds", "gauge",
           "When the export last delivered a batch (0: never).");
  for (const auto& [name, s] : stats)
    w.sample("vigil_export_last_success_timestamp_seconds", {{"export", name}},
             static_cast<double>(s.last_success_ms) / 1000.0);
  w.family("vigil_export_invalid_events_total", "counter",
           "Events handed to the exports that were not valid Vigil events.");
  w.sample("vigil_export_invalid_events_total", {}, invalid_events);
  return w.text();
}

}  // namespace vigil::exports
