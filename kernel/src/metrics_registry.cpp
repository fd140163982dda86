#include "metrics_registry.hpp"

#include <cmath>
#include <sstream>

namespace signals {
namespace {

// Powers of ten with 2.5/5 steps from 1 to 10^7: sizes of batches and graphs.
std::vector<double> SizeBuckets() {
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

std::vector<double> SecondsBuckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
}

// "k=v,k=v" → {k="v",k="v"} with Prometheus escaping.
std::string RenderLabels(const std::string& labels, const std::string& extra = "") {
  std::string out;
  std::stringstream ss(labels);
  std::string pair;
  auto add = [&](const std::string& p) {
    size_t eq = p.find('=');
    if (eq == std::string::npos) return;
    std::string value;
    for (char c : p.substr(eq + 1)) {
      if (c == '\\' || c == '"') value += '\\';
      if (c == '\n') { value += "\\n"; continue; }
      value += c;
    }
    out += (out.empty() ? "" : ",") + p.substr(0, eq) + "=\"" + value + "\"";
  };
  while (std::getline(ss, pair, ',')) add(pair);
  if (!extra.empty()) add(extra);
  return out.empty() ? "" : "{" + out + "}";
}

std::string Number(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  std::ostringstream o;
  o.precision(17);
  o << v;
  return o.str();
}

}  // namespace

void MetricsRegistry::CounterAdd(const std::string& name, const std::string& labels, double delta) {
  std::lock_guard<std::mutex> lock(mutex_);
  counters_[name][labels] += delta;
}

void MetricsRegistry::GaugeSet(const std::string& name, const std::string& labels, double value) {
  std::lock_guard<std::mutex> lock(mutex_);
  gauges_[name][labels] = value;
}

void MetricsRegistry::HistogramObserve(const std::string& name, const std::string& labels, double value) {
  std::lock_guard<std::mutex> lock(mutex_);
  Histogram& h = histograms_[name][labels];
  if (h.bounds.empty()) {
    bool seconds = name.size() > 8 && name.compare(name.size() - 8, 8, "_seconds") == 0;
    h.bounds = seconds ? SecondsBuckets() : SizeBuckets();
    h.counts.assign(h.bounds.size(), 0);
  }
  for (size_t i = 0; i < h.bounds.size(); ++i) {
    if (value <= h.bounds[i]) {
      ++h.counts[i];
      break;
    }
  }
  h.sum += value;
  ++h.count;
}

double MetricsRegistry::Value(const std::string& name, const std::string& labels) const {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto* family : {&counters_, &gauges_}) {
    auto it = family->find(name);
    if (it == family->end()) continue;
    auto series = it->second.find(labels);
    if (series != it->second.end()) return series->second;
  }
  return 0;
}

std::string MetricsRegistry::RenderPrometheus() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::ostringstream out;
  for (const auto& [name, series] : counters_) {
    out << "# TYPE " << name << " counter\n";
    for (const auto& [labels, v] : series) out << name << RenderLabels(labels) << " " << Number(v) << "\n";
  }
  for (const auto& [name, series] : gauges_) {
    out << "# TYPE " << name << " gauge\n";
    for (const auto& [labels, v] : series) out << name << RenderLabels(labels) << " " << Number(v) << "\n";
  }
  for (const auto& [name, series] : histograms_) {
    out << "# TYPE " << name << " histogram\n";
    for (const auto& [labels, h] : series) {
      uint64_t cumulative = 0;
      for (size_t i = 0; i < h.bounds.size(); ++i) {
        cumulative += h.counts[i];
        out << name << "_bucket" << RenderLabels(labels, "le=" + Number(h.bounds[i])) << " " << cumulative << "\n";
      }
      out << name << "_bucket" << RenderLabels(labels, "le=+Inf") << " " << h.count << "\n";
      out << name << "_sum" << RenderLabels(labels) << " " << Number(h.sum) << "\n";
      out << name << "_count" << RenderLabels(labels) << " " << h.count << "\n";
    }
  }
  return out.str();
}

}  // namespace signals
