// The plugin ABI cannot change by accident: sdk/include/signals/plugin.h is
// pinned by its SHA-256 for each ABI version it declares, and the five leading
// descriptor fields that every kernel reads before anything else keep their
// offsets forever.
#include <signals/plugin.h>

#include <gtest/gtest.h>

#include <cstddef>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "base/sha256.hpp"

#ifndef SIGNALS_PLUGIN_H_PATH
#error "SIGNALS_PLUGIN_H_PATH must name sdk/include/signals/plugin.h (set in tests/fixtures/CMakeLists.txt)"
#endif

namespace signals {
namespace {

// SHA-256 of plugin.h as released for each "major.minor". Append a row when
// you bump the version; never edit a row: plugins built against it exist.
const std::map<std::string, std::string> kPluginHeaderSha256 = {
    {"1.0", "cbebfb02548568b9641967204fe9e465f1b086fd33eee3f91098eb7275ac750b"},
    {"1.1", "586d6faeda1cebc95d5fb101c733de43fb5724a4a2d6f3dfcaf393d3f59bb2a4"},
    // 1.2 (tlog and metrics kinds) is still being written: until it is
    // released, update this row with the header; after that, never again.
    {"1.2", "c6a9016c5c4a80819d93a0177861d903d1a1fdae56fc42070c059ef81940a8af"},
    {"1.3", "2d95cd1d7e00872ee3351d18030de1293b899ac725dec402e3c3ee859a95240a"},
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// The first five descriptor fields are how a kernel of any version recognises
// a plugin and its version; they must never move.
static_assert(offsetof(signals_plugin_descriptor, magic) == 0);
static_assert(offsetof(signals_plugin_descriptor, abi_major) == 8);
static_assert(offsetof(signals_plugin_descriptor, abi_minor) == 12);
static_assert(offsetof(signals_plugin_descriptor, struct_size) == 16);
static_assert(offsetof(signals_plugin_descriptor, sdk_version) == (sizeof(void*) == 8 ? 24 : 20));

TEST(AbiStability, PluginHeaderChangesOnlyWithAVersionBump) {
  const std::string version = std::to_string(SIGNALS_ABI_MAJOR) + "." + std::to_string(SIGNALS_ABI_MINOR);
  const std::string header = ReadFile(SIGNALS_PLUGIN_H_PATH);
  ASSERT_FALSE(header.empty()) << "cannot read " << SIGNALS_PLUGIN_H_PATH;
  const std::string actual = Sha256Hex(header);

  auto pinned = kPluginHeaderSha256.find(version);
  ASSERT_NE(pinned, kPluginHeaderSha256.end())
      << "plugin.h declares ABI " << version << ", which tests/unit/abi_stability_test.cpp does "
      << "not know. Once the header is final, add to kPluginHeaderSha256:\n"
      << "    {\"" << version << "\", \"" << actual << "\"},";
  EXPECT_EQ(pinned->second, actual)
      << "sdk/include/signals/plugin.h changed, but it still declares ABI " << version
      << ", and plugins built against ABI " << version << " already exist.\n"
      << "  - Fields appended at the end of a struct, new functions or kinds: bump "
         "SIGNALS_ABI_MINOR.\n"
      << "  - Anything else (fields moved, removed or retyped; changed threading or ownership "
         "rules): bump SIGNALS_ABI_MAJOR and set SIGNALS_ABI_MINOR to 0.\n"
      << "Then add the new version's hash to kPluginHeaderSha256 in "
         "tests/unit/abi_stability_test.cpp (keep the old rows):\n"
      << "    {\"<major>.<minor>\", \"" << actual << "\"},";
}

TEST(AbiStability, LeadingDescriptorFieldsKeepTheirOffsets) {
  EXPECT_EQ(offsetof(signals_plugin_descriptor, magic), 0u);
  EXPECT_EQ(offsetof(signals_plugin_descriptor, abi_major), 8u);
  EXPECT_EQ(offsetof(signals_plugin_descriptor, abi_minor), 12u);
  EXPECT_EQ(offsetof(signals_plugin_descriptor, struct_size), 16u);
  EXPECT_EQ(offsetof(signals_plugin_descriptor, sdk_version), sizeof(void*) == 8 ? 24u : 20u);
}

TEST(AbiStability, MagicSpellsSignals1) {
  EXPECT_EQ(SIGNALS_PLUGIN_MAGIC, 0x5349474e414c5331ULL);
  EXPECT_STREQ(SIGNALS_PLUGIN_ENTRY_SYMBOL, "signals_plugin_entry");
}

}  // namespace
}  // namespace signals
