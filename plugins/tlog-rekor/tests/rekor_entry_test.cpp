// The Rekor v1 REST shapes of tlog-rekor (compiled from the plugin's
// rekor_entry.cpp): the proposed dsse entry, the flattened answer, the uuid a
// 409 names and the refusal text. Checked against the shapes Rekor documents
// and against a real production dsse entry's uuid form (80 hex digits).
#include "rekor_entry.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <nlohmann/json.hpp>
#include <stdexcept>

namespace signals::rekor {
namespace {

constexpr const char* kUuid80 =
    "108e9186e8c5677a875d33538d49eb9bc3224c4868c25d06f78f566730771c4437f50962530906ae";

std::string Decode64(const std::string& text) {
  std::string out(text.size(), '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  out.resize(static_cast<size_t>(n) - (text.size() >= 2 && text[text.size() - 1] == '=') -
             (text.size() >= 2 && text[text.size() - 2] == '='));
  return out;
}

nlohmann::json Entry() {
  return {{"body", "e30="},
          {"integratedTime", 1734374576},
          {"logID", "c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d"},
          {"logIndex", 155690850},
          {"verification",
           {{"inclusionProof",
             {{"checkpoint", "c\n1\nr\n\n— c sig\n"},
              {"hashes", nlohmann::json::array()},
              {"logIndex", 0},
              {"rootHash", "00"},
              {"treeSize", 1}}},
            {"signedEntryTimestamp", "MEUC"}}}};
}

TEST(ProposedDsseEntry, CarriesTheEnvelopeAsAStringAndTheBase64Pem) {
  const std::string envelope =
      R"({"payload":"e30=","payloadType":"application/vnd.in-toto+json","signatures":[]})";
  const std::string pem = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----\n";
  auto proposed = nlohmann::json::parse(ProposedDsseEntry(envelope, pem));
  EXPECT_EQ(proposed["apiVersion"], "0.0.1");
  EXPECT_EQ(proposed["kind"], "dsse");
  const auto& content = proposed["spec"]["proposedContent"];
  ASSERT_TRUE(content["envelope"].is_string()) << "the envelope must be a JSON string, not an object";
  EXPECT_EQ(content["envelope"].get<std::string>(), envelope);
  ASSERT_EQ(content["verifiers"].size(), 1u);
  EXPECT_EQ(Decode64(content["verifiers"][0].get<std::string>()), pem);
}

TEST(FlattenLogEntry, MovesTheUuidKeyIntoTheEntry) {
  nlohmann::json answer = {{kUuid80, Entry()}};
  auto flat = nlohmann::json::parse(FlattenLogEntry(answer.dump()));
  EXPECT_EQ(flat["uuid"], kUuid80);
  nlohmann::json without = flat;
  without.erase("uuid");
  EXPECT_EQ(without, Entry()) << "every member the log returned is kept as is";
}

TEST(FlattenLogEntry, RejectsAnswersThatAreNotOneEntry) {
  EXPECT_THROW(FlattenLogEntry("[]"), std::runtime_error);
  EXPECT_THROW(FlattenLogEntry("not json"), std::runtime_error);
  nlohmann::json two = {{kUuid80, Entry()}, {std::string(64, 'a'), Entry()}};
  EXPECT_THROW(FlattenLogEntry(two.dump()), std::runtime_error);
  nlohmann::json bad_key = {{"not-a-uuid", Entry()}};
  EXPECT_THROW(FlattenLogEntry(bad_key.dump()), std::runtime_error);
}

TEST(FlattenLogEntry, NamesTheMissingMember) {
  for (const char* member : {"body", "logID", "integratedTime", "logIndex", "verification"}) {
    nlohmann::json entry = Entry();
    entry.erase(member);
    nlohmann::json answer = {{kUuid80, entry}};
    try {
      FlattenLogEntry(answer.dump());
      ADD_FAILURE() << "an entry without " << member << " was accepted";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(member), std::string::npos) << e.what();
    }
  }
}

TEST(ConflictingUuid, PrefersTheLocationHeader) {
  EXPECT_EQ(ConflictingUuid(std::string("/api/v1/log/entries/") + kUuid80, "{}"), kUuid80);
  EXPECT_EQ(ConflictingUuid(std::string("https://rekor.example/api/v1/log/entries/") + kUuid80, ""), kUuid80);
}

TEST(ConflictingUuid, FallsBackToTheUuidInRekorsMessage) {
  std::string body = std::string(R"({"code":409,"message":"an equivalent entry already exists in the )") +
                     R"(transparency log with UUID )" + kUuid80 + R"("})";
  EXPECT_EQ(ConflictingUuid("", body), kUuid80);
  EXPECT_EQ(ConflictingUuid("", R"({"code":409,"message":"conflict"})"), std::nullopt);
}

TEST(RefusalReason, QuotesRekorsMessageOnOneLine) {
  EXPECT_EQ(RefusalReason(400, R"({"code":400,"message":"verifying envelope:\nno matching signatures"})"),
            "HTTP 400: verifying envelope: no matching signatures");
  EXPECT_EQ(RefusalReason(422, ""), "HTTP 422: no reason given");
  EXPECT_EQ(RefusalReason(400, std::string(1000, 'x')).size(), std::string("HTTP 400: ").size() + 300);
}

}  // namespace
}  // namespace signals::rekor
