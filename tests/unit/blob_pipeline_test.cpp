// BlobPipeline: whatever the stream's size (no block, one, several: the
// worker thread starts at the first full block), the sink receives one zstd
// frame of exactly the bytes written and digest() is their SHA-256; a failing
// sink fails Write or Finish; an abandoned pipeline stops its worker and calls
// the sink no more.
#include "base/blob_pipeline.hpp"

#include <gtest/gtest.h>
#include <openssl/sha.h>

#include <atomic>
#include <random>
#include <string>

#include "base/zstd_frame_reader.hpp"

namespace signals {
namespace {

constexpr size_t kBlock = BlobPipeline::kBlockBytes;

std::string Text(size_t size, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(size, '\0');
  for (auto& c : s) c = static_cast<char>('a' + rng() % 16);  // compressible, not constant
  return s;
}

std::string Decompress(const std::string& frame) {
  std::string plain;
  ZstdFrameReader reader([&](std::string_view bytes) {
    plain.append(bytes);
    return Status::Ok();
  });
  EXPECT_TRUE(reader.Write(frame).ok());
  EXPECT_TRUE(reader.Finish().ok());
  return plain;
}

TEST(BlobPipeline, AnySizeGivesOneFrameOfTheBytesAndTheirDigest) {
  for (size_t size : {size_t{0}, size_t{1}, kBlock - 1, kBlock, kBlock + 1, 10 * kBlock + 7}) {
    const std::string input = Text(size, static_cast<uint32_t>(size));
    std::string frame;
    BlobPipeline pipeline(3, 2 * kBlock, [&](std::string_view bytes) {
      frame.append(bytes);
      return Status::Ok();
    });
    // Uneven writes, so blocks fill across calls.
    for (size_t at = 0; at < input.size(); at += 100'003) {
      ASSERT_TRUE(pipeline.Write(std::string_view(input).substr(at, 100'003)).ok());
    }
    ASSERT_TRUE(pipeline.Finish().ok()) << size;
    EXPECT_EQ(Decompress(frame), input) << size;
    unsigned char want[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(), want);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(pipeline.digest().data()), 32),
              std::string(reinterpret_cast<const char*>(want), 32))
        << size;
  }
}

TEST(BlobPipeline, AFailingSinkFailsTheStream) {
  const std::string input = Text(20 * kBlock, 1);
  BlobPipeline pipeline(3, 2 * kBlock, [](std::string_view) { return Status::Internal("disk full"); });
  Status s = Status::Ok();
  for (size_t at = 0; at < input.size() && s.ok(); at += kBlock) s = pipeline.Write(input.substr(at, kBlock));
  if (s.ok()) s = pipeline.Finish();
  EXPECT_EQ(s.code(), Code::kInternal) << s.ToString();
  EXPECT_NE(s.message().find("disk full"), std::string::npos) << s.ToString();
}

TEST(BlobPipeline, AnAbandonedPipelineCallsTheSinkNoMore) {
  std::atomic<bool> destroyed{false};
  std::atomic<int> late_calls{0};
  {
    BlobPipeline pipeline(3, 2 * kBlock, [&](std::string_view) {
      if (destroyed.load()) late_calls.fetch_add(1);
      return Status::Ok();
    });
    const std::string input = Text(8 * kBlock, 2);
    ASSERT_TRUE(pipeline.Write(input).ok());
  }  // no Finish: the worker is stopped and joined here
  destroyed = true;
  EXPECT_EQ(late_calls.load(), 0);
}

}  // namespace
}  // namespace signals
