// Specification of base64 / base64url per RFC 4648, using its §10 vectors.
#include "base/base64.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace signals {
namespace {

const std::vector<std::pair<std::string, std::string>> kRfc4648Vectors = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
};

std::string Unpadded(std::string s) {
  while (!s.empty() && s.back() == '=') s.pop_back();
  return s;
}

void ExpectDecodeError(std::string_view text) {
  auto decoded = Base64Decode(text);
  ASSERT_FALSE(decoded.ok()) << "accepted '" << text << "'";
  EXPECT_EQ(decoded.status().code(), Code::kInvalid);
  EXPECT_EQ(decoded.status().rule(), "base64");
}

TEST(Base64, EncodesRfc4648Section10Vectors) {
  for (const auto& [plain, encoded] : kRfc4648Vectors) EXPECT_EQ(Base64Encode(plain), encoded) << plain;
}

TEST(Base64, UrlEncodingOfRfc4648VectorsHasNoPadding) {
  for (const auto& [plain, encoded] : kRfc4648Vectors)
    EXPECT_EQ(Base64UrlEncode(plain), Unpadded(encoded)) << plain;
}

TEST(Base64, DecodesRfc4648VectorsPaddedAndUnpadded) {
  for (const auto& [plain, encoded] : kRfc4648Vectors) {
    auto padded = Base64Decode(encoded);
    ASSERT_TRUE(padded.ok()) << encoded << ": " << padded.status().message();
    EXPECT_EQ(*padded, plain);
    auto unpadded = Base64Decode(Unpadded(encoded));
    ASSERT_TRUE(unpadded.ok()) << encoded;
    EXPECT_EQ(*unpadded, plain);
  }
}

TEST(Base64, StandardAndUrlAlphabetsDifferOnlyInCharacters62And63) {
  const std::string bytes("\xfb\xff\xbf", 3);
  EXPECT_EQ(Base64Encode(bytes), "+/+/");
  EXPECT_EQ(Base64UrlEncode(bytes), "-_-_");
}

TEST(Base64, DecodesUrlSafeAlphabet) {
  auto standard = Base64Decode("+/+/");
  auto url = Base64Decode("-_-_");
  ASSERT_TRUE(standard.ok() && url.ok());
  EXPECT_EQ(*standard, std::string("\xfb\xff\xbf", 3));
  EXPECT_EQ(*url, *standard);
}

TEST(Base64, RoundTripsEveryByteValue) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (size_t len = 0; len <= all.size(); len += 37) {
    std::string bytes = all.substr(0, len);
    EXPECT_EQ(*Base64Decode(Base64Encode(bytes)), bytes);
    EXPECT_EQ(*Base64Decode(Base64UrlEncode(bytes)), bytes);
  }
}

TEST(Base64, RejectsCharactersOutsideBothAlphabets) {
  ExpectDecodeError("Zm9v!mFy");
  ExpectDecodeError("Zm9v YmFy");
  ExpectDecodeError("Zm9v\nYmFy");
  auto decoded = Base64Decode("Zm9v*mFy");
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.status().message().find("position 4"), std::string::npos) << decoded.status().message();
}

TEST(Base64, RejectsLengthThatEncodesNoWholeBytes) {
  ExpectDecodeError("Z");
  ExpectDecodeError("Zm9vY");
}

TEST(Base64, RejectsMisplacedOrExcessPadding) {
  ExpectDecodeError("Zg=");    // padded but not a multiple of 4
  ExpectDecodeError("Zg===");  // three '='
  ExpectDecodeError("Z===");
  ExpectDecodeError("Zg==Zm8=");  // padding in the middle
  ExpectDecodeError("=");
}

}  // namespace
}  // namespace signals
