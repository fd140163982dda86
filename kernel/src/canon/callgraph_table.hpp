// CallgraphTable: a graph's records held in memory in a compact form, and
// the sorted canonical NDJSON written from them (kernel/README.md#callgraphs). The
// canonicalizer (callgraph_canonicalizer.hpp) keeps a graph here while it
// fits in kernel.callgraph_sort_memory, and hands it to its external sort
// (Replay) once it does not.
//
// Form: every string that is a node id or an edge endpoint is stored once and
// known by a 32-bit number; an edge is four numbers (from, to, kind and its
// line, which a bare edge does not need: see CallgraphRecord::bare_edge).
// At Emit the ids are ranked by their bytes once, and nodes and edges are
// radix-sorted as integer tuples; only records that tie on every id compare
// their lines.
//
// Records come in any order, and ids in a random order cost a cache miss
// each: Add queues records and looks their ids up in batches, prefetching
// the hash slots and then the stored strings of a whole batch, so that the
// misses overlap instead of following one another.
//
// The output and the error reported are the external sort's (same bytes,
// same rule, same position); the unit tests compare the two record for
// record. Memory: memory_bytes() is what Add keeps; Emit needs a second copy
// of the node or edge array while it sorts it, and the ids' JSON text.
// Not thread-safe: one thread drives one table.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.hpp"
#include "canon/callgraph_formats.hpp"

namespace signals {

// What refers to a node id, in the order in which references to one unknown
// id are reported (the first reported is the least).
enum class NodeReference : uint8_t { kEntrypoint = 0, kEdgeFrom = 1, kEdgeTo = 2 };

// "edge-endpoint" / "entrypoint-node": `id` is not a node.
Status UnknownNodeError(CallgraphDialect dialect, NodeReference reference, uint64_t position,
                        std::string_view id);

// "node-unique": node `id` is given at positions a and b with different content.
Status NodeGivenTwiceError(CallgraphDialect dialect, std::string_view id, uint64_t a, uint64_t b);

class CallgraphTable {
 public:
  // Receives canonical lines in output order (without '\n').
  using LineSink = std::function<Status(std::string_view line)>;

  // What Replay hands on: every node record; for each referenced id its first
  // reference (in NodeReference, then position order); every edge (`line`
  // written out for bare edges too) and entrypoint record.
  class Visitor {
   public:
    virtual ~Visitor() = default;
    virtual Status Node(std::string_view id, std::string_view line, uint64_t position) = 0;
    virtual Status Reference(std::string_view id, NodeReference reference, uint64_t position) = 0;
    virtual Status Edge(std::string_view from, std::string_view to, std::string_view kind,
                        std::string_view line) = 0;
    virtual Status Entrypoint(std::string_view id, std::string_view line) = 0;
  };

  struct Counts {
    uint64_t nodes = 0;
    uint64_t edges = 0;
    uint64_t entrypoints = 0;
  };

  CallgraphTable();
  ~CallgraphTable();
  CallgraphTable(const CallgraphTable&) = delete;
  CallgraphTable& operator=(const CallgraphTable&) = delete;

  // `position` names the record in errors (array index or line number).
  void Add(const CallgraphRecord& record, uint64_t position);

  // Bytes held: string storage, record arrays and the id hash table.
  size_t memory_bytes() const;

  // REQUIRES: Emit has not been called.
  Status Replay(Visitor& visitor);

  // Checks the graph rules and writes the canonical lines in order: nodes by
  // id (an identical repeat collapsed), edges by (from, to, kind, line),
  // entrypoints by (id, line), exact duplicates collapsed. `entrypoint`
  // receives the (id, kind) of each entrypoint line written.
  // REQUIRES: called once; the table is consumed.
  Result<Counts> Emit(CallgraphDialect dialect, const LineSink& sink,
                      const std::function<void(std::string_view id, std::string_view kind)>& entrypoint);

 private:
  class Arena;
  class Strings;
  struct Pending;
  struct Node;
  struct Edge;
  struct EntrypointRecord;

  void Flush();
  Status EmitNodes(CallgraphDialect dialect, const std::vector<uint32_t>& order,
                   const std::vector<uint32_t>& rank, const LineSink& sink, Counts* counts);
  class QuotedStrings;
  class EdgeText;
  static bool SameTuple(const Edge& a, const Edge& b);
  // Ranks and sorts edges_; returns what writing them needs.
  std::unique_ptr<EdgeText> SortEdges(const std::vector<uint32_t>& order, const std::vector<uint32_t>& rank);
  Status WriteEdges(const EdgeText& text, const LineSink& sink, Counts* counts);

  std::unique_ptr<Arena> arena_;    // the bytes of every string and line
  std::unique_ptr<Strings> ids_;    // node ids and edge endpoints, with their first reference
  std::unique_ptr<Strings> kinds_;  // edge kinds ("" for none)
  std::vector<Pending> pending_;    // records whose ids are not looked up yet
  std::string staging_;             // the strings of pending_
  std::vector<Node> nodes_;
  std::vector<Edge> edges_;
  std::vector<std::string_view> edge_lines_;  // lines of edges that are not bare
  std::vector<EntrypointRecord> entrypoints_;
};

}  // namespace signals
