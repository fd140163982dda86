// signalsctl batches list [--tenant T] [--since <RFC3339>] [--callgraph-id ID] [--limit N]
//                         [--format table|json]
// Stored runtime-fact batches, newest first by receivedAt (then batchId), so
// that their ids for `verify batch` and `export bundle` can be looked up
// rather than logged at ingest. Batches whose facts retention deleted are
// listed with state "expired" (their rows and attestations remain).
#include <algorithm>
#include <iostream>

#include "base/timestamp.hpp"
#include "base/ulid.hpp"
#include "cli.hpp"
#include "core/tenant_registry.hpp"
#include "list_options.hpp"
#include "model/index_rows.hpp"

namespace signalsctl {
namespace {

// The rows of `where`, newest first, received at or after `since_ms` when
// given, at most `limit` of them (0: all). The index's "after" is strict and,
// on a descending query, means "older than", so --since cannot bound a
// newest-first query: without a limit the rows from --since on are read
// oldest first and reversed (rows before --since are never read); with a
// limit the newest `limit` rows are read and those before --since dropped,
// which are always the last ones.
signals::Result<std::vector<nlohmann::json>> ListBatches(signals::Kernel& kernel, const nlohmann::json& where,
                                                         std::optional<int64_t> since_ms, uint64_t limit) {
  const bool oldest_first = since_ms && limit == 0;
  nlohmann::json query = {{"where", where}, {"orderBy", "receivedAt"}, {"descending", !oldest_first}};
  // receivedAt is written in one fixed-width UTC form, so string order is
  // time order, and one millisecond earlier makes the strict "after" inclusive.
  if (oldest_first) query["after"] = signals::FormatRfc3339Millis(*since_ms - 1);
  if (limit > 0) query["limit"] = limit;
  std::vector<nlohmann::json> rows;
  signals::Status s =
      kernel.index().Query(signals::kBatchCollection, query.dump(), [&](const std::string& text) {
        auto row = nlohmann::json::parse(text, nullptr, false);
        if (!row.is_object()) return;
        if (since_ms) {
          // Compared as times, not strings: the bound above only narrows the read.
          auto received = signals::ParseRfc3339(row.value("receivedAt", ""));
          if (!received.ok() || *received < *since_ms) return;
        }
        rows.push_back(std::move(row));
      });
  if (!s.ok()) return s;
  if (oldest_first) std::reverse(rows.begin(), rows.end());
  return rows;
}

}  // namespace

int RunBatches(Context& ctx, const std::vector<std::string>& tokens) {
  auto args = Args::Parse(tokens, {"tenant", "since", "callgraph-id", "limit", "format"});
  if (!args.ok()) return Usage("batches: " + args.status().message());
  const auto& pos = args->positional();
  if (pos.size() != 1 || pos[0] != "list") return Usage("batches: expected `batches list`");
  auto list = ParseListOptions(*args);
  if (!list.ok()) return Usage("batches list: " + list.status().message());
  std::optional<int64_t> since_ms;
  if (auto since = args->Flag("since")) {
    auto parsed = signals::ParseRfc3339(*since);
    if (!parsed.ok()) return Usage("batches list: --since: " + parsed.status().message());
    since_ms = *parsed;
  }
  auto kernel = ctx.OpenKernel();
  if (!kernel.ok()) return Fail(kernel.status());
  nlohmann::json where = nlohmann::json::object();
  if (auto tenant = args->Flag("tenant")) {
    // As ingest checks it: a misspelt tenant is an error, not an empty list.
    signals::Status s = (*kernel)->tenants().Check(*tenant, "tenant");
    if (!s.ok()) return Fail(s);
    where["tenantId"] = *tenant;
  }
  if (auto graph_id = args->Flag("callgraph-id")) {
    signals::Status s = signals::ValidateUlid(*graph_id, "callgraphId");
    if (!s.ok()) return Fail(s);
    where["callgraphId"] = *graph_id;
  }
  auto rows = ListBatches(**kernel, where, since_ms, list->limit);
  if (!rows.ok()) return Fail(rows.status());
  if (list->json) {
    nlohmann::json out = nlohmann::json::array();
    for (auto& row : *rows) {
      row["state"] = RowState(row);
      out.push_back(std::move(row));
    }
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  std::cout << "BATCH ID\tTENANT\tCALLGRAPH ID\tFACTS\tRECEIVED\tSOURCE\tSTATE\n";
  for (const auto& r : *rows) {
    std::cout << r.value("batchId", "") << "\t" << r.value("tenantId", "") << "\t"
              << r.value("callgraphId", "") << "\t" << r.value("factCount", uint64_t{0}) << "\t"
              << r.value("receivedAt", "") << "\t" << r.value("source", "") << "\t" << RowState(r) << "\n";
  }
  return kExitOk;
}

}  // namespace signalsctl
