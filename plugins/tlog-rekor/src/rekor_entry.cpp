#include "rekor_entry.hpp"

#include <openssl/evp.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <stdexcept>

namespace signals::rekor {
namespace {

std::string Base64(const std::string& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n =
      EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                      reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

bool IsEntryUuid(const std::string& s) {
  // 64 hex digits (the leaf hash) or 80 (16-digit tree id + leaf hash).
  static const std::regex kUuid("^([0-9a-f]{16})?[0-9a-f]{64}$");
  return std::regex_match(s, kUuid);
}

}  // namespace

std::string ProposedDsseEntry(const std::string& envelope_json, const std::string& public_key_pem) {
  nlohmann::json proposed = {
      {"apiVersion", "0.0.1"},
      {"kind", "dsse"},
      {"spec",
       {{"proposedContent", {{"envelope", envelope_json}, {"verifiers", {Base64(public_key_pem)}}}}}}};
  return proposed.dump();
}

std::string FlattenLogEntry(const std::string& response_body) {
  auto answer = nlohmann::json::parse(response_body, nullptr, false);
  if (!answer.is_object() || answer.size() != 1) {
    throw std::runtime_error("the log's answer is not one {\"<uuid>\": {entry}} object");
  }
  const std::string uuid = answer.begin().key();
  if (!IsEntryUuid(uuid))
    throw std::runtime_error("the log's answer names no entry uuid (key '" + uuid.substr(0, 100) + "')");
  nlohmann::json entry = answer.begin().value();
  if (!entry.is_object()) throw std::runtime_error("entry " + uuid + " is not an object");
  for (const char* member : {"body", "logID"}) {
    if (!entry.contains(member) || !entry[member].is_string()) {
      throw std::runtime_error(std::string("entry ") + uuid + " has no string member '" + member + "'");
    }
  }
  for (const char* member : {"integratedTime", "logIndex"}) {
    if (!entry.contains(member) || !entry[member].is_number_integer()) {
      throw std::runtime_error(std::string("entry ") + uuid + " has no integer member '" + member + "'");
    }
  }
  if (!entry.contains("verification") || !entry["verification"].is_object() ||
      !entry["verification"].contains("inclusionProof") ||
      !entry["verification"].contains("signedEntryTimestamp")) {
    throw std::runtime_error("entry " + uuid + " has no verification (inclusionProof, signedEntryTimestamp)");
  }
  entry["uuid"] = uuid;
  return entry.dump();
}

std::optional<std::string> ConflictingUuid(const std::string& location, const std::string& body) {
  if (!location.empty()) {
    std::string last = location.substr(location.find_last_of('/') + 1);
    if (IsEntryUuid(last)) return last;
  }
  static const std::regex kHex("([0-9a-f]{80}|[0-9a-f]{64})");
  std::smatch m;
  if (std::regex_search(body, m, kHex)) return m.str(1);
  return std::nullopt;
}

std::string RefusalReason(long status, const std::string& body) {
  auto problem = nlohmann::json::parse(body, nullptr, false);
  std::string reason;
  if (problem.is_object() && problem.contains("message") && problem["message"].is_string()) {
    reason = problem["message"].get<std::string>();
  } else {
    reason = body.substr(0, 300);
  }
  for (char& c : reason) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  while (!reason.empty() && reason.back() == ' ') reason.pop_back();
  if (reason.empty()) reason = "no reason given";
  return "HTTP " + std::to_string(status) + ": " + reason;
}

}  // namespace signals::rekor
