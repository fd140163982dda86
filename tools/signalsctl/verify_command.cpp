// signalsctl verify batch <batchId> [--rekor-key <pem>]
//          | verify dsse <envelope.json> --key <public.pem>
//          | verify bundle <bundle.json> [--key <public.pem>] [--rekor-key <pem>]
#include <iostream>

#include "attest/attestation.hpp"
#include "attest/dsse.hpp"
#include "base/json_member.hpp"
#include "cli.hpp"
#include "model/cas_paths.hpp"
#include "tlog/sigstore_bundle.hpp"
#include "verify/batch_verifier.hpp"

namespace signalsctl {
namespace {

int VerifyBatchCommand(Context& ctx, const Args& args, const std::string& batch_id) {
  auto kernel = ctx.OpenKernel();
  if (!kernel.ok()) return Fail(kernel.status());
  auto result = signals::VerifyBatch(**kernel, batch_id);
  if (!result.ok()) {
    std::cerr << "batch " << batch_id << ": INVALID: " << result.status().message() << "\n";
    return result.status().code() == signals::Code::kConfig ? kExitUsage : kExitInvalid;
  }
  if (result->expired) {
    std::cout << "batch " << result->batch_id << ": expired (deleted by retention at " << result->expired_at
              << ", tombstone " << result->tombstone_key << "); attestation valid (" << result->fact_count
              << " facts, " << result->provenance_hash << ", signed by " << result->key_id << ")\n";
  } else {
    std::cout << "batch " << result->batch_id << ": valid (" << result->fact_count << " facts, "
              << result->provenance_hash << ", signed by " << result->key_id << ")\n";
  }
  auto row_text = (*kernel)->index().Get("batches", batch_id);
  if (!row_text.ok()) return Fail(row_text.status());
  auto row = nlohmann::json::parse(*row_text, nullptr, false);
  LoggedObject object{signals::JsonText(row, "attestationKey"), signals::cas_paths::BatchRekorEntry(batch_id),
                      signals::JsonText(row, "rekorUuid"), signals::JsonText(row, "skipReason")};
  int logged = ReportLogEntry(**kernel, args, "batch " + batch_id, object);
  return logged == kExitOk && result->expired ? kExitExpired : logged;
}

int VerifyDsseCommand(const Args& args, const std::string& file) {
  auto key_path = args.Flag("key");
  if (!key_path) return Usage("verify dsse: --key <public.pem> is required");
  auto envelope_text = ReadFileText(file);
  if (!envelope_text.ok()) return Fail(envelope_text.status());
  auto key = ReadFileText(*key_path);
  if (!key.ok()) return Fail(key.status());
  auto envelope = signals::ParseDsseEnvelope(*envelope_text);
  if (!envelope.ok()) {
    std::cerr << file << ": INVALID: " << envelope.status().ToString() << "\n";
    return kExitInvalid;
  }
  signals::Status s = signals::VerifyEnvelopeSignature(*envelope, *key);
  if (!s.ok()) {
    std::cerr << file << ": INVALID: " << s.message() << "\n";
    return kExitInvalid;
  }
  std::cout << file << ": valid DSSE envelope (payloadType " << envelope->payload_type << ")\n";
  return kExitOk;
}

// Offline: the signature with the given key (or the bundle's certificate
// key), each tlog entry with the given log key. Needs no configuration.
int VerifyBundleCommand(const Args& args, const std::string& file) {
  auto bundle_text = ReadFileText(file);
  if (!bundle_text.ok()) return Fail(bundle_text.status());
  signals::BundleVerifyOptions options;
  if (auto key_path = args.Flag("key")) {
    auto key = ReadFileText(*key_path);
    if (!key.ok()) return Fail(key.status());
    options.public_key_pem = *key;
  }
  if (auto rekor_path = args.Flag("rekor-key")) {
    auto key = ReadFileText(*rekor_path);
    if (!key.ok()) return Fail(key.status());
    options.log_public_key_pem = *key;
  }
  auto result = signals::VerifySigstoreBundle(*bundle_text, options);
  if (!result.ok()) {
    std::cerr << file << ": INVALID: " << result.status().message() << "\n";
    return result.status().code() == signals::Code::kConfig ? kExitUsage : kExitInvalid;
  }
  const auto& v = *result;
  std::cout << file << ": valid Sigstore bundle v" << v.version << "\n";
  if (v.content == "dsseEnvelope") {
    std::cout << "  DSSE signature: verified (payloadType " << v.payload_type << ") with the " << v.key_source
              << "\n";
  } else {
    std::cout << "  message signature: verified over messageDigest with the " << v.key_source << "\n";
  }
  if (v.tlog_entries.empty()) std::cout << "  tlog entries: none\n";
  for (size_t i = 0; i < v.tlog_entries.size(); ++i) {
    const auto& e = v.tlog_entries[i];
    std::cout << "  tlog entry " << i << ": verified (logIndex " << e.log_index << ", integratedTime "
              << e.integrated_time << ", leaf " << e.leaf_hash_hex << "; body matches";
    if (e.signed_entry_timestamp_verified) std::cout << "; SET";
    if (e.inclusion_proof_verified) {
      std::cout << "; inclusion proof at " << e.proof_log_index << " in tree size " << e.tree_size
                << "; checkpoint '" << e.checkpoint_origin << "'";
    }
    std::cout << ")\n";
  }
  if (v.has_rfc3161_timestamps) std::cout << "  RFC 3161 timestamps: present, not checked\n";
  return kExitOk;
}

}  // namespace

int RunVerify(Context& ctx, const std::vector<std::string>& tokens) {
  auto args = Args::Parse(tokens, {"key", "rekor-key"});
  if (!args.ok()) return Usage("verify: " + args.status().message());
  const auto& pos = args->positional();
  if (pos.size() != 2) {
    return Usage(
        "verify: expected `verify batch <batchId>`, `verify dsse <file> --key <pem>` or `verify bundle "
        "<file> "
        "--key <pem>`");
  }
  if (pos[0] == "batch") return VerifyBatchCommand(ctx, *args, pos[1]);
  if (pos[0] == "dsse") return VerifyDsseCommand(*args, pos[1]);
  if (pos[0] == "bundle") return VerifyBundleCommand(*args, pos[1]);
  return Usage("verify: unknown subcommand '" + pos[0] + "'");
}

}  // namespace signalsctl
