// signalsctl verify batch <batchId> | verify dsse <envelope.json> --key <public.pem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "attestation.hpp"
#include "batch_verifier.hpp"
#include "cli.hpp"
#include "dsse.hpp"

namespace signalsctl {
namespace {

signals::Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return signals::Status::Config("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

int RunVerify(Context& ctx, const std::vector<std::string>& tokens) {
  auto args = Args::Parse(tokens, {"key"});
  if (!args.ok()) return Usage("verify: " + args.status().message());
  const auto& pos = args->positional();
  if (pos.size() != 2) return Usage("verify: expected `verify batch <batchId>` or `verify dsse <file> --key <pem>`");
  if (pos[0] == "batch") {
    auto kernel = ctx.OpenKernel();
    if (!kernel.ok()) return Fail(kernel.status());
    auto result = signals::VerifyBatch(**kernel, pos[1]);
    if (!result.ok()) {
      std::cerr << "batch " << pos[1] << ": INVALID: " << result.status().message() << "\n";
      return result.status().code() == signals::Code::kConfig ? kExitUsage : kExitInvalid;
    }
    if (result->expired) {
      std::cout << "batch " << result->batch_id << ": expired (deleted by retention at " << result->expired_at
                << ", tombstone " << result->tombstone_key << "); attestation valid (" << result->fact_count
                << " facts, " << result->provenance_hash << ", signed by " << result->key_id << ")\n";
      return kExitExpired;
    }
    std::cout << "batch " << result->batch_id << ": valid (" << result->fact_count << " facts, "
              << result->provenance_hash << ", signed by " << result->key_id << ")\n";
    return kExitOk;
  }
  if (pos[0] == "dsse") {
    auto key_path = args->Flag("key");
    if (!key_path) return Usage("verify dsse: --key <public.pem> is required");
    auto envelope_text = ReadFile(pos[1]);
    if (!envelope_text.ok()) return Fail(envelope_text.status());
    auto key = ReadFile(*key_path);
    if (!key.ok()) return Fail(key.status());
    auto envelope = signals::ParseDsseEnvelope(*envelope_text);
    if (!envelope.ok()) {
      std::cerr << pos[1] << ": INVALID: " << envelope.status().ToString() << "\n";
      return kExitInvalid;
    }
    signals::Status s = signals::VerifyEnvelopeSignature(*envelope, *key);
    if (!s.ok()) {
      std::cerr << pos[1] << ": INVALID: " << s.message() << "\n";
      return kExitInvalid;
    }
    std::cout << pos[1] << ": valid DSSE envelope (payloadType " << envelope->payload_type << ")\n";
    return kExitOk;
  }
  return Usage("verify: unknown subcommand '" + pos[0] + "'");
}

}  // namespace signalsctl
