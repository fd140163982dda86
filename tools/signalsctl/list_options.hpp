// What the `… list` commands of signalsctl (callgraphs list, batches list)
// share: the --format and --limit options and the state column, so that the
// lists read alike and reject bad values alike.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>

#include "base/status.hpp"
#include "cli.hpp"

namespace signalsctl {

struct ListOptions {
  bool json = false;   // --format json; the default, table, is false
  uint64_t limit = 0;  // --limit N; 0 = every row
};

// Reads --format (table or json) and --limit (a whole number). A bad value is
// Status::Config naming the option, for the caller's usage error.
signals::Result<ListOptions> ParseListOptions(const Args& args);

// "expired" for an index row that retention GC expired, else "live".
const char* RowState(const nlohmann::json& row);

}  // namespace signalsctl
