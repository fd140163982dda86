// ListOptions. See list_options.hpp.
#include "list_options.hpp"

#include <charconv>

#include "retention/retention.hpp"

namespace signalsctl {

signals::Result<ListOptions> ParseListOptions(const Args& args) {
  ListOptions out;
  const std::string format = args.Flag("format").value_or("table");
  if (format != "table" && format != "json") return signals::Status::Config("--format is table or json");
  out.json = format == "json";
  if (auto limit = args.Flag("limit")) {
    // from_chars, unlike stoull, takes neither a sign nor trailing text, so
    // "-1" or "10x" cannot pass for some other number.
    const char* end = limit->data() + limit->size();
    auto [ptr, ec] = std::from_chars(limit->data(), end, out.limit);
    if (limit->empty() || ec != std::errc() || ptr != end)
      return signals::Status::Config("--limit must be a whole number, not '" + *limit + "'");
  }
  return out;
}

const char* RowState(const nlohmann::json& row) {
  return signals::IsExpired(row) ? signals::kExpiredState : "live";
}

}  // namespace signalsctl
