// Specification of DSSE v1 envelopes: PAE, parsing and canonical serialisation.
#include "attest/dsse.hpp"

#include <gtest/gtest.h>

#include <string>

#include "base/base64.hpp"

namespace signals {
namespace {

void ExpectDsseError(std::string_view json, std::string_view field) {
  auto parsed = ParseDsseEnvelope(json);
  ASSERT_FALSE(parsed.ok()) << "accepted " << json;
  EXPECT_EQ(parsed.status().code(), Code::kInvalid);
  EXPECT_EQ(parsed.status().rule(), "dsse");
  EXPECT_EQ(parsed.status().field(), field) << parsed.status().message();
}

TEST(DssePae, MatchesTheDsseSpecificationExample) {
  EXPECT_EQ(DssePae("http://example.com/HelloWorld", "hello world"),
            "DSSEv1 29 http://example.com/HelloWorld 11 hello world");
}

TEST(DssePae, CountsBytesNotCharacters) {
  EXPECT_EQ(DssePae("t", std::string("\xE2\x82\xAC", 3)), "DSSEv1 1 t 3 \xE2\x82\xAC");
  EXPECT_EQ(DssePae("t", ""), "DSSEv1 1 t 0 ");
}

TEST(DssePae, KeepsEmbeddedNulBytes) {
  std::string payload("a\0b", 3);
  EXPECT_EQ(DssePae("t", payload), std::string("DSSEv1 1 t 3 a\0b", 16));
}

TEST(ParseDsseEnvelope, DecodesPayloadAndSignatures) {
  auto parsed =
      ParseDsseEnvelope(R"({"payloadType":"application/vnd.in-toto+json","payload":"aGVsbG8gd29ybGQ=",)"
                        R"("signatures":[{"keyid":"k1","sig":"AQID"},{"sig":"BAU"}]})");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->payload_type, kInTotoPayloadType);
  EXPECT_EQ(parsed->payload, "hello world");
  ASSERT_EQ(parsed->signatures.size(), 2u);
  EXPECT_EQ(parsed->signatures[0].keyid, "k1");
  EXPECT_EQ(parsed->signatures[0].sig, "\x01\x02\x03");
  EXPECT_EQ(parsed->signatures[1].keyid, "");  // keyid may be absent
  EXPECT_EQ(parsed->signatures[1].sig, "\x04\x05");
}

TEST(ParseDsseEnvelope, AcceptsUrlSafeUnpaddedBase64) {
  auto parsed =
      ParseDsseEnvelope(R"({"payloadType":"t","payload":"-_-_","signatures":[{"keyid":"","sig":"_w"}]})");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->payload, std::string("\xfb\xff\xbf", 3));
  EXPECT_EQ(parsed->signatures[0].sig, "\xff");
}

TEST(ParseDsseEnvelope, IgnoresUnknownMembers) {
  EXPECT_TRUE(
      ParseDsseEnvelope(R"({"payloadType":"t","payload":"","signatures":[{"sig":"AQ==","x":1}],"y":2})")
          .ok());
}

TEST(ParseDsseEnvelope, RejectsNonJsonAndNonObjects) {
  ExpectDsseError("not json", "");
  ExpectDsseError("[1,2]", "");
  ExpectDsseError("", "");
}

TEST(ParseDsseEnvelope, RejectsMissingOrEmptyPayloadType) {
  ExpectDsseError(R"({"payload":"","signatures":[{"sig":"AQ=="}]})", "payloadType");
  ExpectDsseError(R"({"payloadType":"","payload":"","signatures":[{"sig":"AQ=="}]})", "payloadType");
  ExpectDsseError(R"({"payloadType":7,"payload":"","signatures":[{"sig":"AQ=="}]})", "payloadType");
}

TEST(ParseDsseEnvelope, RejectsPayloadThatIsNotBase64) {
  ExpectDsseError(R"({"payloadType":"t","payload":"a*b=","signatures":[{"sig":"AQ=="}]})", "payload");
  ExpectDsseError(R"({"payloadType":"t","payload":{},"signatures":[{"sig":"AQ=="}]})", "payload");
  ExpectDsseError(R"({"payloadType":"t","signatures":[{"sig":"AQ=="}]})", "payload");
}

TEST(ParseDsseEnvelope, RejectsMissingOrEmptySignatures) {
  ExpectDsseError(R"({"payloadType":"t","payload":""})", "signatures");
  ExpectDsseError(R"({"payloadType":"t","payload":"","signatures":[]})", "signatures");
  ExpectDsseError(R"({"payloadType":"t","payload":"","signatures":{"sig":"AQ=="}})", "signatures");
}

TEST(ParseDsseEnvelope, NamesTheFaultySignatureEntry) {
  ExpectDsseError(R"({"payloadType":"t","payload":"","signatures":[{"sig":"AQ=="},"x"]})", "signatures[1]");
  ExpectDsseError(R"({"payloadType":"t","payload":"","signatures":[{"keyid":""}]})", "signatures[0].sig");
  ExpectDsseError(R"({"payloadType":"t","payload":"","signatures":[{"sig":""}]})", "signatures[0].sig");
  ExpectDsseError(R"({"payloadType":"t","payload":"","signatures":[{"sig":"A"}]})", "signatures[0].sig");
  ExpectDsseError(R"({"payloadType":"t","payload":"","signatures":[{"sig":"AQ==","keyid":3}]})",
                  "signatures[0].keyid");
}

TEST(SerializeDsseEnvelope, WritesCanonicalJsonWithPaddedStandardBase64) {
  DsseEnvelope envelope{std::string(kInTotoPayloadType), "hello world", {{"k1", std::string("\xfb\xff", 2)}}};
  EXPECT_EQ(SerializeDsseEnvelope(envelope),
            R"({"payload":"aGVsbG8gd29ybGQ=","payloadType":"application/vnd.in-toto+json",)"
            R"("signatures":[{"keyid":"k1","sig":"+/8="}]})");
}

TEST(SerializeDsseEnvelope, RoundTripsThroughParse) {
  DsseEnvelope envelope{"t", std::string("\0\x01{\"x\":1}", 9), {{"a", "sig-a"}, {"", "sig-b"}}};
  auto parsed = ParseDsseEnvelope(SerializeDsseEnvelope(envelope));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->payload_type, envelope.payload_type);
  EXPECT_EQ(parsed->payload, envelope.payload);
  ASSERT_EQ(parsed->signatures.size(), 2u);
  EXPECT_EQ(parsed->signatures[0].keyid, "a");
  EXPECT_EQ(parsed->signatures[0].sig, "sig-a");
  EXPECT_EQ(parsed->signatures[1].keyid, "");
  EXPECT_EQ(parsed->signatures[1].sig, "sig-b");
}

TEST(SerializeDsseEnvelope, DoesNotThrowOnInvalidUtf8KeyId) {
  DsseEnvelope envelope{"t", "p", {{std::string("\xFF"), "s"}}};
  std::string out;
  EXPECT_NO_THROW(out = SerializeDsseEnvelope(envelope));
  EXPECT_NE(out.find("\xEF\xBF\xBD"), std::string::npos);  // U+FFFD marks the bad byte
}

}  // namespace
}  // namespace signals
