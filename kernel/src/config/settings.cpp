#include "config/settings.hpp"

#include <boost/program_options.hpp>
#include <cctype>
#include <fstream>
#include <sstream>

namespace po = boost::program_options;

namespace signals {
namespace {

// Splits "transport.http.listen" into ("transport.http", "listen").
bool SplitDottedName(const std::string& name, std::string* section, std::string* key) {
  size_t dot = name.rfind('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == name.size()) return false;
  *section = name.substr(0, dot);
  *key = name.substr(dot + 1);
  return true;
}

void Merge(SettingsMap& into, const SettingsMap& from) {
  for (const auto& [section, keys] : from) {
    for (const auto& [key, value] : keys) into[section][key] = value;
  }
}

}  // namespace

const SettingValue* Settings::Find(const std::string& section, const std::string& key) const {
  auto s = sections.find(section);
  if (s == sections.end()) return nullptr;
  auto k = s->second.find(key);
  return k == s->second.end() ? nullptr : &k->second;
}

void Settings::Set(const std::string& section, const std::string& key, std::string value,
                   std::string origin) {
  sections[section][key] = SettingValue{std::move(value), std::move(origin)};
}

// configs/signals.conf, compiled in (see kernel/CMakeLists.txt), so that the
// shipped file and the built-in default are the same bytes.
extern const char kEmbeddedDefaultConfig[];

const char* EmbeddedDefaultConfig() { return kEmbeddedDefaultConfig; }

Result<SettingsMap> ParseIniSettings(const std::string& text, const std::string& origin) {
  SettingsMap out;
  std::istringstream in(text);
  try {
    po::options_description none;
    po::parsed_options parsed = po::parse_config_file(in, none, /*allow_unregistered=*/true);
    for (const auto& option : parsed.options) {
      std::string section, key;
      if (!SplitDottedName(option.string_key, &section, &key)) {
        return Status::Config(origin + ": key '" + option.string_key + "' is outside any [section]");
      }
      std::string value = option.value.empty() ? std::string() : option.value.front();
      out[section][key] = SettingValue{value, origin};
    }
  } catch (const po::error& e) {
    return Status::Config(origin + ": " + e.what());
  }
  return out;
}

SettingsMap ParseEnvironmentSettings(char** envp, std::vector<std::string>* problems) {
  SettingsMap out;
  if (envp == nullptr) return out;
  static const std::string kPrefix = "SIGNALS_";
  for (char** e = envp; *e != nullptr; ++e) {
    std::string entry(*e);
    if (entry.rfind(kPrefix, 0) != 0) continue;
    size_t eq = entry.find('=');
    if (eq == std::string::npos) continue;
    std::string name = entry.substr(kPrefix.size(), eq - kPrefix.size());
    std::string value = entry.substr(eq + 1);
    // Split on "__".
    std::vector<std::string> parts;
    size_t start = 0;
    while (true) {
      size_t pos = name.find("__", start);
      parts.push_back(name.substr(start, pos == std::string::npos ? std::string::npos : pos - start));
      if (pos == std::string::npos) break;
      start = pos + 2;
    }
    bool ok = parts.size() >= 2;
    for (const auto& p : parts) ok = ok && !p.empty();
    if (!ok) {
      // Variables of other tools may share the prefix; only flag the ones
      // that look like ours but are malformed.
      if (name.find("__") != std::string::npos) {
        problems->push_back("environment " + entry.substr(0, eq) + ": expected SIGNALS_<SECTION>__<KEY>");
      }
      continue;
    }
    std::string section;
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      std::string part;
      for (char c : parts[i]) {
        part += c == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
      section += (i ? "." : "") + part;
    }
    std::string key;
    for (char c : parts.back()) key += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out[section][key] = SettingValue{value, "environment " + entry.substr(0, eq)};
  }
  return out;
}

Result<SettingsMap> ParseCommandLineSettings(const std::vector<std::string>& args,
                                             std::vector<std::string>* rest) {
  SettingsMap out;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      rest->insert(rest->end(), args.begin() + static_cast<long>(i), args.end());
      break;
    }
    if (arg.rfind("--", 0) != 0) {
      rest->push_back(arg);
      continue;
    }
    std::string body = arg.substr(2);
    size_t eq = body.find('=');
    std::string name = body.substr(0, eq);
    std::string section, key;
    if (name.find('.') == std::string::npos || !SplitDottedName(name, &section, &key)) {
      rest->push_back(arg);
      continue;
    }
    std::string value;
    if (eq != std::string::npos) {
      value = body.substr(eq + 1);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return Status::Config("command line: option --" + name + " needs a value");
    }
    out[section][key] = SettingValue{value, "command line"};
  }
  return out;
}

Result<Settings> LoadSettings(const SettingsSources& sources) {
  Settings settings;
  if (sources.config_file) {
    std::ifstream in(*sources.config_file);
    if (!in) return Status::Config(*sources.config_file + ": cannot read config file");
    std::stringstream buffer;
    buffer << in.rdbuf();
    auto parsed = ParseIniSettings(buffer.str(), "file " + *sources.config_file);
    if (!parsed.ok()) return parsed.status();
    settings.sections = std::move(*parsed);
    settings.file = *sources.config_file;
  } else {
    auto parsed = ParseIniSettings(EmbeddedDefaultConfig(), "embedded default");
    if (!parsed.ok()) return parsed.status();
    settings.sections = std::move(*parsed);
    settings.file = "(embedded default)";
  }
  std::vector<std::string> problems;
  Merge(settings.sections, ParseEnvironmentSettings(sources.envp, &problems));
  if (!problems.empty()) {
    std::string message;
    for (const auto& p : problems) message += (message.empty() ? "" : "\n") + p;
    return Status::Config(message);
  }
  if (sources.data_dir) settings.Set("kernel", "data_dir", *sources.data_dir, "command line --data-dir");
  Merge(settings.sections, sources.command_line);
  return settings;
}

}  // namespace signals
