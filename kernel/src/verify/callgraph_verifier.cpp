// CallgraphVerifier. See callgraph_verifier.hpp.
#include "verify/callgraph_verifier.hpp"

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "attest/attestation.hpp"
#include "attest/dsse.hpp"
#include "attest/signature_verify.hpp"
#include "base/base64.hpp"
#include "base/canonical_json.hpp"
#include "base/sha256.hpp"
#include "canon/callgraph_canonicalizer.hpp"
#include "ingest/callgraph_store.hpp"
#include "model/cas_paths.hpp"
#include "model/digest.hpp"
#include "retention/retention.hpp"
#include "retention/tombstone.hpp"
#include "verify/batch_verifier.hpp"

namespace signals {
namespace {

// The failure names the object at fault in its field (see VerifyCallgraph).
Status Corrupt(const std::string& object, const std::string& what) {
  return Status::Invalid("integrity", object, what);
}

// The first member of `fields` whose value differs between a and b, or "".
std::string FirstDifference(const nlohmann::json& a, const nlohmann::json& b,
                            const std::vector<std::string>& fields) {
  for (const auto& f : fields) {
    if (a.value(f, nlohmann::json()) != b.value(f, nlohmann::json())) return f;
  }
  return "";
}

Status CheckManifestShape(const nlohmann::json& manifest, const std::string& key) {
  const auto& fields = CallgraphManifestFields();
  for (const auto& f : fields) {
    if (!manifest.contains(f)) return Corrupt(key, "manifest " + key + " lacks member '" + f + "'");
  }
  for (auto it = manifest.begin(); it != manifest.end(); ++it) {
    if (std::find(fields.begin(), fields.end(), it.key()) == fields.end()) {
      return Corrupt(key, "manifest " + key + " has an unexpected member '" + it.key() + "'");
    }
  }
  return Status::Ok();
}

// Envelope: signature with the registry's key, statement, subject, predicate.
Result<std::string> VerifyEnvelope(Kernel& kernel, const std::string& key, const std::string& envelope_text,
                                   const nlohmann::json& manifest) {
  auto envelope = ParseDsseEnvelope(envelope_text);
  if (!envelope.ok()) return Corrupt(key, "envelope " + key + ": " + envelope.status().message());
  if (envelope->payload_type != kInTotoPayloadType) {
    return Corrupt(key, "envelope " + key + ": payloadType is " + envelope->payload_type);
  }
  const std::string key_id = envelope->signatures.front().keyid;
  auto public_key = kernel.keys().PublicKey(key_id);
  if (!public_key.ok())
    return Corrupt(key,
                   "envelope " + key + " signed by key '" + key_id + "': " + public_key.status().message());
  Status signature = VerifyEnvelopeSignature(*envelope, *public_key, key_id);
  if (!signature.ok()) return Corrupt(key, "envelope " + key + ": signature: " + signature.message());

  auto statement = nlohmann::json::parse(envelope->payload, nullptr, false);
  if (!statement.is_object()) return Corrupt(key, "envelope " + key + ": payload is not JSON");
  if (statement.value("_type", "") != kStatementType)
    return Corrupt(key, "envelope " + key + ": statement _type is wrong");
  if (statement.value("predicateType", "") != kCallgraphManifestPredicate) {
    return Corrupt(key,
                   "envelope " + key + ": predicateType is not " + std::string(kCallgraphManifestPredicate));
  }
  const nlohmann::json predicate = statement.value("predicate", nlohmann::json::object());
  const nlohmann::json body = CallgraphManifestBody(manifest);
  std::vector<std::string> fields;
  for (auto it = body.begin(); it != body.end(); ++it) fields.push_back(it.key());
  for (auto it = predicate.begin(); it != predicate.end(); ++it) fields.push_back(it.key());
  const std::string differs = FirstDifference(body, predicate, fields);
  if (!differs.empty()) {
    return Corrupt(key, "manifest field '" + differs + "' differs from the predicate signed in " + key);
  }
  const std::string name =
      cas_paths::CallgraphSubjectName(manifest.value("tenantId", ""), manifest.value("graphId", ""));
  const std::string hex = manifest.value("digest", "").substr(7);
  bool subject_ok = false;
  for (const auto& subject : statement.value("subject", nlohmann::json::array())) {
    subject_ok = subject_ok || (subject.value("name", "") == name && subject.contains("digest") &&
                                subject["digest"].value("sha256", "") == hex);
  }
  if (!subject_ok)
    return Corrupt(key, "envelope " + key + ": no subject names " + name + " with sha256 " + hex);
  if (SerializeDsseEnvelope(*envelope) != envelope_text) {
    return Corrupt(key, "envelope " + key + " is not the canonical JSON that was stored");
  }
  return key_id;
}

Status VerifyManifestSignature(Kernel& kernel, const std::string& key, const nlohmann::json& manifest,
                               bool* is_signed) {
  const nlohmann::json& signature = manifest["signature"];
  *is_signed = !signature.is_null();
  if (!*is_signed) {
    if (kernel.config().GetBool("signing", "sign_manifests")) {
      return Corrupt(key, "manifest " + key + " is unsigned but signing.sign_manifests is true");
    }
    return Status::Ok();
  }
  if (!signature.is_string()) return Corrupt(key, "manifest field 'signature' is not a string");
  if (!manifest["signerKeyId"].is_string())
    return Corrupt(key, "manifest field 'signerKeyId' is not a string");
  const std::string key_id = manifest["signerKeyId"].get<std::string>();
  auto raw = Base64Decode(signature.get<std::string>());
  if (!raw.ok()) return Corrupt(key, "manifest field 'signature': " + raw.status().message());
  auto public_key = kernel.keys().PublicKey(key_id);
  if (!public_key.ok())
    return Corrupt(key, "manifest signerKeyId '" + key_id + "': " + public_key.status().message());
  auto body = TryCanonicalJson(CallgraphManifestBody(manifest));
  if (!body.ok()) return Corrupt(key, "manifest " + key + ": " + body.status().message());
  Status s = VerifySignature(*public_key, *body, *raw);
  if (!s.ok())
    return Corrupt(key, "manifest " + key + ": field 'signature' does not verify with key '" + key_id + "'");
  return Status::Ok();
}

}  // namespace

Result<CallgraphVerification> VerifyCallgraph(Kernel& kernel, const std::string& graph_id,
                                              const CallgraphVerifyOptions& options) {
  CallgraphStore store(kernel);
  auto row = store.Record(graph_id);
  if (!row.ok()) return row.status();
  const std::string manifest_key = cas_paths::Manifest(graph_id);
  const std::string envelope_key = cas_paths::ManifestEnvelope(graph_id);

  // 1. The manifest and the envelope.
  auto manifest_text = kernel.cas().ReadAll(manifest_key);
  if (!manifest_text.ok()) {
    return Corrupt(manifest_key,
                   "manifest " + manifest_key + " is missing: " + manifest_text.status().message());
  }
  auto manifest = nlohmann::json::parse(*manifest_text, nullptr, false);
  if (!manifest.is_object())
    return Corrupt(manifest_key, "manifest " + manifest_key + " is not a JSON object");
  SIGNALS_RETURN_IF_ERROR(CheckManifestShape(manifest, manifest_key));
  if (manifest.value("graphId", "") != graph_id) {
    return Corrupt(manifest_key, "manifest field 'graphId' is not " + graph_id);
  }
  auto envelope_text = kernel.cas().ReadAll(envelope_key);
  if (!envelope_text.ok()) return Corrupt(envelope_key, "envelope " + envelope_key + " is missing");
  auto key_id = VerifyEnvelope(kernel, envelope_key, *envelope_text, manifest);
  if (!key_id.ok()) return key_id.status();

  CallgraphVerification v;
  v.graph_id = graph_id;
  v.key_id = *key_id;
  v.digest = manifest.value("digest", "");
  v.node_count = manifest.value("nodeCount", uint64_t{0});
  v.edge_count = manifest.value("edgeCount", uint64_t{0});
  SIGNALS_RETURN_IF_ERROR(VerifyManifestSignature(kernel, manifest_key, manifest, &v.manifest_signed));
  // Last of the manifest's checks: a defect of content is the better message.
  SIGNALS_RETURN_IF_ERROR(CheckCanonicalText(manifest_key, *manifest_text, manifest));
  const std::vector<std::string> shared = {"graphId", "tenantId",  "componentPurl", "language", "source",
                                           "digest",  "nodeCount", "edgeCount",     "createdAt"};

  if (IsExpired(*row)) {
    // Retention deleted the blob and the meta record; the tombstone and the
    // index row are what is left to check against the manifest.
    v.expired = true;
    v.expired_at = row->value("expiredAt", "");
    const std::string tombstone_key =
        cas_paths::Tombstone(kCallgraphsKind, row->value("tenantId", ""), graph_id);
    if (row->value("tombstoneKey", "") != tombstone_key)
      return Corrupt("callgraphs/" + graph_id, "expired, but the index names no tombstone " + tombstone_key);
    auto tombstone = ReadTombstoneOfExpired(kernel.cas(), tombstone_key);
    if (!tombstone.ok()) return tombstone.status();
    std::string differs = FirstDifference(*row, manifest, shared);
    if (!differs.empty())
      return Corrupt("callgraphs/" + graph_id,
                     "index row of " + graph_id + " field '" + differs + "' disagrees with the manifest");
    return v;
  }

  // 2. The blob re-hashes to the digest (and, deep, is canonical).
  const std::string blob_key = row->value("blobKey", "");
  Sha256Hasher hasher;
  std::unique_ptr<CallgraphCanonicalizer> recanonical;
  if (options.recanonicalize) {
    CallgraphCanonicalizerOptions copts;
    copts.format = CallgraphInputFormat::kNdjson;
    copts.sort_memory_bytes = static_cast<size_t>(kernel.config().GetInt("kernel", "callgraph_sort_memory"));
    copts.max_line_bytes = static_cast<size_t>(kernel.config().GetInt("kernel", "max_line_bytes"));
    // A stored graph is re-read under the loosest limits: it may predate the
    // ingest limits (copts.limits leaves lengths unlimited), and only the
    // stack bounds its depth.
    copts.limits.max_depth = kMaxJsonDepthLimit;
    copts.temp_dir = (std::filesystem::path(kernel.config().data_dir) / "tmp").string();
    recanonical = std::make_unique<CallgraphCanonicalizer>(std::move(copts));
  }
  Status read = store.ReadCanonical(graph_id, [&](std::string_view plain) {
    hasher.Update(plain);
    return recanonical ? recanonical->Write(plain) : Status::Ok();
  });
  if (!read.ok()) return Corrupt(blob_key, "blob " + blob_key + ": " + read.message());
  const std::string actual = DigestFromRaw(hasher.Finish());
  if (actual != v.digest) {
    return Corrupt(blob_key,
                   "blob " + blob_key + " hashes to " + actual + " but the manifest digest is " + v.digest);
  }
  if (recanonical) {
    auto summary = recanonical->Finish([](std::string_view) { return Status::Ok(); });
    if (!summary.ok()) {
      return Corrupt(blob_key, "blob " + blob_key +
                                   " is not a valid canonical callgraph: " + summary.status().message());
    }
    if (summary->digest != v.digest)
      return Corrupt(blob_key, "blob " + blob_key + " is not in canonical form");
    if (summary->node_count != v.node_count) {
      return Corrupt(manifest_key, "manifest field 'nodeCount' does not match the blob");
    }
    if (summary->edge_count != v.edge_count) {
      return Corrupt(manifest_key, "manifest field 'edgeCount' does not match the blob");
    }
    nlohmann::json entry_points = nlohmann::json::array();
    for (const auto& e : summary->entrypoints) {
      nlohmann::json entry = {{"id", e.id}};
      if (!e.kind.empty()) entry["kind"] = e.kind;
      entry_points.push_back(std::move(entry));
    }
    if (entry_points != manifest["entryPoints"]) {
      return Corrupt(manifest_key, "manifest field 'entryPoints' does not match the blob");
    }
  }

  // 3. The meta record and the index row agree with the manifest, and the
  // meta record with the row in every member it has.
  const std::string meta_key = row->value("metaKey", "");
  auto meta_text = kernel.cas().ReadAll(meta_key);
  if (!meta_text.ok()) return Corrupt(meta_key, "meta record " + meta_key + " is missing");
  auto meta = nlohmann::json::parse(*meta_text, nullptr, false);
  if (!meta.is_object()) return Corrupt(meta_key, "meta record " + meta_key + " is not JSON");
  std::string differs = FirstDifference(meta, manifest, shared);
  if (!differs.empty()) {
    return Corrupt(meta_key,
                   "meta record " + meta_key + " field '" + differs + "' disagrees with the manifest");
  }
  differs = FirstDifference(*row, manifest, shared);
  if (!differs.empty()) {
    return Corrupt("callgraphs/" + graph_id,
                   "index row of " + graph_id + " field '" + differs + "' disagrees with the manifest");
  }
  for (auto it = meta.begin(); it != meta.end(); ++it) {
    const auto& tlog = TlogStateMembers();
    if (std::find(tlog.begin(), tlog.end(), it.key()) != tlog.end()) continue;
    if (!row->contains(it.key()) || (*row)[it.key()] != it.value()) {
      return Corrupt(meta_key,
                     "meta record " + meta_key + " field '" + it.key() + "' disagrees with the index row");
    }
  }
  SIGNALS_RETURN_IF_ERROR(CheckCanonicalText(meta_key, *meta_text, meta));
  return v;
}

}  // namespace signals
