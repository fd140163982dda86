// module_graph.cpp — see module_graph.hpp.
#include "module_graph.hpp"

#include <signals/support/json_text.hpp>

namespace signals::procfs {

ModuleNode* ModuleGraph::AddNode(const std::string& path, size_t max_nodes) {
  auto it = nodes_.find(path);
  if (it != nodes_.end()) return &it->second;
  if (nodes_.size() >= max_nodes) return nullptr;
  return &nodes_[path];
}

bool ModuleGraph::AddEdge(const std::string& from, const std::string& to, const char* reason) {
  if (nodes_.count(from) == 0 || nodes_.count(to) == 0) return false;
  edges_.emplace(std::make_pair(from, to), reason);
  return true;
}

void ModuleGraph::Reset() {
  nodes_.clear();
  edges_.clear();
}

size_t ModuleGraph::entrypoint_count() const {
  size_t n = 0;
  for (const auto& [path, node] : nodes_) n += node.executable ? 1 : 0;
  return n;
}

std::string ModuleGraph::ToJson() const {
  support::JsonWriter w;
  w.BeginObject().Key("schema").String("stella.callgraph.v1").Key("nodes").BeginArray();
  for (const auto& [path, node] : nodes_) {
    w.BeginObject().Key("id").String(NodeId(path));
    w.Key("kind").String(node.executable ? "executable" : "library");
    w.Key("name").String(path.substr(path.rfind('/') + 1));
    if (!node.purl.empty()) w.Key("purl").String(node.purl);
    if (!node.build_id.empty() || !node.soname.empty() || !node.unresolved.empty()) {
      w.Key("attributes").BeginObject();
      if (!node.build_id.empty()) w.Key("buildId").String(node.build_id);
      if (!node.soname.empty()) w.Key("soname").String(node.soname);
      if (!node.unresolved.empty()) {
        w.Key("unresolvedNeeded").BeginArray();
        for (const std::string& name : node.unresolved) w.String(name);
        w.EndArray();
      }
      w.EndObject();
    }
    w.EndObject();
  }
  w.EndArray().Key("edges").BeginArray();
  for (const auto& [edge, reason] : edges_) {
    w.BeginObject()
        .Key("sourceId")
        .String(NodeId(edge.first))
        .Key("targetId")
        .String(NodeId(edge.second))
        .Key("kind")
        .String("static")
        .Key("reason")
        .String(reason)
        .EndObject();
  }
  w.EndArray().Key("entrypoints").BeginArray();
  for (const auto& [path, node] : nodes_) {
    if (node.executable)
      w.BeginObject().Key("nodeId").String(NodeId(path)).Key("kind").String("main").EndObject();
  }
  w.EndArray().EndObject();
  return w.text();
}

}  // namespace signals::procfs
