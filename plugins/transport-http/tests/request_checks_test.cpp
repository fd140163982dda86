// Specification of the checks transport-http applies to what a client sends
// before anything reaches the kernel: UTF-8 of every forwarded part, the
// nesting depth of JSON bodies, the zstd window a body may declare, and
// problem documents that never fail to serialise.
#include <gtest/gtest.h>
#include <zstd.h>

#include <nlohmann/json.hpp>
#include <string>

#include <signals/support/json_depth.hpp>

#include "content_decoder.hpp"
#include "http_text.hpp"

namespace signals::http {
namespace {

TEST(RequestChecksTest, Utf8AcceptsWellFormedTextOfEveryLength) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("acme"));
  EXPECT_TRUE(IsValidUtf8("caf\xc3\xa9"));       // U+00E9
  EXPECT_TRUE(IsValidUtf8("\xe2\x82\xac"));      // U+20AC
  EXPECT_TRUE(IsValidUtf8("\xf0\x9f\x98\x80"));  // U+1F600
  EXPECT_TRUE(IsValidUtf8("\xf4\x8f\xbf\xbf"));  // U+10FFFF, the last code point
  EXPECT_TRUE(IsValidUtf8("\xed\x9f\xbf"));      // U+D7FF, just below the surrogates
}

TEST(RequestChecksTest, Utf8RefusesEveryMalformedForm) {
  EXPECT_FALSE(IsValidUtf8("\xff"));
  EXPECT_FALSE(IsValidUtf8("sgt_\xff"));
  EXPECT_FALSE(IsValidUtf8("\x80"));              // a continuation byte first
  EXPECT_FALSE(IsValidUtf8("\xc3"));              // truncated
  EXPECT_FALSE(IsValidUtf8("\xe2\x82"));          // truncated
  EXPECT_FALSE(IsValidUtf8("\xc3\x28"));          // a bad continuation byte
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xe0\x80\xaf"));      // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xf0\x80\x80\xaf"));  // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // U+D800, a surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // U+110000
  EXPECT_FALSE(IsValidUtf8("\xf5\x80\x80\x80"));
}

TEST(RequestChecksTest, Utf8AgreesWithNlohmannOnEveryTwoByteSequence) {
  // nlohmann refuses to dump invalid UTF-8: whatever IsValidUtf8 lets through
  // must serialise, and whatever it refuses must not.
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; ++b) {
      std::string text{static_cast<char>(a), static_cast<char>(b)};
      if (a == 0 || b == 0) continue;
      bool dumps = true;
      try {
        (void)nlohmann::json(text).dump();
      } catch (const nlohmann::json::type_error&) {
        dumps = false;
      }
      ASSERT_EQ(IsValidUtf8(text), dumps) << "bytes " << a << " " << b;
    }
  }
}

// The deepest nesting the SDK's scanner (signals/support/json_depth.hpp,
// which routes.cpp applies to JSON bodies) sees in `json`, stopping just
// past `limit`.
size_t JsonNestingDepth(std::string_view json, size_t limit) {
  support::JsonDepthScanner scanner(limit);
  scanner.Scan(json);
  return scanner.deepest();
}

TEST(RequestChecksTest, NestingDepthCountsBracketsOutsideStringsOnly) {
  EXPECT_EQ(JsonNestingDepth("1", 64), 0u);
  EXPECT_EQ(JsonNestingDepth("{}", 64), 1u);
  EXPECT_EQ(JsonNestingDepth(R"({"a":[1,{"b":[]}]})", 64), 4u);
  EXPECT_EQ(JsonNestingDepth(R"({"a":"[[[[{{{{"})", 64), 1u);
  EXPECT_EQ(JsonNestingDepth(R"({"a":"\"[[[["})", 64), 1u);  // an escaped quote does not end the string
  EXPECT_EQ(JsonNestingDepth(R"(["\\",[[]]])", 64), 3u);     // an escaped backslash does
}

TEST(RequestChecksTest, NestingDepthStopsJustPastTheLimit) {
  const size_t n = 70000;
  std::string deep = std::string(n, '[') + std::string(n, ']');
  EXPECT_EQ(JsonNestingDepth(deep, 1000), 1001u);
  EXPECT_EQ(JsonNestingDepth(deep, n), n);
}

TEST(RequestChecksTest, ProblemJsonNeverThrowsOnBytesThatAreNotUtf8) {
  std::string problem;
  ASSERT_NO_THROW(problem = ProblemJson(415, "media-type", "not 'text/\xff'", "Content-Type"));
  auto doc = nlohmann::json::parse(problem);
  EXPECT_EQ(doc["detail"], "not 'text/\xef\xbf\xbd'");
}

TEST(RequestChecksTest, ZstdWindowLogIsTheLargestPowerOfTwoWithinTheLimit) {
  EXPECT_EQ(ZstdWindowLog(8u << 20), 23);
  EXPECT_EQ(ZstdWindowLog((8u << 20) + 1), 23);
  EXPECT_EQ(ZstdWindowLog((8u << 20) - 1), 22);
  EXPECT_EQ(ZstdWindowLog(1), ZSTD_dParam_getBounds(ZSTD_d_windowLogMax).lowerBound);
}

std::string Compress(const std::string& input, int window_log) {
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_windowLog, window_log);
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_enableLongDistanceMatching, 1);
  // Fed as a stream of unknown size (continue, then end), as `zstd` reading
  // a pipe does: the frame then declares the whole window.
  std::string out(ZSTD_compressBound(input.size()) + 1024, '\0');
  ZSTD_inBuffer in{input.data(), input.size(), 0};
  ZSTD_outBuffer o{out.data(), out.size(), 0};
  ZSTD_compressStream2(cctx, &o, &in, ZSTD_e_continue);
  ZSTD_inBuffer none{nullptr, 0, 0};
  size_t left = ZSTD_compressStream2(cctx, &o, &none, ZSTD_e_end);
  EXPECT_EQ(left, 0u);
  ZSTD_freeCCtx(cctx);
  out.resize(o.pos);
  return out;
}

TEST(RequestChecksTest, ZstdFrameDeclaringALargerWindowIsRefusedByName) {
  const std::string facts(100000, 'x');
  std::string decoded;
  auto sink = [&](std::string_view bytes) {
    decoded.append(bytes);
    return true;
  };
  auto wide = ContentDecoder::For("zstd", 8u << 20);
  std::string error = wide->Write(Compress(facts, 27), sink);
  EXPECT_NE(error.find("max_zstd_window"), std::string::npos) << error;
  EXPECT_TRUE(decoded.empty());

  auto narrow = ContentDecoder::For("zstd", 8u << 20);
  decoded.clear();
  EXPECT_EQ(narrow->Write(Compress(facts, 23), sink), "");
  EXPECT_EQ(narrow->Finish(sink), "");
  EXPECT_EQ(decoded, facts);
}

TEST(RequestChecksTest, IdentityEncodingIsNoneOrIdentityInAnyCase) {
  EXPECT_TRUE(IsIdentityEncoding(""));
  EXPECT_TRUE(IsIdentityEncoding("Identity"));
  EXPECT_FALSE(IsIdentityEncoding("zstd"));
  EXPECT_FALSE(IsIdentityEncoding("gzip"));
}

}  // namespace
}  // namespace signals::http
