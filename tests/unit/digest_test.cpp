// Specification of "sha256:<hex>" digests: computing and validating them.
#include "model/digest.hpp"

#include <gtest/gtest.h>

#include "base/sha256.hpp"

namespace signals {
namespace {

constexpr const char* kAbcDigest = "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

TEST(Digest, DigestOfPrefixesLowercaseSha256Hex) { EXPECT_EQ(DigestOf("abc"), kAbcDigest); }

TEST(Digest, DigestFromRawMatchesDigestOf) {
  Sha256Hasher hasher;
  hasher.Update("abc");
  EXPECT_EQ(DigestFromRaw(hasher.Finish()), kAbcDigest);
}

TEST(ValidateDigest, AcceptsWellFormedDigest) {
  EXPECT_TRUE(ValidateDigest(kAbcDigest, "digest").ok());
  EXPECT_TRUE(ValidateDigest(DigestOf(""), "digest").ok());
}

TEST(ValidateDigest, RejectsMissingPrefixNamingRuleAndField) {
  Status s =
      ValidateDigest("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "provenanceHash");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Code::kInvalid);
  EXPECT_EQ(s.rule(), "digest");
  EXPECT_EQ(s.field(), "provenanceHash");
  EXPECT_NE(s.message().find("sha256:"), std::string::npos) << s.message();
}

TEST(ValidateDigest, RejectsOtherAlgorithmPrefix) {
  EXPECT_FALSE(ValidateDigest("sha512:abcd", "digest").ok());
  EXPECT_FALSE(
      ValidateDigest("SHA256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "d").ok());
}

TEST(ValidateDigest, RejectsUppercaseHexSayingSo) {
  Status s =
      ValidateDigest("sha256:BA7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "digest");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("lowercase"), std::string::npos) << s.message();
}

TEST(ValidateDigest, RejectsWrongLengthReportingTheCount) {
  Status short_digest = ValidateDigest("sha256:ba7816bf", "digest");
  ASSERT_FALSE(short_digest.ok());
  EXPECT_NE(short_digest.message().find("got 8"), std::string::npos) << short_digest.message();
  EXPECT_FALSE(ValidateDigest(std::string(kAbcDigest) + "0", "digest").ok());
  EXPECT_FALSE(ValidateDigest("sha256:", "digest").ok());
  EXPECT_FALSE(ValidateDigest("", "digest").ok());
}

TEST(ValidateDigest, RejectsNonHexCharacter) {
  Status s =
      ValidateDigest("sha256:ga7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "digest");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("non-hex"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace signals
