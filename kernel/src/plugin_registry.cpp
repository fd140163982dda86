#include "plugin_registry.hpp"

#include <algorithm>
#include <boost/dll/runtime_symbol_info.hpp>
#include <boost/dll/shared_library.hpp>
#include <filesystem>
#include <memory>
#include <set>

namespace signals {
namespace {

std::string AbiText(uint32_t major, uint32_t minor) {
  return std::to_string(major) + "." + std::to_string(minor);
}

// Opened libraries are never closed: components hand out function pointers
// and static strings that must outlive every instance. Intentionally leaked.
std::vector<boost::dll::shared_library>& OpenLibraries() {
  static auto* libs = new std::vector<boost::dll::shared_library>();
  return *libs;
}

size_t KindApiMinimumSize(uint32_t kind) {
  switch (kind) {
    case SIGNALS_KIND_CAS: return sizeof(signals_cas_api);
    case SIGNALS_KIND_INDEX: return sizeof(signals_index_api);
    case SIGNALS_KIND_SIGNER: return sizeof(signals_signer_api);
    case SIGNALS_KIND_SOURCE: return sizeof(signals_source_api);
    default: return 0;
  }
}

}  // namespace

const char* KindName(uint32_t kind) {
  switch (kind) {
    case SIGNALS_KIND_CAS: return "cas";
    case SIGNALS_KIND_INDEX: return "index";
    case SIGNALS_KIND_SIGNER: return "signer";
    case SIGNALS_KIND_TLOG: return "tlog";
    case SIGNALS_KIND_METRICS: return "metrics";
    case SIGNALS_KIND_TRANSPORT: return "transport";
    case SIGNALS_KIND_SOURCE: return "source";
  }
  return "unknown";
}

Status PluginRegistry::Register(const signals_plugin_descriptor* d, const std::string& origin) {
  auto fail = [&](const std::string& message) { return Status::Config(origin + ": " + message); };
  if (d == nullptr) return fail("signals_plugin_entry returned NULL");
  if (d->magic != SIGNALS_PLUGIN_MAGIC) {
    return fail("not a Signals plugin: the descriptor has the wrong magic number");
  }
  const std::string kernel_abi = AbiText(SIGNALS_ABI_MAJOR, SIGNALS_ABI_MINOR);
  const std::string plugin_abi = AbiText(d->abi_major, d->abi_minor);
  const std::string sdk = d->sdk_version ? d->sdk_version : "?";
  if (d->abi_major != SIGNALS_ABI_MAJOR) {
    return fail("plugin ABI " + plugin_abi + " (SDK " + sdk + ") is incompatible with this kernel's ABI " +
                kernel_abi + "; rebuild the plugin against a Signals SDK with ABI major " +
                std::to_string(SIGNALS_ABI_MAJOR));
  }
  if (d->abi_minor > SIGNALS_ABI_MINOR) {
    return fail("plugin needs ABI " + plugin_abi + " (SDK " + sdk + ") but this kernel provides ABI " +
                kernel_abi + "; upgrade Signals or rebuild the plugin against SDK ABI " + kernel_abi);
  }
  // Same or older minor: the descriptor can be no larger than ours (fields
  // are only appended in newer minors) and must hold every field we read.
  if (d->struct_size > sizeof(signals_plugin_descriptor)) {
    return fail("descriptor is " + std::to_string(d->struct_size) + " bytes but ABI " + plugin_abi +
                " defines " + std::to_string(sizeof(signals_plugin_descriptor)) +
                "; the plugin was built with a modified plugin.h");
  }
  if (d->struct_size < sizeof(signals_plugin_descriptor)) {
    return fail("descriptor is " + std::to_string(d->struct_size) + " bytes, smaller than the " +
                std::to_string(sizeof(signals_plugin_descriptor)) + " bytes ABI " + plugin_abi +
                " defines");
  }
  std::string plugin_name = d->name ? d->name : "";
  if (plugin_name.empty()) return fail("the descriptor has no name");
  if (d->component_count > 0 && d->components == nullptr) return fail("component table is NULL");

  std::set<std::string> own;
  for (size_t i = 0; i < d->component_count; ++i) {
    const signals_component& c = d->components[i];
    std::string cname = c.name ? c.name : "";
    std::string where = "component " + std::to_string(i) + (cname.empty() ? "" : " '" + cname + "'");
    if (c.struct_size != sizeof(signals_component)) {
      return fail(where + ": component struct is " + std::to_string(c.struct_size) + " bytes, ABI " +
                  plugin_abi + " defines " + std::to_string(sizeof(signals_component)));
    }
    if (cname.empty()) return fail(where + ": has no name");
    size_t api_size = KindApiMinimumSize(c.kind);
    if (api_size == 0) {
      return fail(where + ": kind " + std::to_string(c.kind) + " (" + KindName(c.kind) +
                  ") is not supported by ABI " + kernel_abi);
    }
    if (c.create == nullptr || c.destroy == nullptr || c.last_error == nullptr || c.health == nullptr) {
      return fail(where + ": create, destroy, last_error and health are required");
    }
    if (c.api == nullptr || *static_cast<const uint32_t*>(c.api) < api_size) {
      return fail(where + ": its " + KindName(c.kind) + " function table is missing or smaller than ABI " +
                  plugin_abi + " defines");
    }
    for (size_t k = 0; k < c.option_count; ++k) {
      if (c.options[k].struct_size != sizeof(signals_option) || c.options[k].name == nullptr) {
        return fail(where + ": option " + std::to_string(k) + " is malformed");
      }
    }
    if (!own.insert(cname).second) return fail(where + ": declared twice in this library");
    if (const LoadedComponent* existing = Find(cname)) {
      return fail("component '" + cname + "' is already provided by " + existing->origin);
    }
  }
  for (size_t i = 0; i < d->component_count; ++i) {
    components_.push_back(LoadedComponent{&d->components[i], d, origin});
  }
  libraries_.push_back(Library{d, origin});
  return Status::Ok();
}

Status PluginRegistry::LoadFile(const std::string& path) {
  boost::dll::shared_library lib;
  boost::system::error_code ec;
  lib.load(path, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local, ec);
  if (ec) {
    return Status::Config(path + ": cannot load: " + ec.message());
  }
  if (!lib.has(SIGNALS_PLUGIN_ENTRY_SYMBOL)) {
    return Status::Config(path + ": not a Signals plugin: it does not export '" +
                          std::string(SIGNALS_PLUGIN_ENTRY_SYMBOL) + "'");
  }
  auto entry = lib.get<const signals_plugin_descriptor*()>(SIGNALS_PLUGIN_ENTRY_SYMBOL);
  const signals_plugin_descriptor* descriptor = nullptr;
  try {
    descriptor = entry();
  } catch (...) {
    return Status::Config(path + ": signals_plugin_entry threw an exception");
  }
  Status s = Register(descriptor, path);
  if (!s.ok()) return s;
  OpenLibraries().push_back(std::move(lib));
  return Status::Ok();
}

std::vector<std::string> PluginRegistry::LoadDirectory(const std::string& dir) {
  std::vector<std::string> problems;
  std::error_code ec;
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    std::string name = entry.path().filename().string();
    if (name.rfind("libsignals-", 0) == 0 && entry.path().extension() == ".so") {
      files.push_back(entry.path().string());
    }
  }
  if (ec) {
    problems.push_back(dir + ": cannot read plugin directory: " + ec.message());
    return problems;
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    Status s = LoadFile(f);
    if (!s.ok()) problems.push_back(s.message());
  }
  return problems;
}

const LoadedComponent* PluginRegistry::Find(const std::string& name) const {
  for (const auto& c : components_) {
    if (name == c.component->name) return &c;
  }
  return nullptr;
}

std::string DefaultPluginDir() {
  boost::system::error_code ec;
  auto exe = boost::dll::program_location(ec);
  if (ec) return SIGNALS_PLUGIN_RELDIR;
  return (std::filesystem::path(exe.parent_path().string()) / SIGNALS_PLUGIN_RELDIR)
      .lexically_normal()
      .string();
}

}  // namespace signals
