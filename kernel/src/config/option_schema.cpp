#include "config/option_schema.hpp"

#include <signals/support/option_values.hpp>

#include <algorithm>
#include <sstream>

namespace signals {
namespace {

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace

const signals_option* OptionTable::Find(std::string_view name) const {
  for (size_t i = 0; i < count; ++i) {
    if (name == options[i].name) return &options[i];
  }
  return nullptr;
}

std::vector<std::string> OptionTable::Names() const {
  std::vector<std::string> names;
  for (size_t i = 0; i < count; ++i) names.emplace_back(options[i].name);
  return names;
}

const char* OptionTypeName(uint32_t type) {
  switch (type) {
    case SIGNALS_OPT_STRING:
      return "string";
    case SIGNALS_OPT_INT:
      return "int";
    case SIGNALS_OPT_BOOL:
      return "bool";
    case SIGNALS_OPT_PATH:
      return "path";
    case SIGNALS_OPT_ENUM:
      return "enum";
    case SIGNALS_OPT_DURATION:
      return "duration";
    case SIGNALS_OPT_SIZE:
      return "size";
  }
  return "unknown";
}

Result<int64_t> ParseDurationMs(std::string_view text) {
  support::ParsedNumber n = support::ParseDurationMs(text);
  if (!n.ok) return Status::Invalid("duration", "", "'" + std::string(text) + "' " + n.error);
  return n.value;
}

Result<int64_t> ParseSizeBytes(std::string_view text) {
  support::ParsedNumber n = support::ParseSizeBytes(text);
  if (!n.ok) return Status::Invalid("size", "", "'" + std::string(text) + "' " + n.error);
  return n.value;
}

Result<std::string> NormaliseOptionValue(const signals_option& option, std::string_view raw,
                                         const std::string& data_dir) {
  support::NormalisedOption out = support::NormaliseOptionValue(option, raw, data_dir);
  if (!out.ok) return Status::Invalid(out.rule, option.name, out.message);
  return std::move(out.value);
}

std::optional<std::string> SuggestClosest(std::string_view word, const std::vector<std::string>& candidates) {
  std::optional<std::string> best;
  size_t best_distance = SIZE_MAX;
  for (const auto& c : candidates) {
    size_t d = EditDistance(word, c);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  // Allow roughly one typo per four characters, at least two.
  size_t limit = std::max<size_t>(2, word.size() / 4);
  if (best && best_distance <= limit) return best;
  return std::nullopt;
}

std::map<std::string, std::string> ValidateOptions(const OptionTable& table,
                                                   const std::map<std::string, std::string>& raw,
                                                   const std::string& where, const std::string& data_dir,
                                                   std::vector<std::string>* problems) {
  std::map<std::string, std::string> out;
  for (const auto& [key, value] : raw) {
    const signals_option* option = table.Find(key);
    if (option == nullptr) {
      std::string message = where + ": unknown option '" + key + "'";
      auto suggestion = SuggestClosest(key, table.Names());
      if (suggestion) {
        message += "; did you mean '" + *suggestion + "'?";
      } else {
        std::string valid;
        for (const auto& n : table.Names()) valid += (valid.empty() ? "" : ", ") + n;
        message += "; valid options: " + (valid.empty() ? std::string("(none)") : valid);
      }
      problems->push_back(message);
      continue;
    }
    auto normalised = NormaliseOptionValue(*option, value, data_dir);
    if (!normalised.ok()) {
      // A secret's value must not reach a log or a terminal, even when wrong.
      std::string reason =
          (option->flags & SIGNALS_OPTF_SECRET) != 0
              ? "the value (redacted) is not a valid " + std::string(OptionTypeName(option->type))
              : normalised.status().message();
      problems->push_back(where + ": option '" + key + "': " + reason);
      continue;
    }
    out[key] = *normalised;
  }
  for (size_t i = 0; i < table.count; ++i) {
    const signals_option& option = table.options[i];
    if (out.count(option.name) != 0 || raw.count(option.name) != 0) continue;
    if (option.default_value != nullptr) {
      auto normalised = NormaliseOptionValue(option, option.default_value, data_dir);
      if (normalised.ok()) {
        out[option.name] = *normalised;
      } else {
        problems->push_back(where + ": default of option '" + option.name +
                            "' is invalid: " + normalised.status().message());
      }
    } else if ((option.flags & SIGNALS_OPTF_REQUIRED) != 0) {
      problems->push_back(where + ": required option '" + std::string(option.name) + "' is not set");
    }
  }
  return out;
}

std::string DescribeOptions(const OptionTable& table, const std::string& section) {
  std::ostringstream out;
  for (size_t i = 0; i < table.count; ++i) {
    const signals_option& o = table.options[i];
    out << "  --" << section << "." << o.name << " (" << OptionTypeName(o.type);
    if (o.type == SIGNALS_OPT_ENUM && o.enum_values) out << ": " << o.enum_values;
    if (o.default_value) out << ", default " << (o.default_value[0] ? o.default_value : "\"\"");
    if (o.flags & SIGNALS_OPTF_REQUIRED) out << ", required";
    if (o.flags & SIGNALS_OPTF_SECRET) out << ", secret";
    out << ")\n      " << (o.description ? o.description : "") << "\n";
  }
  return out.str();
}

}  // namespace signals
