// Specification of fsck and reindex (README.md#fsck, README.md#what-is-stored): a flipped
// byte in any stored object and a deleted object are each found and named as
// damage; what a crash may leave at any point of an ingest, a key
// registration or rotation, or a retention-GC deletion (temp files, objects
// without their index row, tombstones not yet in effect, objects whose
// removal is pending) is named as a leftover and is no damage; --repair
// removes temp files and nothing else; reindex rebuilds every derived row
// from the CAS alone, and restores tombstoned rows verbatim. Runs on the real
// cas-fs, index-sqlite and signer-ed25519 plugins.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "base/canonical_json.hpp"
#include "core/key_rotation.hpp"
#include "ingest/callgraph_ingest.hpp"
#include "ingest/callgraph_store.hpp"
#include "ingest/fact_ingest.hpp"
#include "model/cas_object.hpp"
#include "model/cas_paths.hpp"
#include "model/key_objects.hpp"
#include "retention/retention_gc.hpp"
#include "test_kernel.hpp"
#include "verify/fsck.hpp"
#include "verify/reindex.hpp"

namespace signals {
namespace {

using json = nlohmann::json;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

class FsckReindexTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(OpenAndIngest({})); }

  void OpenAndIngest(const std::map<std::string, std::string>& overrides) {
    overrides_ = overrides;
    overrides_["cas.list_leftovers"] = "true";
    ASSERT_NO_FATAL_FAILURE(kernel_.Open(overrides_));
    ASSERT_TRUE(kernel_->tenants().Add("acme", kernel_->NowMs()).ok());
    ASSERT_NO_FATAL_FAILURE(
        IngestCallgraph("pkg:maven/org.acme/app@1.0",
                        R"({"schema":"stella.callgraph.v1","nodes":[{"id":"a","name":"a","kind":"method"},)"
                        R"({"id":"b","name":"b","kind":"method"}],"edges":[{"sourceId":"a","targetId":"b",)"
                        R"("kind":"static"}],"entrypoints":[{"nodeId":"a","kind":"main"}]})",
                        &graph_id_));

    FactIngestRequest facts;
    facts.tenant = "acme";
    facts.callgraph_id = graph_id_;
    facts.principal = "runtime-agent";
    auto batch = kernel_->BeginFactIngest(facts);
    ASSERT_TRUE(batch.ok()) << batch.status().ToString();
    ASSERT_TRUE((*batch)->Write("{\"symbolId\":\"a\"}\n{\"symbolId\":\"b\",\"hitCount\":3}\n").ok());
    auto provenance = (*batch)->Finish();
    ASSERT_TRUE(provenance.ok()) << provenance.status().ToString();
    batch_id_ = (*batch)->batch_id();
  }

  // Ingests `document` as tenant acme's callgraph of `purl`, sent by the
  // scanner, and sets *graph_id to the stored graph's id.
  void IngestCallgraph(const std::string& purl, std::string_view document, std::string* graph_id) {
    CallgraphIngestRequest graph;
    graph.tenant = "acme";
    graph.component_purl = purl;
    graph.language = "java";
    graph.principal = "scanner-worker";
    auto ingest = kernel_->BeginCallgraphIngest(graph);
    ASSERT_TRUE(ingest.ok()) << ingest.status().ToString();
    ASSERT_TRUE((*ingest)->Write(document).ok());
    auto stored = (*ingest)->Finish();
    ASSERT_TRUE(stored.ok()) << stored.status().ToString();
    *graph_id = stored->graph_id;
  }

  FsckReport Fsck(bool repair = false) {
    FsckOptions options;
    options.repair = repair;
    auto report = RunFsck(*kernel_, options);
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    return report.ok() ? *report : FsckReport{};
  }

  static std::string Listing(const FsckReport& report) {
    std::string out;
    for (const auto& p : report.problems) out += "\n  " + p.object + ": " + p.rule + ": " + p.detail;
    return out.empty() ? " (none)" : out;
  }

  // The objects reported as leftovers, sorted.
  static std::vector<std::string> LeftoverObjects(const FsckReport& report) {
    std::vector<std::string> objects;
    for (const auto& p : report.problems) {
      if (p.leftover) {
        EXPECT_EQ(p.rule, "leftover") << p.object;
        objects.push_back(p.object);
      }
    }
    return objects;
  }

  void RemoveRows(const std::vector<std::pair<std::string, std::string>>& rows) {
    auto txn = kernel_->index().Begin();
    ASSERT_TRUE(txn.ok());
    for (const auto& [collection, key] : rows) ASSERT_TRUE((*txn)->Remove(collection, key).ok()) << key;
    ASSERT_TRUE((*txn)->Commit().ok());
  }

  // The rules reported for `object`.
  static std::vector<std::string> RulesFor(const FsckReport& report, const std::string& object) {
    std::vector<std::string> rules;
    for (const auto& p : report.problems) {
      if (p.object == object) rules.push_back(p.rule);
    }
    return rules;
  }

  // Every stored object of the ingested graph and batch, and the key record.
  std::vector<std::string> StoredKeys() {
    std::vector<std::string> keys = {
        cas_paths::FactBlob("acme", batch_id_),      cas_paths::FactProvenance("acme", batch_id_),
        cas_paths::BatchAttestation(batch_id_),      cas_paths::CallgraphBlob("acme", graph_id_),
        cas_paths::CallgraphMeta("acme", graph_id_), cas_paths::Manifest(graph_id_),
        cas_paths::ManifestEnvelope(graph_id_)};
    auto signer = kernel_->signer();
    EXPECT_TRUE(signer.ok());
    if (signer.ok()) keys.push_back(cas_paths::KeyRecord((*signer)->key_id()));
    return keys;
  }

  // Every row of the collections reindex rebuilds or keeps, by collection.
  std::map<std::string, std::vector<std::string>> AllRows() {
    std::map<std::string, std::vector<std::string>> rows;
    for (const char* c : {"batches", "callgraphs", "callgraph_digests", "keys", "tenants", "tlog_queue"}) {
      Status s = kernel_->index().Query(c, "{}", [&](const std::string& r) { rows[c].push_back(r); });
      EXPECT_TRUE(s.ok() || s.code() == Code::kNotFound) << c << ": " << s.ToString();
    }
    return rows;
  }

  void DeleteIndex() {
    kernel_.Close();
    for (const char* suffix : {"", "-wal", "-shm"}) {
      std::filesystem::remove(kernel_.data_dir() + "/index.sqlite" + suffix);
    }
    ASSERT_NO_FATAL_FAILURE(kernel_.Open(overrides_));
  }

  ReindexReport RunReindex() {
    auto report = Reindex(*kernel_, {});
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    if (!report.ok()) return {};
    for (const auto& w : report->warnings) ADD_FAILURE() << "reindex warning: " << w;
    return *report;
  }

  testing::TestKernel kernel_;
  std::map<std::string, std::string> overrides_;
  std::string graph_id_;
  std::string batch_id_;
};

TEST_F(FsckReindexTest, AFreshStoreIsClean) {
  FsckReport report = Fsck();
  EXPECT_TRUE(report.problems.empty()) << Listing(report);
  EXPECT_EQ(report.objects, StoredKeys().size());
  EXPECT_GE(report.rows, 4u);  // batch, callgraph, digest, key
}

TEST_F(FsckReindexTest, AFlippedByteInAnyStoredObjectIsFoundAndNamed) {
  for (const auto& key : StoredKeys()) {
    SCOPED_TRACE(key);
    const std::string path = kernel_.ObjectPath(key);
    ASSERT_FALSE(path.empty());
    const std::string original = ReadFile(path);
    ASSERT_GT(original.size(), 2u);
    std::string flipped = original;
    flipped[flipped.size() / 2] ^= 0x01;
    WriteFile(path, flipped);
    FsckReport report = Fsck();
    EXPECT_FALSE(RulesFor(report, key).empty())
        << "the flipped byte in " << key << " was not named:" << Listing(report);
    EXPECT_GT(report.Outstanding(), 0u);
    WriteFile(path, original);
  }
  EXPECT_TRUE(Fsck().problems.empty()) << "restoring every byte makes the store clean again";
}

TEST_F(FsckReindexTest, ADeletedObjectIsNamed) {
  for (const auto& key : StoredKeys()) {
    SCOPED_TRACE(key);
    const std::string path = kernel_.ObjectPath(key);
    const std::string original = ReadFile(path);
    std::filesystem::remove(path);
    FsckReport report = Fsck();
    EXPECT_EQ(RulesFor(report, key), std::vector<std::string>{"missing-object"}) << Listing(report);
    WriteFile(path, original);
  }
}

// A process killed between its CAS commits and its index commit leaves the
// batch's objects without a row; a deleted row looks the same. Nothing reads
// them: they are leftovers, and reindex adopts them.
TEST_F(FsckReindexTest, TheObjectsOfABatchWithoutItsIndexRowAreLeftovers) {
  ASSERT_NO_FATAL_FAILURE(RemoveRows({{"batches", batch_id_}}));
  FsckReport report = Fsck();
  std::vector<std::string> expected = {cas_paths::BatchAttestation(batch_id_),
                                       cas_paths::FactBlob("acme", batch_id_),
                                       cas_paths::FactProvenance("acme", batch_id_)};
  EXPECT_EQ(LeftoverObjects(report), expected) << Listing(report);
  EXPECT_EQ(report.problems.size(), 3u) << Listing(report);
  EXPECT_EQ(report.Outstanding(), 0u) << Listing(report);
  EXPECT_EQ(report.Leftovers(), 3u);
  for (const auto& p : report.problems) {
    EXPECT_NE(p.detail.find("no index row batches/" + batch_id_), std::string::npos) << p.detail;
  }
  RunReindex();
  EXPECT_TRUE(Fsck().problems.empty()) << Listing(Fsck());
}

// A kill at any point of an ingest before its commit: a blob alone (killed
// right after the first CAS commit), or a whole callgraph without its two
// rows (killed just before the index commit).
TEST_F(FsckReindexTest, AnyPrefixOfAnUncommittedIngestIsALeftover) {
  const std::string lone_blob = cas_paths::FactBlob("acme", "01J00000000000000000000000");
  ASSERT_TRUE(kernel_->cas().Put(lone_blob, "the first object of an ingest that never committed").ok());

  const std::string purl = "pkg:maven/org.acme/other@2.0";
  std::string other;
  ASSERT_NO_FATAL_FAILURE(
      IngestCallgraph(purl,
                      R"({"schema":"stella.callgraph.v1","nodes":[{"id":"x","name":"x","kind":"method"}],)"
                      R"("edges":[],"entrypoints":[{"nodeId":"x","kind":"main"}]})",
                      &other));
  auto row = CallgraphStore(*kernel_).Record(other);
  ASSERT_TRUE(row.ok());
  ASSERT_NO_FATAL_FAILURE(
      RemoveRows({{"callgraphs", other},
                  {"callgraph_digests", CallgraphStore::DigestKeyOf("acme", purl, (*row)["digest"])}}));

  FsckReport report = Fsck();
  std::vector<std::string> expected = {cas_paths::CallgraphBlob("acme", other),
                                       cas_paths::CallgraphMeta("acme", other), cas_paths::Manifest(other),
                                       cas_paths::ManifestEnvelope(other), lone_blob};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(LeftoverObjects(report), expected) << Listing(report);
  EXPECT_EQ(report.Outstanding(), 0u) << Listing(report);
}

// Retention GC killed after each of its steps (retention_gc.hpp): after the
// tombstone (1), the tombstone is not in effect; after the expiring commit
// (2), the objects still to remove are pending; after the last step (4)
// nothing remains. fsck is clean at every point.
TEST_F(FsckReindexTest, AGcDeletionInterruptedAfterAnyStepLeavesOnlyLeftovers) {
  auto text = kernel_->index().Get("batches", batch_id_);
  ASSERT_TRUE(text.ok());
  const json row = json::parse(*text);
  const int64_t later = kernel_->NowMs() + 91LL * 86'400'000;
  auto item = DueBatch(row, RetentionPolicy{}, later);
  ASSERT_TRUE(item.has_value());
  const std::string tombstone = cas_paths::Tombstone("runtime-facts", "acme", batch_id_);
  RetentionGc gc(*kernel_);

  ASSERT_TRUE(gc.WriteTombstone(*item, row, kernel_->NowMs()).ok());
  FsckReport report = Fsck();
  EXPECT_EQ(LeftoverObjects(report), std::vector<std::string>{tombstone}) << Listing(report);
  EXPECT_NE(report.problems[0].detail.find("is live"), std::string::npos) << Listing(report);
  EXPECT_EQ(report.Outstanding(), 0u) << Listing(report);

  auto expired = gc.Expire(*item, kernel_->NowMs());
  ASSERT_TRUE(expired.ok() && *expired) << expired.status().ToString();
  report = Fsck();
  EXPECT_EQ(LeftoverObjects(report), item->keys) << Listing(report);
  EXPECT_EQ(report.Outstanding(), 0u) << Listing(report);

  // Step 3 done for one object only.
  ASSERT_TRUE(kernel_->cas().Remove(item->keys[0]).ok());
  report = Fsck();
  EXPECT_EQ(LeftoverObjects(report), std::vector<std::string>{item->keys[1]}) << Listing(report);
  EXPECT_EQ(report.Outstanding(), 0u) << Listing(report);

  ASSERT_TRUE(gc.FinishRemoval(*item).ok());
  EXPECT_TRUE(Fsck().problems.empty()) << Listing(Fsck());
}

// A key registration killed between its CAS record and its registry row, and
// a rotation killed between the retirement record and the registry's commit.
TEST_F(FsckReindexTest, InterruptedKeyRegistrationAndRotationAreLeftovers) {
  auto signer = kernel_->signer();
  ASSERT_TRUE(signer.ok());
  const std::string active = (*signer)->key_id();
  ASSERT_TRUE(StoreKeyRetirement(kernel_->cas(), active, "2027-01-01T00:00:00.000Z").ok());
  const json half_registered = {{"keyId", "half-registered"},
                                {"algorithm", (*signer)->algorithm()},
                                {"publicKeyPem", (*signer)->public_key_pem() + " "},
                                {"registeredAt", "2027-01-01T00:00:00.000Z"}};
  ASSERT_TRUE(StoreKeyObject(kernel_->cas(), half_registered).ok());

  FsckReport report = Fsck();
  EXPECT_EQ(LeftoverObjects(report), (std::vector<std::string>{cas_paths::KeyRecord("half-registered"),
                                                               cas_paths::KeyRetirement(active)}))
      << Listing(report);
  EXPECT_EQ(report.Outstanding(), 0u) << Listing(report);
}

// Leftovers do not hide damage: with leftovers present, a flipped byte, a
// missing object and a bad signature still count.
TEST_F(FsckReindexTest, DamageBesideLeftoversStillCounts) {
  const std::string dir =
      std::filesystem::path(kernel_.ObjectPath(cas_paths::FactBlob("acme", batch_id_))).parent_path();
  WriteFile(dir + "/.unrelated.ndjson.zst.tmp.00112233aabbccdd", "half a write");
  ASSERT_TRUE(kernel_->cas().Put(cas_paths::FactBlob("acme", "01J00000000000000000000000"), "x").ok());
  ASSERT_EQ(Fsck().Outstanding(), 0u);

  const std::string blob = cas_paths::FactBlob("acme", batch_id_);
  std::string bytes = ReadFile(kernel_.ObjectPath(blob));
  bytes[bytes.size() / 2] ^= 0x01;
  WriteFile(kernel_.ObjectPath(blob), bytes);
  auto signer = kernel_->signer();
  ASSERT_TRUE(signer.ok());
  const std::string key_record = cas_paths::KeyRecord((*signer)->key_id());
  std::filesystem::remove(kernel_.ObjectPath(key_record));
  // One base64 character of the manifest envelope's signature, in place.
  const std::string envelope = cas_paths::ManifestEnvelope(graph_id_);
  std::string text = ReadFile(kernel_.ObjectPath(envelope));
  const size_t sig = text.find("\"sig\":\"");
  ASSERT_NE(sig, std::string::npos) << text;
  char& c = text[sig + 7];
  c = c == 'A' ? 'B' : 'A';
  WriteFile(kernel_.ObjectPath(envelope), text);

  FsckReport report = Fsck();
  EXPECT_EQ(report.Leftovers(), 2u) << Listing(report);
  EXPECT_EQ(RulesFor(report, blob), std::vector<std::string>{"integrity"}) << Listing(report);
  EXPECT_EQ(RulesFor(report, key_record), std::vector<std::string>{"missing-object"}) << Listing(report);
  EXPECT_EQ(RulesFor(report, envelope), std::vector<std::string>{"integrity"}) << Listing(report);
  EXPECT_EQ(report.Outstanding(), 3u) << Listing(report);
}

TEST_F(FsckReindexTest, RepairRemovesLeftoversOfInterruptedWritesAndNothingElse) {
  const std::string dir =
      std::filesystem::path(kernel_.ObjectPath(cas_paths::FactBlob("acme", batch_id_))).parent_path();
  const std::string leftover = "runtime-facts/acme/." + batch_id_ + "X.ndjson.zst.tmp.00112233aabbccdd";
  WriteFile(dir + "/." + batch_id_ + "X.ndjson.zst.tmp.00112233aabbccdd", "half a write");
  const std::vector<std::string> before = kernel_.CasFiles();

  FsckReport report = Fsck();
  EXPECT_EQ(RulesFor(report, leftover), std::vector<std::string>{"leftover"}) << Listing(report);
  EXPECT_EQ(report.Outstanding(), 0u) << "a crash's temp file is no damage:" << Listing(report);
  EXPECT_EQ(report.Leftovers(), 1u) << Listing(report);
  EXPECT_EQ(kernel_.CasFiles(), before) << "fsck without --repair changes nothing";

  report = Fsck(/*repair=*/true);
  ASSERT_EQ(report.problems.size(), 1u) << Listing(report);
  EXPECT_TRUE(report.problems[0].repaired);
  EXPECT_EQ(report.Outstanding(), 0u);
  EXPECT_EQ(report.Leftovers(), 0u);
  EXPECT_EQ(report.Repaired(), 1u);
  std::vector<std::string> after = kernel_.CasFiles();
  std::vector<std::string> expected;
  for (const auto& f : before) {
    if (f.find(".tmp.") == std::string::npos) expected.push_back(f);
  }
  EXPECT_EQ(after, expected) << "repair removed more than the leftover";
  EXPECT_TRUE(Fsck().problems.empty());
}

TEST_F(FsckReindexTest, ATempFileAWriterHoldsIsNoLeftover) {
  auto writer = kernel_->cas().PutBegin("runtime-facts/acme/in-progress.ndjson.zst");
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Write("partial").ok());
  FsckReport report = Fsck(/*repair=*/true);
  EXPECT_TRUE(report.problems.empty()) << Listing(report);
}

TEST_F(FsckReindexTest, ReindexOfADeletedIndexRestoresEveryRow) {
  // A retired key and a second key make the registry more than one record.
  auto signer = kernel_->signer();
  ASSERT_TRUE(signer.ok());
  ASSERT_TRUE(kernel_->keys()
                  .RegisterKey("next-key", (*signer)->algorithm(), (*signer)->public_key_pem() + " ")
                  .ok());
  ASSERT_TRUE(RetireOtherKeys(*kernel_, "next-key").ok());
  const auto before = AllRows();
  ASSERT_EQ(before.at("batches").size(), 1u);
  ASSERT_EQ(before.at("keys").size(), 2u);

  ASSERT_NO_FATAL_FAILURE(DeleteIndex());
  EXPECT_TRUE(AllRows()["batches"].empty());
  ReindexReport report = RunReindex();
  EXPECT_EQ(report.rows["batches"], 1u);
  EXPECT_EQ(report.tenants_added, std::vector<std::string>{"acme"});
  auto after = AllRows();
  // The tenant is registered again with the time of its first object.
  ASSERT_EQ(after["tenants"].size(), 1u);
  EXPECT_EQ(json::parse(after["tenants"][0])["tenantId"], "acme");
  after.erase("tenants");
  auto expected = before;
  expected.erase("tenants");
  EXPECT_EQ(after, expected);
  EXPECT_TRUE(Fsck().problems.empty()) << Listing(Fsck());

  // A second run over a complete index changes nothing.
  RunReindex();
  auto again = AllRows();
  again.erase("tenants");
  EXPECT_EQ(again, expected);
}

TEST_F(FsckReindexTest, ReindexRemovesRowsWhoseObjectsAreGoneAndTakesRekorEntries) {
  const std::string entry_key = cas_paths::ManifestRekorEntry(graph_id_);
  ASSERT_TRUE(kernel_->cas().Put(entry_key, R"({"uuid":"24296fb24b8ad77a0123","logIndex":7})").ok());
  // The row does not know the entry yet (the state after a crash between
  // storing the entry and updating the row): fsck accepts it.
  EXPECT_TRUE(Fsck().problems.empty()) << Listing(Fsck());
  ASSERT_TRUE(
      kernel_->cas().Put("attestations/01J00000000000000000000000.rekor.json", R"({"uuid":"x"})").ok());
  auto stray = Fsck();
  EXPECT_EQ(RulesFor(stray, "attestations/01J00000000000000000000000.rekor.json"),
            std::vector<std::string>{"rekor-entry-without-envelope"})
      << Listing(stray);
  ASSERT_TRUE(kernel_->cas().Remove("attestations/01J00000000000000000000000.rekor.json").ok());

  // The batch's objects disappear (as no deletion but GC's should do).
  for (const auto& key :
       {cas_paths::FactBlob("acme", batch_id_), cas_paths::FactProvenance("acme", batch_id_),
        cas_paths::BatchAttestation(batch_id_)}) {
    ASSERT_TRUE(kernel_->cas().Remove(key).ok());
  }
  ReindexReport report = RunReindex();
  EXPECT_EQ(report.removed, 1u);
  EXPECT_EQ(kernel_->index().Get("batches", batch_id_).status().code(), Code::kNotFound);
  auto row = CallgraphStore(*kernel_).Record(graph_id_);
  ASSERT_TRUE(row.ok());
  EXPECT_EQ((*row)["rekorUuid"], "24296fb24b8ad77a0123");
  EXPECT_TRUE((*row)["skipReason"].is_null());
  EXPECT_TRUE(Fsck().problems.empty()) << Listing(Fsck());
}

TEST_F(FsckReindexTest, TombstonesAreExpectedByFsckAndRestoredVerbatimByReindex) {
  // What retention GC leaves of the batch: its blob and provenance deleted, a
  // tombstone holding the row as GC left it.
  auto text = kernel_->index().Get("batches", batch_id_);
  ASSERT_TRUE(text.ok());
  json record = json::parse(*text);
  const std::string tombstone_key = cas_paths::Tombstone("runtime-facts", "acme", batch_id_);
  record["skipReason"] = "rekor-unavailable";  // so that reindex queues it for the log
  record["state"] = "expired";
  record["expiredAt"] = "2027-01-01T00:00:00.000Z";
  record["tombstoneKey"] = tombstone_key;
  const std::vector<std::string> deleted = {cas_paths::FactBlob("acme", batch_id_),
                                            cas_paths::FactProvenance("acme", batch_id_)};
  json tombstone = {{"kind", "runtime-facts"},
                    {"tenantId", "acme"},
                    {"id", batch_id_},
                    {"deletedAt", "2027-01-01T00:00:00.000Z"},
                    {"reason", "retention"},
                    {"deletedKeys", deleted},
                    {"attestation", cas_paths::BatchAttestation(batch_id_)},
                    {"index", {{"collection", "batches"}, {"key", batch_id_}, {"record", record}}}};
  ASSERT_TRUE(kernel_->cas().Put(tombstone_key, CanonicalJson(tombstone)).ok());
  for (const auto& key : deleted) ASSERT_TRUE(kernel_->cas().Remove(key).ok());
  auto txn = kernel_->index().Begin();
  ASSERT_TRUE(txn.ok());
  ASSERT_TRUE((*txn)->Upsert("batches", batch_id_, CanonicalJson(record)).ok());
  ASSERT_TRUE((*txn)->Commit().ok());

  FsckReport report = Fsck();
  EXPECT_TRUE(report.problems.empty()) << Listing(report);

  ASSERT_NO_FATAL_FAILURE(DeleteIndex());
  RunReindex();
  auto restored = kernel_->index().Get("batches", batch_id_);
  ASSERT_TRUE(restored.ok());
  EXPECT_EQ(*restored, CanonicalJson(record));
  auto queued = kernel_->index().Get("tlog_queue", cas_paths::BatchAttestation(batch_id_));
  ASSERT_TRUE(queued.ok()) << "reindex queues an envelope that waits for the log";
  json queue_row = json::parse(*queued);
  EXPECT_EQ(queue_row["attempts"], 0);
  EXPECT_EQ(queue_row["kind"], "batch");
  EXPECT_EQ(queue_row["entryKey"], cas_paths::BatchRekorEntry(batch_id_));
  EXPECT_TRUE(Fsck().problems.empty()) << Listing(Fsck());

  // A deleted object that is back is named.
  ASSERT_TRUE(kernel_->cas().Put(deleted[0], "x").ok());
  EXPECT_EQ(RulesFor(Fsck(), deleted[0]), std::vector<std::string>{"deleted-object-present"});
}

// Stored records whose members have the wrong JSON type are damage to report,
// not a reason to stop: fsck names them, reindex warns and skips them.
TEST_F(FsckReindexTest, MembersOfTheWrongTypeAreReportedNotFatal) {
  const std::string key = cas_paths::FactProvenance("acme", batch_id_);
  auto text = kernel_->cas().ReadAll(key);
  ASSERT_TRUE(text.ok());
  auto record = nlohmann::json::parse(*text);
  record["batchId"] = 7;
  record["tenantId"] = nullptr;
  ASSERT_TRUE(kernel_->cas().Remove(key).ok());
  ASSERT_TRUE(kernel_->cas().Put(key, CanonicalJson(record)).ok());

  FsckReport checked = Fsck();
  EXPECT_FALSE(RulesFor(checked, key).empty()) << Listing(checked);

  ASSERT_NO_FATAL_FAILURE(DeleteIndex());
  auto rebuilt = Reindex(*kernel_, {});
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.status().ToString();
  ASSERT_EQ(rebuilt->warnings.size(), 1u);
  EXPECT_NE(rebuilt->warnings[0].find(key), std::string::npos) << rebuilt->warnings[0];
  EXPECT_EQ(kernel_->index().Get("batches", batch_id_).status().code(), Code::kNotFound);
}

// A store from before key records were kept in the CAS gets them when a
// signer is next created.
TEST_F(FsckReindexTest, AStoreWithoutItsKeyRecordGetsItWithTheNextSigner) {
  auto signer = kernel_->signer();
  ASSERT_TRUE(signer.ok());
  const std::string key = cas_paths::KeyRecord((*signer)->key_id());
  ASSERT_TRUE(kernel_->cas().Remove(key).ok());
  kernel_.Close();
  ASSERT_NO_FATAL_FAILURE(kernel_.Open(overrides_));
  ASSERT_EQ(kernel_->cas().Stat(key).status().code(), Code::kNotFound);
  ASSERT_TRUE(kernel_->signer().ok());
  EXPECT_TRUE(kernel_->cas().Stat(key).ok());
  EXPECT_TRUE(Fsck().problems.empty()) << Listing(Fsck());
}

TEST_F(FsckReindexTest, AFailedReindexLeavesTheIndexAsItWas) {
  // A valid tombstone is restored first (its key sorts first), then one that
  // names a collection the index refuses makes the rebuild fail.
  auto text = kernel_->index().Get("callgraphs", graph_id_);
  ASSERT_TRUE(text.ok());
  json record = json::parse(*text);
  record["marker"] = "restored";
  json good = {{"kind", "callgraphs"},
               {"tenantId", "acme"},
               {"id", graph_id_},
               {"deletedAt", "2027-01-01T00:00:00.000Z"},
               {"reason", "retention"},
               {"deletedKeys", json::array()},
               {"attestation", cas_paths::ManifestEnvelope(graph_id_)},
               {"index", {{"collection", "callgraphs"}, {"key", graph_id_}, {"record", record}}}};
  json bad = good;
  bad["kind"] = "runtime-facts";
  bad["id"] = batch_id_;
  bad["index"] = {{"collection", "Not A Collection"}, {"key", batch_id_}, {"record", json::object()}};
  ASSERT_TRUE(
      kernel_->cas().Put(cas_paths::Tombstone("callgraphs", "acme", graph_id_), CanonicalJson(good)).ok());
  ASSERT_TRUE(
      kernel_->cas().Put(cas_paths::Tombstone("runtime-facts", "acme", batch_id_), CanonicalJson(bad)).ok());
  auto txn = kernel_->index().Begin();
  ASSERT_TRUE(txn.ok());
  ASSERT_TRUE((*txn)->Remove("batches", batch_id_).ok());
  ASSERT_TRUE((*txn)->Commit().ok());
  const auto before = AllRows();

  auto report = Reindex(*kernel_, {});
  ASSERT_FALSE(report.ok()) << "the index refuses the collection name";
  EXPECT_EQ(AllRows(), before) << "a failed reindex changed the index";
}

TEST(CasObject, ReadsBackEveryLayoutOfCasPaths) {
  const std::string id = "01J00000000000000000000000";
  struct Case {
    std::string key;
    CasObjectKind kind;
    std::string tenant;
  };
  const std::vector<Case> cases = {
      {cas_paths::FactBlob("acme", id), CasObjectKind::kFactBlob, "acme"},
      {cas_paths::FactProvenance("acme", id), CasObjectKind::kFactProvenance, "acme"},
      {cas_paths::BatchAttestation(id), CasObjectKind::kBatchAttestation, ""},
      {cas_paths::BatchRekorEntry(id), CasObjectKind::kBatchRekorEntry, ""},
      {cas_paths::CallgraphBlob("t-1", id), CasObjectKind::kCallgraphBlob, "t-1"},
      {cas_paths::CallgraphMeta("t-1", id), CasObjectKind::kCallgraphMeta, "t-1"},
      {cas_paths::Manifest(id), CasObjectKind::kManifest, ""},
      {cas_paths::ManifestEnvelope(id), CasObjectKind::kManifestEnvelope, ""},
      {cas_paths::ManifestRekorEntry(id), CasObjectKind::kManifestRekorEntry, ""},
      {cas_paths::Tombstone("callgraphs", "global", id), CasObjectKind::kTombstone, "global"},
  };
  for (const auto& c : cases) {
    CasObject o = ClassifyCasKey(c.key);
    EXPECT_EQ(o.kind, c.kind) << c.key;
    EXPECT_EQ(o.tenant, c.tenant) << c.key;
    EXPECT_EQ(o.id, id) << c.key;
  }
  EXPECT_EQ(ClassifyCasKey(cas_paths::KeyRecord("k.1")).kind, CasObjectKind::kKeyRecord);
  EXPECT_EQ(ClassifyCasKey(cas_paths::KeyRecord("k.1")).id, "k.1");
  EXPECT_EQ(ClassifyCasKey(cas_paths::KeyRetirement("k.1")).kind, CasObjectKind::kKeyRetirement);
  EXPECT_EQ(ClassifyCasKey(cas_paths::KeyRetirement("k.1")).id, "k.1");
  EXPECT_EQ(ClassifyCasKey("manifests/.x.json.tmp.0011223344556677").kind, CasObjectKind::kLeftover);
  for (const char* unknown : {"runtime-facts/acme/not-a-ulid.ndjson.zst",
                              "runtime-facts/Acme/"
                              "01J00000000000000000000000.ndjson.zst",
                              "manifests/01J00000000000000000000000.txt", "elsewhere/x",
                              "tombstones/other/acme/01J00000000000000000000000.json"}) {
    EXPECT_EQ(ClassifyCasKey(unknown).kind, CasObjectKind::kUnknown) << unknown;
  }
}

}  // namespace
}  // namespace signals
