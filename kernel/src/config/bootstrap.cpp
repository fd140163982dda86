#include "config/bootstrap.hpp"

namespace signals {

Result<CommandLine> ParseCommandLine(int argc, char** argv) {
  CommandLine out;
  std::vector<std::string> args(argv + 1, argv + argc);
  std::vector<std::string> remaining;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto take = [&](const std::string& flag, std::optional<std::string>* into) -> Result<bool> {
      if (a == flag) {
        if (i + 1 >= args.size()) return Status::Config(flag + " needs a value");
        *into = args[++i];
        return true;
      }
      if (a.rfind(flag + "=", 0) == 0) {
        *into = a.substr(flag.size() + 1);
        return true;
      }
      return false;
    };
    auto config = take("--config", &out.config_file);
    if (!config.ok()) return config.status();
    if (*config) continue;
    auto data_dir = take("--data-dir", &out.data_dir);
    if (!data_dir.ok()) return data_dir.status();
    if (*data_dir) continue;
    remaining.push_back(a);
  }
  auto overrides = ParseCommandLineSettings(remaining, &out.rest);
  if (!overrides.ok()) return overrides.status();
  out.overrides = std::move(*overrides);
  return out;
}

Result<Bootstrap> LoadBootstrap(const CommandLine& command_line, char** envp) {
  Bootstrap boot;
  SettingsSources sources;
  sources.config_file = command_line.config_file;
  sources.data_dir = command_line.data_dir;
  sources.envp = envp;
  sources.command_line = command_line.overrides;
  auto settings = LoadSettings(sources);
  if (!settings.ok()) return settings.status();
  boot.settings = std::move(*settings);
  auto paths = ResolveKernelPaths(boot.settings);
  if (!paths.ok()) return paths.status();
  boot.registry = std::make_unique<PluginRegistry>();
  boot.plugin_problems = LoadPlugins(boot.settings, *paths, *boot.registry);
  return boot;
}

std::vector<std::string> LoadPlugins(const Settings& settings, const KernelPaths& paths,
                                     PluginRegistry& registry) {
  std::vector<std::string> problems = registry.LoadDirectory(paths.plugin_dir);
  for (const std::string& dir : paths.plugin_path) {
    for (std::string& p : registry.LoadDirectory(dir)) problems.push_back(std::move(p));
  }
  for (const auto& [section, keys] : settings.sections) {
    auto plugin = keys.find("plugin");
    if (plugin == keys.end()) continue;
    const std::string library = PluginLibraryPath(plugin->second.value, paths.data_dir);
    if (library.empty()) continue;
    bool loaded = false;
    for (const auto& l : registry.libraries()) loaded = loaded || l.origin == library;
    if (loaded) continue;  // two sections may name the same library
    Status s = registry.LoadFile(library);
    if (!s.ok()) problems.push_back("[" + section + "] plugin: " + s.message());
  }
  return problems;
}

}  // namespace signals
