// Specification of the runtime-fact ingest pipeline (kernel/README.md#the-pipeline, #runtime-facts,
// #attestations; README.md#the-provenance-record, #what-is-stored) run in process: a Kernel built from the
// real cas-fs, index-sqlite and signer-ed25519 plugins of the build tree over a temp data directory. Bytes
// arrive in chunks of any size; an invalid batch stores nothing at all.
#include "ingest/fact_ingest.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "attest/attestation.hpp"
#include "attest/dsse.hpp"
#include "base/canonical_json.hpp"
#include "base/ulid.hpp"
#include "config/kernel_config.hpp"
#include "config/settings.hpp"
#include "core/kernel.hpp"
#include "ingest/callgraph_ingest.hpp"
#include "model/cas_paths.hpp"
#include "model/digest.hpp"
#include "plugin/plugin_registry.hpp"
#include "test_kernel.hpp"
#include "verify/batch_verifier.hpp"

namespace signals {
namespace {

namespace fs = std::filesystem;

std::string Fact(const std::string& symbol, const std::string& extra = "") {
  return R"({"symbolId":")" + symbol + "\"" + (extra.empty() ? "" : "," + extra) + "}\n";
}

std::string Facts(int n) {
  std::string out;
  for (int i = 0; i < n; ++i)
    out += Fact("sym-" + std::to_string(i), R"("hitCount":)" + std::to_string(i + 1));
  return out;
}

class FactIngestTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(OpenKernel()); }

  // (Re)opens the kernel over the test's data directory with the embedded
  // default and the given "section.key" → value overrides.
  void OpenKernel(const std::map<std::string, std::string>& overrides = {}) {
    ASSERT_NO_FATAL_FAILURE(kernel_.Open(overrides));
    if (callgraph_id_.empty()) {
      ASSERT_NO_FATAL_FAILURE(StoreCallgraph());
    }
  }

  // Batches must reference a stored callgraph: one small global graph per test.
  void StoreCallgraph() { testing::StoreSmallCallgraph(*kernel_, &callgraph_id_, &callgraph_digest_); }

  FactIngestRequest Request(const std::string& tenant = "global") {
    FactIngestRequest request;
    request.tenant = tenant;
    request.callgraph_id = callgraph_id_;
    request.source = "unit-test";
    request.principal = "tester";
    return request;
  }

  // Runs one whole ingest, feeding `input` in chunks of `chunk` bytes. Returns
  // the provenance record or the first failure. A failure of Write() must be
  // repeated by Finish().
  Result<nlohmann::json> Ingest(std::string_view input, size_t chunk, const FactIngestRequest& request) {
    last_batch_id_.clear();
    auto ingest = kernel_->BeginFactIngest(request);
    if (!ingest.ok()) return ingest.status();
    last_batch_id_ = (*ingest)->batch_id();
    for (size_t at = 0; at < input.size(); at += chunk) {
      Status s = (*ingest)->Write(input.substr(at, chunk));
      if (!s.ok()) {
        auto finished = (*ingest)->Finish();
        EXPECT_FALSE(finished.ok()) << "Finish() succeeded after Write() failed with " << s.ToString();
        if (!finished.ok()) {
          EXPECT_EQ(finished.status().message(), s.message());
        }
        return s;
      }
    }
    return (*ingest)->Finish();
  }
  Result<nlohmann::json> Ingest(std::string_view input, size_t chunk = 1 << 16) {
    return Ingest(input, chunk, Request());
  }

  // Every regular file under the CAS root, relative to it: objects and temp
  // files, except those of the callgraph the batches reference and the key
  // registry's records (stored when the signer is first used).
  std::vector<std::string> CasFiles() const {
    std::vector<std::string> files;
    for (const auto& file : kernel_.CasFiles()) {
      if (file.find("callgraphs/") == std::string::npos && file.find("manifests/") == std::string::npos &&
          file.find("/keys/") == std::string::npos) {
        files.push_back(file);
      }
    }
    return files;
  }

  size_t BatchRows() {
    size_t rows = 0;
    Status s = kernel_->index().Query("batches", "{}", [&](const std::string&) { ++rows; });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return rows;
  }

  void ExpectNothingStored() {
    std::vector<std::string> files = CasFiles();
    std::string listing;
    for (const auto& f : files) listing += "\n  " + f;
    EXPECT_TRUE(files.empty()) << "the CAS holds files after a failed ingest:" << listing;
    EXPECT_EQ(BatchRows(), 0u) << "the index has a batch row after a failed ingest";
    if (!last_batch_id_.empty()) {
      EXPECT_EQ(kernel_->index().Get("batches", last_batch_id_).status().code(), Code::kNotFound);
    }
  }

  // Expects a rejection (Code::kInvalid unless told) naming `rule`, `field`
  // and, when given, "line N", and that nothing was stored.
  void ExpectRejected(const Result<nlohmann::json>& result, const std::string& rule, const std::string& field,
                      int line = 0, Code code = Code::kInvalid) {
    ASSERT_FALSE(result.ok()) << "accepted: " << result->dump();
    const Status& s = result.status();
    EXPECT_EQ(s.code(), code) << s.ToString();
    EXPECT_EQ(s.rule(), rule) << s.ToString();
    EXPECT_EQ(s.field(), field) << s.ToString();
    if (line > 0) {
      EXPECT_EQ(s.message().rfind("line " + std::to_string(line) + ":", 0), 0u) << s.message();
    }
    ExpectNothingStored();
  }

  std::string ReadBlob(const std::string& key) { return testing::ReadStoredBlob(*kernel_, key); }

  // Stores a one-node callgraph of tenant acme; its id goes to *graph_id.
  void StoreAcmeCallgraph(std::string* graph_id) {
    CallgraphIngestRequest graph;
    graph.tenant = "acme";
    graph.component_purl = "pkg:npm/acme-app@1.0.0";
    graph.language = "javascript";
    auto ingest = kernel_->BeginCallgraphIngest(graph);
    ASSERT_TRUE(ingest.ok()) << ingest.status().ToString();
    ASSERT_TRUE((*ingest)->Write(R"({"nodes":[{"id":"x"}]})").ok());
    auto stored = (*ingest)->Finish();
    ASSERT_TRUE(stored.ok()) << stored.status().ToString();
    *graph_id = stored->graph_id;
  }

  void ExpectStoredExactly(const nlohmann::json& record, const std::string& input) {
    const std::string batch_id = record.at("batchId");
    const std::string tenant = record.at("tenantId");
    EXPECT_EQ(record.at("provenanceHash"), DigestOf(input));
    std::string blob = ReadBlob(cas_paths::FactBlob(tenant, batch_id));
    EXPECT_EQ(blob.size(), input.size());
    EXPECT_TRUE(blob == input) << "the stored blob differs from the input";
  }

  testing::TestKernel kernel_;
  std::string last_batch_id_;
  std::string callgraph_id_;
  std::string callgraph_digest_;
};

// --- success --------------------------------------------------------------------

TEST_F(FactIngestTest, StoresTheBlobExactlyAsReceivedUnderItsSha256) {
  const std::string input = Facts(500);
  auto record = Ingest(input);
  ASSERT_TRUE(record.ok()) << record.status().ToString();
  ExpectStoredExactly(*record, input);
  EXPECT_EQ(record->at("factCount"), 500);
  EXPECT_EQ(record->at("sizeBytes"), input.size());
  EXPECT_EQ(BatchRows(), 1u);
}

TEST_F(FactIngestTest, AcceptsChunkBoundariesInsideLinesAndMultibyteCharacters) {
  // Two-, three- and four-byte UTF-8 sequences, CRLF, a blank line and a last
  // line without '\n'.
  const std::string input = Fact("caf\xC3\xA9::m") + Fact("\xE2\x82\xAC::price") + "\n" +
                            Fact("smile::\xF0\x9F\x98\x80") + "{\"symbolId\":\"crlf::\xE2\x82\xAC\"}\r\n" +
                            Fact("x", R"("metadata":{"k":"\u00e9"})") +
                            R"({"symbol_id":"last","fact_type":"runtime.module.loaded"})";
  for (size_t chunk : {1, 2, 3, 5, 7, 13, 64, 4096}) {
    SCOPED_TRACE("chunk size " + std::to_string(chunk));
    auto record = Ingest(input, chunk);
    ASSERT_TRUE(record.ok()) << record.status().ToString();
    ExpectStoredExactly(*record, input);
    EXPECT_EQ(record->at("factCount"), 6);
    EXPECT_EQ(record->at("factTypes"),
              nlohmann::json::array({"runtime.module.loaded", "runtime.symbol.hit"}));
  }
}

TEST_F(FactIngestTest, WritesAProvenanceRecordWithTheContractFields) {
  const std::string input = Fact("a", R"("factType":"runtime.file.access")") + Fact("b") +
                            Fact("c", R"("factType":"runtime.file.access")") +
                            Fact("d", R"("factType":"acme.x")");
  FactIngestRequest request = Request();
  auto record = Ingest(input, 1 << 16, request);
  ASSERT_TRUE(record.ok()) << record.status().ToString();
  const nlohmann::json& r = *record;
  const std::string batch_id = r.at("batchId");
  EXPECT_EQ(ValidateUlid(batch_id, "batchId").ok(), true);
  EXPECT_EQ(r.at("provenanceId"), batch_id);
  EXPECT_EQ(r.at("tenantId"), "global");
  EXPECT_EQ(r.at("callgraphId"), request.callgraph_id);
  EXPECT_EQ(r.at("source"), "unit-test");
  EXPECT_EQ(r.at("principal"), "tester");
  EXPECT_EQ(r.at("factCount"), 4);
  EXPECT_EQ(r.at("factTypes"),
            nlohmann::json::array({"acme.x", "runtime.file.access", "runtime.symbol.hit"}));
  EXPECT_EQ(r.at("blobUri"), "cas://signals/runtime-facts/global/" + batch_id + ".ndjson.zst");
  EXPECT_EQ(r.at("attestationUri"), "cas://signals/attestations/" + batch_id + ".dsse");
  EXPECT_EQ(r.at("signerKeyId"), "signals-ed25519");
  EXPECT_TRUE(r.at("rekorUuid").is_null());
  EXPECT_EQ(r.at("skipReason"), "rekor-disabled");
  EXPECT_TRUE(r.contains("receivedAt") && r.contains("ingestedAt") && r.contains("pipelineVersion"));

  // The stored provenance record is the canonical form of what was returned.
  auto stored = kernel_->cas().ReadAll(cas_paths::FactProvenance("global", batch_id));
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  EXPECT_EQ(*stored, CanonicalJson(r));
}

TEST_F(FactIngestTest, SignsAnInTotoStatementNamingTheBlobDigest) {
  const std::string input = Facts(3);
  auto record = Ingest(input);
  ASSERT_TRUE(record.ok()) << record.status().ToString();
  const std::string batch_id = record->at("batchId");
  auto text = kernel_->cas().ReadAll(cas_paths::BatchAttestation(batch_id));
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  auto envelope = ParseDsseEnvelope(*text);
  ASSERT_TRUE(envelope.ok()) << envelope.status().ToString();
  EXPECT_EQ(envelope->payload_type, "application/vnd.in-toto+json");
  auto key = kernel_->keys().PublicKey("signals-ed25519");
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_TRUE(VerifyEnvelopeSignature(*envelope, *key, "signals-ed25519").ok());
  auto statement = nlohmann::json::parse(envelope->payload);
  EXPECT_EQ(statement.at("_type"), "https://in-toto.io/Statement/v1");
  EXPECT_EQ(statement.at("predicateType"), "https://stella.ops/attestation/runtime-facts/v1");
  ASSERT_EQ(statement.at("subject").size(), 2u);
  EXPECT_EQ(statement["subject"][0].at("name"), "runtime-facts/global/" + batch_id + ".ndjson");
  EXPECT_EQ("sha256:" + statement["subject"][0]["digest"].at("sha256").get<std::string>(), DigestOf(input));
  // The referenced callgraph is the second subject, with its digest.
  EXPECT_EQ(statement["subject"][1].at("name"), "callgraphs/global/" + callgraph_id_ + ".ndjson");
  EXPECT_EQ("sha256:" + statement["subject"][1]["digest"].at("sha256").get<std::string>(), callgraph_digest_);
  EXPECT_EQ(statement["predicate"].at("batchId"), batch_id);

  auto verified = VerifyBatch(*kernel_, batch_id);
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_EQ(verified->fact_count, 3u);
}

TEST_F(FactIngestTest, AcceptsARegisteredTenant) {
  ASSERT_TRUE(kernel_->tenants().Add("acme", kernel_->NowMs()).ok());
  auto record = Ingest(Facts(2), 1 << 16, Request("acme"));
  ASSERT_TRUE(record.ok()) << record.status().ToString();
  EXPECT_EQ(record->at("tenantId"), "acme");
  EXPECT_TRUE(kernel_->cas().Stat(cas_paths::FactBlob("acme", record->at("batchId"))).ok());
}

TEST_F(FactIngestTest, AcceptsTheClientsHashWhenItMatches) {
  const std::string input = Facts(10);
  FactIngestRequest request = Request();
  request.expected_hash = DigestOf(input);
  auto record = Ingest(input, 1 << 16, request);
  ASSERT_TRUE(record.ok()) << record.status().ToString();
  EXPECT_EQ(record->at("provenanceHash"), *request.expected_hash);
}

TEST_F(FactIngestTest, CountsIngestedFactsAndBatchesInMetrics) {
  MetricsRegistry& m = kernel_->metrics();
  ASSERT_TRUE(Ingest(Facts(4) + Fact("m", R"("factType":"runtime.module.loaded")")).ok());
  ASSERT_TRUE(Ingest(Facts(2)).ok());
  EXPECT_EQ(m.Value("signals_runtime_fact_batches_ingested_total", "tenant=global"), 2);
  EXPECT_EQ(m.Value("signals_runtime_facts_ingested_total", "fact_type=runtime.symbol.hit,tenant=global"), 6);
  EXPECT_EQ(m.Value("signals_runtime_facts_ingested_total", "fact_type=runtime.module.loaded,tenant=global"),
            1);
  EXPECT_EQ(m.Value("signals_provenance_records_total", ""), 2);
  // Two batch attestations, plus the manifest envelope of the referenced callgraph.
  EXPECT_EQ(m.Value("signals_attestations_created_total", "result=ok"), 2 + 1);
  EXPECT_GE(m.Value("signals_cas_operations_total", "operation=put,result=ok"), 2);
  EXPECT_EQ(m.HistogramCount("signals_runtime_facts_batch_size", ""), 2u);
}

TEST_F(FactIngestTest, CountsClientChosenFactTypesUnderOneOtherLabel) {
  MetricsRegistry& m = kernel_->metrics();
  // 40 batches of 5 made-up types each: 200 distinct client types.
  for (int batch = 0; batch < 40; ++batch) {
    std::string input = Fact("k", R"("factType":"runtime.file.access")");
    for (int t = 0; t < 5; ++t) {
      input += Fact("s", R"("factType":"acme.t)" + std::to_string(batch * 5 + t) + "\"");
    }
    ASSERT_TRUE(Ingest(input).ok());
  }
  EXPECT_EQ(m.Value("signals_runtime_facts_ingested_total", "fact_type=other,tenant=global"), 200);
  EXPECT_EQ(m.Value("signals_runtime_facts_ingested_total", "fact_type=runtime.file.access,tenant=global"),
            40);
  EXPECT_EQ(m.Value("signals_runtime_facts_ingested_total", "fact_type=acme.t0,tenant=global"), 0);
  const std::string snapshot = m.Snapshot().dump();
  EXPECT_EQ(snapshot.find("acme.t"), std::string::npos) << "a client-chosen factType became a label value";
}

// --- every failure stores nothing -----------------------------------------------

TEST_F(FactIngestTest, RejectsBatchWhenOneLineLacksSymbolId) {
  std::string input = Facts(49) +
                      R"({"hitCount":3})"
                      "\n" +
                      Facts(50);
  ExpectRejected(Ingest(input), "required", "symbolId", 50);
}

TEST_F(FactIngestTest, RejectsBatchWithOneBadLineWhateverTheRule) {
  struct Case {
    std::string line;
    std::string rule;
    std::string field;
  };
  const std::vector<Case> cases = {
      {R"({"symbolId":"a",)", "json", ""},
      {R"({"symbolId":17})", "symbolId", "symbolId"},
      {R"({"symbolId":"a","processId":"12"})", "type", "processId"},
      {R"({"symbolId":"a","purl":"pkg:"})", "purl", "purl"},
      {R"({"symbolId":"a","hitCount":0})", "hitCount", "hitCount"},
      {"{\"symbolId\":\"bad\xC3(\"}", "utf-8", ""},
      {R"({"symbolId":"a","factType":"Bad"})", "factType", "factType"},
      {R"({"symbolId":"a","observedAt":"now"})", "rfc3339", "observedAt"},
      {R"({"symbolId":"a","colour":"red"})", "known-field", "colour"},
      {R"({"symbolId":"a","symbol_id":"a"})", "unique-field", "symbolId"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.line);
    for (size_t chunk : {3, 1 << 16}) {
      ExpectRejected(Ingest(Facts(2) + c.line + "\n" + Facts(2), chunk), c.rule, c.field, 3);
    }
  }
}

TEST_F(FactIngestTest, RejectsAnInvalidLastLineWithoutNewline) {
  ExpectRejected(Ingest(Facts(3) + R"({"symbolId":"a","hitCount":-1})", 5), "hitCount", "hitCount", 4);
}

TEST_F(FactIngestTest, NamesTheRightLineWhenInvalidUtf8IsSplitAcrossChunks) {
  // The bad two-byte sequence (lead byte, then ASCII) straddles every chunk boundary.
  std::string input = Fact("caf\xC3\xA9") + Fact("ok") +
                      "{\"symbolId\":\"x\xC3"
                      "A\"}\n";
  ExpectRejected(Ingest(input, 1), "utf-8", "", 3);
}

TEST_F(FactIngestTest, CountsBlankLinesInLineNumbers) {
  std::string input = "\n" + Fact("a") + "  \r\n" +
                      R"({"symbolId":""})"
                      "\n";
  ExpectRejected(Ingest(input), "symbolId", "symbolId", 4);
}

TEST_F(FactIngestTest, RejectsAnEmptyBatch) { ExpectRejected(Ingest(""), "non-empty", "body"); }

TEST_F(FactIngestTest, RejectsABatchOfBlankLinesOnly) {
  ExpectRejected(Ingest("\n\r\n  \n"), "non-empty", "body");
}

TEST_F(FactIngestTest, RejectsAnUnknownTenant) {
  auto result = Ingest(Facts(2), 1 << 16, Request("acme"));
  ExpectRejected(result, "tenant-exists", "tenant");
  EXPECT_NE(result.status().message().find("signalsctl tenant add acme"), std::string::npos)
      << result.status().message();
}

TEST_F(FactIngestTest, RejectsAMalformedTenant) {
  ExpectRejected(Ingest(Facts(2), 1 << 16, Request("../etc")), "tenant", "tenant");
  ExpectRejected(Ingest(Facts(2), 1 << 16, Request("Acme")), "tenant", "tenant");
  ExpectRejected(Ingest(Facts(2), 1 << 16, Request("")), "tenant", "tenant");
}

TEST_F(FactIngestTest, RejectsAMalformedCallgraphId) {
  for (const char* id : {"not-a-ulid", "01ARZ3NDEKTSV4RRFFQ69G5FA", "81ARZ3NDEKTSV4RRFFQ69G5FAV",
                         "01ARZ3NDEKTSV4RRFFQ69G5FAU/", "../../../../../../tmp/x"}) {
    SCOPED_TRACE(id);
    FactIngestRequest request = Request();
    request.callgraph_id = id;
    auto result = Ingest(Facts(2), 1 << 16, request);
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(result.status().code(), Code::kInvalid);
    EXPECT_EQ(result.status().field(), "callgraphId") << result.status().ToString();
    ExpectNothingStored();
  }
}

TEST_F(FactIngestTest, RejectsACallgraphIdThatNamesNoStoredGraph) {
  FactIngestRequest request = Request();
  request.callgraph_id = "01ARZ3NDEKTSV4RRFFQ69G5FAV";
  ExpectRejected(Ingest(Facts(2), 1 << 16, request), "callgraph-exists", "callgraphId");
}

TEST_F(FactIngestTest, RejectsACallgraphOfAnotherTenant) {
  ASSERT_TRUE(kernel_->tenants().Add("acme", kernel_->NowMs()).ok());
  ASSERT_TRUE(kernel_->tenants().Add("other", kernel_->NowMs()).ok());
  std::string acme_graph;
  ASSERT_NO_FATAL_FAILURE(StoreAcmeCallgraph(&acme_graph));
  FactIngestRequest request = Request("other");
  request.callgraph_id = acme_graph;
  ExpectRejected(Ingest(Facts(2), 1 << 16, request), "callgraph-exists", "callgraphId");
  request = Request("acme");
  request.callgraph_id = acme_graph;
  EXPECT_TRUE(Ingest(Facts(2), 1 << 16, request).ok()) << "the owner may reference its graph";
}

TEST_F(FactIngestTest, AnswersAnotherTenantsCallgraphExactlyLikeAnIdNobodyStored) {
  ASSERT_TRUE(kernel_->tenants().Add("acme", kernel_->NowMs()).ok());
  ASSERT_TRUE(kernel_->tenants().Add("other", kernel_->NowMs()).ok());
  std::string acme_graph;
  ASSERT_NO_FATAL_FAILURE(StoreAcmeCallgraph(&acme_graph));
  const std::string random_id = "01ARZ3NDEKTSV4RRFFQ69G5FAV";
  FactIngestRequest foreign = Request("other");
  foreign.callgraph_id = acme_graph;
  FactIngestRequest unknown = Request("other");
  unknown.callgraph_id = random_id;
  auto foreign_result = Ingest(Facts(2), 1 << 16, foreign);
  auto unknown_result = Ingest(Facts(2), 1 << 16, unknown);
  ASSERT_FALSE(foreign_result.ok());
  ASSERT_FALSE(unknown_result.ok());
  // The same words with the id each request sent: nothing tells the two apart.
  EXPECT_EQ(foreign_result.status().message(), "callgraph " + acme_graph + " does not exist");
  EXPECT_EQ(unknown_result.status().message(), "callgraph " + random_id + " does not exist");
  EXPECT_EQ(foreign_result.status().rule(), unknown_result.status().rule());
  EXPECT_EQ(foreign_result.status().field(), unknown_result.status().field());
  EXPECT_EQ(foreign_result.status().code(), unknown_result.status().code());
}

TEST_F(FactIngestTest, RejectsAMissingCallgraphId) {
  FactIngestRequest request = Request();
  request.callgraph_id.clear();
  ExpectRejected(Ingest(Facts(2), 1 << 16, request), "required", "callgraphId");
}

TEST_F(FactIngestTest, RejectsABatchWhoseHashDiffersFromTheClients) {
  FactIngestRequest request = Request();
  request.expected_hash = DigestOf("something else");
  auto result = Ingest(Facts(20), 7, request);
  ExpectRejected(result, "provenance-hash", "provenanceHash", 0, Code::kHashMismatch);
  EXPECT_EQ(
      kernel_->metrics().Value("signals_ingest_failures_total", "kind=runtime-facts,code=hash-mismatch"), 1);
}

TEST_F(FactIngestTest, RejectsAMalformedClientHash) {
  FactIngestRequest request = Request();
  request.expected_hash = "sha256:ABC";
  ExpectRejected(Ingest(Facts(2), 1 << 16, request), "digest", "provenanceHash");
}

TEST_F(FactIngestTest, AcceptsALineOfExactlyMaxLineBytes) {
  OpenKernel({{"kernel.max_line_bytes", "1024"}});
  std::string prefix = R"({"symbolId":")";
  std::string line = prefix + std::string(1024 - prefix.size() - 2, 'x') + "\"}";
  ASSERT_EQ(line.size(), 1024u);
  for (size_t chunk : {100, 1 << 16}) {
    auto record = Ingest(line + "\n" + line, chunk);
    // symbolId is limited to 1024 bytes too, and this one is 1008: valid.
    EXPECT_TRUE(record.ok()) << "chunk " << chunk << ": " << record.status().ToString();
  }
}

TEST_F(FactIngestTest, RejectsALineLongerThanMaxLineBytes) {
  OpenKernel({{"kernel.max_line_bytes", "1024"}});
  std::string long_line = R"({"symbolId":"a","metadata":{"k":")" + std::string(2000, 'v') + "\"}}";
  for (size_t chunk : {1, 100, 1 << 16}) {
    SCOPED_TRACE("chunk size " + std::to_string(chunk));
    auto result = Ingest(Facts(1) + long_line + "\n" + Facts(1), chunk);
    ExpectRejected(result, "max-line-bytes", "", 2);
    EXPECT_NE(result.status().message().find("kernel.max_line_bytes"), std::string::npos);
    // ... also when it is the last line and has no '\n'.
    ExpectRejected(Ingest(Facts(2) + long_line, chunk), "max-line-bytes", "", 3);
  }
}

TEST_F(FactIngestTest, RejectsMoreDistinctFactTypesThanConfigured) {
  OpenKernel({{"kernel.max_fact_types", "2"}});
  std::string input = Fact("a", R"("factType":"a.one")") + Fact("b", R"("factType":"a.two")") +
                      Fact("c", R"("factType":"a.one")") + Fact("d", R"("factType":"a.three")");
  ExpectRejected(Ingest(input), "max-fact-types", "factType", 4);
}

TEST_F(FactIngestTest, KeepsReturningTheFirstFailure) {
  auto ingest = kernel_->BeginFactIngest(Request());
  ASSERT_TRUE(ingest.ok()) << ingest.status().ToString();
  Status first = (*ingest)->Write(R"({"symbolId":1})"
                                  "\n");
  ASSERT_FALSE(first.ok());
  Status second = (*ingest)->Write(Fact("fine"));
  EXPECT_EQ(second.message(), first.message());
  auto finished = (*ingest)->Finish();
  ASSERT_FALSE(finished.ok());
  EXPECT_EQ(finished.status().message(), first.message());
  ExpectNothingStored();
}

TEST_F(FactIngestTest, DiscardsEverythingWhenAbandonedBeforeFinish) {
  {
    auto ingest = kernel_->BeginFactIngest(Request());
    ASSERT_TRUE(ingest.ok()) << ingest.status().ToString();
    ASSERT_TRUE((*ingest)->Write(Facts(100)).ok());
  }
  ExpectNothingStored();
}

TEST_F(FactIngestTest, RemovesTheStoredBlobWhenALaterStoreStepFails) {
  auto ingest = kernel_->BeginFactIngest(Request());
  ASSERT_TRUE(ingest.ok()) << ingest.status().ToString();
  const std::string batch_id = (*ingest)->batch_id();
  // Something already occupies the attestation's name: storing it must fail
  // after the blob was committed, and the blob must go again.
  const std::string squatter = cas_paths::BatchAttestation(batch_id);
  ASSERT_TRUE(kernel_->cas().Put(squatter, "not ours").ok());
  ASSERT_TRUE((*ingest)->Write(Facts(5)).ok());
  auto finished = (*ingest)->Finish();
  ASSERT_FALSE(finished.ok());
  EXPECT_EQ(finished.status().code(), Code::kConflict) << finished.status().ToString();
  EXPECT_EQ(CasFiles(), std::vector<std::string>{"signals/" + squatter});
  EXPECT_EQ(BatchRows(), 0u);
  EXPECT_EQ(kernel_->metrics().Value("signals_ingest_failures_total", "kind=runtime-facts,code=conflict"), 1);
}

TEST_F(FactIngestTest, ParsesTheServiceApiRequestJson) {
  auto request = FactIngestRequest::FromJson({{"kind", "runtime-facts"},
                                              {"tenant", "global"},
                                              {"callgraphId", "01ARZ3NDEKTSV4RRFFQ69G5FAV"},
                                              {"source", "agent"},
                                              {"receivedAt", "2025-01-02T03:04:05.006Z"},
                                              {"provenanceHash", DigestOf("x")}});
  ASSERT_TRUE(request.ok()) << request.status().ToString();
  EXPECT_EQ(request->tenant, "global");
  EXPECT_EQ(request->callgraph_id, "01ARZ3NDEKTSV4RRFFQ69G5FAV");
  EXPECT_EQ(request->received_at_ms, 1735787045006);
  EXPECT_EQ(request->expected_hash.value_or(""), DigestOf("x"));

  EXPECT_FALSE(FactIngestRequest::FromJson({{"kind", "callgraph"}}).ok());
  EXPECT_FALSE(FactIngestRequest::FromJson({{"tenant", 5}}).ok());
  EXPECT_FALSE(FactIngestRequest::FromJson({{"receivedAt", "soon"}}).ok());
  EXPECT_FALSE(FactIngestRequest::FromJson(nlohmann::json::array()).ok());
}

}  // namespace
}  // namespace signals
