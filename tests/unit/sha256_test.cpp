// Specification of Sha256Hasher / Sha256Hex against the FIPS 180-2 examples.
#include "base/sha256.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>

namespace signals {
namespace {

TEST(Sha256, HashesEmptyInputToTheKnownDigest) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Sha256, HashesAbcToTheFips180Digest) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256, HashesTwoBlockFips180Message) {
  EXPECT_EQ(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256, StreamingOneMillionAsMatchesTheFips180Digest) {
  Sha256Hasher hasher;
  const std::string chunk(1000, 'a');
  for (int i = 0; i < 1000; ++i) hasher.Update(chunk);
  auto raw = hasher.Finish();
  EXPECT_EQ(HexLower(raw.data(), raw.size()),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, SplitUpdatesEqualOneShot) {
  Sha256Hasher hasher;
  hasher.Update("ab", 2);
  hasher.Update(nullptr, 0);
  hasher.Update(std::string_view("c"));
  auto raw = hasher.Finish();
  EXPECT_EQ(HexLower(raw.data(), raw.size()), Sha256Hex("abc"));
}

TEST(Sha256, FinishResetsTheHasherForANewStream) {
  Sha256Hasher hasher;
  hasher.Update("junk");
  (void)hasher.Finish();
  hasher.Update("abc");
  auto raw = hasher.Finish();
  EXPECT_EQ(HexLower(raw.data(), raw.size()), Sha256Hex("abc"));
}

TEST(Sha256, MovedHasherKeepsItsStreamState) {
  Sha256Hasher first;
  first.Update("a");
  Sha256Hasher second = std::move(first);
  second.Update("bc");
  Sha256Hasher third;
  third = std::move(second);
  auto raw = third.Finish();
  EXPECT_EQ(HexLower(raw.data(), raw.size()), Sha256Hex("abc"));
}

TEST(HexLower, WritesTwoLowercaseDigitsPerByte) {
  const uint8_t bytes[] = {0x00, 0x0f, 0xa0, 0xff};
  EXPECT_EQ(HexLower(bytes, 4), "000fa0ff");
  EXPECT_EQ(HexLower(bytes, 0), "");
}

TEST(HexDecode, ReadsEitherCaseAndRejectsOddLengthOrNonHex) {
  EXPECT_EQ(HexDecode("00ffAB").value(), std::string("\x00\xff\xab", 3));
  EXPECT_EQ(HexDecode("").value(), "");
  auto odd = HexDecode("abc");
  ASSERT_FALSE(odd.ok());
  EXPECT_EQ(odd.status().message(), "odd number of hex digits (3)");
  auto bad = HexDecode("a0zz");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "not a hex digit at position 2");
}

TEST(Sha256Raw, IsTheBytesOfSha256Hex) { EXPECT_EQ(HexLower(Sha256Raw("abc")), Sha256Hex("abc")); }

}  // namespace
}  // namespace signals
