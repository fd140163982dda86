// signalsctl reindex: rebuilds the index collections that derive from the
// CAS, in one index transaction (kernel/src/verify/reindex.hpp). Prints what it
// wrote; warnings (objects it could not use) go to stderr. Exit 0 done, 1
// when objects were skipped (run fsck), 2 on usage or I/O errors (then the
// index is unchanged). Refused while signalsd or another command uses the
// data directory.
#include <iostream>

#include "cli.hpp"
#include "progress_line.hpp"
#include "verify/reindex.hpp"

namespace signalsctl {

int RunReindex(Context& ctx, const std::vector<std::string>& tokens) {
  auto args = Args::Parse(tokens, {});
  if (!args.ok()) return Usage("reindex: " + args.status().message());
  if (!args->positional().empty())
    return Usage("reindex: unexpected argument '" + args->positional()[0] + "'");
  // Rewriting index collections while another process writes them would lose
  // its rows: reindex runs alone.
  auto kernel = ctx.OpenKernel(signals::DataDirAccess::kExclusive);
  if (!kernel.ok()) return Fail(kernel.status());

  ProgressLine progress("reindex", "objects");
  signals::ReindexOptions options;
  options.progress = progress.Callback();
  auto report = signals::Reindex(**kernel, options);
  progress.Finish();
  if (!report.ok()) {
    std::cerr << "signalsctl: reindex: " << report.status().ToString() << " (the index is unchanged)\n";
    return kExitUsage;
  }
  for (const auto& warning : report->warnings)
    std::cerr << "signalsctl: reindex: warning: " << warning << "\n";
  std::cout << "reindex: " << report->objects << " objects read (" << report->bytes << " bytes)";
  for (const auto& [collection, rows] : report->rows) std::cout << "; " << collection << " " << rows;
  std::cout << "; " << report->removed << " stale rows removed";
  for (const auto& tenant : report->tenants_added) std::cout << "; tenant " << tenant << " registered";
  std::cout << "\n";
  return report->warnings.empty() ? kExitOk : kExitInvalid;
}

}  // namespace signalsctl
