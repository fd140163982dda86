// signalsctl tenant add <tenant> | tenant list
#include <iostream>

#include "cli.hpp"

namespace signalsctl {

int RunTenant(Context& ctx, const std::vector<std::string>& args) {
  if (args.empty()) return Usage("tenant: expected add or list");
  auto kernel = ctx.OpenKernel();
  if (!kernel.ok()) return Fail(kernel.status());
  if (args[0] == "add") {
    if (args.size() != 2) return Usage("tenant add: expected <tenant>");
    signals::Status s = (*kernel)->tenants().Add(args[1], (*kernel)->NowMs());
    if (!s.ok()) return Fail(s);
    std::cerr << "tenant '" << args[1] << "' added\n";
    return kExitOk;
  }
  if (args[0] == "list") {
    auto tenants = (*kernel)->tenants().List();
    if (!tenants.ok()) return Fail(tenants.status());
    for (const auto& t : *tenants) std::cout << t << "\n";
    return kExitOk;
  }
  return Usage("tenant: unknown subcommand '" + args[0] + "'");
}

}  // namespace signalsctl
