// Attestations: in-toto Statement v1 documents wrapped in signed DSSE
// envelopes (kernel/README.md#attestations). The statement is RFC 8785 canonical JSON, so the
// signed bytes are reproducible from the statement's content.
// Thread-safety: functions are pure except for the Signer they call.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "attest/dsse.hpp"
#include "base/status.hpp"
#include "core/metrics_registry.hpp"
#include "plugin/plugin_instance.hpp"

namespace signals {

inline constexpr const char* kStatementType = "https://in-toto.io/Statement/v1";
inline constexpr const char* kRuntimeFactsPredicate = "https://stella.ops/attestation/runtime-facts/v1";
inline constexpr const char* kCallgraphManifestPredicate =
    "https://stella.ops/attestation/callgraph-manifest/v1";

struct AttestationSubject {
  std::string name;
  std::string sha256_hex;
};

// {_type, subject[{name, digest{sha256}}], predicateType, predicate}.
nlohmann::json MakeStatement(const std::vector<AttestationSubject>& subjects,
                             const std::string& predicate_type, const nlohmann::json& predicate);

// Signs PAE(in-toto type, JCS(statement)) with `signer`; the signature's keyid
// is the signer's key id.
Result<DsseEnvelope> SignStatement(Signer& signer, const nlohmann::json& statement);

// Signs `statement` (SignStatement) and stores the envelope as CAS object
// `key`, counting signals_attestations_created_total{result=ok|error}.
// Returns the stored envelope's exact bytes (what a transparency log gets).
// On failure nothing was stored.
Result<std::string> StoreSignedStatement(Signer& signer, const nlohmann::json& statement, CasStore& cas,
                                         MetricsRegistry& metrics, const std::string& key);

// OK when at least one signature of `envelope` verifies with `public_key_pem`
// (and, when `key_id` is non-empty, carries that keyid).
Status VerifyEnvelopeSignature(const DsseEnvelope& envelope, const std::string& public_key_pem,
                               const std::string& key_id = "");

}  // namespace signals
