// signalsctl fsck [--repair]: checks every CAS object against the index and
// the key registry (kernel/src/verify/fsck.hpp). One line a finding on
// stdout, "<object>: <rule>: <detail>", sorted, where what a crash may leave
// has the rule "leftover"; then a summary. Exit 0 when there is no damage
// (leftovers are no damage), 1 when there is, 2 on usage or when the store or
// index cannot be read.
#include <iostream>

#include "cli.hpp"
#include "progress_line.hpp"
#include "verify/fsck.hpp"

namespace signalsctl {
namespace {

// Lets fsck see leftovers of interrupted writes when the CAS plugin can list them.
void ExposeCasLeftovers(signals::KernelConfig& config) {
  for (auto& instance : config.instances) {
    if (instance.section == "cas") (void)signals::ExposeCasLeftovers(instance);
  }
}

}  // namespace

int RunFsck(Context& ctx, const std::vector<std::string>& tokens) {
  auto args = Args::Parse(tokens, {}, {"repair"});
  if (!args.ok()) return Usage("fsck: " + args.status().message());
  if (!args->positional().empty()) return Usage("fsck: unexpected argument '" + args->positional()[0] + "'");
  auto config = ctx.Config();
  if (!config.ok()) return Fail(config.status());
  ExposeCasLeftovers(*config);
  auto kernel = signals::Kernel::Open(std::move(*config));
  if (!kernel.ok()) return Fail(kernel.status());

  ProgressLine progress("fsck", "objects");
  signals::FsckOptions options;
  options.repair = args->Has("repair");
  options.progress = progress.Callback();
  auto report = signals::RunFsck(**kernel, options);
  progress.Finish();
  if (!report.ok()) {
    std::cerr << "signalsctl: fsck: " << report.status().ToString() << "\n";
    return kExitUsage;
  }
  for (const auto& p : report->problems) std::cout << p.object << ": " << p.rule << ": " << p.detail << "\n";
  const size_t outstanding = report->Outstanding();
  const size_t leftovers = report->Leftovers();
  std::cout << "fsck: " << report->objects << " objects (" << report->bytes << " bytes), " << report->rows
            << " index rows checked; " << outstanding << " problem" << (outstanding == 1 ? "" : "s") << ", "
            << leftovers << " leftover" << (leftovers == 1 ? "" : "s");
  if (options.repair) std::cout << ", " << report->Repaired() << " repaired";
  std::cout << "\n";
  return outstanding == 0 ? kExitOk : kExitInvalid;
}

}  // namespace signalsctl
