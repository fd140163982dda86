// MetricsRegistry: the kernel's counters, gauges and histograms, fed by the
// pipeline and by plugins through the host table. The kernel renders no
// exposition format itself: Snapshot() gives the whole registry as the JSON
// document plugin.h describes (signals_metrics_api), and the [metrics] plugin
// renders it (Prometheus text for metrics-prometheus).
//
// A family has one type, a HELP text and, for histograms, bucket bounds fixed
// when it is described (see metrics_catalog.hpp) or, for families a plugin
// creates on first use, chosen from the name: "_seconds" gets latency buckets,
// everything else size buckets from 1 to 10^7. Updates with a name or label
// name that the exposition formats cannot carry, a counter not ending in
// "_total", or a type other than the family's are dropped (and counted in
// signals_metrics_dropped_total), so that one bad caller cannot break a scrape.
// Thread-safety: every method is thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace signals {

enum class MetricType { kCounter, kGauge, kHistogram };

class MetricsRegistry {
 public:
  // Declares a family (idempotent: the first description wins). `bounds` are
  // the histogram's upper bucket bounds, ascending; empty = chosen by name.
  void Describe(const std::string& name, MetricType type, const std::string& help,
                std::vector<double> bounds = {});

  // Creates a series at zero unless it exists, so that it is exposed before
  // anything happens. `labels` is "k=v,k=v" or "".
  void Ensure(const std::string& name, const std::string& labels);

  void CounterAdd(const std::string& name, const std::string& labels, double delta);
  void GaugeSet(const std::string& name, const std::string& labels, double value);
  void HistogramObserve(const std::string& name, const std::string& labels, double value);

  // Current value of a counter or gauge series (0 when absent), for tests.
  double Value(const std::string& name, const std::string& labels) const;
  // Observations of a histogram series (0 when absent), for tests.
  uint64_t HistogramCount(const std::string& name, const std::string& labels) const;

  // {"families": [{"name","type","help","series": [...]}]}, families sorted by
  // name and series by labels (see signals_metrics_api in plugin.h).
  nlohmann::json Snapshot() const;

  // Size buckets: 1, 2.5, 5, 10, ... 10^7 (batch sizes, node counts).
  static std::vector<double> SizeBuckets();
  // Latency buckets: 1 ms to 60 s.
  static std::vector<double> SecondsBuckets();
  // A histogram's buckets unless described otherwise: SecondsBuckets for a
  // name ending in "_seconds", else SizeBuckets.
  static std::vector<double> DefaultBounds(const std::string& name);

 private:
  using LabelSet = std::vector<std::pair<std::string, std::string>>;  // sorted by name
  struct Series {
    double value = 0;
    std::vector<uint64_t> counts;  // per bucket, not cumulative; one more for +Inf
    double sum = 0;
    uint64_t count = 0;
  };
  struct Family {
    MetricType type = MetricType::kCounter;
    std::string help;
    std::vector<double> bounds;
    std::map<LabelSet, Series> series;
  };

  // The series of `name`/`labels` of type `type`, created as needed; nullptr
  // (and counted as dropped) when the update is not acceptable. Needs mutex_.
  Series* Find(const std::string& name, const std::string& labels, MetricType type);
  // The existing series, or nullptr. Needs mutex_.
  const Series* Lookup(const std::string& name, const std::string& labels, bool histogram) const;
  static bool ParseLabels(const std::string& labels, LabelSet* set);
  void Drop(const std::string& why);

  mutable std::mutex mutex_;
  std::map<std::string, Family> families_;
};

}  // namespace signals
