// Purls as the purl specification's conformance suite builds them: every
// "build" case of the deb and generic types (tests/data/purl), and the Debian
// versions dpkg reports (epochs, '+', '~').
#include "purl.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

namespace {

using namespace signals::procfs;

void CheckBuildCases(const std::string& file) {
  std::ifstream in(std::string(PROCFS_PURL_DATA) + "/tests/types/" + file);
  ASSERT_TRUE(in) << file;
  const nlohmann::json doc = nlohmann::json::parse(in);
  size_t checked = 0;
  for (const auto& t : doc.at("tests")) {
    if (t.at("test_type") != "build" || t.value("expected_failure", false)) continue;
    const auto& input = t.at("input");
    auto text = [&input](const char* key) {
      return input.contains(key) && input[key].is_string() ? input[key].get<std::string>() : std::string();
    };
    std::map<std::string, std::string> qualifiers;
    if (input.contains("qualifiers") && input["qualifiers"].is_object()) {
      for (const auto& [key, value] : input["qualifiers"].items()) qualifiers[key] = value.get<std::string>();
    }
    ASSERT_TRUE(!input.contains("subpath") || input["subpath"].is_null()) << t.dump();
    EXPECT_EQ(BuildPurl(text("type"), text("namespace"), text("name"), text("version"), qualifiers),
              t.at("expected_output").get<std::string>())
        << t.at("description");
    ++checked;
  }
  EXPECT_GT(checked, 0u) << file;
}

TEST(Purl, ConformanceSuiteDeb) { CheckBuildCases("deb-test.json"); }
TEST(Purl, ConformanceSuiteGeneric) { CheckBuildCases("generic-test.json"); }

TEST(Purl, DebianVersions) {
  // An epoch keeps its ':' (the suite's "1:2.4.47-2%2Bb1"); '+' is encoded, '~' is not.
  EXPECT_EQ(DebPurl("debian", "attr", "1:2.4.47-2+b1", "amd64"),
            "pkg:deb/debian/attr@1:2.4.47-2%2Bb1?arch=amd64");
  EXPECT_EQ(DebPurl("debian", "libssl3", "3.0.19-1~deb12u2", "amd64"),
            "pkg:deb/debian/libssl3@3.0.19-1~deb12u2?arch=amd64");
  EXPECT_EQ(DebPurl("debian", "zlib1g", "1:1.2.13.dfsg-1", "amd64"),
            "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64");
  EXPECT_EQ(DebPurl("debian", "libstdc++6", "12.2.0-14", "amd64"),
            "pkg:deb/debian/libstdc%2B%2B6@12.2.0-14?arch=amd64");
  EXPECT_EQ(DebPurl("ubuntu", "tzdata", "2024a-0ubuntu0.22.04", "all"),
            "pkg:deb/ubuntu/tzdata@2024a-0ubuntu0.22.04?arch=all");
  EXPECT_EQ(DebPurl("Debian", "Foo", "1", ""), "pkg:deb/debian/foo@1");  // deb folds case; no empty qualifier
}

TEST(Purl, Encoding) {
  EXPECT_EQ(PurlEncode("a b/c?d#e@f%g"), "a%20b%2Fc%3Fd%23e%40f%25g");
  EXPECT_EQ(PurlEncode("AZaz09.-_~:"), "AZaz09.-_~:");
  EXPECT_EQ(PurlEncode("\xc3\xa9"), "%C3%A9");
  EXPECT_EQ(BuildPurl("generic", "", "Build-Host-modules", "", {}), "pkg:generic/Build-Host-modules");
}

}  // namespace
