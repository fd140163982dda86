// Rekor entry bodies against the content they log. See tlog_body.hpp.
#include "tlog/tlog_body.hpp"

#include <nlohmann/json.hpp>

#include "base/base64.hpp"
#include "base/json_member.hpp"
#include "base/sha256.hpp"

namespace signals {
namespace {

Status BodyInvalid(std::string message) {
  return Status::Invalid("tlog-body", "body", "log entry body: " + std::move(message));
}

struct BodyKind {
  nlohmann::json doc;
  std::string kind;
  std::string version;
};

Result<BodyKind> ReadBody(const TlogEntry& entry) {
  BodyKind out;
  out.doc = nlohmann::json::parse(entry.body, nullptr, false);
  if (!out.doc.is_object()) return BodyInvalid("is not a JSON object");
  out.kind = JsonText(out.doc, "kind");
  out.version = JsonText(out.doc, "apiVersion");
  if (!entry.kind.empty() && (entry.kind != out.kind || entry.version != out.version)) {
    return BodyInvalid("kind/apiVersion " + out.kind + "/" + out.version +
                       " differs from the entry's kindVersion " + entry.kind + "/" + entry.version);
  }
  return out;
}

Status CheckSha256(const nlohmann::json& hash, const std::string& member, const std::string& expected_hex) {
  const std::string algorithm = JsonText(hash, "algorithm");
  const std::string value = JsonText(hash, "value");
  if (algorithm != "sha256")
    return BodyInvalid(member + ".algorithm is '" + algorithm + "', expected sha256");
  if (value != expected_hex) {
    return BodyInvalid(member + ".value " + (value.empty() ? "(missing)" : value) + " != " + expected_hex);
  }
  return Status::Ok();
}

// Both lists hold the same signatures (as raw bytes), in any order.
Status CheckSignatures(const std::vector<std::string>& logged, const DsseEnvelope& envelope,
                       const std::string& member) {
  if (logged.size() != envelope.signatures.size()) {
    return BodyInvalid(member + " lists " + std::to_string(logged.size()) + " signatures, the envelope has " +
                       std::to_string(envelope.signatures.size()));
  }
  for (size_t i = 0; i < envelope.signatures.size(); ++i) {
    bool found = false;
    for (const auto& l : logged) found = found || l == envelope.signatures[i].sig;
    if (!found)
      return BodyInvalid(member + " does not contain the envelope's signatures[" + std::to_string(i) + "]");
  }
  return Status::Ok();
}

Result<std::vector<std::string>> DecodeList(const nlohmann::json& list, const char* member,
                                            const std::string& path, bool twice) {
  if (!list.is_array()) return BodyInvalid(path + " is not an array");
  std::vector<std::string> out;
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string where = path + "[" + std::to_string(i) + "]." + member;
    const std::string text = JsonText(list[i], member);
    auto bytes = Base64Decode(text);
    if (bytes.ok() && twice) bytes = Base64Decode(*bytes);
    if (text.empty() || !bytes.ok())
      return BodyInvalid(where + " is not " + (twice ? "double " : "") + "base64");
    out.push_back(std::move(*bytes));
  }
  return out;
}

Status VerifyDsseBody(const nlohmann::json& body, const DsseEnvelope& envelope) {
  const auto& spec = JsonChild(body, "spec");
  SIGNALS_RETURN_IF_ERROR(
      CheckSha256(JsonChild(spec, "payloadHash"), "spec.payloadHash", Sha256Hex(envelope.payload)));
  auto logged = DecodeList(JsonChild(spec, "signatures"), "signature", "spec.signatures", false);
  if (!logged.ok()) return logged.status();
  return CheckSignatures(*logged, envelope, "spec.signatures");
}

Status VerifyIntotoBody(const nlohmann::json& body, const DsseEnvelope& envelope) {
  const auto& content = JsonChild(JsonChild(body, "spec"), "content");
  SIGNALS_RETURN_IF_ERROR(CheckSha256(JsonChild(content, "payloadHash"), "spec.content.payloadHash",
                                      Sha256Hex(envelope.payload)));
  const auto& logged_envelope = JsonChild(content, "envelope");
  const std::string payload_type = JsonText(logged_envelope, "payloadType");
  if (payload_type != envelope.payload_type) {
    return BodyInvalid("spec.content.envelope.payloadType '" + payload_type + "' != '" +
                       envelope.payload_type + "'");
  }
  auto logged =
      DecodeList(JsonChild(logged_envelope, "signatures"), "sig", "spec.content.envelope.signatures", true);
  if (!logged.ok()) return logged.status();
  return CheckSignatures(*logged, envelope, "spec.content.envelope.signatures");
}

}  // namespace

Status VerifyTlogBodyForEnvelope(const TlogEntry& entry, const DsseEnvelope& envelope) {
  auto body = ReadBody(entry);
  if (!body.ok()) return body.status();
  if (body->kind == "dsse" && body->version == "0.0.1") return VerifyDsseBody(body->doc, envelope);
  if (body->kind == "intoto" && body->version == "0.0.2") return VerifyIntotoBody(body->doc, envelope);
  return BodyInvalid("kind/apiVersion " + body->kind + "/" + body->version +
                     " does not log a DSSE envelope (expected dsse/0.0.1 or intoto/0.0.2)");
}

Status VerifyTlogBodyForMessageSignature(const TlogEntry& entry, std::string_view digest,
                                         std::string_view signature) {
  auto body = ReadBody(entry);
  if (!body.ok()) return body.status();
  if (body->kind != "hashedrekord" || body->version != "0.0.1") {
    return BodyInvalid("kind/apiVersion " + body->kind + "/" + body->version +
                       " does not log a message signature (expected hashedrekord/0.0.1)");
  }
  const auto& spec = JsonChild(body->doc, "spec");
  SIGNALS_RETURN_IF_ERROR(
      CheckSha256(JsonChild(JsonChild(spec, "data"), "hash"), "spec.data.hash", HexLower(digest)));
  const std::string logged = JsonText(JsonChild(spec, "signature"), "content");
  auto bytes = Base64Decode(logged);
  if (logged.empty() || !bytes.ok()) return BodyInvalid("spec.signature.content is not base64");
  if (*bytes != signature) return BodyInvalid("spec.signature.content is not the bundle's message signature");
  return Status::Ok();
}

}  // namespace signals
