// Decoding Rekor v1 entries from their REST and bundle shapes. See tlog_entry.hpp.
#include "tlog/tlog_entry.hpp"

#include <limits>

#include "base/base64.hpp"
#include "base/json_member.hpp"
#include "base/sha256.hpp"

namespace signals {
namespace {

Status Malformed(const std::string& field, const std::string& what) {
  return Status::Invalid("tlog-entry", field, "log entry: " + field + " " + what);
}

// The member, or null when it is absent or null.
const nlohmann::json* Member(const nlohmann::json& object, const char* name) {
  const nlohmann::json& v = JsonChild(object, name);
  return v.is_null() ? nullptr : &v;
}

Result<std::string> StringMember(const nlohmann::json& object, const char* name, const std::string& path) {
  const auto* v = Member(object, name);
  if (v == nullptr) return Malformed(path, "is missing");
  if (!v->is_string()) return Malformed(path, "is not a string");
  return v->get<std::string>();
}

// A non-negative integer: a JSON number (REST) or a decimal string
// (protobuf-JSON writes int64 as strings).
Result<uint64_t> CountMember(const nlohmann::json& object, const char* name, const std::string& path) {
  const auto* v = Member(object, name);
  if (v == nullptr) return Malformed(path, "is missing");
  if (v->is_number_unsigned()) return v->get<uint64_t>();
  if (v->is_number_integer()) {  // a signed integer, as built in code rather than parsed
    if (v->get<int64_t>() < 0) return Malformed(path, "is negative");
    return static_cast<uint64_t>(v->get<int64_t>());
  }
  if (v->is_string()) {
    const auto& s = v->get_ref<const std::string&>();
    if (!s.empty() && s.size() <= 19 && s.find_first_not_of("0123456789") == std::string::npos) {
      return static_cast<uint64_t>(std::stoull(s));
    }
  }
  return Malformed(path, "is not a non-negative integer");
}

enum class Encoding { kHex, kBase64 };

// Bytes written as text: hex in the REST shape, base64 in bundles.
Result<std::string> DecodeBytes(const nlohmann::json& value, const std::string& path, Encoding encoding,
                                size_t exact_size = 0) {
  if (!value.is_string()) return Malformed(path, "is not a string");
  const auto& text = value.get_ref<const std::string&>();
  auto bytes = encoding == Encoding::kHex ? HexDecode(text) : Base64Decode(text);
  const char* form = encoding == Encoding::kHex ? "hex" : "base64";
  if (!bytes.ok()) return Malformed(path, std::string("is not ") + form + ": " + bytes.status().message());
  if (exact_size != 0 && bytes->size() != exact_size) {
    return Malformed(path, "is " + std::to_string(bytes->size()) + " bytes (" + form + "), expected " +
                               std::to_string(exact_size));
  }
  return bytes;
}

Result<std::string> BytesMember(const nlohmann::json& object, const char* name, const std::string& path,
                                Encoding encoding, size_t exact_size = 0) {
  const auto* v = Member(object, name);
  if (v == nullptr) return Malformed(path, "is missing");
  return DecodeBytes(*v, path, encoding, exact_size);
}

Result<std::vector<std::string>> HashList(const nlohmann::json& proof, const std::string& path,
                                          Encoding encoding) {
  const auto* list = Member(proof, "hashes");
  if (list == nullptr) return std::vector<std::string>{};  // a proof in a one-leaf tree has none
  if (!list->is_array()) return Malformed(path, "is not an array");
  std::vector<std::string> out;
  for (size_t i = 0; i < list->size(); ++i) {
    auto h = DecodeBytes((*list)[i], path + "[" + std::to_string(i) + "]", encoding, 32);
    if (!h.ok()) return h.status();
    out.push_back(std::move(*h));
  }
  return out;
}

Result<TlogInclusionProof> ParseProof(const nlohmann::json& proof, const std::string& prefix,
                                      Encoding encoding) {
  TlogInclusionProof out;
  auto index = CountMember(proof, "logIndex", prefix + ".logIndex");
  if (!index.ok()) return index.status();
  auto size = CountMember(proof, "treeSize", prefix + ".treeSize");
  if (!size.ok()) return size.status();
  auto root = BytesMember(proof, "rootHash", prefix + ".rootHash", encoding, 32);
  if (!root.ok()) return root.status();
  auto hashes = HashList(proof, prefix + ".hashes", encoding);
  if (!hashes.ok()) return hashes.status();
  out.log_index = *index;
  out.tree_size = *size;
  out.root_hash = std::move(*root);
  out.hashes = std::move(*hashes);
  return out;
}

Result<int64_t> IntegratedTime(const nlohmann::json& entry) {
  auto t = CountMember(entry, "integratedTime", "integratedTime");
  if (!t.ok()) return t.status();
  if (*t > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return Malformed("integratedTime", "is out of range");
  }
  return static_cast<int64_t>(*t);
}

}  // namespace

Result<TlogEntry> ParseRekorEntry(const nlohmann::json& input) {
  if (!input.is_object()) return Malformed("entry", "is not a JSON object");
  const nlohmann::json* entry = &input;
  std::string uuid;
  // Rekor answers {"<uuid>": {…}}; Signals stores the entry flat with "uuid".
  if (input.size() == 1 && !input.contains("body") && input.begin()->is_object()) {
    uuid = input.begin().key();
    entry = &*input.begin();
  } else if (const auto* u = Member(input, "uuid"); u != nullptr) {
    if (!u->is_string()) return Malformed("uuid", "is not a string");
    uuid = u->get<std::string>();
  }
  TlogEntry out;
  out.uuid = uuid;
  auto body = BytesMember(*entry, "body", "body", Encoding::kBase64);
  if (!body.ok()) return body.status();
  out.body = std::move(*body);
  auto time = IntegratedTime(*entry);
  if (!time.ok()) return time.status();
  out.integrated_time = *time;
  auto log_id = BytesMember(*entry, "logID", "logID", Encoding::kHex, 32);
  if (!log_id.ok()) return log_id.status();
  out.log_id = std::move(*log_id);
  auto index = CountMember(*entry, "logIndex", "logIndex");
  if (!index.ok()) return index.status();
  out.log_index = *index;
  const auto* verification = Member(*entry, "verification");
  if (verification == nullptr) return Malformed("verification", "is missing");
  if (!verification->is_object()) return Malformed("verification", "is not an object");
  if (Member(*verification, "signedEntryTimestamp") != nullptr) {
    auto set = BytesMember(*verification, "signedEntryTimestamp", "verification.signedEntryTimestamp",
                           Encoding::kBase64);
    if (!set.ok()) return set.status();
    out.signed_entry_timestamp = std::move(*set);
  }
  if (const auto* proof = Member(*verification, "inclusionProof"); proof != nullptr) {
    const std::string prefix = "verification.inclusionProof";
    if (!proof->is_object()) return Malformed(prefix, "is not an object");
    auto parsed = ParseProof(*proof, prefix, Encoding::kHex);
    if (!parsed.ok()) return parsed.status();
    auto checkpoint = StringMember(*proof, "checkpoint", prefix + ".checkpoint");
    if (!checkpoint.ok()) return checkpoint.status();
    parsed->checkpoint = std::move(*checkpoint);
    out.inclusion_proof = std::move(*parsed);
  }
  return out;
}

Result<TlogEntry> ParseBundleTlogEntry(const nlohmann::json& entry) {
  if (!entry.is_object()) return Malformed("tlog entry", "is not a JSON object");
  TlogEntry out;
  auto index = CountMember(entry, "logIndex", "logIndex");
  if (!index.ok()) return index.status();
  out.log_index = *index;
  const auto* log_id = Member(entry, "logId");
  if (log_id == nullptr || !log_id->is_object()) return Malformed("logId", "is missing or not an object");
  auto key_id = BytesMember(*log_id, "keyId", "logId.keyId", Encoding::kBase64, 32);
  if (!key_id.ok()) return key_id.status();
  out.log_id = std::move(*key_id);
  const auto* kind_version = Member(entry, "kindVersion");
  if (kind_version == nullptr || !kind_version->is_object()) {
    return Malformed("kindVersion", "is missing or not an object");
  }
  auto kind = StringMember(*kind_version, "kind", "kindVersion.kind");
  if (!kind.ok()) return kind.status();
  auto version = StringMember(*kind_version, "version", "kindVersion.version");
  if (!version.ok()) return version.status();
  out.kind = std::move(*kind);
  out.version = std::move(*version);
  auto time = IntegratedTime(entry);
  if (!time.ok()) return time.status();
  out.integrated_time = *time;
  auto body = BytesMember(entry, "canonicalizedBody", "canonicalizedBody", Encoding::kBase64);
  if (!body.ok()) return body.status();
  out.body = std::move(*body);
  if (const auto* promise = Member(entry, "inclusionPromise"); promise != nullptr) {
    auto set = BytesMember(*promise, "signedEntryTimestamp", "inclusionPromise.signedEntryTimestamp",
                           Encoding::kBase64);
    if (!set.ok()) return set.status();
    out.signed_entry_timestamp = std::move(*set);
  }
  if (const auto* proof = Member(entry, "inclusionProof"); proof != nullptr) {
    if (!proof->is_object()) return Malformed("inclusionProof", "is not an object");
    auto parsed = ParseProof(*proof, "inclusionProof", Encoding::kBase64);
    if (!parsed.ok()) return parsed.status();
    const auto* checkpoint = Member(*proof, "checkpoint");
    if (checkpoint == nullptr) return Malformed("inclusionProof.checkpoint", "is missing");
    auto envelope = StringMember(*checkpoint, "envelope", "inclusionProof.checkpoint.envelope");
    if (!envelope.ok()) return envelope.status();
    parsed->checkpoint = std::move(*envelope);
    out.inclusion_proof = std::move(*parsed);
  }
  return out;
}

Result<nlohmann::json> BundleTlogEntryJson(const TlogEntry& entry) {
  std::string kind = entry.kind;
  std::string version = entry.version;
  if (kind.empty() || version.empty()) {
    auto body = nlohmann::json::parse(entry.body, nullptr, false);
    if (!body.is_object() || !body.contains("kind") || !body["kind"].is_string() ||
        !body.contains("apiVersion") || !body["apiVersion"].is_string()) {
      return Malformed("body", "is not JSON with string kind and apiVersion");
    }
    kind = body["kind"].get<std::string>();
    version = body["apiVersion"].get<std::string>();
  }
  nlohmann::json out = {
      {"logIndex", std::to_string(entry.log_index)},
      {"logId", {{"keyId", Base64Encode(entry.log_id)}}},
      {"kindVersion", {{"kind", kind}, {"version", version}}},
      {"integratedTime", std::to_string(entry.integrated_time)},
      {"canonicalizedBody", Base64Encode(entry.body)},
  };
  if (!entry.signed_entry_timestamp.empty()) {
    out["inclusionPromise"] = {{"signedEntryTimestamp", Base64Encode(entry.signed_entry_timestamp)}};
  }
  if (entry.inclusion_proof) {
    const auto& proof = *entry.inclusion_proof;
    nlohmann::json hashes = nlohmann::json::array();
    for (const auto& h : proof.hashes) hashes.push_back(Base64Encode(h));
    out["inclusionProof"] = {{"logIndex", std::to_string(proof.log_index)},
                             {"treeSize", std::to_string(proof.tree_size)},
                             {"rootHash", Base64Encode(proof.root_hash)},
                             {"hashes", hashes},
                             {"checkpoint", {{"envelope", proof.checkpoint}}}};
  }
  return out;
}

}  // namespace signals
