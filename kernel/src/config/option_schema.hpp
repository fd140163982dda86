// Option schemas: the typed option tables that plugins (and the kernel's own
// sections) declare, and the validation that turns raw text from a config file,
// the environment or the command line into normalised values.
//
// Plugins never parse their options: the kernel checks every key against the
// declaring table, rejects unknown keys with a suggestion, checks types, enums
// and bounds, fills defaults, and hands the plugin normalised text (booleans as
// true/false, durations in ms, sizes in bytes, paths absolute).
// Thread-safety: pure functions.
#pragma once

#include <signals/plugin.h>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.hpp"

namespace signals {

// A view of a declared option table.
struct OptionTable {
  const signals_option* options = nullptr;
  size_t count = 0;

  const signals_option* Find(std::string_view name) const;
  std::vector<std::string> Names() const;
};

// Normalises one value of `option` (see file comment). Relative paths resolve
// against `data_dir`. Returns Status::Invalid naming the option and rule.
Result<std::string> NormaliseOptionValue(const signals_option& option, std::string_view raw,
                                         const std::string& data_dir);

// Validates `raw` (key → text) against `table`: unknown keys (with a "did you
// mean"), missing required options, bad values. Every problem is appended to
// `problems` as "<where>: <message>". Returns the normalised values with
// defaults filled in.
std::map<std::string, std::string> ValidateOptions(const OptionTable& table,
                                                   const std::map<std::string, std::string>& raw,
                                                   const std::string& where, const std::string& data_dir,
                                                   std::vector<std::string>* problems);

// The closest of `candidates` to `word` by edit distance, when close enough to
// be a plausible typo.
std::optional<std::string> SuggestClosest(std::string_view word, const std::vector<std::string>& candidates);

// "string", "int", "bool", ... for help output.
const char* OptionTypeName(uint32_t type);

// Parses "30s", "500ms", "5m", "2h", "7d" (a bare number is seconds) to ms.
Result<int64_t> ParseDurationMs(std::string_view text);
// Parses "512", "64KiB", "16MiB", "1GiB", "10MB" to bytes.
Result<int64_t> ParseSizeBytes(std::string_view text);

// Renders a table as help text lines: "  name (type, default X) description".
std::string DescribeOptions(const OptionTable& table, const std::string& section);

}  // namespace signals
