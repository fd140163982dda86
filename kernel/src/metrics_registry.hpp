// MetricsRegistry: the kernel's counters, gauges and histograms, fed by the
// pipeline and by plugins through the host table, rendered in the Prometheus
// text exposition format. Histogram buckets are chosen per metric for the data
// they measure (batch sizes and node counts span 1 to 10^7).
// Thread-safety: every method is thread-safe.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace signals {

class MetricsRegistry {
 public:
  // `labels` is "k=v,k=v" or "".
  void CounterAdd(const std::string& name, const std::string& labels, double delta);
  void GaugeSet(const std::string& name, const std::string& labels, double value);
  void HistogramObserve(const std::string& name, const std::string& labels, double value);

  // Current value of a counter or gauge series (0 when absent), for tests.
  double Value(const std::string& name, const std::string& labels) const;

  std::string RenderPrometheus() const;

 private:
  struct Histogram {
    std::vector<double> bounds;
    std::vector<uint64_t> counts;  // cumulative at render time
    double sum = 0;
    uint64_t count = 0;
  };
  mutable std::mutex mutex_;
  std::map<std::string, std::map<std::string, double>> counters_;
  std::map<std::string, std::map<std::string, double>> gauges_;
  std::map<std::string, std::map<std::string, Histogram>> histograms_;
};

}  // namespace signals
