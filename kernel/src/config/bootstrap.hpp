// Bootstrap: the start-up sequence shared by signalsd and signalsctl —
// command line → layered settings → plugin directory → loaded plugins →
// validated KernelConfig.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.hpp"
#include "config/kernel_config.hpp"
#include "config/settings.hpp"
#include "plugin/plugin_registry.hpp"

namespace signals {

// The global options every binary accepts, split from its own arguments.
struct CommandLine {
  std::optional<std::string> config_file;  // --config FILE
  std::optional<std::string> data_dir;     // --data-dir DIR
  SettingsMap overrides;                   // --section.key=value
  std::vector<std::string> rest;           // everything else, in order
};

Result<CommandLine> ParseCommandLine(int argc, char** argv);

struct Bootstrap {
  Settings settings;
  std::unique_ptr<PluginRegistry> registry;
  std::vector<std::string> plugin_problems;  // libraries that failed to load
};

// Loads settings and the plugins: every library of kernel.plugin_dir, then of
// each kernel.plugin_path directory, then each library an instance names by
// path (`plugin = /opt/x/libsignals-source-tail.so`).
Result<Bootstrap> LoadBootstrap(const CommandLine& command_line, char** envp);

// The plugin loading step of LoadBootstrap. Returns one message per library
// that failed to load; the others stay loaded.
std::vector<std::string> LoadPlugins(const Settings& settings, const KernelPaths& paths,
                                     PluginRegistry& registry);

}  // namespace signals
