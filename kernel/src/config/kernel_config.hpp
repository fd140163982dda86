// KernelConfig: the validated configuration. Resolves layered Settings against
// the kernel's own option tables and the option tables of the plugins that the
// config names, reporting every problem at once (section, key, origin, reason).
//
// Sections: [kernel], [provenance], [signing], [retention], [auth],
// [reachability] belong to the kernel. A section with a `plugin = <name>` key is
// a plugin instance; its other keys are that plugin's declared options (the
// [signing] section mixes both: `algorithm` and `sign_manifests` are the
// kernel's, the rest the signer's). Instance sections: cas, index, signing,
// tlog, metrics, and any number of transport.<name> and source.<name>.
// Thread-safety: values; no shared state.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "base/status.hpp"
#include "config/option_schema.hpp"
#include "config/settings.hpp"
#include "plugin/plugin_registry.hpp"

namespace signals {

struct InstanceConfig {
  std::string section;  // "cas", "source.spool-a", ...
  const LoadedComponent* component = nullptr;
  std::map<std::string, std::string> options;  // normalised plugin options
};

// Lets the [cas] instance `cas` list (and stat and remove) the temp files of
// interrupted writes, when its plugin can: cas-fs declares `list_leftovers`;
// other plugins keep theirs invisible. Returns whether it could. fsck turns
// it on for itself, and signalsd for the instance that removes them at start.
bool ExposeCasLeftovers(InstanceConfig& cas);

struct KernelConfig {
  std::string data_dir;    // absolute
  std::string plugin_dir;  // absolute
  std::string config_file;
  // Normalised kernel options by section ("kernel", "signing", ...).
  std::map<std::string, std::map<std::string, std::string>> kernel;
  std::vector<InstanceConfig> instances;

  const std::string& Get(const std::string& section, const std::string& key) const;
  int64_t GetInt(const std::string& section, const std::string& key) const;
  bool GetBool(const std::string& section, const std::string& key) const;
  // The instance configured in `section`, or nullptr.
  const InstanceConfig* Instance(const std::string& section) const;
};

// The kernel's option table for `section` ("kernel", "signing", ...); an empty
// table for sections the kernel does not own.
OptionTable KernelOptionTable(const std::string& section);

// The kernel sections, in help order.
const std::vector<std::string>& KernelSections();

// Resolves the kernel.plugin_dir, kernel.plugin_path and kernel.data_dir
// settings alone (needed before plugins can be loaded).
struct KernelPaths {
  std::string data_dir;
  std::string plugin_dir;                // absolute
  std::vector<std::string> plugin_path;  // absolute; searched after plugin_dir
};
Result<KernelPaths> ResolveKernelPaths(const Settings& settings);

// When an instance's `plugin =` value names a library file rather than a
// component (it contains '/' or ends in ".so"), its absolute, normalised path
// (relative values resolve against `data_dir`); else "".
std::string PluginLibraryPath(const std::string& plugin_value, const std::string& data_dir);

// Validates everything. On failure the Status message lists every problem,
// one per line.
Result<KernelConfig> ResolveConfig(const Settings& settings, const PluginRegistry& registry);

// --help text for the kernel's sections and every loaded component.
std::string DescribeConfiguration(const PluginRegistry& registry);

}  // namespace signals
