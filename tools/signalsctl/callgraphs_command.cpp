// signalsctl callgraphs list [--tenant T] [--purl P] [--limit N] [--format table|json]
// Stored callgraphs, newest first; orphans deleted by retention are listed with
// state "expired" (their manifests remain).
#include <iostream>

#include "cli.hpp"
#include "ingest/callgraph_store.hpp"
#include "list_options.hpp"

namespace signalsctl {

int RunCallgraphs(Context& ctx, const std::vector<std::string>& tokens) {
  auto args = Args::Parse(tokens, {"tenant", "purl", "limit", "format"});
  if (!args.ok()) return Usage("callgraphs: " + args.status().message());
  const auto& pos = args->positional();
  if (pos.size() != 1 || pos[0] != "list") return Usage("callgraphs: expected `callgraphs list`");
  auto list = ParseListOptions(*args);
  if (!list.ok()) return Usage("callgraphs list: " + list.status().message());
  signals::CallgraphListQuery query;
  query.tenant = args->Flag("tenant");
  query.component_purl = args->Flag("purl");
  query.limit = list->limit;
  auto kernel = ctx.OpenKernel();
  if (!kernel.ok()) return Fail(kernel.status());
  auto records = signals::CallgraphStore(**kernel).List(query);
  if (!records.ok()) return Fail(records.status());
  if (list->json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& r : *records) {
      nlohmann::json manifest = nlohmann::json::object();
      for (const auto& field : signals::CallgraphManifestFields())
        manifest[field] = r.value(field, nlohmann::json());
      manifest["state"] = RowState(r);
      out.push_back(std::move(manifest));
    }
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  std::cout << "GRAPH ID\tTENANT\tPURL\tLANGUAGE\tNODES\tEDGES\tCREATED\tDIGEST\tSTATE\n";
  for (const auto& r : *records) {
    std::cout << r.value("graphId", "") << "\t" << r.value("tenantId", "") << "\t"
              << r.value("componentPurl", "") << "\t" << r.value("language", "") << "\t"
              << r.value("nodeCount", 0) << "\t" << r.value("edgeCount", 0) << "\t"
              << r.value("createdAt", "") << "\t" << r.value("digest", "") << "\t" << RowState(r) << "\n";
  }
  return kExitOk;
}

}  // namespace signalsctl
