// ReachabilityGraph: a stored callgraph in compact CSR form (README.md#reachability-drift-and-vex).
//
// Node ids are interned to uint32 indices in sorted (bytewise) id order, so
// "ties broken by node id" is simply "smallest index". Each node may carry a
// symbol id (node member "symbolKey", "symbol_id" or "symbolId", first present
// wins; "" when none). Edges are deduplicated (kinds are ignored: any edge is a
// possible call); self-loops are kept and harmless.
//
// Loaded graphs are immutable and shared; an LRU cache bounded by the kernel
// option [reachability] cache_graphs keeps the most recently used ones. The
// multi-source BFS from all entrypoints is computed once per cached graph.
// Thread-safety: LoadReachabilityGraph and every const method may be called
// from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.hpp"
#include "core/kernel.hpp"

namespace signals {

// Splits streamed chunks into non-empty lines (a trailing CR is dropped).
class NdjsonLineSplitter {
 public:
  explicit NdjsonLineSplitter(std::function<Status(std::string_view)> on_line)
      : on_line_(std::move(on_line)) {}
  Status Write(std::string_view chunk) {
    while (!chunk.empty()) {
      size_t nl = chunk.find('\n');
      if (nl == std::string_view::npos) {
        pending_.append(chunk);
        return Status::Ok();
      }
      if (pending_.empty()) {
        SIGNALS_RETURN_IF_ERROR(Line(chunk.substr(0, nl)));
      } else {
        pending_.append(chunk.substr(0, nl));
        std::string line = std::move(pending_);
        pending_.clear();
        SIGNALS_RETURN_IF_ERROR(Line(line));
      }
      chunk.remove_prefix(nl + 1);
    }
    return Status::Ok();
  }
  Status Finish() {
    if (pending_.empty()) return Status::Ok();
    std::string line = std::move(pending_);
    pending_.clear();
    return Line(line);
  }

 private:
  Status Line(std::string_view line) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) return Status::Ok();
    return on_line_(line);
  }
  std::function<Status(std::string_view)> on_line_;
  std::string pending_;
};

inline constexpr uint32_t kNoNode = 0xFFFFFFFFu;

// Shortest distances and deterministic parents from all entrypoints.
struct BfsResult {
  std::vector<uint32_t> distance;  // kNoNode when unreachable
  std::vector<uint32_t> parent;    // kNoNode for entrypoints and unreachable nodes
};

class ReachabilityGraph {
 public:
  std::string graph_id;
  std::string digest;  // manifest digest of the canonical form
  std::string tenant;
  std::string component_purl;           // canonical
  std::string component;                // the canonical purl without version and qualifiers: "same component"
  std::vector<std::string> node_ids;    // sorted
  std::vector<std::string> symbol_ids;  // per node; "" = none
  std::vector<uint32_t> offsets;        // size n+1
  std::vector<uint32_t> successors;     // sorted, unique per node
  std::vector<uint32_t> entrypoints;    // sorted, unique
  // (symbol id, node index) sorted: nodes by symbol.
  std::vector<std::pair<std::string, uint32_t>> by_symbol;

  size_t node_count() const { return node_ids.size(); }
  size_t edge_count() const { return successors.size(); }

  std::optional<uint32_t> FindNode(std::string_view id) const;
  // Nodes whose symbol id is `symbol`, ascending.
  std::vector<uint32_t> FindSymbol(std::string_view symbol) const;
  // A target (node id first, then symbol id): the smallest matching node.
  std::optional<uint32_t> Resolve(std::string_view target) const;

  // Multi-source BFS from every entrypoint (computed on first call, then shared).
  // Parent of a node = the smallest node index among its predecessors at
  // distance d-1.
  const BfsResult& Bfs() const;

  // Node ids from an entrypoint to `node`; empty when unreachable.
  std::vector<std::string> PathTo(uint32_t node) const;

  // Builds the CSR from parsed parts (for loaders and tests). `edges` are
  // (from, to) indices; duplicates allowed.
  static std::shared_ptr<ReachabilityGraph> Build(std::vector<std::string> node_ids,
                                                  std::vector<std::string> symbol_ids,
                                                  std::vector<std::pair<uint32_t, uint32_t>> edges,
                                                  std::vector<uint32_t> entrypoints);

 private:
  mutable std::once_flag bfs_once_;
  mutable BfsResult bfs_;
};

// The graph `graph_id` (the caller has authorised access), from the cache or
// the CAS. kNotFound for an unknown graph.
Result<std::shared_ptr<const ReachabilityGraph>> LoadReachabilityGraph(Kernel& kernel,
                                                                       const std::string& graph_id);

// Cache statistics (process-wide): loads from the CAS and cache hits.
struct ReachabilityCacheStats {
  uint64_t loads = 0;
  uint64_t hits = 0;
  size_t size = 0;
};
ReachabilityCacheStats GetReachabilityCacheStats();

}  // namespace signals
