// Specification of retention GC (README.md#retention): which objects are due, what a run
// deletes and keeps, the tombstone it leaves, how reads of expired objects
// answer, and that a crash between any two steps is finished by the next run.
// Runs in process against the real cas-fs, index-sqlite and signer-ed25519
// plugins of the build tree over a temp data directory.
#include "retention/retention_gc.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "base/canonical_json.hpp"
#include "base/timestamp.hpp"
#include "ingest/callgraph_ingest.hpp"
#include "ingest/fact_ingest.hpp"
#include "retention/retention.hpp"
#include "service/problem.hpp"
#include "service/service_api.hpp"
#include "test_kernel.hpp"
#include "tlog/tlog_publisher.hpp"
#include "verify/batch_verifier.hpp"
#include "verify/callgraph_verifier.hpp"
#include "verify/fsck.hpp"

namespace signals {
namespace {

constexpr int64_t kDay = 86'400'000;
const Principal kService{"signals-service", {}, true};

std::set<std::string> Objects(const testing::TestKernel& kernel) {
  std::set<std::string> out;
  for (const auto& f : kernel.CasFiles()) {
    // Relative to the bucket directory ("signals/...").
    out.insert(f.substr(f.find('/') + 1));
  }
  return out;
}

// --- selection (pure) ---------------------------------------------------------

nlohmann::json BatchRow(const std::string& ingested_at) {
  return {{"batchId", "01HZZZZZZZZZZZZZZZZZZZZZZA"},
          {"tenantId", "acme"},
          {"callgraphId", "01HZZZZZZZZZZZZZZZZZZZZZZB"},
          {"ingestedAt", ingested_at},
          {"blobKey", "runtime-facts/acme/01HZZZZZZZZZZZZZZZZZZZZZZA.ndjson.zst"},
          {"provenanceKey", "runtime-facts/acme/01HZZZZZZZZZZZZZZZZZZZZZZA.provenance.json"},
          {"attestationKey", "attestations/01HZZZZZZZZZZZZZZZZZZZZZZA.dsse"}};
}

nlohmann::json GraphRow(const std::string& created_at) {
  return {{"graphId", "01HZZZZZZZZZZZZZZZZZZZZZZB"},
          {"tenantId", "acme"},
          {"createdAt", created_at},
          {"blobKey", "callgraphs/acme/01HZZZZZZZZZZZZZZZZZZZZZZB.ndjson.zst"},
          {"metaKey", "callgraphs/acme/01HZZZZZZZZZZZZZZZZZZZZZZB.meta.json"},
          {"envelopeKey", "manifests/01HZZZZZZZZZZZZZZZZZZZZZZB.json.dsse"}};
}

TEST(RetentionSelection, BatchIsDueExactlyRuntimeFactsDaysAfterIngest) {
  RetentionPolicy policy;  // 90 / 30
  const int64_t ingested = *ParseRfc3339("2026-01-01T00:00:00.000Z");
  auto row = BatchRow("2026-01-01T00:00:00.000Z");
  EXPECT_FALSE(DueBatch(row, policy, ingested + 90 * kDay - 1).has_value());
  auto due = DueBatch(row, policy, ingested + 90 * kDay);
  ASSERT_TRUE(due.has_value());
  EXPECT_EQ(due->kind, "runtime-facts");
  EXPECT_EQ(due->tenant, "acme");
  EXPECT_EQ(due->id, "01HZZZZZZZZZZZZZZZZZZZZZZA");
  // Blob and provenance record go; the attestation stays.
  EXPECT_EQ(due->keys,
            (std::vector<std::string>{"runtime-facts/acme/01HZZZZZZZZZZZZZZZZZZZZZZA.ndjson.zst",
                                      "runtime-facts/acme/01HZZZZZZZZZZZZZZZZZZZZZZA.provenance.json"}));
  EXPECT_EQ(due->attestation_key, "attestations/01HZZZZZZZZZZZZZZZZZZZZZZA.dsse");
  policy.runtime_facts_days = 7;
  EXPECT_TRUE(DueBatch(row, policy, ingested + 7 * kDay).has_value());
}

TEST(RetentionSelection, ExpiredUndatedOrUnsafeBatchesAreNeverDue) {
  RetentionPolicy policy;
  const int64_t late = *ParseRfc3339("2030-01-01T00:00:00Z");
  auto expired = BatchRow("2026-01-01T00:00:00.000Z");
  expired["state"] = "expired";
  EXPECT_FALSE(DueBatch(expired, policy, late).has_value());
  EXPECT_FALSE(DueBatch(BatchRow("yesterday"), policy, late).has_value());
  auto traversal = BatchRow("2026-01-01T00:00:00.000Z");
  traversal["tenantId"] = "../etc";  // never becomes a tombstone path
  EXPECT_FALSE(DueBatch(traversal, policy, late).has_value());
}

TEST(RetentionSelection, OnlyUnreferencedCallgraphsAreDueOrphanDaysAfterCreation) {
  RetentionPolicy policy;
  const int64_t created = *ParseRfc3339("2026-01-01T00:00:00.000Z");
  auto row = GraphRow("2026-01-01T00:00:00.000Z");
  EXPECT_FALSE(DueCallgraph(row, false, policy, created + 30 * kDay - 1).has_value());
  auto due = DueCallgraph(row, false, policy, created + 30 * kDay);
  ASSERT_TRUE(due.has_value());
  EXPECT_EQ(due->kind, "callgraphs");
  EXPECT_EQ(due->keys, (std::vector<std::string>{"callgraphs/acme/01HZZZZZZZZZZZZZZZZZZZZZZB.meta.json",
                                                 "callgraphs/acme/01HZZZZZZZZZZZZZZZZZZZZZZB.ndjson.zst"}));
  EXPECT_EQ(due->attestation_key, "manifests/01HZZZZZZZZZZZZZZZZZZZZZZB.json.dsse");
  // Referenced graphs are never due, however old.
  EXPECT_FALSE(DueCallgraph(row, true, policy, created + 36500 * kDay).has_value());
}

// --- runs against a real kernel -----------------------------------------------

class RetentionGcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(kernel_.Open());
    ASSERT_TRUE(kernel_->tenants().Add("acme", kernel_->NowMs()).ok());
    ASSERT_NO_FATAL_FAILURE(StoreCallgraph("acme", "a", &referenced_));
    ASSERT_NO_FATAL_FAILURE(StoreCallgraph("acme", "orphan", &orphan_));
    ASSERT_NO_FATAL_FAILURE(StoreBatch(referenced_, &batch1_));
    ASSERT_NO_FATAL_FAILURE(StoreBatch(referenced_, &batch2_));
  }

  void StoreCallgraph(const std::string& tenant, const std::string& node, std::string* graph_id) {
    CallgraphIngestRequest request;
    request.tenant = tenant;
    request.component_purl = "pkg:maven/com.example/" + node + "@1.0.0";
    request.language = "java";
    request.source = "unit-test";
    auto ingest = kernel_->BeginCallgraphIngest(request);
    ASSERT_TRUE(ingest.ok()) << ingest.status().ToString();
    ASSERT_TRUE((*ingest)
                    ->Write(R"({"nodes":[{"id":")" + node + R"("},{"id":"b"}],"edges":[{"from":")" + node +
                            R"(","to":"b"}]})")
                    .ok());
    auto result = (*ingest)->Finish();
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    *graph_id = result->graph_id;
  }

  Result<nlohmann::json> IngestBatch(const std::string& graph_id) {
    FactIngestRequest request;
    request.tenant = "acme";
    request.callgraph_id = graph_id;
    request.source = "unit-test";
    auto ingest = kernel_->BeginFactIngest(request);
    if (!ingest.ok()) return ingest.status();
    SIGNALS_RETURN_IF_ERROR((*ingest)->Write("{\"symbolId\":\"a\"}\n{\"symbolId\":\"b\",\"hitCount\":3}\n"));
    return (*ingest)->Finish();
  }

  void StoreBatch(const std::string& graph_id, std::string* batch_id) {
    auto provenance = IngestBatch(graph_id);
    ASSERT_TRUE(provenance.ok()) << provenance.status().ToString();
    *batch_id = (*provenance)["batchId"];
  }

  nlohmann::json Row(const std::string& collection, const std::string& key) {
    auto text = kernel_->index().Get(collection, key);
    EXPECT_TRUE(text.ok()) << collection << "/" << key << ": " << text.status().ToString();
    return text.ok() ? nlohmann::json::parse(*text) : nlohmann::json();
  }

  int64_t Later(int64_t days) { return kernel_->NowMs() + days * kDay; }

  GcReport MustRun(int64_t now_ms, bool dry_run = false) {
    GcOptions options;
    options.now_ms = now_ms;
    options.dry_run = dry_run;
    auto report = RetentionGc(*kernel_).Run(options);
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    if (!report.ok()) return {};
    EXPECT_TRUE(report->errors.empty()) << report->ToJson().dump();
    return *report;
  }

  static std::vector<std::string> Ids(const GcReport& report) {
    std::vector<std::string> ids;
    for (const auto& item : report.deleted) ids.push_back(item.kind + " " + item.id);
    return ids;
  }

  GcItem ItemFor(const std::string& id, int64_t now_ms) {
    auto plan = RetentionGc(*kernel_).Plan(now_ms);
    EXPECT_TRUE(plan.ok()) << plan.status().ToString();
    for (const auto& item : *plan) {
      if (item.id == id) return item;
    }
    ADD_FAILURE() << id << " is not in the plan at " << FormatRfc3339Millis(now_ms);
    return {};
  }

  static void Drain(ObjectSource& stream, std::string* out) {
    uint8_t buffer[4096];
    while (true) {
      auto n = stream.Read(buffer, sizeof(buffer));
      ASSERT_TRUE(n.ok()) << n.status().ToString();
      if (*n == 0) break;
      out->append(reinterpret_cast<char*>(buffer), *n);
    }
  }

  Status ReadProvenance(const std::string& batch_id) {
    return kernel_->service()
        .Call({{"op", "runtime-facts.provenance"}, {"batchId", batch_id}}, kService)
        .status();
  }

  testing::TestKernel kernel_;
  std::string referenced_, orphan_, batch1_, batch2_;
};

TEST_F(RetentionGcTest, NothingIsDueBeforeItsTime) {
  const auto before = Objects(kernel_);
  EXPECT_TRUE(MustRun(Later(29)).deleted.empty());
  EXPECT_EQ(Objects(kernel_), before);
  // 31 days: the orphan graph only.
  EXPECT_EQ(Ids(MustRun(Later(31))), (std::vector<std::string>{"callgraphs " + orphan_}));
}

TEST_F(RetentionGcTest, DryRunPlansEverythingAndChangesNothing) {
  const auto before = Objects(kernel_);
  const auto row_before = Row("batches", batch1_);
  GcReport report = MustRun(Later(91), /*dry_run=*/true);
  std::vector<std::string> want = {"callgraphs " + orphan_, "runtime-facts " + batch1_,
                                   "runtime-facts " + batch2_};
  EXPECT_EQ(Ids(report), want);
  EXPECT_EQ(Objects(kernel_), before);
  EXPECT_EQ(Row("batches", batch1_), row_before);
  EXPECT_EQ(kernel_->metrics().Value("signals_gc_runs_total", "result=ok"), 0);
}

TEST_F(RetentionGcTest, RunDeletesExactlyExpiredFactsAndOrphansAndLeavesTombstones) {
  const auto before = Objects(kernel_);
  GcReport report = MustRun(Later(91));
  std::vector<std::string> want = {"callgraphs " + orphan_, "runtime-facts " + batch1_,
                                   "runtime-facts " + batch2_};
  ASSERT_EQ(Ids(report), want);

  std::set<std::string> expected = before;
  for (const auto& b : {batch1_, batch2_}) {
    expected.erase("runtime-facts/acme/" + b + ".ndjson.zst");
    expected.erase("runtime-facts/acme/" + b + ".provenance.json");
    expected.insert("tombstones/runtime-facts/acme/" + b + ".json");
  }
  expected.erase("callgraphs/acme/" + orphan_ + ".ndjson.zst");
  expected.erase("callgraphs/acme/" + orphan_ + ".meta.json");
  expected.insert("tombstones/callgraphs/acme/" + orphan_ + ".json");
  EXPECT_EQ(Objects(kernel_), expected);
  // What stays: attestations, manifests and envelopes, the referenced graph.
  for (const auto& key :
       {"attestations/" + batch1_ + ".dsse", "manifests/" + orphan_ + ".json",
        "manifests/" + orphan_ + ".json.dsse", "callgraphs/acme/" + referenced_ + ".ndjson.zst"}) {
    EXPECT_EQ(expected.count(key), 1u) << key;
  }

  // The tombstone: canonical JSON, the contract's members, and the index row
  // exactly as GC left it.
  const std::string key = "tombstones/runtime-facts/acme/" + batch1_ + ".json";
  auto text = kernel_->cas().ReadAll(key);
  ASSERT_TRUE(text.ok());
  auto tombstone = nlohmann::json::parse(*text);
  EXPECT_EQ(CanonicalJson(tombstone), *text);
  EXPECT_EQ(tombstone["kind"], "runtime-facts");
  EXPECT_EQ(tombstone["tenantId"], "acme");
  EXPECT_EQ(tombstone["id"], batch1_);
  EXPECT_EQ(tombstone["attestation"], "attestations/" + batch1_ + ".dsse");
  EXPECT_EQ(tombstone["deletedKeys"], nlohmann::json({"runtime-facts/acme/" + batch1_ + ".ndjson.zst",
                                                      "runtime-facts/acme/" + batch1_ + ".provenance.json"}));
  EXPECT_EQ(tombstone["index"]["collection"], "batches");
  EXPECT_EQ(tombstone["index"]["key"], batch1_);
  const auto row = Row("batches", batch1_);
  EXPECT_EQ(tombstone["index"]["record"], row);
  EXPECT_EQ(row["state"], "expired");
  EXPECT_EQ(row["expiredAt"], tombstone["deletedAt"]);
  EXPECT_EQ(row["tombstoneKey"], key);
  EXPECT_TRUE(ParseRfc3339(tombstone["deletedAt"].get<std::string>()).ok());

  EXPECT_EQ(kernel_->metrics().Value("signals_gc_deleted_total", "kind=runtime-facts"), 2);
  EXPECT_EQ(kernel_->metrics().Value("signals_gc_deleted_total", "kind=callgraphs"), 1);
  EXPECT_EQ(kernel_->metrics().Value("signals_gc_runs_total", "result=ok"), 1);
  EXPECT_GT(kernel_->metrics().Value("signals_gc_last_success_timestamp_seconds", ""), 1.7e9);

  // A second run is a no-op.
  const auto after = Objects(kernel_);
  EXPECT_TRUE(MustRun(Later(91)).deleted.empty());
  EXPECT_EQ(Objects(kernel_), after);
  EXPECT_EQ(kernel_->metrics().Value("signals_gc_runs_total", "result=ok"), 2);
}

// What GC leaves (tombstoned rows, attestations, an orphan graph's manifest)
// is a sound store: fsck claims every object and finds nothing wrong.
TEST_F(RetentionGcTest, FsckFindsNothingWrongAfterARun) {
  MustRun(Later(91));
  auto report = RunFsck(*kernel_, FsckOptions{});
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  std::string listing;
  for (const auto& p : report->problems) listing += p.object + ": " + p.rule + ": " + p.detail + "\n";
  EXPECT_TRUE(report->problems.empty()) << listing;
}

TEST_F(RetentionGcTest, ReadsOfExpiredObjectsAnswerGoneWithTheAttestationLink) {
  MustRun(Later(91));
  Status provenance = ReadProvenance(batch1_);
  ASSERT_EQ(provenance.code(), Code::kGone) << provenance.ToString();
  nlohmann::json problem = ProblemJson(provenance);
  EXPECT_EQ(problem["status"], 410);
  EXPECT_EQ(problem["attestation"], "/signals/runtime-facts/" + batch1_ + "/attestation");
  EXPECT_EQ(problem["deletedAt"], Row("batches", batch1_)["expiredAt"]);

  nlohmann::json metadata;
  auto blob =
      kernel_->service().Open({{"op", "runtime-facts.blob"}, {"batchId", batch1_}}, kService, &metadata);
  EXPECT_EQ(blob.status().code(), Code::kGone);
  auto graph =
      kernel_->service().Open({{"op", "callgraphs.blob"}, {"graphId", orphan_}}, kService, &metadata);
  ASSERT_EQ(graph.status().code(), Code::kGone);
  EXPECT_EQ(ProblemJson(graph.status())["attestation"],
            "/signals/callgraphs/" + orphan_ + "/manifest?format=dsse");

  // What remains still reads.
  EXPECT_TRUE(
      kernel_->service().Call({{"op", "runtime-facts.attestation"}, {"batchId", batch1_}}, kService).ok());
  EXPECT_TRUE(kernel_->service().Call({{"op", "callgraphs.manifest"}, {"graphId", orphan_}}, kService).ok());
  EXPECT_TRUE(kernel_->service()
                  .Call({{"op", "callgraphs.manifest"}, {"graphId", orphan_}, {"format", "dsse"}}, kService)
                  .ok());
  EXPECT_TRUE(kernel_->service()
                  .Open({{"op", "callgraphs.blob"}, {"graphId", referenced_}}, kService, &metadata)
                  .ok());
}

TEST_F(RetentionGcTest, StreamSkipsExpiredBatches) {
  // Expire batch 1 alone, through the steps a run takes.
  RetentionGc gc(*kernel_);
  GcItem item = ItemFor(batch1_, Later(91));
  ASSERT_TRUE(*gc.Expire(item, kernel_->NowMs()));
  ASSERT_TRUE(gc.FinishRemoval(item).ok());

  nlohmann::json metadata;
  auto stream = kernel_->service().Open(
      {{"op", "runtime-facts.stream"}, {"tenant", "acme"}, {"includeProvenance", true}}, kService, &metadata);
  ASSERT_TRUE(stream.ok()) << stream.status().ToString();
  std::string out;
  ASSERT_NO_FATAL_FAILURE(Drain(**stream, &out));
  EXPECT_EQ(out.find(batch1_), std::string::npos) << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 2) << out;  // batch 2's two facts
  EXPECT_NE(out.find(batch2_), std::string::npos) << out;
}

TEST_F(RetentionGcTest, LogEntryLandingAfterExpiryLeavesTheTombstonedRowAsRecorded) {
  // The log was away for longer than the retention period: the batch expires
  // while its submission is still queued, then the entry lands.
  TlogPublisher publisher(*kernel_, nullptr, 1000);
  const TlogSubject subject = TlogSubject::Batch(batch1_, "acme");
  {
    auto txn = kernel_->index().Begin();
    ASSERT_TRUE(txn.ok());
    TlogOutcome queued;
    queued.state = TlogOutcome::State::kQueued;
    queued.reason = "POST: HTTP 503";
    ASSERT_TRUE(publisher.Enqueue(**txn, subject, queued).ok());
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  RetentionGc gc(*kernel_);
  GcItem item = ItemFor(batch1_, Later(91));
  ASSERT_TRUE(*gc.Expire(item, kernel_->NowMs()));
  ASSERT_TRUE(gc.FinishRemoval(item).ok());
  const nlohmann::json expired = Row("batches", batch1_);

  TlogOutcome landed;
  landed.state = TlogOutcome::State::kLogged;
  landed.uuid = "108e9186e8c5677a" + std::string(64, 'a');
  ASSERT_TRUE(publisher.Land(subject, landed).ok());

  EXPECT_EQ(Row("batches", batch1_), expired) << "the row must stay what its tombstone recorded";
  auto tombstone = kernel_->cas().ReadAll(expired.value("tombstoneKey", ""));
  ASSERT_TRUE(tombstone.ok()) << tombstone.status().ToString();
  EXPECT_EQ(nlohmann::json::parse(*tombstone)["index"]["record"], expired);
  EXPECT_EQ(kernel_->index().Get(kTlogQueueCollection, subject.envelope_key).status().code(),
            Code::kNotFound);
}

TEST_F(RetentionGcTest, StreamOpenedBeforeGcSkipsBatchesExpiredMeanwhile) {
  nlohmann::json metadata;
  auto stream = kernel_->service().Open(
      {{"op", "runtime-facts.stream"}, {"tenant", "acme"}, {"includeProvenance", true}}, kService, &metadata);
  ASSERT_TRUE(stream.ok()) << stream.status().ToString();
  EXPECT_EQ(metadata["batches"], 2);
  // GC removes batch 1 after the stream listed it, before it is read.
  RetentionGc gc(*kernel_);
  GcItem item = ItemFor(batch1_, Later(91));
  ASSERT_TRUE(*gc.Expire(item, kernel_->NowMs()));
  ASSERT_TRUE(gc.FinishRemoval(item).ok());
  std::string out;
  ASSERT_NO_FATAL_FAILURE(Drain(**stream, &out));
  EXPECT_EQ(out.find(batch1_), std::string::npos) << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 2) << out;
}

TEST_F(RetentionGcTest, VerifyReportsExpiredAndStillChecksTheAttestation) {
  MustRun(Later(91));
  auto verified = VerifyBatch(*kernel_, batch1_);
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_TRUE(verified->expired);
  EXPECT_EQ(verified->fact_count, 2u);
  EXPECT_FALSE(verified->key_id.empty());
  EXPECT_EQ(verified->tombstone_key, "tombstones/runtime-facts/acme/" + batch1_ + ".json");

  // A forged attestation of an expired batch is still corrupt, not expired.
  const std::string envelope_key = "attestations/" + batch1_ + ".dsse";
  auto envelope = nlohmann::json::parse(*kernel_->cas().ReadAll(envelope_key));
  std::string sig = envelope["signatures"][0]["sig"];
  sig[5] = sig[5] == 'A' ? 'B' : 'A';
  envelope["signatures"][0]["sig"] = sig;
  ASSERT_TRUE(kernel_->cas().Remove(envelope_key).ok());
  ASSERT_TRUE(kernel_->cas().Put(envelope_key, envelope.dump()).ok());
  auto forged = VerifyBatch(*kernel_, batch1_);
  ASSERT_FALSE(forged.ok());
  EXPECT_NE(forged.status().message().find("signature"), std::string::npos) << forged.status().message();

  // So is an expired batch whose tombstone is missing.
  ASSERT_TRUE(kernel_->cas().Remove("tombstones/runtime-facts/acme/" + batch2_ + ".json").ok());
  auto no_tombstone = VerifyBatch(*kernel_, batch2_);
  ASSERT_FALSE(no_tombstone.ok());
  EXPECT_NE(no_tombstone.status().message().find("tombstone"), std::string::npos);
}

TEST_F(RetentionGcTest, VerifyOfAnExpiredCallgraphChecksItsTombstone) {
  MustRun(Later(91));
  auto verified = VerifyCallgraph(*kernel_, orphan_, {});
  ASSERT_TRUE(verified.ok()) << verified.status().ToString();
  EXPECT_TRUE(verified->expired);

  // A tombstone that names another graph is corrupt, as for a batch.
  const std::string key = "tombstones/callgraphs/acme/" + orphan_ + ".json";
  auto tombstone = nlohmann::json::parse(*kernel_->cas().ReadAll(key));
  tombstone["id"] = referenced_;
  ASSERT_TRUE(kernel_->cas().Remove(key).ok());
  ASSERT_TRUE(kernel_->cas().Put(key, CanonicalJson(tombstone)).ok());
  auto wrong = VerifyCallgraph(*kernel_, orphan_, {});
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().field(), key) << wrong.status().ToString();

  // And a missing one too.
  ASSERT_TRUE(kernel_->cas().Remove(key).ok());
  auto missing = VerifyCallgraph(*kernel_, orphan_, {});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("is missing"), std::string::npos) << missing.status().message();
}

TEST_F(RetentionGcTest, CrashAfterTheTombstoneIsFinishedByTheNextRun) {
  RetentionGc gc(*kernel_);
  GcItem item = ItemFor(batch1_, Later(91));
  const int64_t first_attempt = kernel_->NowMs() - 5000;
  // Step 1 only, then "crash".
  auto tombstone = gc.WriteTombstone(item, Row("batches", batch1_), first_attempt);
  ASSERT_TRUE(tombstone.ok()) << tombstone.status().ToString();
  // The row is still live: reads work, the blob is there.
  EXPECT_TRUE(ReadProvenance(batch1_).ok());
  EXPECT_EQ(Objects(kernel_).count("runtime-facts/acme/" + batch1_ + ".ndjson.zst"), 1u);

  GcReport report = MustRun(Later(91));
  EXPECT_EQ(report.deleted.size(), 3u);
  const auto row = Row("batches", batch1_);
  EXPECT_EQ(row["state"], "expired");
  // The earlier attempt's deletion time is kept, and the tombstone matches the row.
  EXPECT_EQ(row["expiredAt"], FormatRfc3339Millis(first_attempt));
  auto stored = nlohmann::json::parse(*kernel_->cas().ReadAll(row["tombstoneKey"]));
  EXPECT_EQ(stored["index"]["record"], row);
  EXPECT_EQ(Objects(kernel_).count("runtime-facts/acme/" + batch1_ + ".ndjson.zst"), 0u);
}

TEST_F(RetentionGcTest, CrashAfterMarkingIsFinishedByTheNextRun) {
  RetentionGc gc(*kernel_);
  GcItem item = ItemFor(batch1_, Later(91));
  // Steps 1 and 2, then "crash" before the blobs are removed.
  ASSERT_TRUE(*gc.Expire(item, kernel_->NowMs()));
  EXPECT_EQ(Objects(kernel_).count("runtime-facts/acme/" + batch1_ + ".ndjson.zst"), 1u);
  // Readers already answer 410: the row decides, not the blob.
  EXPECT_EQ(ReadProvenance(batch1_).code(), Code::kGone);
  // One blob went before the crash.
  ASSERT_TRUE(kernel_->cas().Remove("runtime-facts/acme/" + batch1_ + ".provenance.json").ok());

  // A run at the real time (nothing due) still finishes the pending deletion.
  GcReport report = MustRun(kernel_->NowMs());
  ASSERT_EQ(report.deleted.size(), 1u);
  EXPECT_TRUE(report.deleted[0].resumed);
  EXPECT_EQ(report.deleted[0].id, batch1_);
  const auto objects = Objects(kernel_);
  EXPECT_EQ(objects.count("runtime-facts/acme/" + batch1_ + ".ndjson.zst"), 0u);
  EXPECT_EQ(objects.count("tombstones/runtime-facts/acme/" + batch1_ + ".json"), 1u);
  EXPECT_TRUE(MustRun(kernel_->NowMs()).deleted.empty());
  // Batch 2 was never touched.
  EXPECT_TRUE(ReadProvenance(batch2_).ok());
}

TEST_F(RetentionGcTest, ChangedRowReplacesATombstoneThatIsNotInEffect) {
  RetentionGc gc(*kernel_);
  GcItem item = ItemFor(batch1_, Later(91));
  ASSERT_TRUE(gc.WriteTombstone(item, Row("batches", batch1_), kernel_->NowMs()).ok());
  // The row changes before GC marks it (e.g. a transparency-log entry lands).
  auto row = Row("batches", batch1_);
  row["rekorUuid"] = "24296fb24b8ad77a0000000000000000000000000000000000000000000000000000000000000000";
  {
    auto txn = kernel_->index().Begin();
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE((*txn)->Upsert("batches", batch1_, CanonicalJson(row)).ok());
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  MustRun(Later(91));
  const auto after = Row("batches", batch1_);
  EXPECT_EQ(after["rekorUuid"], row["rekorUuid"]);
  auto stored = nlohmann::json::parse(*kernel_->cas().ReadAll(after["tombstoneKey"]));
  EXPECT_EQ(stored["index"]["record"], after);
}

TEST_F(RetentionGcTest, CallgraphReferencedAfterPlanningIsKept) {
  RetentionGc gc(*kernel_);
  GcItem item = ItemFor(orphan_, Later(31));
  std::string batch;
  ASSERT_NO_FATAL_FAILURE(StoreBatch(orphan_, &batch));
  auto expired = gc.Expire(item, kernel_->NowMs());
  ASSERT_TRUE(expired.ok()) << expired.status().ToString();
  EXPECT_FALSE(*expired);
  EXPECT_FALSE(IsExpired(Row("callgraphs", orphan_)));
  EXPECT_EQ(Objects(kernel_).count("tombstones/callgraphs/acme/" + orphan_ + ".json"), 0u);
  EXPECT_TRUE(MustRun(Later(91 + 31)).deleted.size() == 3u);  // three batches, no graph
  EXPECT_FALSE(IsExpired(Row("callgraphs", orphan_)));
}

TEST_F(RetentionGcTest, TombstoneThatNeverTookEffectIsRemovedOnceTheGraphIsReferenced) {
  RetentionGc gc(*kernel_);
  GcItem item = ItemFor(orphan_, Later(31));
  // Step 1 of the orphan, then "crash"; before the next run a batch references it.
  ASSERT_TRUE(gc.WriteTombstone(item, Row("callgraphs", orphan_), kernel_->NowMs()).ok());
  const std::string key = "tombstones/callgraphs/acme/" + orphan_ + ".json";
  ASSERT_EQ(Objects(kernel_).count(key), 1u);
  std::string batch;
  ASSERT_NO_FATAL_FAILURE(StoreBatch(orphan_, &batch));

  EXPECT_TRUE(MustRun(Later(31)).deleted.empty());
  EXPECT_EQ(Objects(kernel_).count(key), 0u);
  EXPECT_FALSE(IsExpired(Row("callgraphs", orphan_)));
  nlohmann::json metadata;
  EXPECT_TRUE(
      kernel_->service().Open({{"op", "callgraphs.blob"}, {"graphId", orphan_}}, kService, &metadata).ok());
}

TEST_F(RetentionGcTest, ExpiredCallgraphCannotBeReferencedButCanBeStoredAgain) {
  MustRun(Later(31));
  ASSERT_TRUE(IsExpired(Row("callgraphs", orphan_)));
  auto refused = IngestBatch(orphan_);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().rule(), "callgraph-exists");
  EXPECT_NE(refused.status().message().find("deleted by retention"), std::string::npos);
  // The same graph posted again is stored anew, under a new id.
  std::string again;
  ASSERT_NO_FATAL_FAILURE(StoreCallgraph("acme", "orphan", &again));
  EXPECT_NE(again, orphan_);
  EXPECT_TRUE(IngestBatch(again).ok());
}

TEST_F(RetentionGcTest, InterruptedRunStopsBetweenObjects) {
  std::atomic<bool> stop{true};
  GcOptions options;
  options.now_ms = Later(91);
  options.stop = &stop;
  auto report = RetentionGc(*kernel_).Run(options);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->interrupted);
  EXPECT_TRUE(report->deleted.empty());
  EXPECT_TRUE(ReadProvenance(batch1_).ok());
}

}  // namespace
}  // namespace signals
