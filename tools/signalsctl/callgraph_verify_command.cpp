// signalsctl verify callgraph <graphId> [--deep] [--rekor-key <pem>]
// Offline: re-hash the blob, manifest signature, DSSE envelope, subject digest,
// meta record and index row; --deep also re-canonicalizes the blob; the stored
// transparency-log entry, when there is one.
#include <iostream>

#include "base/json_member.hpp"
#include "cli.hpp"
#include "ingest/callgraph_store.hpp"
#include "model/cas_paths.hpp"
#include "verify/callgraph_verifier.hpp"

namespace signalsctl {

int RunVerifyCallgraph(Context& ctx, const std::vector<std::string>& tokens) {
  auto args = Args::Parse(tokens, {"rekor-key"}, {"deep"});
  if (!args.ok()) return Usage("verify callgraph: " + args.status().message());
  const auto& pos = args->positional();
  if (pos.size() != 2 || pos[0] != "callgraph") return Usage("verify: expected `verify callgraph <graphId>`");
  auto kernel = ctx.OpenKernel();
  if (!kernel.ok()) return Fail(kernel.status());
  signals::CallgraphVerifyOptions options;
  options.recanonicalize = args->Has("deep");
  auto result = signals::VerifyCallgraph(**kernel, pos[1], options);
  if (!result.ok()) {
    std::cerr << "callgraph " << pos[1] << ": INVALID: " << result.status().message() << "\n";
    return result.status().code() == signals::Code::kConfig ? kExitUsage : kExitInvalid;
  }
  if (result->expired) {
    std::cout << "callgraph " << result->graph_id << ": expired (deleted by retention at "
              << result->expired_at << "); manifest " << (result->manifest_signed ? "signature and " : "")
              << "envelope valid (" << result->digest << ", signed by " << result->key_id << ")\n";
  } else {
    std::cout << "callgraph " << result->graph_id << ": valid (" << result->node_count << " nodes, "
              << result->edge_count << " edges, " << result->digest << ", "
              << (result->manifest_signed ? "manifest signed" : "manifest unsigned")
              << ", envelope signed by " << result->key_id
              << (options.recanonicalize ? ", canonical form checked" : "") << ")\n";
  }
  auto record = signals::CallgraphStore(**kernel).Record(pos[1]);
  if (!record.ok()) return Fail(record.status());
  auto text = [&](const char* name) { return signals::JsonText(*record, name); };
  LoggedObject object{signals::cas_paths::ManifestEnvelope(pos[1]),
                      signals::cas_paths::ManifestRekorEntry(pos[1]), text("rekorUuid"), text("skipReason")};
  // The log entry of an expired graph is checked too: exit 3 only when it holds.
  int logged = ReportLogEntry(**kernel, *args, "callgraph " + pos[1], object);
  return logged == kExitOk && result->expired ? kExitExpired : logged;
}

}  // namespace signalsctl
