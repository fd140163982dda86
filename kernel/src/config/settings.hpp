// Settings: the raw configuration as layered text, before validation.
//
// One INI-style file read with Boost.Program_options (the embedded default when
// no file is given), then the environment, then the command line; a later
// layer beats an earlier one. The same names work everywhere:
//
//   file:          [cas]            env:  SIGNALS_CAS__ROOT=/x     cli: --cas.root=/x
//                  root = /x
//
// Environment mapping: SIGNALS_ + upper-case name, with "__" between the parts
// of the dotted name. In the section part "_" stands for "-" (instance names use
// dashes), in the key part "_" stays "_" (keys use underscores). So
// SIGNALS_SOURCE__SPOOL_A__MAX_BATCH_BYTES is [source.spool-a] max_batch_bytes.
// Thread-safety: values; no shared state.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/status.hpp"

namespace signals {

struct SettingValue {
  std::string value;
  std::string origin;  // "file /etc/signals.conf", "environment SIGNALS_X", "command line"
};

// section → key → value. Sections are "kernel", "cas", "transport.http", ...
using SettingsMap = std::map<std::string, std::map<std::string, SettingValue>>;

struct Settings {
  SettingsMap sections;
  std::string file;  // the config file read, or "(embedded default)"

  const SettingValue* Find(const std::string& section, const std::string& key) const;
  void Set(const std::string& section, const std::string& key, std::string value, std::string origin);
};

// The embedded default configuration (cas-fs + index-sqlite + signer-ed25519,
// state under ./var/signals).
const char* EmbeddedDefaultConfig();

// Parses INI text. `origin` names the file in messages.
Result<SettingsMap> ParseIniSettings(const std::string& text, const std::string& origin);

// Reads environment variables (SIGNALS_*) from `envp` (NULL-terminated).
// Variables that do not map to a dotted name are reported as problems.
SettingsMap ParseEnvironmentSettings(char** envp, std::vector<std::string>* problems);

// Parses "--section.key=value" / "--section.key value" overrides; tokens that
// are not dotted options are returned in `rest` in order.
Result<SettingsMap> ParseCommandLineSettings(const std::vector<std::string>& args,
                                             std::vector<std::string>* rest);

// Layers in order: file (or embedded default), environment, command line.
struct SettingsSources {
  std::optional<std::string> config_file;
  std::optional<std::string> data_dir;  // --data-dir: same as --kernel.data_dir
  char** envp = nullptr;
  SettingsMap command_line;
};
Result<Settings> LoadSettings(const SettingsSources& sources);

}  // namespace signals
