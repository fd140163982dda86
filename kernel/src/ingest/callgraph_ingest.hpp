// CallgraphIngest: the callgraph pipeline for one submitted graph (kernel/README.md#the-pipeline,
// #callgraphs, #callgraph-manifest; README.md#what-is-stored): validate the request → canonicalize (sort,
// dedupe, validate the graph) → hash and compress the canonical NDJSON into
// callgraphs/{tenant}/{graphId}.ndjson.zst → meta record → signed manifest →
// DSSE envelope → commit the index rows → count it.
//
// Bytes stream in through Write() in chunks of any size; what is held in
// memory is bounded by kernel.callgraph_sort_memory (NDJSON) or the document
// itself (JSON, at most kernel.callgraph_max_document_bytes). Nothing is
// visible until Finish() commits the index: an invalid graph, an abort or a
// failure leaves no object behind (objects written before a failure are
// removed again; after a crash, fsck reports them).
//
// The same graph (same canonical digest) posted again for the same tenant and
// purl is not stored twice: Finish() returns the existing manifest with
// created == false (HTTP answers 200 then, 201 for a new graph).
// Not thread-safe: one thread drives one ingest.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.hpp"
#include "canon/callgraph_canonicalizer.hpp"
#include "core/kernel.hpp"
#include "plugin/plugin_instance.hpp"

namespace signals {

// The languages a callgraph may declare (kernel/README.md#identifiers).
const std::vector<std::string>& CallgraphLanguages();

// Status::Invalid rule "language" (field `field`) unless `language` is one of
// CallgraphLanguages().
Status ValidateCallgraphLanguage(std::string_view language, std::string_view field = "language");

struct CallgraphIngestRequest {
  std::string tenant;
  std::string component_purl;  // stored in its canonical purl form
  std::string language;
  std::string source;     // the scanner that produced the graph; "unspecified" when empty
  std::string principal;  // who submitted it
  CallgraphInputFormat format = CallgraphInputFormat::kAuto;

  // Reads {"kind":"callgraph","tenant","componentPurl","language","source",
  // "principal","format"} (the host service API's request JSON).
  static Result<CallgraphIngestRequest> FromJson(const nlohmann::json& request);
};

struct CallgraphIngestResult {
  nlohmann::json manifest;  // kernel/README.md#callgraph-manifest, exactly as stored
  bool created = false;     // false: an identical graph existed; this is its manifest
  std::string graph_id;
};

class CallgraphIngest {
 public:
  // Checks the request (tenant exists, purl valid, language known, source and
  // format well-formed) and that a signer is available.
  static Result<std::unique_ptr<CallgraphIngest>> Begin(Kernel& kernel,
                                                        const CallgraphIngestRequest& request);
  ~CallgraphIngest();
  CallgraphIngest(const CallgraphIngest&) = delete;
  CallgraphIngest& operator=(const CallgraphIngest&) = delete;

  // Feeds the next bytes. A failure is final: Finish() returns it too.
  Status Write(std::string_view chunk);

  // Canonicalizes, stores and signs the graph; returns its manifest.
  Result<CallgraphIngestResult> Finish();

  // The id the graph gets when it is new.
  const std::string& graph_id() const { return graph_id_; }

 private:
  CallgraphIngest(Kernel& kernel, CallgraphIngestRequest request);
  Status Fail(Status status);
  Result<CallgraphIngestResult> Commit(const CallgraphSummary& summary, uint64_t compressed_bytes);
  Result<CallgraphIngestResult> Existing(const std::string& graph_id);
  void RemoveCommitted();

  Kernel& kernel_;
  CallgraphIngestRequest request_;
  Signer* signer_ = nullptr;
  std::string graph_id_;
  std::unique_ptr<CallgraphCanonicalizer> canonicalizer_;
  std::unique_ptr<CasStore::Writer> blob_;
  std::vector<std::string> committed_keys_;
  Status failure_;
  bool finished_ = false;
};

}  // namespace signals
