// Specification of the layered settings (README.md#configuration): INI file or embedded
// default, then SIGNALS_* environment variables, then --section.key options on
// the command line; a later layer beats an earlier one.
#include "config/settings.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "config/bootstrap.hpp"

namespace signals {
namespace {

// A NULL-terminated environment block for ParseEnvironmentSettings.
class Environment {
 public:
  explicit Environment(std::vector<std::string> entries) : entries_(std::move(entries)) {
    for (auto& e : entries_) pointers_.push_back(e.data());
    pointers_.push_back(nullptr);
  }
  char** envp() { return pointers_.data(); }

 private:
  std::vector<std::string> entries_;
  std::vector<char*> pointers_;
};

// A config file in a fresh temp directory, removed afterwards.
class TempConfigFile {
 public:
  explicit TempConfigFile(const std::string& text) {
    std::string pattern = (std::filesystem::temp_directory_path() / "signals-settings-XXXXXX").string();
    dir_ = mkdtemp(pattern.data());
    path_ = dir_ + "/signals.conf";
    std::ofstream(path_) << text;
  }
  ~TempConfigFile() { std::filesystem::remove_all(dir_); }
  const std::string& path() const { return path_; }

 private:
  std::string dir_;
  std::string path_;
};

std::string ValueOf(const SettingsMap& map, const std::string& section, const std::string& key) {
  auto s = map.find(section);
  if (s == map.end()) return "<no section " + section + ">";
  auto k = s->second.find(key);
  if (k == s->second.end()) return "<no key " + section + "." + key + ">";
  return k->second.value;
}

// --- INI ----------------------------------------------------------------------

TEST(ParseIniSettings, ReadsSectionsKeysAndValues) {
  auto parsed = ParseIniSettings(
      "# comment\n"
      "[kernel]\n"
      "data_dir = /srv/signals\n"
      "[cas]\n"
      "plugin = cas-fs\n"
      "root=cas\n",
      "file test.conf");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(ValueOf(*parsed, "kernel", "data_dir"), "/srv/signals");
  EXPECT_EQ(ValueOf(*parsed, "cas", "plugin"), "cas-fs");
  EXPECT_EQ(ValueOf(*parsed, "cas", "root"), "cas");
  EXPECT_EQ((*parsed)["cas"]["root"].origin, "file test.conf");
}

TEST(ParseIniSettings, KeepsDottedInstanceSectionNamesWhole) {
  auto parsed = ParseIniSettings(
      "[source.spool-a]\nplugin = source-spool\nmax_batch_bytes = 16MiB\n"
      "[transport.http]\nlisten = 127.0.0.1:8080\n",
      "file t");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(ValueOf(*parsed, "source.spool-a", "max_batch_bytes"), "16MiB");
  EXPECT_EQ(ValueOf(*parsed, "transport.http", "listen"), "127.0.0.1:8080");
}

TEST(ParseIniSettings, AcceptsEmptyValues) {
  auto parsed = ParseIniSettings("[cas]\nbucket_prefix =\n", "file t");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(ValueOf(*parsed, "cas", "bucket_prefix"), "");
}

TEST(ParseIniSettings, RejectsKeyOutsideAnySectionNamingTheFile) {
  auto parsed = ParseIniSettings("data_dir = /x\n[kernel]\n", "file broken.conf");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), Code::kConfig);
  EXPECT_NE(parsed.status().message().find("broken.conf"), std::string::npos) << parsed.status().message();
  EXPECT_NE(parsed.status().message().find("data_dir"), std::string::npos) << parsed.status().message();
}

TEST(ParseIniSettings, RejectsLineWithoutEqualsSign) {
  auto parsed = ParseIniSettings("[kernel]\nthis is not a setting\n", "file broken.conf");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), Code::kConfig);
  EXPECT_NE(parsed.status().message().find("broken.conf"), std::string::npos) << parsed.status().message();
}

TEST(EmbeddedDefaultConfig, ParsesAndConfiguresCasIndexAndSigner) {
  auto parsed = ParseIniSettings(EmbeddedDefaultConfig(), "embedded default");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(ValueOf(*parsed, "cas", "plugin"), "cas-fs");
  EXPECT_EQ(ValueOf(*parsed, "index", "plugin"), "index-sqlite");
  EXPECT_EQ(ValueOf(*parsed, "signing", "plugin"), "signer-ed25519");
  EXPECT_EQ(ValueOf(*parsed, "signing", "create_if_missing"), "true");
  EXPECT_EQ(ValueOf(*parsed, "provenance", "rekor_enabled"), "false");
}

// --- environment ----------------------------------------------------------------

TEST(ParseEnvironmentSettings, MapsDoubleUnderscoreToSectionKeySeparator) {
  Environment env({"SIGNALS_CAS__ROOT=/x", "SIGNALS_KERNEL__LOG_LEVEL=debug"});
  std::vector<std::string> problems;
  SettingsMap map = ParseEnvironmentSettings(env.envp(), &problems);
  EXPECT_TRUE(problems.empty());
  EXPECT_EQ(ValueOf(map, "cas", "root"), "/x");
  EXPECT_EQ(ValueOf(map, "kernel", "log_level"), "debug");
  EXPECT_EQ(map["cas"]["root"].origin, "environment SIGNALS_CAS__ROOT");
}

TEST(ParseEnvironmentSettings, MapsInstanceSectionUnderscoresToDashesAndKeepsKeyUnderscores) {
  Environment env({"SIGNALS_SOURCE__SPOOL_A__MAX_BATCH_BYTES=16MiB"});
  std::vector<std::string> problems;
  SettingsMap map = ParseEnvironmentSettings(env.envp(), &problems);
  EXPECT_TRUE(problems.empty());
  ASSERT_EQ(map.size(), 1u);
  EXPECT_EQ(map.begin()->first, "source.spool-a");
  EXPECT_EQ(ValueOf(map, "source.spool-a", "max_batch_bytes"), "16MiB");
}

TEST(ParseEnvironmentSettings, MapsTwoPartSectionNames) {
  Environment env({"SIGNALS_TRANSPORT__HTTP__LISTEN=127.0.0.1:0"});
  std::vector<std::string> problems;
  SettingsMap map = ParseEnvironmentSettings(env.envp(), &problems);
  EXPECT_EQ(ValueOf(map, "transport.http", "listen"), "127.0.0.1:0");
}

TEST(ParseEnvironmentSettings, KeepsEqualsSignsInsideValues) {
  Environment env({"SIGNALS_AUTH__TOKEN=a=b=c"});
  std::vector<std::string> problems;
  SettingsMap map = ParseEnvironmentSettings(env.envp(), &problems);
  EXPECT_EQ(ValueOf(map, "auth", "token"), "a=b=c");
}

TEST(ParseEnvironmentSettings, IgnoresVariablesOfOtherToolsAndOurPrefixWithoutSeparator) {
  Environment env({"PATH=/usr/bin", "HOME=/root", "SIGNALS_TEST_MODE=1", "XSIGNALS_CAS__ROOT=/y"});
  std::vector<std::string> problems;
  SettingsMap map = ParseEnvironmentSettings(env.envp(), &problems);
  EXPECT_TRUE(map.empty());
  EXPECT_TRUE(problems.empty());
}

TEST(ParseEnvironmentSettings, ReportsMalformedVariablesThatLookLikeOurs) {
  Environment env({"SIGNALS_CAS__=/x", "SIGNALS___ROOT=/y", "SIGNALS_CAS____ROOT=/z"});
  std::vector<std::string> problems;
  SettingsMap map = ParseEnvironmentSettings(env.envp(), &problems);
  EXPECT_TRUE(map.empty());
  ASSERT_EQ(problems.size(), 3u);
  EXPECT_NE(problems[0].find("SIGNALS_CAS__"), std::string::npos) << problems[0];
  EXPECT_NE(problems[0].find("SIGNALS_<SECTION>__<KEY>"), std::string::npos) << problems[0];
}

TEST(ParseEnvironmentSettings, AcceptsNullEnvironment) {
  std::vector<std::string> problems;
  EXPECT_TRUE(ParseEnvironmentSettings(nullptr, &problems).empty());
}

// --- command line ---------------------------------------------------------------

TEST(ParseCommandLineSettings, ReadsEqualsAndSeparateValueForms) {
  std::vector<std::string> rest;
  auto parsed = ParseCommandLineSettings({"--cas.root=/x", "--index.path", "/db.sqlite"}, &rest);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_TRUE(rest.empty());
  EXPECT_EQ(ValueOf(*parsed, "cas", "root"), "/x");
  EXPECT_EQ(ValueOf(*parsed, "index", "path"), "/db.sqlite");
  EXPECT_EQ((*parsed)["cas"]["root"].origin, "command line");
}

TEST(ParseCommandLineSettings, SplitsAtTheLastDotSoInstanceSectionsWork) {
  std::vector<std::string> rest;
  auto parsed = ParseCommandLineSettings(
      {"--transport.http.listen=127.0.0.1:0", "--source.spool-a.max_batch_bytes=1MiB"}, &rest);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(ValueOf(*parsed, "transport.http", "listen"), "127.0.0.1:0");
  EXPECT_EQ(ValueOf(*parsed, "source.spool-a", "max_batch_bytes"), "1MiB");
}

TEST(ParseCommandLineSettings, PassesCommandsAndUndottedFlagsThroughInOrder) {
  std::vector<std::string> rest;
  auto parsed = ParseCommandLineSettings(
      {"ingest", "--kernel.log_level=warn", "facts", "--tenant", "acme", "-"}, &rest);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(rest, (std::vector<std::string>{"ingest", "facts", "--tenant", "acme", "-"}));
  EXPECT_EQ(ValueOf(*parsed, "kernel", "log_level"), "warn");
}

TEST(ParseCommandLineSettings, AcceptsAnEmptyValue) {
  std::vector<std::string> rest;
  auto parsed = ParseCommandLineSettings({"--cas.bucket_prefix="}, &rest);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(ValueOf(*parsed, "cas", "bucket_prefix"), "");
}

TEST(ParseCommandLineSettings, RejectsDottedOptionWithoutValue) {
  std::vector<std::string> rest;
  auto parsed = ParseCommandLineSettings({"--cas.root"}, &rest);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), Code::kConfig);
  EXPECT_NE(parsed.status().message().find("--cas.root"), std::string::npos) << parsed.status().message();
}

TEST(ParseCommandLineSettings, StopsReadingOptionsAfterDoubleDash) {
  std::vector<std::string> rest;
  auto parsed = ParseCommandLineSettings({"verify", "--", "--cas.root=/x"}, &rest);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->count("cas"), 0u);
  ASSERT_FALSE(rest.empty());
  EXPECT_EQ(rest.back(), "--cas.root=/x");
}

TEST(ParseCommandLine, SeparatesConfigDataDirOverridesAndTheRest) {
  std::vector<std::string> argv_strings = {
      "signalsctl", "--config", "/etc/s.conf", "--data-dir=/d", "--kernel.log_level=warn", "keys", "list"};
  std::vector<char*> argv;
  for (auto& s : argv_strings) argv.push_back(s.data());
  auto parsed = ParseCommandLine(static_cast<int>(argv.size()), argv.data());
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->config_file.value_or(""), "/etc/s.conf");
  EXPECT_EQ(parsed->data_dir.value_or(""), "/d");
  EXPECT_EQ(ValueOf(parsed->overrides, "kernel", "log_level"), "warn");
  EXPECT_EQ(parsed->rest, (std::vector<std::string>{"keys", "list"}));
}

TEST(ParseCommandLine, RejectsDataDirWithoutValue) {
  std::vector<std::string> argv_strings = {"signalsd", "--data-dir"};
  std::vector<char*> argv;
  for (auto& s : argv_strings) argv.push_back(s.data());
  auto parsed = ParseCommandLine(static_cast<int>(argv.size()), argv.data());
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), Code::kConfig);
  EXPECT_NE(parsed.status().message().find("--data-dir"), std::string::npos);
}

// --- layering -------------------------------------------------------------------

TEST(LoadSettings, UsesTheEmbeddedDefaultWithoutAFile) {
  auto settings = LoadSettings(SettingsSources{});
  ASSERT_TRUE(settings.ok()) << settings.status().ToString();
  EXPECT_EQ(settings->file, "(embedded default)");
  ASSERT_NE(settings->Find("cas", "plugin"), nullptr);
  EXPECT_EQ(settings->Find("cas", "plugin")->value, "cas-fs");
  EXPECT_EQ(settings->Find("cas", "plugin")->origin, "embedded default");
}

TEST(LoadSettings, ReadsTheGivenFile) {
  TempConfigFile file("[kernel]\nlog_level = warn\n[cas]\nplugin = cas-fs\n");
  SettingsSources sources;
  sources.config_file = file.path();
  auto settings = LoadSettings(sources);
  ASSERT_TRUE(settings.ok()) << settings.status().ToString();
  EXPECT_EQ(settings->file, file.path());
  EXPECT_EQ(settings->Find("kernel", "log_level")->value, "warn");
  EXPECT_EQ(settings->Find("kernel", "log_level")->origin, "file " + file.path());
  // A given file replaces the embedded default rather than adding to it.
  EXPECT_EQ(settings->Find("index", "plugin"), nullptr);
}

TEST(LoadSettings, RejectsAnUnreadableFileNamingIt) {
  SettingsSources sources;
  sources.config_file = "/nonexistent/signals.conf";
  auto settings = LoadSettings(sources);
  ASSERT_FALSE(settings.ok());
  EXPECT_EQ(settings.status().code(), Code::kConfig);
  EXPECT_NE(settings.status().message().find("/nonexistent/signals.conf"), std::string::npos);
}

TEST(LoadSettings, EnvironmentBeatsFile) {
  TempConfigFile file("[kernel]\nlog_level = warn\nzstd_level = 5\n");
  Environment env({"SIGNALS_KERNEL__LOG_LEVEL=debug"});
  SettingsSources sources;
  sources.config_file = file.path();
  sources.envp = env.envp();
  auto settings = LoadSettings(sources);
  ASSERT_TRUE(settings.ok()) << settings.status().ToString();
  EXPECT_EQ(settings->Find("kernel", "log_level")->value, "debug");
  EXPECT_EQ(settings->Find("kernel", "log_level")->origin, "environment SIGNALS_KERNEL__LOG_LEVEL");
  EXPECT_EQ(settings->Find("kernel", "zstd_level")->value, "5");  // untouched keys stay
}

TEST(LoadSettings, CommandLineBeatsEnvironmentAndFile) {
  TempConfigFile file("[kernel]\nlog_level = warn\n");
  Environment env({"SIGNALS_KERNEL__LOG_LEVEL=debug"});
  SettingsSources sources;
  sources.config_file = file.path();
  sources.envp = env.envp();
  sources.command_line["kernel"]["log_level"] = SettingValue{"error", "command line"};
  auto settings = LoadSettings(sources);
  ASSERT_TRUE(settings.ok()) << settings.status().ToString();
  EXPECT_EQ(settings->Find("kernel", "log_level")->value, "error");
  EXPECT_EQ(settings->Find("kernel", "log_level")->origin, "command line");
}

TEST(LoadSettings, DataDirFlagOverridesFileAndEnvironment) {
  TempConfigFile file("[kernel]\ndata_dir = /from-file\n");
  Environment env({"SIGNALS_KERNEL__DATA_DIR=/from-env"});
  SettingsSources sources;
  sources.config_file = file.path();
  sources.envp = env.envp();
  sources.data_dir = "/from-flag";
  auto settings = LoadSettings(sources);
  ASSERT_TRUE(settings.ok()) << settings.status().ToString();
  EXPECT_EQ(settings->Find("kernel", "data_dir")->value, "/from-flag");
}

TEST(LoadSettings, RejectsMalformedSignalsEnvironmentVariables) {
  Environment env({"SIGNALS_CAS__=/x"});
  SettingsSources sources;
  sources.envp = env.envp();
  auto settings = LoadSettings(sources);
  ASSERT_FALSE(settings.ok());
  EXPECT_EQ(settings.status().code(), Code::kConfig);
  EXPECT_NE(settings.status().message().find("SIGNALS_CAS__"), std::string::npos);
}

}  // namespace
}  // namespace signals
