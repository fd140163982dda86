#include "core/metrics_registry.hpp"

#include <algorithm>
#include <cmath>

namespace signals {
namespace {

constexpr const char* kDropped = "signals_metrics_dropped_total";

bool IsNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsNameChar(char c) { return IsNameStart(c) || (c >= '0' && c <= '9'); }

// [a-zA-Z_:][a-zA-Z0-9_:]* for metric names; label names have no ':' and
// must not start with "__" (reserved).
bool ValidName(const std::string& name, bool metric) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (i == 0 ? IsNameStart(c) : IsNameChar(c)) || (metric && c == ':');
    if (!ok) return false;
  }
  return metric || name.rfind("__", 0) != 0;
}

bool EndsWith(const std::string& s, const char* suffix) {
  const size_t n = std::char_traits<char>::length(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

const char* TypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

// JSON has no infinities or NaN: those travel as the strings the exposition
// format uses.
nlohmann::json Number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return v;
}

}  // namespace

std::vector<double> MetricsRegistry::SizeBuckets() {
  std::vector<double> b;
  for (double decade = 1; decade <= 1e7; decade *= 10) {
    b.push_back(decade);
    if (decade < 1e7) {
      b.push_back(decade * 2.5);
      b.push_back(decade * 5);
    }
  }
  return b;
}

std::vector<double> MetricsRegistry::SecondsBuckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
}

std::vector<double> MetricsRegistry::DefaultBounds(const std::string& name) {
  return EndsWith(name, "_seconds") ? SecondsBuckets() : SizeBuckets();
}

void MetricsRegistry::Describe(const std::string& name, MetricType type, const std::string& help,
                               std::vector<double> bounds) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (families_.count(name) != 0) return;
  Family& f = families_[name];
  f.type = type;
  f.help = help;
  if (type == MetricType::kHistogram) {
    f.bounds = bounds.empty() ? DefaultBounds(name) : std::move(bounds);
  }
}

void MetricsRegistry::Drop(const std::string& why) {
  Family& f = families_[kDropped];
  if (f.help.empty()) f.help = "Metric updates dropped because the exposition formats cannot carry them.";
  f.series[LabelSet{{"reason", why}}].value += 1;
}

// "k=v,k=v": values may be anything but ',' (plugin.h); escaping them is the
// renderer's business. `le` and `quantile` are reserved for histograms and
// summaries.
bool MetricsRegistry::ParseLabels(const std::string& labels, LabelSet* set) {
  size_t start = 0;
  while (start < labels.size()) {
    size_t end = labels.find(',', start);
    if (end == std::string::npos) end = labels.size();
    const std::string pair = labels.substr(start, end - start);
    start = end + 1;
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    std::string key = pair.substr(0, eq);
    if (eq == std::string::npos || !ValidName(key, false) || key == "le" || key == "quantile") return false;
    set->emplace_back(std::move(key), pair.substr(eq + 1));
  }
  std::stable_sort(set->begin(), set->end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (size_t i = 1; i < set->size(); ++i) {
    if ((*set)[i].first == (*set)[i - 1].first) return false;
  }
  return true;
}

MetricsRegistry::Series* MetricsRegistry::Find(const std::string& name, const std::string& labels,
                                               MetricType type) {
  if (!ValidName(name, true)) {
    Drop("name");
    return nullptr;
  }
  if (type == MetricType::kCounter && !EndsWith(name, "_total")) {
    Drop("counter-suffix");
    return nullptr;
  }
  LabelSet set;
  if (!ParseLabels(labels, &set)) {
    Drop("label");
    return nullptr;
  }

  auto it = families_.find(name);
  if (it == families_.end()) {
    Family f;
    f.type = type;
    f.help = "Reported through the plugin host table.";
    if (type == MetricType::kHistogram) f.bounds = DefaultBounds(name);
    it = families_.emplace(name, std::move(f)).first;
  }
  Family& family = it->second;
  if (family.type != type) {
    Drop("type");
    return nullptr;
  }
  Series& series = family.series[set];
  if (type == MetricType::kHistogram && series.counts.empty())
    series.counts.assign(family.bounds.size() + 1, 0);
  return &series;
}

void MetricsRegistry::Ensure(const std::string& name, const std::string& labels) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = families_.find(name);
  if (it == families_.end()) return;
  Find(name, labels, it->second.type);
}

void MetricsRegistry::CounterAdd(const std::string& name, const std::string& labels, double delta) {
  std::lock_guard<std::mutex> lock(mutex_);
  // A counter only goes up.
  if (!(delta >= 0) || std::isinf(delta)) {
    Drop("value");
    return;
  }
  if (Series* s = Find(name, labels, MetricType::kCounter)) s->value += delta;
}

void MetricsRegistry::GaugeSet(const std::string& name, const std::string& labels, double value) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (Series* s = Find(name, labels, MetricType::kGauge)) s->value = value;
}

void MetricsRegistry::HistogramObserve(const std::string& name, const std::string& labels, double value) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (std::isnan(value)) {
    Drop("value");
    return;
  }
  Series* s = Find(name, labels, MetricType::kHistogram);
  if (s == nullptr) return;
  const std::vector<double>& bounds = families_[name].bounds;
  const size_t bucket = std::lower_bound(bounds.begin(), bounds.end(), value) - bounds.begin();
  ++s->counts[bucket];  // bounds.size() is the +Inf bucket
  s->sum += value;
  ++s->count;
}

const MetricsRegistry::Series* MetricsRegistry::Lookup(const std::string& name, const std::string& labels,
                                                       bool histogram) const {
  auto it = families_.find(name);
  LabelSet set;
  if (it == families_.end() || (it->second.type == MetricType::kHistogram) != histogram ||
      !ParseLabels(labels, &set)) {
    return nullptr;
  }
  auto series = it->second.series.find(set);
  return series == it->second.series.end() ? nullptr : &series->second;
}

double MetricsRegistry::Value(const std::string& name, const std::string& labels) const {
  std::lock_guard<std::mutex> lock(mutex_);
  const Series* s = Lookup(name, labels, false);
  return s == nullptr ? 0 : s->value;
}

uint64_t MetricsRegistry::HistogramCount(const std::string& name, const std::string& labels) const {
  std::lock_guard<std::mutex> lock(mutex_);
  const Series* s = Lookup(name, labels, true);
  return s == nullptr ? 0 : s->count;
}

nlohmann::json MetricsRegistry::Snapshot() const {
  std::lock_guard<std::mutex> lock(mutex_);
  nlohmann::json families = nlohmann::json::array();
  for (const auto& [name, family] : families_) {  // std::map: sorted by name
    nlohmann::json series = nlohmann::json::array();
    for (const auto& [set, s] : family.series) {  // sorted by label names, then values
      nlohmann::json labels = nlohmann::json::object();
      for (const auto& [k, v] : set) labels[k] = v;
      nlohmann::json entry = {{"labels", std::move(labels)}};
      if (family.type == MetricType::kHistogram) {
        nlohmann::json buckets = nlohmann::json::array();
        uint64_t cumulative = 0;
        for (size_t i = 0; i < family.bounds.size(); ++i) {
          cumulative += s.counts[i];
          buckets.push_back({family.bounds[i], cumulative});
        }
        buckets.push_back({"+Inf", s.count});
        entry["buckets"] = std::move(buckets);
        entry["sum"] = Number(s.sum);
        entry["count"] = s.count;
      } else {
        entry["value"] = Number(s.value);
      }
      series.push_back(std::move(entry));
    }
    families.push_back({{"name", name},
                        {"type", TypeName(family.type)},
                        {"help", family.help},
                        {"series", std::move(series)}});
  }
  return nlohmann::json{{"families", std::move(families)}};
}

}  // namespace signals
