// collector.cpp — see collector.hpp.
#include "collector.hpp"

#include <signals/plugin.h>
#include <signals/support/json_text.hpp>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <set>

#include "purl.hpp"

namespace signals::procfs {
namespace {

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

Collector::Collector(CollectorOptions options, LogFn log)
    : options_(std::move(options)),
      log_(std::move(log)),
      scanner_(options_.proc_dir, options_.filter, options_.max_maps_bytes) {}

void Collector::RefreshDpkg() {
  if (dpkg_.loaded() && !dpkg_.Changed()) return;
  if (!dpkg_.loaded() && dpkg_failed_) {
    // Not there at the last look either: look again only when it appears.
    if (!dpkg_.Changed()) return;
  }
  std::string problem;
  const auto start = std::chrono::steady_clock::now();
  if (!dpkg_.Load(options_.dpkg_dir, MergedUsrAliases(""), &problem)) {
    if (!dpkg_failed_ && log_) {
      log_(SIGNALS_LOG_WARN, "no Debian package database (" + problem + "): facts carry no purl");
    }
    dpkg_failed_ = true;
    return;
  }
  dpkg_failed_ = false;
  if (log_) {
    char ms[32];
    std::snprintf(ms, sizeof ms, "%.1f", SecondsSince(start) * 1000);
    log_(SIGNALS_LOG_INFO, "read dpkg's database " + options_.dpkg_dir + ": " +
                               std::to_string(dpkg_.package_count()) + " packages, " +
                               std::to_string(dpkg_.path_count()) + " paths, " + ms + " ms, " +
                               std::to_string(dpkg_.memory_bytes() / 1024) + " KiB");
  }
}

ModuleInfo Collector::Describe(const ObservedModule& module) {
  ModuleInfo info;
  // A deleted file is read through map_files (the mapped inode itself; the
  // kernel allows it with CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE): its path
  // now names another file, or none.
  const ElfFile* file = nullptr;
  if (module.deleted) {
    if (!module.map_files.empty()) file = cache_.Get(module.map_files);
  } else {
    file = cache_.Get(module.root + module.path);
  }
  if (file != nullptr && file->readable) {
    info.build_id = file->info.build_id;
    info.soname = file->info.soname;
  } else if (file != nullptr && file->not_elf) {
    info.reported = false;  // mapped executable, but no program or library: a JIT's file
    return info;
  }
  if (module.foreign) {
    info.no_purl = "other-mount-namespace";
  } else if (!dpkg_.loaded()) {
    info.no_purl = "no-package-database";
  } else if (const DebPackage* owner = dpkg_.Owner(module.path)) {
    const std::string purl = DebPurl(options_.deb_vendor, owner->name, owner->version, owner->arch);
    if (module.deleted) {
      info.no_purl = "deleted";
      info.replaced_by = purl;
    } else {
      info.purl = purl;
    }
  } else {
    info.no_purl = module.deleted ? "deleted" : "unowned";
  }
  return info;
}

void Collector::DescribeNode(const std::string& root, const std::string& path, ModuleNode* node) {
  const ElfFile* file = cache_.Get(root + path);
  if (file->readable) {
    node->build_id = file->info.build_id;
    node->soname = file->info.soname;
  }
  if (root.empty() && dpkg_.loaded()) {
    if (const DebPackage* owner = dpkg_.Owner(path)) {
      node->purl = DebPurl(options_.deb_vendor, owner->name, owner->version, owner->arch);
    }
  }
}

void Collector::UpdateGraph(Observation* out) {
  const Observation& observation = *out;
  const ScanResult& scan = observation.scan;
  if (graph_.node_count() >= options_.max_graph_nodes) {
    graph_.Reset();
    out->graph_reset = true;
  }
  std::map<std::string, std::unique_ptr<LibraryResolver>> resolvers;  // by root
  std::set<std::string> done;  // process shapes already resolved in this scan
  auto add_node = [&](const std::string& root, const std::string& path) -> ModuleNode* {
    const bool fresh = graph_.nodes().count(path) == 0;
    ModuleNode* node = graph_.AddNode(path, options_.max_graph_nodes);
    if (node == nullptr) {
      ++out->graph_nodes_dropped;
    } else if (fresh) {
      DescribeNode(root, path, node);
    }
    return node;
  };
  for (const ObservedProcess& process : scan.processes) {
    if (process.exe_module < 0) continue;
    const ObservedModule& exe = scan.modules[process.exe_module];
    if (exe.deleted) continue;  // its file is gone: nothing to resolve from
    std::vector<std::string> dlopened;
    for (uint32_t m : process.modules) {
      const ObservedModule& module = scan.modules[m];
      if (m != static_cast<uint32_t>(process.exe_module) && !module.deleted &&
          observation.modules[m].reported) {
        dlopened.push_back(module.path);
      }
    }
    std::sort(dlopened.begin(), dlopened.end());
    std::string shape = exe.root + '\n' + exe.path;
    for (const std::string& path : dlopened) shape += '\n' + path;
    if (!done.insert(shape).second) continue;
    auto& resolver = resolvers[exe.root];
    if (!resolver) {
      RootFs fs(exe.root);
      resolver = std::make_unique<LibraryResolver>(fs, ReadLdSoConf(fs), &cache_);
    }
    const DependencyTree tree = resolver->ResolveTree(exe.path, dlopened);
    for (const std::string& path : tree.loaded) add_node(exe.root, path);
    for (const auto& [from, to] : tree.edges) {
      const bool interp = from == exe.path && to == tree.interpreter;
      graph_.AddEdge(from, to, interp ? "PT_INTERP" : "DT_NEEDED");
    }
    for (const auto& [from, name] : tree.unresolved) {
      if (ModuleNode* node = add_node(exe.root, from)) node->unresolved.insert(name);
    }
  }
  // Every observed module is a node, resolvable or not (a deleted library
  // still ran), and every executable an entrypoint.
  for (size_t m = 0; m < scan.modules.size(); ++m) {
    const ObservedModule& module = scan.modules[m];
    const ModuleInfo& info = observation.modules[m];
    if (!info.reported) continue;
    const bool fresh = graph_.nodes().count(module.path) == 0;
    ModuleNode* node = graph_.AddNode(module.path, options_.max_graph_nodes);
    if (node == nullptr) {
      ++out->graph_nodes_dropped;
      continue;
    }
    node->executable = node->executable || module.executable;
    if (fresh || (!module.deleted && !info.build_id.empty())) {
      node->build_id = info.build_id;
      node->soname = info.soname;
      if (!info.purl.empty()) node->purl = info.purl;
    }
  }
}

Observation Collector::Collect(const std::function<bool()>& stop) {
  Observation out;
  auto start = std::chrono::steady_clock::now();
  out.scan = scanner_.Scan(stop);
  out.scan_seconds = SecondsSince(start);

  start = std::chrono::steady_clock::now();
  cache_.BeginScan();
  RefreshDpkg();
  out.modules.reserve(out.scan.modules.size());
  for (const ObservedModule& module : out.scan.modules) out.modules.push_back(Describe(module));

  // Aggregate: one fact per (module, container), counting processes.
  std::map<std::pair<uint32_t, std::string>, ModuleFact> facts;
  for (const ObservedProcess& process : out.scan.processes) {
    for (uint32_t m : process.modules) {
      if (!out.modules[m].reported) continue;
      auto key = std::make_pair(m, process.container_id);
      auto it = facts.find(key);
      if (it == facts.end()) {
        if (facts.size() >= options_.max_facts) {
          ++out.facts_dropped;
          continue;
        }
        ModuleFact fact;
        fact.module = m;
        fact.container_id = process.container_id;
        fact.pid = process.pid;  // processes come by pid: the first is the lowest
        fact.process_name = process.name;
        it = facts.emplace(std::move(key), std::move(fact)).first;
      }
      ++it->second.hits;
    }
  }
  out.facts.reserve(facts.size());
  for (auto& [key, fact] : facts) out.facts.push_back(std::move(fact));
  std::sort(out.facts.begin(), out.facts.end(), [&](const ModuleFact& a, const ModuleFact& b) {
    const std::string& pa = out.scan.modules[a.module].path;
    const std::string& pb = out.scan.modules[b.module].path;
    return pa != pb ? pa < pb : a.container_id < b.container_id;
  });
  out.enrich_seconds = SecondsSince(start);

  start = std::chrono::steady_clock::now();
  if (options_.module_graph) UpdateGraph(&out);
  cache_.Sweep();
  out.graph_seconds = SecondsSince(start);
  return out;
}

std::string Rfc3339Millis(int64_t unix_ms) {
  const time_t seconds = static_cast<time_t>(unix_ms / 1000);
  std::tm tm{};
  ::gmtime_r(&seconds, &tm);
  char text[96];  // room for any int the format could print
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(unix_ms % 1000));
  return text;
}

std::string FactLine(const ObservedModule& module, const ModuleInfo& info, const ModuleFact& fact,
                     const std::string& observed_at) {
  support::JsonWriter w;
  w.BeginObject()
      .Key("symbolId")
      .String(ModuleGraph::NodeId(module.path))
      .Key("factType")
      .String("runtime.module.loaded");
  if (!info.build_id.empty()) w.Key("codeId").String(info.build_id);
  if (!info.purl.empty()) w.Key("purl").String(info.purl);
  w.Key("processId").Int(fact.pid).Key("processName").String(fact.process_name);
  if (!fact.container_id.empty()) w.Key("containerId").String(fact.container_id);
  w.Key("hitCount").Uint(fact.hits).Key("observedAt").String(observed_at);
  w.Key("metadata").BeginObject().Key("moduleKind").String(module.executable ? "executable" : "library");
  if (info.no_purl == "unowned") {
    w.Key("unowned").String("true");
  } else if (info.no_purl == "deleted") {
    w.Key("deleted").String("true");
    if (!info.replaced_by.empty()) w.Key("replacedBy").String(info.replaced_by);
  } else if (!info.no_purl.empty()) {
    w.Key("purlUnknown").String(info.no_purl);
  }
  w.EndObject().EndObject();
  return w.text();
}

}  // namespace signals::procfs
