// Renders a metrics-registry snapshot (the JSON of signals_metrics_api in
// plugin.h) in the Prometheus text exposition format, version 0.0.4:
// "# HELP" and "# TYPE" for every family, families sorted by name and series
// by labels (whatever order the snapshot has), label values and HELP texts
// escaped, histograms as cumulative _bucket series ending in le="+Inf", then
// _sum and _count. A snapshot that the format cannot carry (a bad metric or
// label name, a counter that goes negative, buckets that are not cumulative)
// is refused with std::invalid_argument naming the family and what is wrong.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace signals::prometheus {

inline constexpr const char* kTextContentType = "text/plain; version=0.0.4; charset=utf-8";

std::string RenderText(const nlohmann::json& snapshot);

// The snapshot with the labels named in `dropped` removed from every series,
// and series that become identical merged: counter values summed, the
// largest gauge value kept, histogram buckets, counts and sums added (the
// bounds must then agree).
// For operators who must not expose per-tenant figures on an unauthenticated
// /metrics (drop_labels = tenant). Malformed parts are left for RenderText
// to refuse; std::invalid_argument when merged histograms' bounds differ.
nlohmann::json WithoutLabels(const nlohmann::json& snapshot, const std::vector<std::string>& dropped);

// `\` → `\\`, `"` → `\"`, newline → `\n`.
std::string EscapeLabelValue(std::string_view value);
// `\` → `\\`, newline → `\n`.
std::string EscapeHelp(std::string_view help);
// Integers without exponent or fraction ("10000000"), other values in their
// shortest round-trip form ("0.0025"), and +Inf, -Inf, NaN.
std::string FormatNumber(double value);

}  // namespace signals::prometheus
