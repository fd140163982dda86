// collector.hpp — one interval's observation, from /proc to what the source
// sends: the scan (scanner.hpp), each module's build-id (elf_info.hpp) and
// Debian package (dpkg_db.hpp), the module graph brought up to date
// (ld_resolver.hpp, module_graph.hpp), and the runtime.module.loaded facts
// aggregated per module and container. No host calls: the source component
// sends what this produces, and the benchmark and the tests run it directly.
//
// State kept between intervals: the ELF cache (files are read again only when
// they change), dpkg's index (read again when dpkg changes it) and the
// accumulated module graph.
//
// Not thread-safe: one worker thread collects.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "dpkg_db.hpp"
#include "ld_resolver.hpp"
#include "module_graph.hpp"
#include "scanner.hpp"

namespace signals::procfs {

struct CollectorOptions {
  std::string proc_dir = "/proc";
  ScanFilter filter;
  uint64_t max_maps_bytes = 16u << 20;
  std::string dpkg_dir = "/var/lib/dpkg";
  std::string deb_vendor = "debian";  // pkg:deb/<vendor>/...
  bool module_graph = true;
  size_t max_graph_nodes = 50000;
  size_t max_facts = 100000;  // aggregated facts one interval may hold
};

// What the collector learnt about one ObservedModule.
struct ModuleInfo {
  bool reported = true;  // false: readable but not ELF (no fact, no node)
  std::string build_id;  // "" when the file has none or could not be read
  std::string soname;
  std::string purl;         // the owning Debian package; "" when none is known
  std::string no_purl;      // why there is no purl: "unowned", "deleted", "other-mount-namespace",
                            // "no-package-database"
  std::string replaced_by;  // deleted files: the purl of the file now at the path
};

// One runtime.module.loaded fact before it is written: a module as mapped by
// the processes of one container (or of the host) in the interval.
struct ModuleFact {
  uint32_t module = 0;       // index into ScanResult::modules
  std::string container_id;  // "" on the host
  uint64_t hits = 0;         // processes that mapped it
  int32_t pid = 0;           // the lowest of them
  std::string process_name;  // its name
};

struct Observation {
  ScanResult scan;
  std::vector<ModuleInfo> modules;  // parallel to scan.modules
  std::vector<ModuleFact> facts;    // sorted by module path, then container id
  uint64_t facts_dropped = 0;       // beyond max_facts
  uint64_t graph_nodes_dropped = 0;
  bool graph_reset = false;  // the graph had reached max_graph_nodes and started over
  double scan_seconds = 0, enrich_seconds = 0, graph_seconds = 0;
};

class Collector {
 public:
  using LogFn = std::function<void(int level, const std::string& message)>;  // SIGNALS_LOG_* levels
  explicit Collector(CollectorOptions options, LogFn log = nullptr);

  // One observation; `stop` is asked between processes.
  Observation Collect(const std::function<bool()>& stop);

  const ModuleGraph& graph() const { return graph_; }
  const DpkgDatabase& dpkg() const { return dpkg_; }
  const ElfCache& elf_cache() const { return cache_; }

 private:
  void RefreshDpkg();
  ModuleInfo Describe(const ObservedModule& module);
  void UpdateGraph(Observation* out);
  void DescribeNode(const std::string& root, const std::string& path, ModuleNode* node);

  CollectorOptions options_;
  LogFn log_;
  ProcScanner scanner_;
  ElfCache cache_;
  DpkgDatabase dpkg_;
  bool dpkg_failed_ = false;  // the last load failed (logged once)
  ModuleGraph graph_;
};

// The NDJSON line of a fact (no trailing newline):
//   {"symbolId":"module:<path>","factType":"runtime.module.loaded","codeId"?,"purl"?,
//    "processId","processName","containerId"?,"hitCount","observedAt",
//    "metadata":{"moduleKind":"executable"|"library","unowned"?:"true","deleted"?:"true",
//                "replacedBy"?,"purlUnknown"?}}
std::string FactLine(const ObservedModule& module, const ModuleInfo& info, const ModuleFact& fact,
                     const std::string& observed_at);

// RFC 3339 in UTC with milliseconds: "2026-12-07T10:00:00.000Z".
std::string Rfc3339Millis(int64_t unix_ms);

}  // namespace signals::procfs
