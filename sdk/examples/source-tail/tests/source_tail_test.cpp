// Unit tests of the source-tail example: the built library is loaded through
// the C ABI (as signalsd loads it) and driven with the SDK's fake host, which
// answers ingests the way the kernel does where a source can observe it
// (unknown tenant, bad line, replayed idempotency key, outages, lost answers).
//
// Every wait is for an observable effect with a deadline (FakeHost::WaitFor);
// the intervals are small, so the suite takes a few seconds.
#include <gtest/gtest.h>

#include <signals/testing/fake_host.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;
using signals::testing::FakeHost;
using signals::testing::IngestRecord;
using signals::testing::Instance;
using signals::testing::MakeConfig;
using signals::testing::PluginLibrary;
using signals::testing::TestConfig;

constexpr const char* kGraph = "01ARZ3NDEKTSV4RRFFQ69G5FAV";
constexpr const char* kLabels = "instance=source.test";

// One runtime fact, different for every n.
std::string Fact(int n) {
  // Valid for the real kernel too: metadata values are strings.
  return "{\"symbolId\":\"java:com.example.Svc#m" + std::to_string(n) + "()\",\"metadata\":{\"seq\":\"" +
         std::to_string(n) + "\"}}";
}

std::vector<std::string> Facts(int from, int to) {
  std::vector<std::string> out;
  for (int n = from; n < to; ++n) out.push_back(Fact(n));
  return out;
}

std::vector<std::string> Concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Appends `text` as it is (no newline added).
void AppendRaw(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::app);
  out << text;
  ASSERT_TRUE(out.flush()) << path;
}

void AppendLines(const std::string& path, const std::vector<std::string>& lines) {
  std::string text;
  for (const auto& line : lines) text += line + "\n";
  AppendRaw(path, text);
}

// Truncates `path` to nothing in place (same inode), like `: > file`.
void Truncate(const std::string& path) { fs::resize_file(path, 0); }

size_t LineCount(const std::string& body) {
  return static_cast<size_t>(std::count(body.begin(), body.end(), '\n'));
}

const PluginLibrary& Library() {
  static const PluginLibrary library(SIGNALS_PLUGIN_UNDER_TEST);
  return library;
}

const signals_component& Component() { return Library().Component("source-tail"); }

class SourceTailTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "source-tail-test.XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    file_ = dir_ + "/facts.ndjson";
    host_.AddCallgraph("acme", kGraph);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // The configuration with small intervals; `options` add to or replace them.
  TestConfig Config(const std::map<std::string, std::string>& options = {}) const {
    std::map<std::string, std::string> all = {{"file", file_},           {"tenant", "acme"},
                                              {"callgraph_id", kGraph},  {"max_batch_delay", "20ms"},
                                              {"poll_interval", "10ms"}, {"retry_delay", "10ms"}};
    for (auto& [name, value] : options) all[name] = value;
    return MakeConfig(Component(), all, dir_);
  }

  // An instance of Config(options) on host_.
  std::unique_ptr<Instance> Make(std::map<std::string, std::string> options = {}) {
    return std::make_unique<Instance>(Component(), host_, Config(options));
  }

  std::unique_ptr<Instance> Started(std::map<std::string, std::string> options = {}) {
    auto source = Make(std::move(options));
    EXPECT_EQ(source->Start(), SIGNALS_OK) << source->LastError();
    return source;
  }

  bool WaitStored(size_t count) {
    return host_.WaitFor([&] { return host_.StoredFacts().size() >= count; });
  }

  // Appends Facts(from, to) and waits until `to` facts are stored.
  ::testing::AssertionResult AppendAndStore(int from, int to) {
    AppendLines(file_, Facts(from, to));
    if (WaitStored(static_cast<size_t>(to))) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << host_.StoredFacts().size() << " facts stored, not " << to;
  }

  // Starts an instance, waits until `count` facts are stored and destroys it
  // (a stop, or signalsd shutting down, between two runs).
  ::testing::AssertionResult RunUntilStored(size_t count, std::map<std::string, std::string> options = {}) {
    auto source = Started(std::move(options));
    if (WaitStored(count)) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << host_.StoredFacts().size() << " facts stored, not " << count;
  }

  // Every stored line, and none twice.
  void ExpectStoredExactly(const std::vector<std::string>& want) {
    const std::vector<std::string> stored = host_.StoredFacts();
    EXPECT_EQ(stored, want);
    EXPECT_EQ(std::set<std::string>(stored.begin(), stored.end()).size(), stored.size()) << "a line twice";
  }

  std::vector<IngestRecord> StoredIngests() const {
    std::vector<IngestRecord> out;
    for (auto& record : host_.Ingests()) {
      if (record.stored && record.status != SIGNALS_EXISTS) out.push_back(record);
    }
    return out;
  }

  std::string checkpoint() const { return dir_ + "/state/source.test/checkpoint.json"; }

  FakeHost host_;  // outlives every instance of a test
  std::string dir_;
  std::string file_;
};

TEST_F(SourceTailTest, DeclaresItsOptionsAndRefusesBadValues) {
  const signals_component& c = Component();
  EXPECT_EQ(c.kind, static_cast<uint32_t>(SIGNALS_KIND_SOURCE));
  std::map<std::string, const signals_option*> options;
  for (size_t i = 0; i < c.option_count; ++i) options[c.options[i].name] = &c.options[i];
  for (const char* name : {"file", "tenant", "callgraph_id", "source", "max_batch_facts", "max_batch_delay",
                           "poll_interval", "retry_delay", "start_at"}) {
    EXPECT_EQ(options.count(name), 1u) << name;
  }
  EXPECT_EQ(options["file"]->type, static_cast<uint32_t>(SIGNALS_OPT_PATH));
  EXPECT_NE(options["file"]->flags & SIGNALS_OPTF_REQUIRED, 0u);
  EXPECT_STREQ(options["max_batch_facts"]->default_value, "1000");
  EXPECT_STREQ(options["start_at"]->enum_values, "beginning|end");

  const auto config = MakeConfig(c, {{"file", "facts.ndjson"}, {"callgraph_id", kGraph}}, dir_);
  EXPECT_EQ(config.values().at("file"), dir_ + "/facts.ndjson");  // relative to the data directory
  EXPECT_EQ(config.values().at("max_batch_delay"), "500");        // milliseconds
  EXPECT_EQ(config.values().at("tenant"), "global");
  const std::vector<std::pair<std::string, std::string>> bad_values = {{"max_batch_facts", "0"},
                                                                       {"max_batch_facts", "100001"},
                                                                       {"max_batch_delay", "5ms"},
                                                                       {"retry_delay", "2h"},
                                                                       {"start_at", "middle"}};
  for (const auto& [name, bad] : bad_values) {
    EXPECT_THROW(MakeConfig(c, {{"file", "f"}, {"callgraph_id", kGraph}, {name, bad}}, dir_),
                 std::invalid_argument)
        << name << " = " << bad;
  }
  EXPECT_THROW(MakeConfig(c, {{"file", "f"}}, dir_), std::invalid_argument);  // callgraph_id is required
}

TEST_F(SourceTailTest, AppendedLinesArriveInBatches) {
  AppendLines(file_, Facts(0, 5));
  auto source = Started();
  ASSERT_TRUE(WaitStored(5));
  ASSERT_TRUE(AppendAndStore(5, 8));
  ASSERT_TRUE(AppendAndStore(8, 9));
  ExpectStoredExactly(Facts(0, 9));

  const auto ingests = StoredIngests();
  ASSERT_GE(ingests.size(), 3u);  // three appends, three batches at least
  std::set<std::string> keys;
  for (const auto& record : ingests) {
    EXPECT_EQ(record.tenant, "acme");
    EXPECT_EQ(record.callgraph_id, kGraph);
    EXPECT_EQ(record.source, "tail");
    EXPECT_EQ(record.idempotency_key.rfind("tail:", 0), 0u) << record.idempotency_key;
    keys.insert(record.idempotency_key);
  }
  EXPECT_EQ(keys.size(), ingests.size()) << "every batch has a key of its own";
  ASSERT_TRUE(host_.WaitFor([&] {
    return host_.Gauge("signals_source_tail_offset_bytes", kLabels) ==
           static_cast<double>(fs::file_size(file_));
  }));
  EXPECT_EQ(host_.Counter("signals_source_tail_lines_total", kLabels), 9);
  EXPECT_EQ(host_.Counter("signals_source_tail_batches_total", std::string(kLabels) + ",result=stored"),
            static_cast<double>(ingests.size()));
  EXPECT_TRUE(fs::exists(checkpoint()));
}

TEST_F(SourceTailTest, BatchesHoldAtMostMaxBatchFacts) {
  AppendLines(file_, Facts(0, 95));
  auto source = Started({{"max_batch_facts", "10"}, {"max_batch_delay", "1h"}});
  // 90 lines fill nine batches; the last five wait for max_batch_delay.
  ASSERT_TRUE(WaitStored(90));
  const auto ingests = StoredIngests();
  ASSERT_EQ(ingests.size(), 9u);
  for (const auto& record : ingests) EXPECT_EQ(LineCount(record.body), 10u);
  ExpectStoredExactly(Facts(0, 90));
  ASSERT_TRUE(AppendAndStore(95, 100));
  EXPECT_EQ(StoredIngests().size(), 10u);
  ExpectStoredExactly(Facts(0, 100));
}

TEST_F(SourceTailTest, PartialLastLineWaitsForItsNewline) {
  const std::string last = Fact(2);
  AppendLines(file_, Facts(0, 2));
  AppendRaw(file_, last.substr(0, 10));
  auto source = Started();
  ASSERT_TRUE(WaitStored(2));
  // Several polls and batch delays later, the half line is still not sent.
  EXPECT_FALSE(host_.WaitFor([&] { return host_.StoredFacts().size() > 2; }, std::chrono::milliseconds(300)));
  AppendRaw(file_, last.substr(10) + "\n");
  ASSERT_TRUE(WaitStored(3));
  ExpectStoredExactly(Facts(0, 3));
}

TEST_F(SourceTailTest, RotationFinishesTheOldFileFirst) {
  AppendLines(file_, Facts(0, 3));
  auto source = Started();
  ASSERT_TRUE(WaitStored(3));
  // Lines written just before the rotation are read from the old file (its
  // descriptor is kept open), its unterminated last line too, once it stops
  // growing; then the new file from its start.
  AppendLines(file_, Facts(3, 6));
  AppendRaw(file_, Fact(6));
  fs::rename(file_, file_ + ".1");
  ASSERT_TRUE(AppendAndStore(7, 10));
  ExpectStoredExactly(Facts(0, 10));
  EXPECT_TRUE(host_.Logged("rotated", SIGNALS_LOG_INFO));
  ASSERT_TRUE(AppendAndStore(10, 12));
  ExpectStoredExactly(Facts(0, 12));
}

TEST_F(SourceTailTest, RotationWhileStoppedFindsTheOldFile) {
  AppendLines(file_, Facts(0, 2));
  ASSERT_TRUE(RunUntilStored(2));
  AppendLines(file_, Facts(2, 4));  // not read before the rotation
  fs::rename(file_, file_ + "-20250101");
  AppendLines(file_, Facts(4, 6));
  auto source = Started();
  ASSERT_TRUE(WaitStored(6));
  ExpectStoredExactly(Facts(0, 6));
}

TEST_F(SourceTailTest, TruncationStartsOverWithAWarning) {
  AppendLines(file_, Facts(0, 5));
  auto source = Started();
  ASSERT_TRUE(WaitStored(5));
  Truncate(file_);
  AppendLines(file_, Facts(5, 6));  // shorter than what was read: the offset is past the end
  ASSERT_TRUE(WaitStored(6));
  EXPECT_TRUE(host_.Logged("truncated", SIGNALS_LOG_WARN));
  ASSERT_TRUE(AppendAndStore(6, 8));
  ExpectStoredExactly(Facts(0, 8));
  // The same offsets were sent twice, under different keys.
  std::set<std::string> keys;
  for (const auto& record : StoredIngests()) keys.insert(record.idempotency_key);
  EXPECT_EQ(keys.size(), StoredIngests().size());
}

TEST_F(SourceTailTest, TruncatedAndRefilledPastTheOffsetIsNoticed) {
  AppendLines(file_, Facts(0, 1));
  ASSERT_TRUE(RunUntilStored(1));
  // While stopped, the file is emptied and refilled beyond the old offset:
  // only the bytes before the offset tell.
  Truncate(file_);
  AppendLines(file_, Facts(100, 110));
  auto source = Started();
  ASSERT_TRUE(WaitStored(11));
  EXPECT_TRUE(host_.Logged("truncated", SIGNALS_LOG_WARN));
  ExpectStoredExactly(Concat(Facts(0, 1), Facts(100, 110)));
}

TEST_F(SourceTailTest, RestartResumesFromTheCheckpoint) {
  AppendLines(file_, Facts(0, 10));
  ASSERT_TRUE(RunUntilStored(10, {{"max_batch_facts", "4"}}));
  ASSERT_TRUE(fs::exists(checkpoint()));
  AppendLines(file_, Facts(10, 20));
  auto source = Started({{"max_batch_facts", "4"}});
  ASSERT_TRUE(WaitStored(20));
  ExpectStoredExactly(Facts(0, 20));
  EXPECT_TRUE(host_.Logged("resuming", SIGNALS_LOG_INFO));
}

TEST_F(SourceTailTest, LostAnswerIsResentWithTheSameKeyAndReplayed) {
  AppendLines(file_, Facts(0, 6));
  host_.LoseNextAnswers(1);  // stored, but the source hears "unavailable"
  auto source = Started();
  ASSERT_TRUE(host_.WaitFor([&] {
    for (const auto& record : host_.Ingests()) {
      if (record.status == SIGNALS_EXISTS) return true;
    }
    return false;
  }));
  const auto ingests = host_.Ingests();
  ASSERT_GE(ingests.size(), 2u);
  EXPECT_TRUE(ingests[0].stored);
  EXPECT_EQ(ingests[0].status, SIGNALS_RETRY);
  EXPECT_EQ(ingests[1].status, SIGNALS_EXISTS);
  EXPECT_EQ(ingests[1].idempotency_key, ingests[0].idempotency_key);
  EXPECT_EQ(ingests[1].body, ingests[0].body);
  ExpectStoredExactly(Facts(0, 6));
  ASSERT_TRUE(host_.WaitFor([&] {
    return host_.Counter("signals_source_tail_batches_total", std::string(kLabels) + ",result=replayed") == 1;
  }));
  ASSERT_TRUE(AppendAndStore(6, 8));
  ExpectStoredExactly(Facts(0, 8));
}

// The kill -9 case: the kernel committed a batch, the process died before the
// checkpoint moved. The next start sends the same bytes with the same key,
// even though more lines were appended meanwhile (the batch's end is in the
// checkpoint, not recomputed).
TEST_F(SourceTailTest, CrashBetweenCommitAndCheckpointIsReplayedAfterRestart) {
  AppendLines(file_, Facts(0, 3));
  host_.LoseNextAnswers(1);
  {
    auto source = Started({{"retry_delay", "1h"}});
    ASSERT_TRUE(host_.WaitFor([&] { return host_.Ingests().size() == 1 && host_.Ingests()[0].stored; }));
    const auto before = std::chrono::steady_clock::now();
    EXPECT_EQ(source->Stop(), SIGNALS_OK);  // wakes the worker out of its 1h retry pause
    EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::seconds(5));
  }
  AppendLines(file_, Facts(3, 7));
  auto source = Started();
  ASSERT_TRUE(WaitStored(7));
  const auto ingests = host_.Ingests();
  ASSERT_GE(ingests.size(), 3u);
  EXPECT_EQ(ingests[1].status, SIGNALS_EXISTS);
  EXPECT_EQ(ingests[1].idempotency_key, ingests[0].idempotency_key);
  EXPECT_EQ(LineCount(ingests[1].body), 3u);
  ExpectStoredExactly(Facts(0, 7));
}

// A host table that forwards to a FakeHost, but behaves like a kernel that
// crashed after it committed a batch and before it recorded the answer to the
// batch's idempotency key: it no longer knows any key (a resend would be
// stored again). It serves "runtime-facts.stream" from what the fake host
// stored, which the FakeHost itself does not.
class ForgetfulKernel {
 public:
  explicit ForgetfulKernel(const FakeHost& fake) : fake_(fake), table_(*fake.table()) {
    current_ = this;
    table_.ingest_begin = &IngestBegin;
    table_.object_open = &ObjectOpen;
    table_.object_read = &ObjectRead;
    table_.object_close = &ObjectClose;
  }
  ~ForgetfulKernel() { current_ = nullptr; }
  const signals_host* table() const { return &table_; }
  std::vector<std::string> streams_opened() const { return streams_; }

 private:
  struct Stream {
    std::string bytes;
    size_t pos = 0;
  };

  static signals_status IngestBegin(void* ctx, const char* request_json, signals_ingest** out,
                                    signals_sink sink, void* sink_ctx) {
    auto request = signals::support::JsonObject::Parse(request_json);
    signals::support::JsonWriter w;
    w.BeginObject()
        .Key("kind")
        .String(request->String("kind"))
        .Key("tenant")
        .String(request->String("tenant"));
    w.Key("callgraphId")
        .String(request->String("callgraphId"))
        .Key("source")
        .String(request->String("source"));
    w.EndObject();  // no idempotencyKey
    return current_->fake_.table()->ingest_begin(ctx, w.text().c_str(), out, sink, sink_ctx);
  }
  static signals_status ObjectOpen(void*, const char* request_json, signals_object** out, signals_sink sink,
                                   void* sink_ctx) {
    current_->streams_.push_back(request_json);
    auto stream = std::make_unique<Stream>();
    for (const auto& record : current_->fake_.Ingests()) {
      if (!record.stored) continue;
      stream->bytes += record.body;
      if (!record.body.empty() && record.body.back() != '\n') stream->bytes += '\n';
    }
    const std::string meta = "{\"contentType\":\"application/x-ndjson\",\"contentEncoding\":\"identity\"}";
    sink(sink_ctx, reinterpret_cast<const uint8_t*>(meta.data()), meta.size());
    *out = reinterpret_cast<signals_object*>(stream.release());
    return SIGNALS_OK;
  }
  static signals_status ObjectRead(void*, signals_object* object, uint8_t* buffer, size_t capacity,
                                   size_t* out_len) {
    auto* stream = reinterpret_cast<Stream*>(object);
    *out_len = std::min(capacity, stream->bytes.size() - stream->pos);
    std::copy_n(stream->bytes.data() + stream->pos, *out_len, buffer);
    stream->pos += *out_len;
    return *out_len == 0 ? SIGNALS_EOF : SIGNALS_OK;
  }
  static void ObjectClose(void*, signals_object* object) { delete reinterpret_cast<Stream*>(object); }

  static inline ForgetfulKernel* current_ = nullptr;
  const FakeHost& fake_;
  signals_host table_;
  std::vector<std::string> streams_;
};

// The gap a resend cannot close: the kernel committed the batch, then died
// before it recorded the answer to the key. After the restart the source
// finds the batch among the stored facts and does not send it again.
TEST_F(SourceTailTest, BatchStoredWithoutItsAnswerIsFoundNotResent) {
  AppendLines(file_, Facts(0, 3));
  host_.LoseNextAnswers(1);
  {
    auto source = Started({{"retry_delay", "1h"}});
    ASSERT_TRUE(host_.WaitFor([&] { return host_.Ingests().size() == 1 && host_.Ingests()[0].stored; }));
  }
  AppendLines(file_, Facts(3, 7));
  ForgetfulKernel kernel(host_);
  Instance source(Component(), kernel.table(), Config());
  ASSERT_EQ(source.Start(), SIGNALS_OK) << source.LastError();
  ASSERT_TRUE(WaitStored(7));
  ASSERT_TRUE(host_.WaitFor([&] { return host_.Logged("found among the facts stored", SIGNALS_LOG_INFO); }));
  ExpectStoredExactly(Facts(0, 7));
  EXPECT_EQ(host_.Ingests().size(), 2u) << "the batch in flight was sent again";
  const auto streams = kernel.streams_opened();
  ASSERT_EQ(streams.size(), 1u);
  auto request = signals::support::JsonObject::Parse(streams[0]);
  ASSERT_TRUE(request);
  EXPECT_EQ(request->String("op"), "runtime-facts.stream");
  EXPECT_EQ(request->String("tenant"), "acme");
  EXPECT_EQ(request->String("callgraphId"), kGraph);
  EXPECT_EQ(request->String("since").size(), 24u) << request->String("since");  // 2025-01-02T03:04:05.678Z
}

TEST_F(SourceTailTest, UnknownTenantWaitsUntilItIsAdded) {
  // A host of its own, where "acme" is unknown: only "other" and a global graph exist.
  FakeHost strict;
  strict.AddCallgraph("global", kGraph);
  strict.AddTenant("other");
  AppendLines(file_, Facts(0, 4));
  Instance source(Component(), strict, Config());
  ASSERT_EQ(source.Start(), SIGNALS_OK) << source.LastError();
  // Start checks the configuration and warns, but does not fail.
  EXPECT_TRUE(strict.Logged("unknown tenant 'acme'", SIGNALS_LOG_WARN));
  ASSERT_TRUE(strict.WaitFor([&] { return strict.Logged("unknown tenant 'acme'", SIGNALS_LOG_ERROR); }));
  ASSERT_TRUE(strict.WaitFor([&] {
    return strict.Counter("signals_source_tail_retries_total",
                          std::string(kLabels) + ",reason=unknown-reference") >= 2;
  }));
  EXPECT_TRUE(strict.StoredFacts().empty());
  // The error names what to do, and is logged once, not per attempt.
  size_t errors = 0;
  for (const auto& line : strict.Logs()) {
    if (line.level == SIGNALS_LOG_ERROR && line.message.find("acme") != std::string::npos) {
      ++errors;
      EXPECT_NE(line.message.find("signalsctl tenant add acme"), std::string::npos) << line.message;
    }
  }
  EXPECT_EQ(errors, 1u);
  strict.AddTenant("acme");
  ASSERT_TRUE(strict.WaitFor([&] { return strict.StoredFacts().size() == 4; }));
  EXPECT_EQ(strict.StoredFacts(), Facts(0, 4));
  EXPECT_TRUE(strict.WaitFor([&] { return strict.Logged("delivered after", SIGNALS_LOG_INFO); }));
}

TEST_F(SourceTailTest, BadLineIsDroppedAlone) {
  AppendLines(file_, {Fact(0), "not json", Fact(1), "{\"factType\":\"runtime.symbol.hit\"}", "", Fact(2)});
  auto source = Started();
  ASSERT_TRUE(WaitStored(3));
  ExpectStoredExactly(Facts(0, 3));
  EXPECT_EQ(host_.Counter("signals_source_tail_dropped_lines_total", kLabels), 2);
  // Logged with the line's offset in the file.
  const std::string second_line_offset = std::to_string(Fact(0).size() + 1);
  EXPECT_TRUE(host_.Logged("offset " + second_line_offset + ": line dropped", SIGNALS_LOG_WARN));
  // The rest of the batch went again under a new key each time.
  const auto ingests = host_.Ingests();
  ASSERT_EQ(ingests.size(), 3u);
  EXPECT_EQ(ingests[0].status, SIGNALS_INVALID_ARGUMENT);
  EXPECT_EQ(ingests[1].status, SIGNALS_INVALID_ARGUMENT);
  EXPECT_EQ(ingests[2].status, SIGNALS_OK);
  EXPECT_NE(ingests[1].idempotency_key, ingests[0].idempotency_key);
  EXPECT_NE(ingests[2].idempotency_key, ingests[1].idempotency_key);
  EXPECT_EQ(ingests[2].body.find("not json"), std::string::npos);
}

TEST_F(SourceTailTest, OutagesAreRetriedWithTheSameBatch) {
  AppendLines(file_, Facts(0, 5));
  host_.FailNextIngests(2, SIGNALS_RETRY);
  host_.FailNextIngests(1, SIGNALS_NO_SPACE, 507, "the disk is full (scripted)");
  auto source = Started();
  ASSERT_TRUE(WaitStored(5));
  ExpectStoredExactly(Facts(0, 5));
  const auto ingests = host_.Ingests();
  ASSERT_EQ(ingests.size(), 4u);
  for (const auto& record : ingests) EXPECT_EQ(record.idempotency_key, ingests[0].idempotency_key);
  EXPECT_EQ(host_.Counter("signals_source_tail_retries_total", std::string(kLabels) + ",reason=unavailable"),
            2);
  EXPECT_EQ(host_.Counter("signals_source_tail_retries_total", std::string(kLabels) + ",reason=no-space"), 1);
  EXPECT_TRUE(host_.Logged("unavailable", SIGNALS_LOG_WARN));
}

TEST_F(SourceTailTest, StartAtEndSkipsWhatIsThere) {
  AppendLines(file_, Facts(0, 5));
  AppendRaw(file_, Fact(5).substr(0, 8));  // being written: it is new, so it is read
  auto source = Started({{"start_at", "end"}});
  ASSERT_TRUE(host_.WaitFor([&] { return host_.Logged("following", SIGNALS_LOG_INFO); }));
  AppendRaw(file_, Fact(5).substr(8) + "\n");
  AppendLines(file_, Facts(6, 8));
  ASSERT_TRUE(WaitStored(3));
  ExpectStoredExactly(Facts(5, 8));
}

TEST_F(SourceTailTest, MissingFileIsAwaited) {
  auto source = Started({{"start_at", "end"}});
  ASSERT_TRUE(host_.WaitFor([&] { return host_.Logged("waiting for", SIGNALS_LOG_INFO); }));
  // A file that appears after the start is new: read from its start.
  ASSERT_TRUE(AppendAndStore(0, 3));
  ExpectStoredExactly(Facts(0, 3));
  size_t waiting = 0;
  for (const auto& line : host_.Logs()) waiting += line.message.find("waiting for") != std::string::npos;
  EXPECT_EQ(waiting, 1u) << "logged once, not at every poll";
}

TEST_F(SourceTailTest, BlankLinesAloneSendNothing) {
  AppendRaw(file_, "\n  \n\n");
  auto source = Started();
  ASSERT_TRUE(host_.WaitFor([&] { return host_.Gauge("signals_source_tail_offset_bytes", kLabels) == 5; }));
  EXPECT_TRUE(host_.Ingests().empty());
  ASSERT_TRUE(AppendAndStore(0, 1));
  ExpectStoredExactly(Facts(0, 1));
}

TEST_F(SourceTailTest, StopIsPromptDuringAnOutageAndMayBeRepeated) {
  AppendLines(file_, Facts(0, 2));
  host_.FailNextIngests(1000, SIGNALS_RETRY);
  auto source = Started({{"retry_delay", "1h"}});
  ASSERT_TRUE(host_.WaitFor([&] { return !host_.Ingests().empty(); }));
  const auto before = std::chrono::steady_clock::now();
  EXPECT_EQ(source->Stop(), SIGNALS_OK);
  EXPECT_LT(std::chrono::steady_clock::now() - before, std::chrono::seconds(5));
  EXPECT_EQ(source->Stop(), SIGNALS_OK);
  EXPECT_TRUE(host_.StoredFacts().empty());
}

TEST_F(SourceTailTest, ACorruptCheckpointFailsCreate) {
  auto first = Make();  // creates the state directory
  first.reset();
  std::ofstream(checkpoint()) << "{\"version\":1,";
  try {
    Make();
    FAIL() << "create accepted a corrupt checkpoint";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("checkpoint"), std::string::npos) << e.what();
  }
}

}  // namespace
