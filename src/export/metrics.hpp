// Prometheus text exposition format (version 0.0.4): a small writer for vigild's /metrics,
// and the exports' metrics rendered with it.
#ifndef VIGIL_EXPORT_METRICS_HPP_
#define VIGIL_EXPORT_METRICS_HPP_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vigil::exports {

struct ExporterStats;

using Labels = std::vector<std::pair<std::string_view, std::string_view>>;

// Writes metric families: family() once per name (HELP and TYPE lines), then its samples.
// Label values are escaped (\\, \", \n); names are the caller's constants. Not thread-safe.
class PrometheusWriter {
 public:
  void family(std::string_view name, std::string_view type, std::string_view help);
  void sample(std::string_view name, const Labels& labels, double value);
  void sample(std::string_view name, const Labels& labels, std::uint64_t value);
  const std::string& text() const noexcept { return out_; }

 private:
  void labels(const Labels& labels);
  std::string out_;
};

// vigil_export_* families, one series per export (label `export`, the export's name):
//   vigil_export_sent_total, _failed_total, _retried_total, _send_errors_total,
//   _dropped_total{reason=buffer_full|summary_full|shutdown}, _filtered_total,
//   _summarized_total, _summaries_total, _compacted_total, _truncated_total,
//   _queue_depth, _queue_bytes, _buffer_capacity, _summary_keys,
//   _last_success_timestamp_seconds, and vigil_export_invalid_events_total.
std::string render_export_metrics(const std::vector<std::pair<std::string, ExporterStats>>& stats,
                                  std::uint64_t invalid_events);

}  // namespace vigil::exports

#endif  // VIGIL_EXPORT_METRICS_HPP_
