// The metric families Signals exposes (README.md#metrics and the shared contracts of
// request, tlog, GC and plugin-health metrics), described once with their
// types, HELP texts and histogram buckets so that every family is on a scrape
// before the first ingest, and the series whose label values are known up
// front exist at zero: a rate() over them then counts the first increment.
#pragma once

#include "core/metrics_registry.hpp"

namespace signals {

// Describes every family and sets signals_build_info{version,revision} = 1.
void DescribeSignalsMetrics(MetricsRegistry& metrics);

}  // namespace signals
