// PluginRegistry: loads plugin libraries and knows every component they
// provide. Loading checks the descriptor (magic, ABI major/minor, structure
// sizes, component tables, unique names) and that every member plugin.h marks
// "Required: yes" is set, and rejects a library with a message that names the
// file, the component and member or both versions, and what to do.
//
// Libraries are loaded with RTLD_NOW | RTLD_LOCAL and stay loaded until the
// process exits, so a component pointer is valid for the life of the process.
// In-process registration (no dlopen) serves tests and statically linked builds.
// Thread-safety: load on one thread before use; lookups are then read-only.
#pragma once

#include <signals/plugin.h>

#include <string>
#include <vector>

#include "base/status.hpp"

namespace signals {

struct LoadedComponent {
  const signals_component* component = nullptr;
  const signals_plugin_descriptor* plugin = nullptr;
  std::string origin;  // the library's path, or "(in-process)"
};

// Kind name ("cas", "index", ...) of a SIGNALS_KIND_* value, or "unknown".
const char* KindName(uint32_t kind);

class PluginRegistry {
 public:
  PluginRegistry() = default;
  PluginRegistry(const PluginRegistry&) = delete;
  PluginRegistry& operator=(const PluginRegistry&) = delete;

  // Loads one library. On failure nothing of it is registered and the Status
  // message starts with the path.
  Status LoadFile(const std::string& path);

  // Loads every libsignals-*.so in `dir`, in name order. Returns one message per
  // library that failed; the others stay loaded.
  std::vector<std::string> LoadDirectory(const std::string& dir);

  // Registers a descriptor without dlopen (the same checks apply).
  Status Register(const signals_plugin_descriptor* descriptor, const std::string& origin);

  // The component called `name`, or nullptr.
  const LoadedComponent* Find(const std::string& name) const;

  const std::vector<LoadedComponent>& components() const { return components_; }

  // Every registered library: descriptor and origin, in load order.
  struct Library {
    const signals_plugin_descriptor* descriptor;
    std::string origin;
  };
  const std::vector<Library>& libraries() const { return libraries_; }

 private:
  std::vector<LoadedComponent> components_;
  std::vector<Library> libraries_;
};

// The directory signalsd/signalsctl search by default: ../lib/signals/plugins
// relative to the running executable.
std::string DefaultPluginDir();

}  // namespace signals
