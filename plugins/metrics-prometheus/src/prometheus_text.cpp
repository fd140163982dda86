#include "prometheus_text.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <map>
#include <stdexcept>
#include <utility>
#include <vector>

namespace signals::prometheus {
namespace {

using Labels = std::vector<std::pair<std::string, std::string>>;  // sorted by name

bool ValidName(const std::string& name, bool metric) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (metric && c == ':');
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return metric || name.rfind("__", 0) != 0;
}

[[noreturn]] void Refuse(const std::string& family, const std::string& what) {
  throw std::invalid_argument("metrics snapshot: family '" + family + "': " + what);
}

// A number member: a JSON number, or "+Inf", "-Inf", "NaN".
double NumberOf(const nlohmann::json& v, const std::string& family, const char* what) {
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    if (s == "+Inf") return std::numeric_limits<double>::infinity();
    if (s == "-Inf") return -std::numeric_limits<double>::infinity();
    if (s == "NaN") return std::numeric_limits<double>::quiet_NaN();
  }
  Refuse(family, std::string(what) + " must be a number, \"+Inf\", \"-Inf\" or \"NaN\"");
}

Labels LabelsOf(const nlohmann::json& series, const std::string& family) {
  Labels labels;
  auto it = series.find("labels");
  if (it == series.end()) return labels;
  if (!it->is_object()) Refuse(family, "labels must be an object");
  for (const auto& [k, v] : it->items()) {
    if (!ValidName(k, false) || k == "le") Refuse(family, "'" + k + "' is not a valid label name");
    if (!v.is_string()) Refuse(family, "label '" + k + "' must be a string");
    labels.emplace_back(k, v.get<std::string>());
  }
  std::sort(labels.begin(), labels.end());
  return labels;
}

std::string LabelText(const Labels& labels, const std::string* le = nullptr) {
  if (labels.empty() && le == nullptr) return "";
  std::string out = "{";
  for (const auto& [k, v] : labels) {
    if (out.size() > 1) out += ',';
    out += k + "=\"" + EscapeLabelValue(v) + "\"";
  }
  if (le != nullptr) out += std::string(out.size() > 1 ? "," : "") + "le=\"" + *le + "\"";
  return out + "}";
}

void RenderHistogram(std::string& out, const std::string& name, const Labels& labels,
                     const nlohmann::json& s) {
  auto buckets = s.find("buckets");
  if (buckets == s.end() || !buckets->is_array()) Refuse(name, "a histogram series needs buckets");
  if (!s.contains("count") || !s["count"].is_number_unsigned())
    Refuse(name, "count must be a non-negative integer");
  const uint64_t count = s["count"].get<uint64_t>();
  double previous_le = -std::numeric_limits<double>::infinity();
  uint64_t previous = 0;
  bool has_inf = false;
  for (const auto& b : *buckets) {
    if (!b.is_array() || b.size() != 2 || !b[1].is_number_unsigned()) {
      Refuse(name, "a bucket must be [le, cumulative count]");
    }
    const double le = NumberOf(b[0], name, "le");
    const uint64_t cumulative = b[1].get<uint64_t>();
    if (std::isnan(le) || le <= previous_le) Refuse(name, "bucket bounds must ascend");
    if (cumulative < previous) Refuse(name, "bucket counts must be cumulative");
    if (std::isinf(le) && cumulative != count) Refuse(name, "the +Inf bucket must equal count");
    previous_le = le;
    previous = cumulative;
    has_inf = std::isinf(le);
    const std::string le_text = FormatNumber(le);
    out += name + "_bucket" + LabelText(labels, &le_text) + " " + std::to_string(cumulative) + "\n";
  }
  if (previous > count) Refuse(name, "bucket counts exceed count");
  if (!has_inf) {
    const std::string inf = "+Inf";
    out += name + "_bucket" + LabelText(labels, &inf) + " " + std::to_string(count) + "\n";
  }
  out += name + "_sum" + LabelText(labels) + " " +
         FormatNumber(NumberOf(s.value("sum", nlohmann::json(0)), name, "sum")) + "\n";
  out += name + "_count" + LabelText(labels) + " " + std::to_string(count) + "\n";
}

}  // namespace

namespace {

// Backslash and newline always; the double quote only inside label values.
std::string Escape(std::string_view text, bool quote) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\' || (quote && c == '"')) {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::string EscapeLabelValue(std::string_view value) { return Escape(value, true); }

std::string EscapeHelp(std::string_view help) { return Escape(help, false); }

std::string FormatNumber(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value == std::trunc(value) && std::fabs(value) < 1e15) {
    return std::to_string(static_cast<long long>(value));
  }
  char buffer[32];
  auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return std::string(buffer, result.ptr);
}

std::string RenderText(const nlohmann::json& snapshot) {
  if (!snapshot.is_object() || !snapshot.contains("families") || !snapshot["families"].is_array()) {
    throw std::invalid_argument("metrics snapshot: expected an object with a \"families\" array");
  }
  // Sorted by name, whatever order the snapshot has.
  std::vector<const nlohmann::json*> families;
  for (const auto& f : snapshot["families"]) {
    if (!f.is_object() || !f.contains("name") || !f["name"].is_string()) {
      throw std::invalid_argument("metrics snapshot: every family needs a name");
    }
    families.push_back(&f);
  }
  std::sort(families.begin(), families.end(), [](const nlohmann::json* a, const nlohmann::json* b) {
    return (*a)["name"].get_ref<const std::string&>() < (*b)["name"].get_ref<const std::string&>();
  });

  std::string out;
  for (size_t i = 0; i < families.size(); ++i) {
    const nlohmann::json& f = *families[i];
    const std::string name = f["name"].get<std::string>();
    if (!ValidName(name, true)) Refuse(name, "not a valid metric name");
    if (i > 0 && (*families[i - 1])["name"] == f["name"]) Refuse(name, "appears twice");
    const std::string type = f.value("type", "");
    if (type != "counter" && type != "gauge" && type != "histogram") {
      Refuse(name, "type must be counter, gauge or histogram");
    }
    const nlohmann::json series = f.value("series", nlohmann::json::array());
    if (!series.is_array()) Refuse(name, "series must be an array");

    std::vector<std::pair<Labels, const nlohmann::json*>> sorted;
    for (const auto& s : series) {
      if (!s.is_object()) Refuse(name, "every series must be an object");
      sorted.emplace_back(LabelsOf(s, name), &s);
    }
    std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (size_t j = 1; j < sorted.size(); ++j) {
      if (sorted[j].first == sorted[j - 1].first) Refuse(name, "two series have the same labels");
    }

    const std::string help = EscapeHelp(f.value("help", ""));
    out += "# HELP " + name + (help.empty() ? "" : " " + help) + "\n";
    out += "# TYPE " + name + " " + type + "\n";
    for (const auto& [labels, s] : sorted) {
      if (type == "histogram") {
        RenderHistogram(out, name, labels, *s);
        continue;
      }
      if (!s->contains("value")) Refuse(name, "a " + type + " series needs a value");
      const double v = NumberOf((*s)["value"], name, "value");
      if (type == "counter" && !(v >= 0)) Refuse(name, "a counter cannot be negative or NaN");
      out += name + LabelText(labels) + " " + FormatNumber(v) + "\n";
    }
  }
  return out;
}

nlohmann::json WithoutLabels(const nlohmann::json& snapshot, const std::vector<std::string>& dropped) {
  if (dropped.empty() || !snapshot.is_object() || !snapshot.contains("families") ||
      !snapshot["families"].is_array()) {
    return snapshot;
  }
  nlohmann::json out = snapshot;
  for (auto& family : out["families"]) {
    if (!family.is_object() || !family.contains("series") || !family["series"].is_array()) continue;
    const std::string name = family.value("name", "");
    const bool histogram = family.value("type", "") == "histogram";
    const bool gauge = family.value("type", "") == "gauge";
    nlohmann::json merged = nlohmann::json::array();
    std::map<std::string, size_t> index;  // remaining labels (dumped) -> position in merged
    for (auto series : family["series"]) {
      if (!series.is_object()) {
        merged.push_back(series);
        continue;
      }
      if (series.contains("labels") && series["labels"].is_object()) {
        for (const auto& label : dropped) series["labels"].erase(label);
      }
      const std::string key = series.value("labels", nlohmann::json::object()).dump();
      auto found = index.find(key);
      if (found == index.end()) {
        index.emplace(key, merged.size());
        merged.push_back(series);
        continue;
      }
      nlohmann::json& into = merged[found->second];
      if (!histogram) {
        const double a = NumberOf(into.value("value", nlohmann::json(0)), name, "value");
        const double b = NumberOf(series.value("value", nlohmann::json(0)), name, "value");
        // Counters add up; a gauge (a level, a flag, a timestamp) keeps the
        // largest value, which a sum would turn into nonsense.
        into["value"] = gauge ? std::max(a, b) : a + b;
        continue;
      }
      auto& a = into["buckets"];
      const auto& b = series["buckets"];
      if (!a.is_array() || !b.is_array() || a.size() != b.size())
        Refuse(name, "merged histograms differ in buckets");
      for (size_t i = 0; i < a.size(); ++i) {
        if (!a[i].is_array() || !b[i].is_array() || a[i].size() != 2 || b[i].size() != 2 ||
            a[i][0] != b[i][0] || !a[i][1].is_number_unsigned() || !b[i][1].is_number_unsigned()) {
          Refuse(name, "merged histograms differ in buckets");
        }
        a[i][1] = a[i][1].get<uint64_t>() + b[i][1].get<uint64_t>();
      }
      into["count"] = into.value("count", uint64_t{0}) + series.value("count", uint64_t{0});
      into["sum"] = NumberOf(into.value("sum", nlohmann::json(0)), name, "sum") +
                    NumberOf(series.value("sum", nlohmann::json(0)), name, "sum");
    }
    family["series"] = std::move(merged);
  }
  return out;
}

}  // namespace signals::prometheus
