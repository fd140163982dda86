// module_graph.hpp — the module graph of a host as a stella.callgraph.v1
// document: a node per executable and shared library ("module:<path>", the
// symbolId of the runtime.module.loaded facts, so facts mark nodes as
// observed), an edge per resolved DT_NEEDED (and PT_INTERP), an entrypoint
// per executable a process was seen running.
//
// The graph accumulates: what one scan adds stays until the node limit is
// reached, so that short-lived processes do not make every interval's graph
// different (each change is a new stored callgraph, and the facts of one
// interval count only for the graph they are linked to). Reset() starts over.
//
// The document is written with sorted nodes, edges and entrypoints, so the
// same graph gives the same bytes, and a change shows as a different digest
// of them. Not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>

#include "fnv.hpp"

namespace signals::procfs {

struct ModuleNode {
  bool executable = false;  // some process ran it (an entrypoint)
  std::string build_id;
  std::string soname;
  std::string purl;
  std::set<std::string> unresolved;  // DT_NEEDED names no search directory held
};

class ModuleGraph {
 public:
  // The node id of a module path: "module:" + path.
  static std::string NodeId(const std::string& path) { return "module:" + path; }

  // The node of `path`, added when new; nullptr when it is new and the graph
  // already holds `max_nodes`.
  ModuleNode* AddNode(const std::string& path, size_t max_nodes);
  // Both ends must be nodes; false (nothing added) otherwise. `reason` is
  // "DT_NEEDED" or "PT_INTERP".
  bool AddEdge(const std::string& from, const std::string& to, const char* reason);
  void Reset();

  size_t node_count() const { return nodes_.size(); }
  size_t edge_count() const { return edges_.size(); }
  size_t entrypoint_count() const;
  const std::map<std::string, ModuleNode>& nodes() const { return nodes_; }

  // The stella.callgraph.v1 document:
  //   {"schema":"stella.callgraph.v1",
  //    "nodes":[{"id":"module:/usr/bin/x","kind":"executable"|"library","name":"x",
  //              "purl"?:"pkg:deb/…","attributes"?:{"buildId"?,"soname"?,"unresolvedNeeded"?:[…]}}],
  //    "edges":[{"sourceId","targetId","kind":"static","reason":"DT_NEEDED"|"PT_INTERP"}],
  //    "entrypoints":[{"nodeId","kind":"main"}]}
  std::string ToJson() const;

 private:
  std::map<std::string, ModuleNode> nodes_;                           // by path
  std::map<std::pair<std::string, std::string>, const char*> edges_;  // (from, to) -> reason
};

}  // namespace signals::procfs
