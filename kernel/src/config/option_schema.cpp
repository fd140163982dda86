#include "config/option_schema.hpp"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <sstream>

namespace signals {
namespace {

bool ParseInt(std::string_view text, int64_t* out) {
  if (text.empty()) return false;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

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

Status CheckBounds(const signals_option& option, int64_t value, std::string_view raw) {
  if (option.min_value < option.max_value && (value < option.min_value || value > option.max_value)) {
    return Status::Invalid("bounds", option.name,
                           "value '" + std::string(raw) + "' is outside [" +
                               std::to_string(option.min_value) + ", " + std::to_string(option.max_value) +
                               "]");
  }
  return Status::Ok();
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
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  int64_t n = 0;
  if (!ParseInt(text.substr(0, digits), &n)) {
    return Status::Invalid("duration", "",
                           "'" + std::string(text) + "' is not a duration (e.g. 500ms, 30s, 5m, 2h, 7d)");
  }
  std::string unit = Lower(text.substr(digits));
  int64_t factor = 0;
  if (unit == "ms")
    factor = 1;
  else if (unit.empty() || unit == "s")
    factor = 1000;
  else if (unit == "m")
    factor = 60'000;
  else if (unit == "h")
    factor = 3'600'000;
  else if (unit == "d")
    factor = 86'400'000;
  else
    return Status::Invalid(
        "duration", "",
        "unknown duration unit '" + unit + "' in '" + std::string(text) + "' (use ms, s, m, h or d)");
  if (n > INT64_MAX / factor)
    return Status::Invalid("duration", "", "duration '" + std::string(text) + "' is too large");
  return n * factor;
}

Result<int64_t> ParseSizeBytes(std::string_view text) {
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  int64_t n = 0;
  if (!ParseInt(text.substr(0, digits), &n)) {
    return Status::Invalid("size", "",
                           "'" + std::string(text) + "' is not a size (e.g. 512, 64KiB, 16MiB, 1GiB)");
  }
  std::string unit = Lower(text.substr(digits));
  int64_t factor = 0;
  if (unit.empty() || unit == "b")
    factor = 1;
  else if (unit == "kib" || unit == "k")
    factor = 1024;
  else if (unit == "mib" || unit == "m")
    factor = 1024 * 1024;
  else if (unit == "gib" || unit == "g")
    factor = 1024LL * 1024 * 1024;
  else if (unit == "kb")
    factor = 1000;
  else if (unit == "mb")
    factor = 1000 * 1000;
  else if (unit == "gb")
    factor = 1000LL * 1000 * 1000;
  else
    return Status::Invalid(
        "size", "", "unknown size unit '" + unit + "' in '" + std::string(text) + "' (use KiB, MiB, GiB)");
  if (n > INT64_MAX / factor)
    return Status::Invalid("size", "", "size '" + std::string(text) + "' is too large");
  return n * factor;
}

Result<std::string> NormaliseOptionValue(const signals_option& option, std::string_view raw,
                                         const std::string& data_dir) {
  switch (option.type) {
    case SIGNALS_OPT_STRING:
      return std::string(raw);
    case SIGNALS_OPT_INT: {
      int64_t v = 0;
      if (!ParseInt(raw, &v)) {
        return Status::Invalid("int", option.name, "'" + std::string(raw) + "' is not an integer");
      }
      SIGNALS_RETURN_IF_ERROR(CheckBounds(option, v, raw));
      return std::to_string(v);
    }
    case SIGNALS_OPT_BOOL: {
      std::string v = Lower(raw);
      if (v == "true" || v == "yes" || v == "on" || v == "1") return std::string("true");
      if (v == "false" || v == "no" || v == "off" || v == "0") return std::string("false");
      return Status::Invalid("bool", option.name,
                             "'" + std::string(raw) + "' is not a boolean (true/false, yes/no, on/off, 1/0)");
    }
    case SIGNALS_OPT_PATH: {
      if (raw.empty()) return Status::Invalid("path", option.name, "path is empty");
      if (raw.find('\0') != std::string_view::npos) {
        return Status::Invalid("path", option.name, "path contains a NUL byte");
      }
      std::filesystem::path p(raw);
      if (p.is_relative()) p = std::filesystem::path(data_dir) / p;
      return p.lexically_normal().string();
    }
    case SIGNALS_OPT_ENUM: {
      std::string allowed = option.enum_values ? option.enum_values : "";
      std::stringstream ss(allowed);
      std::string item;
      while (std::getline(ss, item, '|')) {
        if (Lower(item) == Lower(raw)) return item;
      }
      return Status::Invalid("enum", option.name, "'" + std::string(raw) + "' is not one of " + allowed);
    }
    case SIGNALS_OPT_DURATION: {
      auto ms = ParseDurationMs(raw);
      if (!ms.ok()) return ms.status().WithField(option.name);
      SIGNALS_RETURN_IF_ERROR(CheckBounds(option, *ms, raw));
      return std::to_string(*ms);
    }
    case SIGNALS_OPT_SIZE: {
      auto bytes = ParseSizeBytes(raw);
      if (!bytes.ok()) return bytes.status().WithField(option.name);
      SIGNALS_RETURN_IF_ERROR(CheckBounds(option, *bytes, raw));
      return std::to_string(*bytes);
    }
  }
  return Status::Invalid("type", option.name, "option has an unknown type");
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
