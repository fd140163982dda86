// CallgraphCanonicalizer: turns a submitted callgraph into its canonical form
// (kernel/README.md#callgraphs) — what Signals stores, hashes and signs.
//
// Input (streamed through Write, format per CallgraphInputFormat):
//   * a stella.callgraph.v1 or richgraph-v1 JSON document (held in memory as
//     bytes, at most max_document_bytes, and read with simdjson On Demand: no
//     document tree besides one record at a time);
//   * canonical-form NDJSON, lines in any order (read line by line).
//   With kAuto the first non-blank line decides: a complete JSON object with a
//   string member "t" means NDJSON, anything else a JSON document (a pretty-
//   printed document's first line is "{"; a one-line document has no "t").
//   The mapping of each format to canonical records and the per-record rules
//   are in callgraph_formats.hpp.
//
// Output (to the sink, in chunks): NDJSON, one RFC 8785 canonical JSON object
// a line, each ending in '\n':
//   * node lines sorted by id, an identical repeated node collapsed;
//   * edge lines sorted by (from, to, kind), then by the whole line; exact
//     duplicates collapsed;
//   * entrypoint lines sorted by id, then by the whole line; exact duplicates
//     collapsed.
//   Strings compare by their UTF-8 bytes (= Unicode code point order); a
//   missing kind sorts as "".
//
// Graph rules, checked after sorting (Status::Invalid, field named as the
// input names it): "node-unique" (one id with two different contents; the
// field is the later position), "edge-endpoint" (edges[i].targetId: unknown
// node 'x'), "entrypoint-node" (an entrypoint that is not a node), "non-empty"
// (no nodes). Errors of the per-record rules come first, in input order.
//
// Memory: records are held in a CallgraphTable (callgraph_table.hpp: ids
// interned, edges as integers) while it stays within sort_memory_bytes. A
// graph that outgrows it moves into an ExternalSorter (external_sort.hpp)
// with a quarter of the budget, whose sorted runs spill to a directory under
// temp_dir and are merged; while the table is handed over both exist, so at
// most 1.25 × sort_memory_bytes is held. Both give the same bytes and the
// same errors. In the sorter, endpoint checks need no node-id set: each edge
// endpoint and entrypoint also enters the sort as a small reference record
// keyed just after its node, so one pass over the sorted stream sees every
// node before the references to it.
// Canonical NDJSON is read on two threads (callgraph_line_batches.hpp).
// Not thread-safe: one thread drives one canonicalizer.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/external_sort.hpp"
#include "base/json_limits.hpp"
#include "base/status.hpp"
#include "canon/callgraph_formats.hpp"

namespace signals {

class CallgraphLineBatches;

enum class CallgraphInputFormat { kAuto, kJson, kNdjson };

// "auto" | "json" | "ndjson"; Status::Invalid rule "format" (field `field`) else.
Result<CallgraphInputFormat> ParseCallgraphInputFormat(std::string_view text,
                                                       std::string_view field = "format");

struct CallgraphCanonicalizerOptions {
  CallgraphInputFormat format = CallgraphInputFormat::kAuto;
  size_t sort_memory_bytes = size_t{512} << 20;  // kernel.callgraph_sort_memory
  size_t max_document_bytes = size_t{1} << 30;   // kernel.callgraph_max_document_bytes
  size_t max_line_bytes = size_t{1} << 20;       // kernel.max_line_bytes
  CallgraphReadLimits limits;                    // depth, id and string lengths
  std::string temp_dir;                          // spill runs go below it
};

struct CallgraphEntrypoint {
  std::string id;
  std::string kind;  // empty when the entrypoint has none (richgraph roots)
  friend bool operator==(const CallgraphEntrypoint&, const CallgraphEntrypoint&) = default;
};

struct CallgraphSummary {
  CallgraphDialect dialect = CallgraphDialect::kCanonical;
  std::string digest;  // "sha256:" of the canonical bytes
  uint64_t node_count = 0;
  uint64_t edge_count = 0;
  uint64_t entrypoint_count = 0;
  uint64_t canonical_bytes = 0;
  // Distinct (id, kind) pairs of the entrypoint lines, in output order.
  std::vector<CallgraphEntrypoint> entrypoints;
  uint64_t spilled_runs = 0;  // sort runs written to disk (0 = sorted in memory)
};

class CallgraphCanonicalizer {
 public:
  using Sink = std::function<Status(std::string_view canonical_bytes)>;

  explicit CallgraphCanonicalizer(CallgraphCanonicalizerOptions options);
  ~CallgraphCanonicalizer();
  CallgraphCanonicalizer(const CallgraphCanonicalizer&) = delete;
  CallgraphCanonicalizer& operator=(const CallgraphCanonicalizer&) = delete;

  // Feeds the next input bytes. The first failure is final: later calls and
  // Finish() return it.
  Status Write(std::string_view chunk);

  // Validates the whole graph and writes the canonical NDJSON to `sink`.
  // When it fails, whatever reached the sink must be discarded.
  // REQUIRES: called once.
  Result<CallgraphSummary> Finish(const Sink& sink);

  uint64_t input_bytes() const { return input_bytes_; }

 private:
  class RecordKeys;
  class Output;
  enum class Mode { kDetecting, kDocument, kLines };

  Status Fail(Status status);
  Status DocumentTooLarge() const;
  Status Decide(bool at_end);
  Status FeedLines(std::string_view chunk);
  Status ConsumeLine(std::string_view line);
  Status Emit(const Sink& sink, CallgraphSummary* summary);
  Status EmitSorted(Output& output, CallgraphSummary* summary);

  CallgraphCanonicalizerOptions options_;
  Mode mode_;
  std::string pending_;  // detection buffer, then the document (padded at Finish)
  std::string partial_line_;
  uint64_t line_number_ = 0;
  uint64_t input_bytes_ = 0;
  CallgraphLineReader line_reader_;
  std::unique_ptr<RecordKeys> keys_;
  std::unique_ptr<CallgraphLineBatches> lines_;  // after keys_: it feeds them
  ExternalSorter sorter_;
  Status failure_;
  bool finished_ = false;
};

// Canonicalizes a whole input held in memory.
Result<CallgraphSummary> CanonicalizeCallgraph(std::string_view input,
                                               const CallgraphCanonicalizerOptions& options,
                                               const CallgraphCanonicalizer::Sink& sink);

}  // namespace signals
