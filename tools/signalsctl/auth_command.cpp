// signalsctl token create|list|revoke, policy show
#include <iostream>

#include "cli.hpp"

namespace signalsctl {

int RunToken(Context& ctx, const std::vector<std::string>& tokens) {
  auto args = Args::Parse(tokens, {"principal", "tenant", "format"});
  if (!args.ok()) return Usage("token: " + args.status().message());
  const auto& pos = args->positional();
  if (pos.empty()) return Usage("token: expected create, list or revoke");
  auto kernel = ctx.OpenKernel();
  if (!kernel.ok()) return Fail(kernel.status());
  if (pos[0] == "create") {
    auto principal = args->Flag("principal");
    auto tenants = args->FlagAll("tenant");
    if (!principal || tenants.empty())
      return Usage("token create: --principal and at least one --tenant are required");
    if (!(*kernel)->policy().Knows(*principal)) {
      std::string known;
      for (const auto& p : (*kernel)->policy().Principals()) known += (known.empty() ? "" : ", ") + p;
      return Fail(signals::Status::Invalid(
          "principal", "principal",
          "principal '" + *principal + "' is not in the access policy (" + known + ")"));
    }
    for (const auto& t : tenants) {
      signals::Status s = (*kernel)->tenants().Check(t, "tenant");
      if (!s.ok()) return Fail(s);
    }
    auto issued = (*kernel)->tokens().Create(*principal, tenants, (*kernel)->NowMs());
    if (!issued.ok()) return Fail(issued.status());
    // The token goes to stdout only, once; stderr says how to use it.
    std::cout << issued->token << "\n";
    std::cerr << "token " << issued->token_id << " for principal '" << *principal
              << "' created; it is shown only now. Use it as: Authorization: Bearer <token>\n";
    return kExitOk;
  }
  if (pos[0] == "list") {
    auto list = (*kernel)->tokens().List();
    if (!list.ok()) return Fail(list.status());
    std::cout << "TOKEN ID\tPRINCIPAL\tTENANTS\tCREATED\n";
    for (const auto& t : *list) {
      std::string tenants;
      for (const auto& x : t.value("tenants", nlohmann::json::array()))
        tenants += (tenants.empty() ? "" : ",") + x.get<std::string>();
      std::cout << t.value("tokenId", "") << "\t" << t.value("principal", "") << "\t" << tenants << "\t"
                << t.value("createdAt", "") << "\n";
    }
    return kExitOk;
  }
  if (pos[0] == "revoke") {
    if (pos.size() != 2) return Usage("token revoke: expected <tokenId>");
    signals::Status s = (*kernel)->tokens().Revoke(pos[1]);
    if (!s.ok()) return Fail(s);
    std::cerr << "token " << pos[1] << " revoked\n";
    return kExitOk;
  }
  return Usage("token: unknown subcommand '" + pos[0] + "'");
}

int RunPolicy(Context& ctx, const std::vector<std::string>& args) {
  if (args.size() != 1 || args[0] != "show") return Usage("policy: expected `policy show`");
  auto kernel = ctx.OpenKernel();
  if (!kernel.ok()) return Fail(kernel.status());
  std::cout << (*kernel)->policy().Render();
  return kExitOk;
}

}  // namespace signalsctl
