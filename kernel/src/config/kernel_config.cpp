#include "config/kernel_config.hpp"

#include <filesystem>
#include <set>
#include <sstream>
#include <string_view>

namespace signals {
namespace {

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

using sdkopt = signals_option;

constexpr sdkopt Opt(const char* name, uint32_t type, const char* def, const char* description,
                     const char* enums = nullptr, int64_t min = 0, int64_t max = 0) {
  return sdkopt{sizeof(sdkopt), name, type, 0, def, description, enums, min, max};
}

const sdkopt kKernelOptions[] = {
    Opt("data_dir", SIGNALS_OPT_PATH, "var/signals",
        "Directory for all state; relative plugin paths resolve against it."),
    Opt("plugin_dir", SIGNALS_OPT_PATH, nullptr,
        "Directory of plugin libraries (default: ../lib/signals/plugins next to the binary)."),
    Opt("plugin_path", SIGNALS_OPT_STRING, "",
        "More directories of plugin libraries, ':'-separated, loaded after plugin_dir (relative ones resolve "
        "against the data directory); an instance's plugin may also be the path of a .so."),
    Opt("log_level", SIGNALS_OPT_ENUM, "info", "Least severe log level printed.",
        "trace|debug|info|warn|error"),
    Opt("log_format", SIGNALS_OPT_ENUM, "human", "Log line format on stderr.", "human|json"),
    Opt("zstd_level", SIGNALS_OPT_INT, "3", "zstd compression level for stored blobs.", nullptr, 1, 19),
    Opt("max_line_bytes", SIGNALS_OPT_SIZE, "1MiB", "Longest accepted NDJSON line; bounds memory per ingest.",
        nullptr, 1024, 64LL << 20),
    Opt("ingest_pipeline_memory", SIGNALS_OPT_SIZE, "4MiB",
        "Memory one ingest may hold between reading and compressing (hashing and zstd run on a "
        "second thread, beside validation).",
        nullptr, 512LL << 10, 1LL << 30),
    // 64: the deepest valid input (a callgraph node attribute) is a few levels;
    // every reader recurses per level somewhere, and 1000 levels fit any stack.
    Opt("max_json_depth", SIGNALS_OPT_INT, "64",
        "Deepest nesting of arrays and objects accepted in JSON from outside (service requests, "
        "runtime facts, callgraphs); deeper input is refused (rule max-depth) before it is parsed.",
        nullptr, 1, 1000),
    Opt("callgraph_max_id_bytes", SIGNALS_OPT_SIZE, "1KiB",
        "Longest callgraph node id or edge endpoint accepted at ingest (rule id-length); 1 KiB like a "
        "runtime fact's symbolId.",
        nullptr, 16, 1LL << 20),
    Opt("callgraph_max_string_bytes", SIGNALS_OPT_SIZE, "4KiB",
        "Longest typed string member of a callgraph record (name, kind, namespace, file, …) accepted at "
        "ingest (rule string-length).",
        nullptr, 16, 64LL << 20),
    Opt("max_fact_types", SIGNALS_OPT_INT, "256", "Most distinct factType values in one batch.", nullptr, 1,
        100000),
    // 512MiB: a 1M-node/5M-edge graph of short ids takes about 350 MiB in the
    // in-memory table, which canonicalizes it an order of magnitude faster
    // than the external sort.
    Opt("callgraph_sort_memory", SIGNALS_OPT_SIZE, "512MiB",
        "Memory one callgraph ingest may hold its graph in while it canonicalizes it; a larger graph "
        "moves to an external sort whose runs (a quarter of this each) spill to files under "
        "<data_dir>/tmp and are merged.",
        nullptr, 1024, 1LL << 40),
    Opt("callgraph_max_document_bytes", SIGNALS_OPT_SIZE, "1GiB",
        "Largest callgraph JSON document (held in memory while read); larger graphs are sent as "
        "canonical NDJSON, which streams.",
        nullptr, 1024, 4000LL << 20),
};

const sdkopt kProvenanceOptions[] = {
    Opt("rekor_enabled", SIGNALS_OPT_BOOL, "false",
        "Write attestations to the transparency log ([tlog] section)."),
};

const sdkopt kSigningOptions[] = {
    Opt("plugin", SIGNALS_OPT_STRING, "signer-ed25519", "The signer plugin."),
    Opt("algorithm", SIGNALS_OPT_ENUM, "Ed25519", "Signature algorithm; must match the signer's key.",
        "Ed25519|ECDSA-P256-SHA256"),
    Opt("sign_manifests", SIGNALS_OPT_BOOL, "true", "Sign callgraph manifests."),
};

const sdkopt kRetentionOptions[] = {
    Opt("runtime_facts_days", SIGNALS_OPT_INT, "90",
        "Days after ingest before runtime-fact blobs and provenance records are deleted.", nullptr, 1, 36500),
    Opt("orphan_callgraphs_days", SIGNALS_OPT_INT, "30",
        "Days after creation before unreferenced callgraphs are deleted.", nullptr, 1, 36500),
    Opt("gc_interval", SIGNALS_OPT_DURATION, "1h",
        "How often signalsd runs retention GC (first right after start); 0 disables it "
        "(`signalsctl gc` still works).",
        nullptr, 0, 365LL * 86400 * 1000),
};

const sdkopt kAuthOptions[] = {
    Opt("policy_file", SIGNALS_OPT_PATH, nullptr,
        "Access policy file ([principal] resource = read|write|read-write|none); default: the built-in "
        "matrix."),
    Opt("idempotency_ttl", SIGNALS_OPT_DURATION, "24h", "How long an Idempotency-Key answer is replayed.",
        nullptr, 1000, 365LL * 86400 * 1000),
};

const sdkopt kReachabilityOptions[] = {
    Opt("cache_graphs", SIGNALS_OPT_INT, "4",
        "Most callgraphs kept loaded (CSR form and BFS) for reachability, drift and VEX; least "
        "recently used ones are evicted. 0 disables the cache.",
        nullptr, 0, 1024),
};

const sdkopt kPluginKeyOnly[] = {
    Opt("plugin", SIGNALS_OPT_STRING, nullptr, "The plugin that provides this instance."),
};

template <size_t N>
OptionTable Table(const sdkopt (&options)[N]) {
  return OptionTable{options, N};
}

bool IsInstanceSection(const std::string& section) {
  static const std::set<std::string> kFixed = {"cas", "index", "signing", "tlog", "metrics"};
  if (kFixed.count(section)) return true;
  for (const char* prefix : {"transport.", "source."}) {
    std::string p(prefix);
    if (section.size() > p.size() && section.rfind(p, 0) == 0) {
      std::string name = section.substr(p.size());
      bool ok = !name.empty() && name.size() <= 63;
      for (char c : name)
        ok = ok && (std::islower(static_cast<unsigned char>(c)) ||
                    std::isdigit(static_cast<unsigned char>(c)) || c == '-');
      return ok;
    }
  }
  return false;
}

// The component kind an instance section must have.
uint32_t ExpectedKind(const std::string& section) {
  if (section == "cas") return SIGNALS_KIND_CAS;
  if (section == "index") return SIGNALS_KIND_INDEX;
  if (section == "signing") return SIGNALS_KIND_SIGNER;
  if (section == "tlog") return SIGNALS_KIND_TLOG;
  if (section == "metrics") return SIGNALS_KIND_METRICS;
  if (section.rfind("transport.", 0) == 0) return SIGNALS_KIND_TRANSPORT;
  return SIGNALS_KIND_SOURCE;
}

std::string AbsolutePath(const std::string& path) {
  std::filesystem::path p(path);
  if (p.is_relative()) p = std::filesystem::current_path() / p;
  return p.lexically_normal().string();
}

}  // namespace

const std::vector<std::string>& KernelSections() {
  static const std::vector<std::string> kSections = {"kernel",    "provenance", "signing",
                                                     "retention", "auth",       "reachability"};
  return kSections;
}

OptionTable KernelOptionTable(const std::string& section) {
  if (section == "kernel") return Table(kKernelOptions);
  if (section == "provenance") return Table(kProvenanceOptions);
  if (section == "signing") return Table(kSigningOptions);
  if (section == "retention") return Table(kRetentionOptions);
  if (section == "auth") return Table(kAuthOptions);
  if (section == "reachability") return Table(kReachabilityOptions);
  return OptionTable{};
}

const std::string& KernelConfig::Get(const std::string& section, const std::string& key) const {
  static const std::string kEmpty;
  auto s = kernel.find(section);
  if (s == kernel.end()) return kEmpty;
  auto k = s->second.find(key);
  return k == s->second.end() ? kEmpty : k->second;
}

int64_t KernelConfig::GetInt(const std::string& section, const std::string& key) const {
  const std::string& v = Get(section, key);
  return v.empty() ? 0 : std::stoll(v);
}

bool KernelConfig::GetBool(const std::string& section, const std::string& key) const {
  return Get(section, key) == "true";
}

const InstanceConfig* KernelConfig::Instance(const std::string& section) const {
  for (const auto& i : instances) {
    if (i.section == section) return &i;
  }
  return nullptr;
}

Result<KernelPaths> ResolveKernelPaths(const Settings& settings) {
  KernelPaths paths;
  const SettingValue* data_dir = settings.Find("kernel", "data_dir");
  paths.data_dir = AbsolutePath(data_dir ? data_dir->value : "var/signals");
  const SettingValue* plugin_dir = settings.Find("kernel", "plugin_dir");
  if (plugin_dir) {
    std::filesystem::path p(plugin_dir->value);
    if (p.is_relative()) p = std::filesystem::path(paths.data_dir) / p;
    paths.plugin_dir = p.lexically_normal().string();
  } else {
    paths.plugin_dir = DefaultPluginDir();
  }
  if (const SettingValue* extra = settings.Find("kernel", "plugin_path")) {
    size_t start = 0;
    while (start <= extra->value.size()) {
      size_t end = extra->value.find(':', start);
      if (end == std::string::npos) end = extra->value.size();
      std::filesystem::path p(extra->value.substr(start, end - start));
      if (!p.empty()) {
        if (p.is_relative()) p = std::filesystem::path(paths.data_dir) / p;
        paths.plugin_path.push_back(p.lexically_normal().string());
      }
      start = end + 1;
    }
  }
  return paths;
}

std::string PluginLibraryPath(const std::string& plugin_value, const std::string& data_dir) {
  const bool is_file =
      plugin_value.find('/') != std::string::npos ||
      (plugin_value.size() > 3 && plugin_value.compare(plugin_value.size() - 3, 3, ".so") == 0);
  if (!is_file) return "";
  std::filesystem::path p(plugin_value);
  if (p.is_relative()) p = std::filesystem::path(data_dir) / p;
  return p.lexically_normal().string();
}

bool ExposeCasLeftovers(InstanceConfig& cas) {
  const signals_component* component = cas.component->component;
  for (size_t i = 0; i < component->option_count; ++i) {
    if (std::string_view(component->options[i].name) == "list_leftovers") {
      cas.options["list_leftovers"] = "true";
      return true;
    }
  }
  return false;
}

Result<KernelConfig> ResolveConfig(const Settings& settings, const PluginRegistry& registry) {
  std::vector<std::string> problems;
  KernelConfig config;
  auto paths = ResolveKernelPaths(settings);
  if (!paths.ok()) return paths.status();
  config.data_dir = paths->data_dir;
  config.plugin_dir = paths->plugin_dir;
  config.config_file = settings.file;

  auto raw_of = [](const std::map<std::string, SettingValue>& keys) {
    std::map<std::string, std::string> raw;
    for (const auto& [k, v] : keys) raw[k] = v.value;
    return raw;
  };
  auto origin_of = [&](const std::string& section) {
    auto s = settings.sections.find(section);
    std::set<std::string> origins;
    if (s != settings.sections.end()) {
      for (const auto& [k, v] : s->second) origins.insert(v.origin);
    }
    std::string out;
    for (const auto& o : origins) out += (out.empty() ? "" : ", ") + o;
    return out;
  };
  // Where the value a problem is about came from: the origin of the key the
  // problem names ("option 'k'"), else of every key of the section. With
  // file, environment and command line mixed in one section, naming them all
  // would not say which one to fix.
  auto origin_for = [&](const std::string& section, const std::string& problem) {
    auto s = settings.sections.find(section);
    if (s != settings.sections.end()) {
      for (const auto& [k, v] : s->second) {
        if (problem.find("option '" + k + "'") != std::string::npos) return v.origin;
      }
    }
    return origin_of(section);
  };
  auto key_origin = [&](const std::string& section, const std::string& key) {
    const SettingValue* value = settings.Find(section, key);
    return value != nullptr ? value->origin : origin_of(section);
  };

  // Kernel sections without instances are validated whether present or not,
  // so that their defaults exist.
  for (const auto& section : KernelSections()) {
    if (section == "signing") continue;
    auto it = settings.sections.find(section);
    std::map<std::string, std::string> raw;
    if (it != settings.sections.end()) raw = raw_of(it->second);
    if (section == "kernel") raw.erase("data_dir"), raw.erase("plugin_dir");
    std::vector<std::string> local;
    config.kernel[section] =
        ValidateOptions(KernelOptionTable(section), raw, "[" + section + "]", config.data_dir, &local);
    for (auto& p : local) problems.push_back(p + " (" + origin_for(section, p) + ")");
  }
  config.kernel["kernel"]["data_dir"] = config.data_dir;
  config.kernel["kernel"]["plugin_dir"] = config.plugin_dir;

  for (const auto& [section, keys] : settings.sections) {
    bool kernel_section = false;
    for (const auto& k : KernelSections()) kernel_section = kernel_section || k == section;
    if (kernel_section && section != "signing") continue;
    if (!IsInstanceSection(section)) {
      std::vector<std::string> candidates = KernelSections();
      for (const char* s : {"cas", "index", "tlog", "metrics", "transport.http"}) candidates.push_back(s);
      std::string message = "[" + section + "]: unknown section";
      if (auto suggestion = SuggestClosest(section, candidates)) {
        message += "; did you mean [" + *suggestion + "]?";
      } else {
        message +=
            "; sections are kernel, provenance, signing, retention, auth, reachability, "
            "cas, index, tlog, metrics, transport.<name>, source.<name>";
      }
      problems.push_back(message + " (" + origin_of(section) + ")");
      continue;
    }
    std::map<std::string, std::string> raw = raw_of(keys);
    auto plugin_it = raw.find("plugin");
    if (plugin_it == raw.end() || plugin_it->second.empty()) {
      // Sections with an obvious plugin need not name it, so that for example
      // `--transport.http.listen=127.0.0.1:8080` alone turns the REST API on.
      if (section == "signing")
        plugin_it = raw.emplace("plugin", "signer-ed25519").first;
      else if (section == "transport.http")
        plugin_it = raw.emplace("plugin", "transport-http").first;
      else {
        problems.push_back("[" + section + "]: key 'plugin' is required in an instance section (" +
                           origin_of(section) + ")");
        continue;
      }
    }
    std::string plugin = plugin_it->second;
    raw.erase("plugin");
    const std::string library = PluginLibraryPath(plugin, config.data_dir);
    if (!library.empty()) {
      // A library named by path: its one component of the kind this section needs.
      const LoadedComponent* found = nullptr;
      std::vector<std::string> names;
      for (const auto& c : registry.components()) {
        if (c.origin != library) continue;
        names.emplace_back(c.component->name);
        if (c.component->kind == ExpectedKind(section)) found = &c;
      }
      if (found == nullptr) {
        std::string what =
            names.empty() ? "no plugin library was loaded from " + library + " (see the loader's message)"
                          : library + " has no " + KindName(ExpectedKind(section)) +
                                " component (it has: " + JoinNames(names) + ")";
        problems.push_back("[" + section + "] plugin: " + what + " (" + key_origin(section, "plugin") + ")");
        continue;
      }
      plugin = found->component->name;
    }
    const LoadedComponent* component = registry.Find(plugin);
    if (component == nullptr) {
      std::vector<std::string> names;
      for (const auto& c : registry.components()) names.emplace_back(c.component->name);
      std::string message =
          "[" + section + "] plugin: no plugin component named '" + plugin + "' in " + config.plugin_dir;
      if (plugin == "tlog-rekor") {
        message += "; this build has no transparency-log plugin (built with SIGNALS_WITH_REKOR=OFF?)";
      } else if (auto suggestion = SuggestClosest(plugin, names)) {
        message += "; did you mean '" + *suggestion + "'?";
      }
      problems.push_back(message + " (" + key_origin(section, "plugin") + ")");
      continue;
    }
    if (component->component->kind != ExpectedKind(section)) {
      problems.push_back("[" + section + "] plugin: '" + plugin + "' is a " +
                         KindName(component->component->kind) + " plugin, but [" + section + "] needs a " +
                         KindName(ExpectedKind(section)) + " plugin");
      continue;
    }
    InstanceConfig instance;
    instance.section = section;
    instance.component = component;
    std::map<std::string, std::string> plugin_raw = raw;
    if (section == "signing") {
      std::map<std::string, std::string> kernel_raw;
      OptionTable table = KernelOptionTable("signing");
      for (const auto& name : table.Names()) {
        if (name == "plugin") continue;
        auto it = plugin_raw.find(name);
        if (it != plugin_raw.end()) {
          kernel_raw[name] = it->second;
          plugin_raw.erase(it);
        }
      }
      std::vector<std::string> local;
      OptionTable without_plugin{table.options + 1, table.count - 1};
      config.kernel["signing"] =
          ValidateOptions(without_plugin, kernel_raw, "[signing]", config.data_dir, &local);
      config.kernel["signing"]["plugin"] = plugin;
      for (auto& p : local) problems.push_back(p + " (" + origin_for(section, p) + ")");
    }
    OptionTable table{component->component->options, component->component->option_count};
    std::vector<std::string> local;
    instance.options =
        ValidateOptions(table, plugin_raw, "[" + section + "] (" + plugin + ")", config.data_dir, &local);
    for (auto& p : local) problems.push_back(p + " (" + origin_for(section, p) + ")");
    config.instances.push_back(std::move(instance));
  }
  for (const char* required : {"cas", "index", "signing"}) {
    if (config.Instance(required) == nullptr && settings.sections.count(required) == 0) {
      problems.push_back(std::string("[") + required + "]: section is required (set plugin = ...)");
    }
  }
  if (config.GetBool("provenance", "rekor_enabled") && config.Instance("tlog") == nullptr &&
      settings.sections.count("tlog") == 0) {
    std::string message = "[provenance] rekor_enabled: true, but no [tlog] instance is configured";
    if (registry.Find("tlog-rekor") == nullptr) {
      message +=
          " and this build has no tlog-rekor plugin (air-gap build); set "
          "provenance.rekor_enabled = false";
    }
    problems.push_back(message);
  }
  if (!problems.empty()) {
    std::string message;
    for (const auto& p : problems) message += (message.empty() ? "" : "\n") + p;
    return Status::Config(message);
  }
  return config;
}

std::string DescribeConfiguration(const PluginRegistry& registry) {
  std::ostringstream out;
  out << "Kernel sections:\n";
  for (const auto& section : KernelSections()) {
    OptionTable table = KernelOptionTable(section);
    if (table.count == 0) continue;
    out << "[" << section << "]\n" << DescribeOptions(table, section);
  }
  out << "\nPlugins (an instance section sets plugin = <name>):\n";
  for (const auto& c : registry.components()) {
    out << "\n"
        << c.component->name << " (" << KindName(c.component->kind) << ", "
        << (c.plugin->version ? c.plugin->version : "?") << ") — "
        << (c.component->description ? c.component->description : "") << "\n";
    std::string section = c.component->kind == SIGNALS_KIND_SIGNER      ? "signing"
                          : c.component->kind == SIGNALS_KIND_TRANSPORT ? "transport.<name>"
                          : c.component->kind == SIGNALS_KIND_SOURCE    ? "source.<name>"
                                                                        : KindName(c.component->kind);
    out << DescribeOptions(OptionTable{c.component->options, c.component->option_count}, section);
  }
  return out.str();
}

}  // namespace signals
