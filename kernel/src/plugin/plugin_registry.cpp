#include "plugin/plugin_registry.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <boost/dll/runtime_symbol_info.hpp>
#include <boost/dll/shared_library.hpp>
#include <cinttypes>
#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <set>

namespace signals {
namespace {

std::string AbiText(uint32_t major, uint32_t minor) {
  return std::to_string(major) + "." + std::to_string(minor);
}

std::string Hex64(uint64_t value) {
  char text[19];
  std::snprintf(text, sizeof(text), "0x%016" PRIx64, value);
  return text;
}

// Opened libraries are never closed: components hand out function pointers
// and static strings that must outlive every instance. Intentionally leaked.
std::vector<boost::dll::shared_library>& OpenLibraries() {
  static auto* libs = new std::vector<boost::dll::shared_library>();
  return *libs;
}

// A member the loader insists on: the kernel calls it without testing for
// NULL, so plugin.h marks it "Required: yes". `end` is where the member ends
// in its struct: a table whose struct_size stops before that lacks the member
// (it came with a later minor than the plugin's), which is not the same as
// NULL; the table's minimum size decides whether it may lack it.
struct RequiredMember {
  const char* name;
  size_t end;
  bool (*is_set)(const void* table);
};

RequiredMember Required(const char* name, size_t end, bool (*is_set)(const void* table)) {
  return RequiredMember{name, end, is_set};
}

// Type-checked at compile time: naming a member the struct does not have, or
// one that is not a pointer, does not build.
#define SIGNALS_REQUIRED(Struct, member)                               \
  Required(#member, offsetof(Struct, member) + sizeof(Struct::member), \
           [](const void* table) { return static_cast<const Struct*>(table)->member != nullptr; })

// A kind's function table as this kernel knows it.
struct KindTable {
  uint32_t kind;
  const char* type;     // "signals_cas_api", for messages
  size_t minimum_size;  // the table of the minor that introduced the kind
  std::vector<RequiredMember> required;
};

// Every table is as its kind introduced it, so the minimum is the whole
// table; every function in it is required. A minor that appends a function
// keeps minimum_size at the old size and lists the new member here only if
// plugins of that minor must set it (older plugins lack it, see RequiredMember).
const std::vector<KindTable>& KindTables() {
  static const auto* tables = new std::vector<KindTable>{
      {SIGNALS_KIND_CAS,
       "signals_cas_api",
       sizeof(signals_cas_api),
       {SIGNALS_REQUIRED(signals_cas_api, put_begin), SIGNALS_REQUIRED(signals_cas_api, put_write),
        SIGNALS_REQUIRED(signals_cas_api, put_commit), SIGNALS_REQUIRED(signals_cas_api, put_abort),
        SIGNALS_REQUIRED(signals_cas_api, get_open), SIGNALS_REQUIRED(signals_cas_api, get_read),
        SIGNALS_REQUIRED(signals_cas_api, get_close), SIGNALS_REQUIRED(signals_cas_api, stat),
        SIGNALS_REQUIRED(signals_cas_api, remove), SIGNALS_REQUIRED(signals_cas_api, list)}},
      {SIGNALS_KIND_INDEX,
       "signals_index_api",
       sizeof(signals_index_api),
       {SIGNALS_REQUIRED(signals_index_api, begin), SIGNALS_REQUIRED(signals_index_api, insert),
        SIGNALS_REQUIRED(signals_index_api, upsert), SIGNALS_REQUIRED(signals_index_api, remove),
        SIGNALS_REQUIRED(signals_index_api, commit), SIGNALS_REQUIRED(signals_index_api, rollback),
        SIGNALS_REQUIRED(signals_index_api, get), SIGNALS_REQUIRED(signals_index_api, query)}},
      {SIGNALS_KIND_SIGNER,
       "signals_signer_api",
       sizeof(signals_signer_api),
       {SIGNALS_REQUIRED(signals_signer_api, algorithm), SIGNALS_REQUIRED(signals_signer_api, key_id),
        SIGNALS_REQUIRED(signals_signer_api, public_key_pem), SIGNALS_REQUIRED(signals_signer_api, sign)}},
      {SIGNALS_KIND_TLOG,
       "signals_tlog_api",
       sizeof(signals_tlog_api),
       {SIGNALS_REQUIRED(signals_tlog_api, submit), SIGNALS_REQUIRED(signals_tlog_api, log_public_key_pem),
        SIGNALS_REQUIRED(signals_tlog_api, url)}},
      {SIGNALS_KIND_METRICS,
       "signals_metrics_api",
       sizeof(signals_metrics_api),
       {SIGNALS_REQUIRED(signals_metrics_api, render), SIGNALS_REQUIRED(signals_metrics_api, content_type),
        SIGNALS_REQUIRED(signals_metrics_api, start), SIGNALS_REQUIRED(signals_metrics_api, stop)}},
      {SIGNALS_KIND_TRANSPORT,
       "signals_transport_api",
       sizeof(signals_transport_api),
       {SIGNALS_REQUIRED(signals_transport_api, start), SIGNALS_REQUIRED(signals_transport_api, stop)}},
      {SIGNALS_KIND_SOURCE,
       "signals_source_api",
       sizeof(signals_source_api),
       {SIGNALS_REQUIRED(signals_source_api, start), SIGNALS_REQUIRED(signals_source_api, stop)}},
  };
  return *tables;
}

// The component's own functions; `api` is checked on its own, since it is a
// table, not a function.
const std::vector<RequiredMember>& ComponentFunctions() {
  static const auto* functions = new std::vector<RequiredMember>{
      SIGNALS_REQUIRED(signals_component, create), SIGNALS_REQUIRED(signals_component, destroy),
      SIGNALS_REQUIRED(signals_component, last_error), SIGNALS_REQUIRED(signals_component, health)};
  return *functions;
}

#undef SIGNALS_REQUIRED

const KindTable* FindKindTable(uint32_t kind) {
  for (const KindTable& table : KindTables()) {
    if (table.kind == kind) return &table;
  }
  return nullptr;
}

// The first required member that `table` (struct_size bytes long) leaves
// NULL, or nullptr.
const char* FirstNullMember(const std::vector<RequiredMember>& required, const void* table,
                            size_t struct_size) {
  for (const RequiredMember& member : required) {
    if (member.end <= struct_size && !member.is_set(table)) return member.name;
  }
  return nullptr;
}

// "cas, index, signer, tlog, metrics, transport and source": the kinds this kernel has tables for.
std::string SupportedKinds() {
  std::vector<std::string> kinds;
  for (const KindTable& table : KindTables()) kinds.emplace_back(KindName(table.kind));
  std::string text;
  for (size_t i = 0; i < kinds.size(); ++i) {
    text += (i == 0 ? "" : i + 1 == kinds.size() ? " and " : ", ") + kinds[i];
  }
  return text;
}

}  // namespace

const char* KindName(uint32_t kind) {
  switch (kind) {
    case SIGNALS_KIND_CAS:
      return "cas";
    case SIGNALS_KIND_INDEX:
      return "index";
    case SIGNALS_KIND_SIGNER:
      return "signer";
    case SIGNALS_KIND_TLOG:
      return "tlog";
    case SIGNALS_KIND_METRICS:
      return "metrics";
    case SIGNALS_KIND_TRANSPORT:
      return "transport";
    case SIGNALS_KIND_SOURCE:
      return "source";
  }
  return "unknown";
}

Status PluginRegistry::Register(const signals_plugin_descriptor* d, const std::string& origin) {
  auto fail = [&](const std::string& message) { return Status::Config(origin + ": " + message); };
  if (d == nullptr) return fail("signals_plugin_entry returned NULL instead of a descriptor");
  if (d->magic != SIGNALS_PLUGIN_MAGIC) {
    return fail("not a Signals plugin: the descriptor's magic number is " + Hex64(d->magic) + ", not " +
                Hex64(SIGNALS_PLUGIN_MAGIC) + " (\"SIGNALS1\")");
  }
  const std::string kernel_abi = AbiText(SIGNALS_ABI_MAJOR, SIGNALS_ABI_MINOR);
  const std::string plugin_abi = AbiText(d->abi_major, d->abi_minor);
  const std::string sdk = d->sdk_version ? d->sdk_version : "?";
  const std::string rebuild = "; rebuild the plugin against an unmodified Signals SDK with ABI " + kernel_abi;
  if (d->abi_major != SIGNALS_ABI_MAJOR) {
    return fail("plugin ABI " + plugin_abi + " (SDK " + sdk + ") is incompatible with this kernel's ABI " +
                kernel_abi + "; rebuild the plugin against a Signals SDK with ABI major " +
                std::to_string(SIGNALS_ABI_MAJOR));
  }
  if (d->abi_minor > SIGNALS_ABI_MINOR) {
    return fail("plugin ABI " + plugin_abi + " (SDK " + sdk + ") is newer than this kernel's ABI " +
                kernel_abi + "; upgrade Signals to a kernel with ABI " + plugin_abi +
                " or later, or rebuild the plugin against a Signals SDK with ABI " + kernel_abi);
  }
  // Same or older minor: the descriptor can be no larger than ours (fields
  // are only appended in newer minors) and must hold every field we read.
  // The descriptor has not grown since ABI 1.0, so today both mean "exactly
  // our size"; a minor that appends to it must accept older minors' sizes here.
  if (d->struct_size != sizeof(signals_plugin_descriptor)) {
    return fail("descriptor is " + std::to_string(d->struct_size) + " bytes, " +
                (d->struct_size > sizeof(signals_plugin_descriptor) ? "larger" : "smaller") + " than the " +
                std::to_string(sizeof(signals_plugin_descriptor)) + " bytes ABI " + plugin_abi +
                " defines (was plugin.h modified?)" + rebuild);
  }
  std::string plugin_name = d->name ? d->name : "";
  if (plugin_name.empty()) return fail("the descriptor has no name");
  if (d->component_count > 0 && d->components == nullptr) {
    return fail("the descriptor declares " + std::to_string(d->component_count) +
                " components but its component table is NULL");
  }

  std::set<std::string> own;
  for (size_t i = 0; i < d->component_count; ++i) {
    const signals_component& c = d->components[i];
    std::string where = "component " + std::to_string(i);
    if (c.struct_size != sizeof(signals_component)) {
      return fail(where + ": component struct is " + std::to_string(c.struct_size) + " bytes, but ABI " +
                  plugin_abi + " defines " + std::to_string(sizeof(signals_component)) +
                  " (was plugin.h modified?)" + rebuild);
    }
    std::string cname = c.name ? c.name : "";
    if (cname.empty()) return fail(where + ": the component has no name");
    where += " '" + cname + "'";
    const KindTable* kind = FindKindTable(c.kind);
    if (kind == nullptr) {
      return fail(where + ": kind " + std::to_string(c.kind) + " (" + KindName(c.kind) +
                  ") is not supported by this kernel's ABI " + kernel_abi + ", which supports " +
                  SupportedKinds());
    }
    // The kernel calls these without testing for NULL; refusing the library
    // here names the member instead of crashing at the first call.
    const std::string required = "; plugin.h marks it \"Required: yes\"";
    if (const char* missing = FirstNullMember(ComponentFunctions(), &c, c.struct_size)) {
      return fail(where + ": required function '" + missing + "' of signals_component is NULL" + required);
    }
    if (c.api == nullptr) {
      return fail(where + ": required member 'api' of signals_component (its " + kind->type +
                  " table) is NULL" + required);
    }
    uint32_t table_size = *static_cast<const uint32_t*>(c.api);
    if (table_size < kind->minimum_size) {
      return fail(where + ": its " + KindName(c.kind) + " function table is " + std::to_string(table_size) +
                  " bytes, but ABI " + plugin_abi + " defines " + std::to_string(kind->minimum_size) +
                  rebuild);
    }
    if (const char* missing = FirstNullMember(kind->required, c.api, table_size)) {
      return fail(where + ": required function '" + missing + "' of " + kind->type + " is NULL" + required);
    }
    if (c.option_count > 0 && c.options == nullptr) {
      return fail(where + ": declares " + std::to_string(c.option_count) +
                  " options but its option table is NULL");
    }
    for (size_t k = 0; k < c.option_count; ++k) {
      const signals_option& o = c.options[k];
      std::string option = "option " + std::to_string(k);
      if (o.struct_size != sizeof(signals_option)) {
        return fail(where + ": " + option + ": option struct is " + std::to_string(o.struct_size) +
                    " bytes, but ABI " + plugin_abi + " defines " + std::to_string(sizeof(signals_option)) +
                    rebuild);
      }
      if (o.name == nullptr || *o.name == '\0') return fail(where + ": " + option + " has no name");
    }
    if (!own.insert(cname).second) {
      return fail(where + ": the library declares a component of this name twice");
    }
    if (const LoadedComponent* existing = Find(cname)) {
      return fail(where + ": already provided by " + existing->origin +
                  "; component names must be unique, so remove one of the two libraries");
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
    // Boost.DLL reports every dlopen failure as "Bad file descriptor"; the
    // reason (missing file, undefined symbol, wrong architecture) is still in
    // dlerror(), as "<path>: <reason>".
    const char* error = dlerror();
    std::string reason = error != nullptr ? error : ec.message();
    if (reason.rfind(path + ": ", 0) == 0) reason.erase(0, path.size() + 2);
    return Status::Config(path + ": cannot load: " + reason);
  }
  if (!lib.has(SIGNALS_PLUGIN_ENTRY_SYMBOL)) {
    return Status::Config(path + ": not a Signals plugin: it does not export '" +
                          std::string(SIGNALS_PLUGIN_ENTRY_SYMBOL) +
                          "'; define it with SIGNALS_PLUGIN(...) from <signals/plugin.hpp>, or in C "
                          "as an extern function with default visibility");
  }
  auto entry = lib.get<const signals_plugin_descriptor*()>(SIGNALS_PLUGIN_ENTRY_SYMBOL);
  const signals_plugin_descriptor* descriptor = nullptr;
  try {
    descriptor = entry();
  } catch (...) {
    return Status::Config(path +
                          ": signals_plugin_entry threw an exception; it must only return "
                          "its static descriptor");
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
