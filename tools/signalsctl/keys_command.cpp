// signalsctl keygen | keys list | keys export
#include <filesystem>
#include <iostream>

#include "cli.hpp"
#include "config/option_schema.hpp"

namespace signalsctl {
namespace {

// The signer plugin that holds keys of `alg` (as given to --alg).
std::optional<std::string> SignerPluginFor(const std::string& alg) {
  if (alg == "ed25519" || alg == "Ed25519") return "signer-ed25519";
  if (alg == "ecdsa-p256" || alg == "ECDSA-P256-SHA256" || alg == "p256") return "signer-ecdsa-p256";
  return std::nullopt;
}

}  // namespace

int RunKeygen(Context& ctx, const std::vector<std::string>& tokens) {
  auto args = Args::Parse(tokens, {"alg", "key-id"});
  if (!args.ok()) return Usage("keygen: " + args.status().message());
  auto alg = args->Flag("alg");
  auto key_id = args->Flag("key-id");
  if (!alg || !key_id) return Usage("keygen: --alg and --key-id are required");
  auto plugin = SignerPluginFor(*alg);
  if (!plugin) return Usage("keygen: unknown --alg '" + *alg + "' (ed25519, ecdsa-p256)");
  const signals::LoadedComponent* component = ctx.boot.registry->Find(*plugin);
  if (component == nullptr) {
    return Fail(signals::Status::Config("keygen: plugin " + *plugin + " is not installed"));
  }
  auto config = ctx.Config();
  if (!config.ok()) return Fail(config.status());

  // Keys go to the key store of the configured signer section, with this key id.
  std::map<std::string, std::string> raw = {{"key_id", *key_id}, {"create_if_missing", "true"}};
  if (const signals::InstanceConfig* signing = config->Instance("signing")) {
    auto dir = signing->options.find("key_dir");
    if (dir != signing->options.end()) raw["key_dir"] = dir->second;
  }
  std::vector<std::string> problems;
  signals::OptionTable table{component->component->options, component->component->option_count};
  signals::InstanceConfig instance{
      "signing", component, signals::ValidateOptions(table, raw, "keygen", config->data_dir, &problems)};
  if (!problems.empty()) return Fail(signals::Status::Config(problems.front()));
  auto key_dir = instance.options.find("key_dir");
  if (key_dir != instance.options.end() &&
      std::filesystem::exists(std::filesystem::path(key_dir->second) / (*key_id + ".key.pem"))) {
    return Fail(signals::Status(signals::Code::kConflict,
                                "key '" + *key_id + "' already exists in " + key_dir->second));
  }
  auto kernel = signals::Kernel::Open(std::move(*config));
  if (!kernel.ok()) return Fail(kernel.status());
  auto created = signals::PluginInstance::Create(instance, (*kernel)->config().data_dir, (*kernel)->host());
  if (!created.ok()) return Fail(created.status());
  signals::Signer signer(std::move(*created));
  signals::Status s = signer.Init();
  if (!s.ok()) return Fail(s);
  s = (*kernel)->keys().RegisterKey(signer.key_id(), signer.algorithm(), signer.public_key_pem());
  if (!s.ok()) return Fail(s);
  nlohmann::json out = {{"keyId", signer.key_id()},
                        {"algorithm", signer.algorithm()},
                        {"publicKeyPem", signer.public_key_pem()}};
  std::cout << out.dump(2) << "\n";
  return kExitOk;
}

int RunKeys(Context& ctx, const std::vector<std::string>& tokens) {
  auto args = Args::Parse(tokens, {"format"});
  if (!args.ok()) return Usage("keys: " + args.status().message());
  const auto& pos = args->positional();
  if (pos.empty()) return Usage("keys: expected list or export");
  auto kernel = ctx.OpenKernel();
  if (!kernel.ok()) return Fail(kernel.status());
  if (pos[0] == "list") {
    auto keys = (*kernel)->keys().List();
    if (!keys.ok()) return Fail(keys.status());
    if (args->Flag("format").value_or("table") == "json") {
      nlohmann::json out = nlohmann::json::array();
      for (auto& k : *keys) out.push_back(k);
      std::cout << out.dump(2) << "\n";
      return kExitOk;
    }
    std::cout << "KEY ID\tALGORITHM\tSTATUS\tREGISTERED\tFIRST USED\tLAST USED\n";
    for (const auto& k : *keys) {
      std::cout << k.value("keyId", "") << "\t" << k.value("algorithm", "") << "\t" << k.value("status", "")
                << "\t" << k.value("registeredAt", "") << "\t" << k.value("firstUsedAt", "-") << "\t"
                << k.value("lastUsedAt", "-") << "\n";
    }
    return kExitOk;
  }
  if (pos[0] == "export") {
    if (pos.size() != 2) return Usage("keys export: expected <keyId>");
    auto pem = (*kernel)->keys().PublicKey(pos[1]);
    if (!pem.ok()) return Fail(pem.status());
    std::cout << *pem;
    return kExitOk;
  }
  return Usage("keys: unknown subcommand '" + pos[0] + "'");
}

}  // namespace signalsctl
