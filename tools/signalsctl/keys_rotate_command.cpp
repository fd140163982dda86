// signalsctl keys rotate --alg <ed25519|ecdsa-p256> --key-id NEW
//
// Rotation = a new key + a configuration change. This command creates the key
// (as `keygen` does), registers it as the active key and marks every other
// active key of the registry "retired". Signing switches to the new key when
// the configuration names it: signing.key_id = NEW (and, for another
// algorithm, signing.plugin / signing.algorithm), in the config file or as
// --signing.key_id=NEW. Retired keys stay in the registry, so everything they
// signed keeps verifying.
#include <iostream>

#include "cli.hpp"
#include "core/key_rotation.hpp"

namespace signalsctl {

int RunKeysRotate(Context& ctx, const std::vector<std::string>& tokens) {
  auto args = Args::Parse(tokens, {"alg", "key-id"});
  if (!args.ok()) return Usage("keys rotate: " + args.status().message());
  if (args->positional() != std::vector<std::string>{"rotate"}) return Usage("keys: expected `keys rotate`");
  auto alg = args->Flag("alg");
  auto key_id = args->Flag("key-id");
  if (!alg || !key_id) return Usage("keys rotate: --alg and --key-id are required");
  int created = RunKeygen(ctx, {"--alg", *alg, "--key-id", *key_id});
  if (created != kExitOk) return created;
  auto kernel = ctx.OpenKernel();
  if (!kernel.ok()) return Fail(kernel.status());
  auto retired = signals::RetireOtherKeys(**kernel, *key_id);
  if (!retired.ok()) return Fail(retired.status());
  for (const auto& id : *retired)
    std::cerr << "key '" << id << "' retired (it still verifies what it signed)\n";
  const bool ecdsa = *alg == "ecdsa-p256" || *alg == "ECDSA-P256-SHA256" || *alg == "p256";
  std::cerr << "key '" << *key_id << "' is the active key; sign with it by setting\n"
            << "  signing.key_id = " << *key_id << "\n";
  if (ecdsa) {
    std::cerr << "  signing.plugin = signer-ecdsa-p256\n  signing.algorithm = ECDSA-P256-SHA256\n";
  } else {
    std::cerr << "  signing.plugin = signer-ed25519\n  signing.algorithm = Ed25519\n";
  }
  std::cerr << "in the configuration file (or --signing.key_id=" << *key_id << " ...).\n";
  return kExitOk;
}

}  // namespace signalsctl
