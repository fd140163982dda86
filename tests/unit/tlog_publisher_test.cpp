// Specification of the transparency-log retry queue (TlogPublisher) in
// process, over a real Kernel (cas-fs, index-sqlite): the skipReason each
// outcome leaves, the capped and jittered backoff, the queue row's contract
// shape and the depth gauge, and what a retry pass does with rows it cannot
// submit. Submissions to a real log are tested by tests/integration/tlog_*.
#include "tlog/tlog_publisher.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "base/canonical_json.hpp"
#include "base/timestamp.hpp"
#include "test_kernel.hpp"

namespace signals {
namespace {

constexpr const char* kBatch = "01HZY3X8M4B5V6N7P8Q9R0S1T2";

TlogOutcome Outcome(TlogOutcome::State state, std::string reason = "", std::string uuid = "") {
  TlogOutcome o;
  o.state = state;
  o.reason = std::move(reason);
  o.uuid = std::move(uuid);
  return o;
}

class TlogQueueTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(kernel_.Open()); }

  // A publisher over the kernel's index and CAS; no log client is needed for
  // what these tests exercise (nothing is submitted).
  TlogPublisher Publisher(int64_t cap_ms) { return TlogPublisher(*kernel_, nullptr, cap_ms); }

  nlohmann::json Row(const std::string& collection, const std::string& key) {
    auto text = kernel_->index().Get(collection, key);
    if (!text.ok()) return nullptr;
    return nlohmann::json::parse(*text);
  }

  void Enqueue(TlogPublisher& publisher, const TlogSubject& subject, const std::string& reason) {
    auto txn = kernel_->index().Begin();
    ASSERT_TRUE(txn.ok()) << txn.status().ToString();
    ASSERT_TRUE(publisher.Enqueue(**txn, subject, Outcome(TlogOutcome::State::kQueued, reason)).ok());
    ASSERT_TRUE((*txn)->Commit().ok());
  }

  // Inserts rows as they are, keyed by `key_member` ("batchId" or "envelopeKey").
  void Insert(const char* collection, const char* key_member, const std::vector<nlohmann::json>& rows) {
    auto txn = kernel_->index().Begin();
    ASSERT_TRUE(txn.ok()) << txn.status().ToString();
    for (const auto& row : rows) {
      ASSERT_TRUE((*txn)->Insert(collection, row[key_member].get<std::string>(), CanonicalJson(row)).ok());
    }
    ASSERT_TRUE((*txn)->Commit().ok());
  }

  // A queue row that is due and whose id is not a ULID.
  static nlohmann::json MalformedDueRow() {
    return {{"envelopeKey", "attestations/x.dsse"},
            {"kind", "batch"},
            {"id", "not-a-ulid"},
            {"tenantId", "global"},
            {"attempts", 1},
            {"lastError", ""},
            {"nextAttemptAt", "2026-01-01T00:00:00.000Z"}};
  }

  testing::TestKernel kernel_;
};

TEST(TlogOutcome, LeavesTheSkipReasonsOfDesign46) {
  EXPECT_EQ(TlogOutcome{}.SkipReason(), "rekor-disabled");
  EXPECT_EQ(Outcome(TlogOutcome::State::kQueued, "HTTP 503").SkipReason(), "rekor-unavailable");
  EXPECT_EQ(Outcome(TlogOutcome::State::kRejected, "HTTP 400: bad").SkipReason(),
            "rekor-rejected: HTTP 400: bad");
  EXPECT_TRUE(Outcome(TlogOutcome::State::kLogged, "", "ab").SkipReason().is_null());
  EXPECT_EQ(Outcome(TlogOutcome::State::kLogged, "", "ab").RekorUuid(), "ab");
  EXPECT_TRUE(Outcome(TlogOutcome::State::kQueued).RekorUuid().is_null());
}

TEST_F(TlogQueueTest, BackoffDoublesFromOneSecondUpToTheCapWithJitter) {
  TlogPublisher publisher = Publisher(5000);
  std::set<int64_t> first;
  for (int i = 0; i < 200; ++i) {
    int64_t d1 = publisher.BackoffMs(1), d2 = publisher.BackoffMs(2), d10 = publisher.BackoffMs(10);
    EXPECT_GE(d1, 500);
    EXPECT_LE(d1, 1000);
    EXPECT_GE(d2, 1000);
    EXPECT_LE(d2, 2000);
    EXPECT_GE(d10, 2500) << "capped at retry_max_interval, at least half of it";
    EXPECT_LE(d10, 5000);
    first.insert(d1);
  }
  EXPECT_GT(first.size(), 10u) << "the backoff is not jittered";
}

TEST_F(TlogQueueTest, QueueRowHasTheContractShapeAndTheGaugeCountsRows) {
  TlogPublisher publisher = Publisher(1000);
  const TlogSubject subject = TlogSubject::Batch(kBatch, "global");
  ASSERT_NO_FATAL_FAILURE(Enqueue(publisher, subject, "POST: HTTP 503: down"));
  publisher.RefreshQueueDepth();
  EXPECT_EQ(kernel_->metrics().Value("signals_tlog_queue_depth", ""), 1);

  nlohmann::json row = Row(kTlogQueueCollection, "attestations/" + std::string(kBatch) + ".dsse");
  ASSERT_TRUE(row.is_object());
  EXPECT_EQ(row["envelopeKey"], "attestations/" + std::string(kBatch) + ".dsse");
  EXPECT_EQ(row["kind"], "batch");
  EXPECT_EQ(row["id"], kBatch);
  EXPECT_EQ(row["tenantId"], "global");
  EXPECT_EQ(row["entryKey"], "attestations/" + std::string(kBatch) + ".rekor.json");
  EXPECT_EQ(row["attempts"], 1);
  EXPECT_EQ(row["lastError"], "POST: HTTP 503: down");
  auto enqueued = ParseRfc3339(row["enqueuedAt"].get<std::string>());
  auto next = ParseRfc3339(row["nextAttemptAt"].get<std::string>());
  ASSERT_TRUE(enqueued.ok() && next.ok());
  EXPECT_GE(*next - *enqueued, 500);
  EXPECT_LE(*next - *enqueued, 1000);

  const TlogSubject manifest = TlogSubject::Manifest(kBatch, "global");
  EXPECT_EQ(manifest.envelope_key, "manifests/" + std::string(kBatch) + ".json.dsse");
  EXPECT_EQ(manifest.entry_key, "manifests/" + std::string(kBatch) + ".rekor.json");
  EXPECT_STREQ(manifest.collection(), "callgraphs");
}

TEST_F(TlogQueueTest, RetryOfAGoneEnvelopeMarksTheRowAndDropsTheQueueRow) {
  TlogPublisher publisher = Publisher(1000);
  const TlogSubject subject = TlogSubject::Batch(kBatch, "global");
  Insert("batches", "batchId",
         {{{"batchId", kBatch}, {"rekorUuid", nullptr}, {"skipReason", "rekor-unavailable"}}});
  Insert(kTlogQueueCollection, "envelopeKey",
         {{{"envelopeKey", subject.envelope_key},
           {"kind", "batch"},
           {"id", kBatch},
           {"tenantId", "global"},
           {"entryKey", subject.entry_key},
           {"enqueuedAt", "2026-01-01T00:00:00.000Z"},
           {"attempts", 3},
           {"nextAttemptAt", "2026-01-01T00:00:00.000Z"},
           {"lastError", "HTTP 503"}}});
  publisher.RetryDue();
  EXPECT_TRUE(Row(kTlogQueueCollection, subject.envelope_key).is_null()) << "the queue row stays";
  nlohmann::json batch = Row("batches", kBatch);
  EXPECT_EQ(batch["skipReason"],
            "rekor-rejected: the envelope " + subject.envelope_key + " no longer exists");
  EXPECT_EQ(kernel_->metrics().Value("signals_tlog_queue_depth", ""), 0);
}

TEST_F(TlogQueueTest, RetryOfAMalformedRowBacksOffInsteadOfSpinning) {
  TlogPublisher publisher = Publisher(60000);
  const nlohmann::json queued = MalformedDueRow();
  Insert(kTlogQueueCollection, "envelopeKey", {queued});
  publisher.RetryDue();
  nlohmann::json row = Row(kTlogQueueCollection, "attestations/x.dsse");
  ASSERT_TRUE(row.is_object());
  EXPECT_EQ(row["attempts"], 2);
  EXPECT_NE(row["lastError"].get<std::string>().find("malformed"), std::string::npos) << row.dump();
  auto next = ParseRfc3339(row["nextAttemptAt"].get<std::string>());
  ASSERT_TRUE(next.ok());
  EXPECT_GT(*next, kernel_->NowMs() + 500) << "the next attempt is not postponed";
}

TEST_F(TlogQueueTest, RetryPassAskedToStopLeavesDueRowsForLater) {
  TlogPublisher publisher = Publisher(60000);
  const nlohmann::json queued = MalformedDueRow();
  Insert(kTlogQueueCollection, "envelopeKey", {queued});
  const std::atomic<bool> stopping{true};
  publisher.RetryDue(&stopping);
  EXPECT_EQ(Row(kTlogQueueCollection, "attestations/x.dsse"), queued) << "a stopping pass touched the row";
}

}  // namespace
}  // namespace signals
