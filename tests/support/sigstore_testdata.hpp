// The Sigstore production data of tests/data/sigstore (see its
// README): bundles, keys, and the Rekor REST shape of their log entries, for
// the transparency-log and bundle tests.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>

#include <nlohmann/json.hpp>

#include "base/base64.hpp"
#include "base/sha256.hpp"
#include "base/status.hpp"

namespace signals::testing {

inline const std::string kSigstoreDir = std::string(SIGNALS_TESTDATA_DIR) + "/sigstore";

// rekor.sigstore.dev's ECDSA P-256 key (trusted_root.json, tlogs[0]).
inline constexpr const char* kProductionRekorKey =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE2G2Y+2tabdTV5BcGiBIx0a9fAFwr\n"
    "kBbmLSGtks4L3qX6yYY0zufBnhC8Ur/iy55GhWP/9A/bY2LhC30M9+RYtw==\n"
    "-----END PUBLIC KEY-----\n";

// npm's attestation key, which signed bundle-publish.json.
inline constexpr const char* kNpmKey =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE1Olb3zMAFFxXKHiIkQO5cJ3Yhl5i6UPp+"
    "IhuteBJbuHcA5UogKo0EWtlWwW6KSaKoTNEYL7JlCQ"
    "iVnkhBktUgg==\n"
    "-----END PUBLIC KEY-----\n";

// rekor.sigstore.dev's tree ID, the first half of its entry UUIDs.
inline constexpr const char* kProductionTreeIdHex = "108e9186e8c5677a";

// Expects `s` to be a failure of `code` whose message contains `message_part`.
inline void ExpectFailureNaming(const Status& s, const std::string& message_part,
                                Code code = Code::kInvalid) {
  ASSERT_FALSE(s.ok()) << "expected a failure naming '" << message_part << "'";
  EXPECT_EQ(s.code(), code) << CodeName(s.code()) << ": " << s.message();
  EXPECT_NE(s.message().find(message_part), std::string::npos)
      << "message '" << s.message() << "' lacks '" << message_part << "'";
}

inline std::string ReadTestFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline nlohmann::json ReadTestJson(const std::string& path) {
  return nlohmann::json::parse(ReadTestFile(path));
}

// The Rekor REST shape (hex, JSON integers, "verification") of a bundle's
// protobuf-JSON tlog entry, with the UUID Rekor gives it. Written here, not
// with the code under test, so the two shapes are checked against each other.
inline nlohmann::json RestEntryFromBundleEntry(const nlohmann::json& b) {
  auto hex_of_base64 = [](const nlohmann::json& text) {
    return HexLower(Base64Decode(text.get<std::string>()).value());
  };
  std::string body = Base64Decode(b["canonicalizedBody"].get<std::string>()).value();
  nlohmann::json entry = {
      {"uuid", std::string(kProductionTreeIdHex) + Sha256Hex(std::string(1, '\0') + body)},
      {"body", b["canonicalizedBody"]},
      {"integratedTime", std::stoll(b["integratedTime"].get<std::string>())},
      {"logID", hex_of_base64(b["logId"]["keyId"])},
      {"logIndex", std::stoll(b["logIndex"].get<std::string>())},
      {"verification", {{"signedEntryTimestamp", b["inclusionPromise"]["signedEntryTimestamp"]}}}};
  if (b.contains("inclusionProof") && b["inclusionProof"].is_object()) {
    const auto& p = b["inclusionProof"];
    nlohmann::json hashes = nlohmann::json::array();
    for (const auto& h : p["hashes"]) hashes.push_back(hex_of_base64(h));
    entry["verification"]["inclusionProof"] = {{"checkpoint", p["checkpoint"]["envelope"]},
                                               {"hashes", hashes},
                                               {"logIndex", std::stoll(p["logIndex"].get<std::string>())},
                                               {"rootHash", hex_of_base64(p["rootHash"])},
                                               {"treeSize", std::stoll(p["treeSize"].get<std::string>())}};
  }
  return entry;
}

}  // namespace signals::testing
