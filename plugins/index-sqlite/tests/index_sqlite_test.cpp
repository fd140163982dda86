// index_sqlite_test.cpp — specification tests for the index-sqlite plugin,
// driven through its C ABI by the test PluginUnderTest (dlopen, no kernel):
// records, queries, name rules, concurrency, the on-disk format as the sqlite3
// CLI sees it, and durability across a process that dies without closing.
//
// Each test works in its own temporary directory. The crash tests fork; the
// child only ever uses the plugin and leaves with _exit or SIGKILL.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <signals/testing/fake_host.hpp>

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

signals::testing::PluginUnderTest& Harness() {
  static signals::testing::PluginUnderTest harness(SIGNALS_PLUGIN_UNDER_TEST);
  return harness;
}

// One instance of the component, destroyed with the object.
class Index {
 public:
  explicit Index(void* instance)
      : component_(Harness().Component("index-sqlite")),
        api_(static_cast<const signals_index_api*>(component_.api)),
        instance_(instance) {}
  ~Index() { component_.destroy(instance_); }
  Index(const Index&) = delete;
  Index& operator=(const Index&) = delete;

  signals_status Begin(signals_index_txn** txn) { return api_->begin(instance_, txn); }
  signals_status Insert(signals_index_txn* txn, const std::string& collection, const std::string& key,
                        const std::string& doc) {
    return api_->insert(instance_, txn, collection.c_str(), key.c_str(), Bytes(doc));
  }
  signals_status Upsert(signals_index_txn* txn, const std::string& collection, const std::string& key,
                        const std::string& doc) {
    return api_->upsert(instance_, txn, collection.c_str(), key.c_str(), Bytes(doc));
  }
  signals_status Remove(signals_index_txn* txn, const std::string& collection, const std::string& key) {
    return api_->remove(instance_, txn, collection.c_str(), key.c_str());
  }
  signals_status Commit(signals_index_txn* txn) { return api_->commit(instance_, txn); }
  void Rollback(signals_index_txn* txn) { api_->rollback(instance_, txn); }

  signals_status Get(const std::string& collection, const std::string& key, std::string* out) {
    out->clear();
    return api_->get(instance_, collection.c_str(), key.c_str(), &signals::testing::FakeHost::Append, out);
  }
  signals_status Query(const std::string& collection, const std::string& query,
                       std::vector<std::string>* rows) {
    rows->clear();
    return api_->query(instance_, collection.c_str(), query.c_str(), &AppendRow, rows);
  }
  signals_status QueryWithSink(const std::string& collection, const std::string& query, signals_sink sink,
                               void* ctx) {
    return api_->query(instance_, collection.c_str(), query.c_str(), sink, ctx);
  }
  // The "k" member of every row of a query; the tests store each key there too.
  std::vector<std::string> QueryKeys(const std::string& collection, const std::string& query) {
    std::vector<std::string> rows;
    signals_status s = Query(collection, query, &rows);
    EXPECT_EQ(s, SIGNALS_OK) << query << ": " << LastError();
    std::vector<std::string> keys;
    for (const std::string& row : rows) keys.push_back(json::parse(row).value("k", "?"));
    return keys;
  }
  signals_status Health() { return component_.health(instance_); }
  std::string LastError() { return component_.last_error(instance_); }

  // Inserts all records in one committed transaction; fails the test otherwise.
  void Put(const std::string& collection, const std::map<std::string, json>& records) {
    signals_index_txn* txn = nullptr;
    ASSERT_EQ(Begin(&txn), SIGNALS_OK) << LastError();
    for (const auto& [key, doc] : records) {
      ASSERT_EQ(Insert(txn, collection, key, doc.dump()), SIGNALS_OK) << key << ": " << LastError();
    }
    ASSERT_EQ(Commit(txn), SIGNALS_OK) << LastError();
  }

 private:
  static signals_bytes Bytes(const std::string& s) {
    return signals_bytes{reinterpret_cast<const uint8_t*>(s.data()), s.size()};
  }
  static void AppendRow(void* ctx, const uint8_t* data, size_t len) {
    static_cast<std::vector<std::string>*>(ctx)->emplace_back(reinterpret_cast<const char*>(data), len);
  }

  const signals_component& component_;
  const signals_index_api* api_;
  void* instance_;
};

// Runs the sqlite3 CLI on `db` and returns its trimmed standard output.
std::string Sqlite3Cli(const std::string& db, const std::string& sql) {
  std::string command = "sqlite3 '" + db + "' \"" + sql + "\" 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return "popen failed";
  std::string out;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) out.append(buffer, n);
  pclose(pipe);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

class IndexSqliteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/index-sqlite-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    db_path_ = (dir_ / "index.sqlite").string();
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // Creates an instance on the test's database; options override defaults.
  std::unique_ptr<Index> Open(std::map<std::string, std::string> options = {}) {
    if (options.count("path") == 0) options["path"] = db_path_;
    if (options.count("busy_timeout") == 0) options["busy_timeout"] = "5000ms";
    void* instance = nullptr;
    std::string error;
    signals_status s = Harness().Create("index-sqlite", options, dir_.string(), &instance, &error);
    EXPECT_EQ(s, SIGNALS_OK) << error;
    if (s != SIGNALS_OK) return nullptr;
    return std::make_unique<Index>(instance);
  }

  signals_status CreateStatus(std::map<std::string, std::string> options, std::string* error) {
    void* instance = nullptr;
    signals_status s = Harness().Create("index-sqlite", options, dir_.string(), &instance, error);
    if (s == SIGNALS_OK) Index cleanup(instance);
    return s;
  }

  fs::path dir_;
  std::string db_path_;
};

// --- the descriptor --------------------------------------------------------------

TEST_F(IndexSqliteTest, DescribesAConcurrentIndexComponentWithItsOptions) {
  const signals_component& c = Harness().Component("index-sqlite");
  EXPECT_EQ(c.kind, static_cast<uint32_t>(SIGNALS_KIND_INDEX));
  EXPECT_EQ(c.capabilities & SIGNALS_CAP_CONCURRENT, SIGNALS_CAP_CONCURRENT);
  std::map<std::string, std::string> defaults;
  for (size_t i = 0; i < c.option_count; ++i) {
    defaults[c.options[i].name] = c.options[i].default_value ? c.options[i].default_value : "";
  }
  EXPECT_EQ(defaults, (std::map<std::string, std::string>{{"busy_timeout", "5s"},
                                                          {"path", "index.sqlite"},
                                                          {"read_connections", "4"},
                                                          {"synchronous", "FULL"}}));
}

TEST_F(IndexSqliteTest, RejectsOutOfRangeOptionsWithInvalidConfig) {
  std::string error;
  EXPECT_EQ(CreateStatus({{"path", db_path_}, {"read_connections", "0"}}, &error), SIGNALS_INVALID_CONFIG);
  EXPECT_NE(error.find("read_connections"), std::string::npos) << error;
  EXPECT_EQ(CreateStatus({{"path", db_path_}, {"synchronous", "OFF"}}, &error), SIGNALS_INVALID_CONFIG);
  EXPECT_NE(error.find("synchronous"), std::string::npos) << error;
}

TEST_F(IndexSqliteTest, ResolvesRelativePathAgainstDataDirAndCreatesParents) {
  auto index = Open({{"path", "nested/deeper/idx.sqlite"}});
  ASSERT_TRUE(index);
  index->Put("batches", {{"b1", {{"k", "b1"}}}});
  EXPECT_TRUE(fs::exists(dir_ / "nested" / "deeper" / "idx.sqlite"));
}

TEST_F(IndexSqliteTest, ReportsHealthyOnAnOpenDatabase) {
  auto index = Open();
  ASSERT_TRUE(index);
  EXPECT_EQ(index->Health(), SIGNALS_OK) << index->LastError();
}

// --- records ---------------------------------------------------------------------

TEST_F(IndexSqliteTest, ReturnsTheInsertedDocumentVerbatimAfterCommit) {
  auto index = Open();
  ASSERT_TRUE(index);
  const std::string doc = R"({"tenant": "acme", "size": 42, "nested": {"a": [1, 2]}})";
  signals_index_txn* txn = nullptr;
  ASSERT_EQ(index->Begin(&txn), SIGNALS_OK);
  ASSERT_EQ(index->Insert(txn, "batches", "01HX", doc), SIGNALS_OK) << index->LastError();
  ASSERT_EQ(index->Commit(txn), SIGNALS_OK) << index->LastError();

  std::string out;
  ASSERT_EQ(index->Get("batches", "01HX", &out), SIGNALS_OK) << index->LastError();
  EXPECT_EQ(out, doc);
}

TEST_F(IndexSqliteTest, GetOfAnAbsentKeyOrCollectionIsNotFound) {
  auto index = Open();
  ASSERT_TRUE(index);
  std::string out;
  EXPECT_EQ(index->Get("never_written", "x", &out), SIGNALS_NOT_FOUND);
  index->Put("batches", {{"a", {{"k", "a"}}}});
  EXPECT_EQ(index->Get("batches", "b", &out), SIGNALS_NOT_FOUND);
}

TEST_F(IndexSqliteTest, InsertOfATakenKeyFailsWithExistsNamingCollectionKeyAndSqliteText) {
  auto index = Open();
  ASSERT_TRUE(index);
  index->Put("batches", {{"dup", {{"v", 1}}}});

  signals_index_txn* txn = nullptr;
  ASSERT_EQ(index->Begin(&txn), SIGNALS_OK);
  EXPECT_EQ(index->Insert(txn, "batches", "dup", R"({"v": 2})"), SIGNALS_EXISTS);
  const std::string error = index->LastError();
  EXPECT_NE(error.find("'batches'"), std::string::npos) << error;
  EXPECT_NE(error.find("'dup'"), std::string::npos) << error;
  EXPECT_NE(error.find("UNIQUE constraint failed"), std::string::npos) << error;
  // The failed statement does not spoil the transaction.
  EXPECT_EQ(index->Insert(txn, "batches", "other", R"({"v": 3})"), SIGNALS_OK) << index->LastError();
  ASSERT_EQ(index->Commit(txn), SIGNALS_OK) << index->LastError();

  std::string out;
  ASSERT_EQ(index->Get("batches", "dup", &out), SIGNALS_OK);
  EXPECT_EQ(json::parse(out)["v"], 1);
  EXPECT_EQ(index->Get("batches", "other", &out), SIGNALS_OK);
}

TEST_F(IndexSqliteTest, UpsertInsertsOrReplaces) {
  auto index = Open();
  ASSERT_TRUE(index);
  signals_index_txn* txn = nullptr;
  ASSERT_EQ(index->Begin(&txn), SIGNALS_OK);
  ASSERT_EQ(index->Upsert(txn, "keys", "k1", R"({"v": 1})"), SIGNALS_OK) << index->LastError();
  ASSERT_EQ(index->Upsert(txn, "keys", "k1", R"({"v": 2})"), SIGNALS_OK) << index->LastError();
  ASSERT_EQ(index->Commit(txn), SIGNALS_OK);
  std::string out;
  ASSERT_EQ(index->Get("keys", "k1", &out), SIGNALS_OK);
  EXPECT_EQ(out, R"({"v": 2})");
}

TEST_F(IndexSqliteTest, RemoveDeletesAndReportsNotFoundWhenAbsent) {
  auto index = Open();
  ASSERT_TRUE(index);
  index->Put("keys", {{"k1", {{"v", 1}}}});
  signals_index_txn* txn = nullptr;
  ASSERT_EQ(index->Begin(&txn), SIGNALS_OK);
  EXPECT_EQ(index->Remove(txn, "keys", "k1"), SIGNALS_OK) << index->LastError();
  EXPECT_EQ(index->Remove(txn, "keys", "k1"), SIGNALS_NOT_FOUND);
  EXPECT_EQ(index->Remove(txn, "no_such_collection", "k1"), SIGNALS_NOT_FOUND);
  ASSERT_EQ(index->Commit(txn), SIGNALS_OK);
  std::string out;
  EXPECT_EQ(index->Get("keys", "k1", &out), SIGNALS_NOT_FOUND);
}

TEST_F(IndexSqliteTest, RollbackLeavesNothingBehindNotEvenTheNewCollection) {
  auto index = Open();
  ASSERT_TRUE(index);
  signals_index_txn* txn = nullptr;
  ASSERT_EQ(index->Begin(&txn), SIGNALS_OK);
  ASSERT_EQ(index->Insert(txn, "fresh", "a", R"({"k": "a"})"), SIGNALS_OK);
  index->Rollback(txn);

  std::string out;
  EXPECT_EQ(index->Get("fresh", "a", &out), SIGNALS_NOT_FOUND);
  EXPECT_EQ(index->QueryKeys("fresh", "{}"), std::vector<std::string>{});
  // The table was rolled back with the row: a later transaction recreates it.
  index->Put("fresh", {{"b", {{"k", "b"}}}});
  EXPECT_EQ(index->QueryKeys("fresh", "{}"), std::vector<std::string>{"b"});
}

TEST_F(IndexSqliteTest, ReadersSeeOnlyCommittedRecordsAndDoNotWaitForTheWriter) {
  auto index = Open();
  ASSERT_TRUE(index);
  index->Put("batches", {{"old", {{"k", "old"}}}});
  signals_index_txn* txn = nullptr;
  ASSERT_EQ(index->Begin(&txn), SIGNALS_OK);
  ASSERT_EQ(index->Insert(txn, "batches", "new", R"({"k": "new"})"), SIGNALS_OK);

  // From another thread, while the write transaction is open.
  auto reader = std::async(std::launch::async, [&] {
    std::string out;
    signals_status get = index->Get("batches", "new", &out);
    return std::make_pair(get, index->QueryKeys("batches", "{}"));
  });
  ASSERT_EQ(reader.wait_for(std::chrono::seconds(2)), std::future_status::ready)
      << "a read waited for the open write transaction";
  auto [get, keys] = reader.get();
  EXPECT_EQ(get, SIGNALS_NOT_FOUND);
  EXPECT_EQ(keys, std::vector<std::string>{"old"});

  ASSERT_EQ(index->Commit(txn), SIGNALS_OK);
  EXPECT_EQ(index->QueryKeys("batches", "{}"), (std::vector<std::string>{"new", "old"}));
}

TEST_F(IndexSqliteTest, CommittedRecordsAreSeenByAFreshInstanceOnTheSameFile) {
  {
    auto index = Open();
    ASSERT_TRUE(index);
    index->Put("batches", {{"b1", {{"k", "b1"}, {"tenant", "acme"}}}});
  }
  auto reopened = Open();
  ASSERT_TRUE(reopened);
  std::string out;
  ASSERT_EQ(reopened->Get("batches", "b1", &out), SIGNALS_OK) << reopened->LastError();
  EXPECT_EQ(json::parse(out)["tenant"], "acme");
  EXPECT_EQ(reopened->QueryKeys("batches", R"({"where": {"tenant": "acme"}})"),
            std::vector<std::string>{"b1"});
}

TEST_F(IndexSqliteTest, RejectsRecordsThatAreNotJsonObjects) {
  auto index = Open();
  ASSERT_TRUE(index);
  signals_index_txn* txn = nullptr;
  ASSERT_EQ(index->Begin(&txn), SIGNALS_OK);
  for (const std::string bad : {"", "[1,2]", "42", "\"text\"", "{\"a\":", "{'a': 1}", "null"}) {
    EXPECT_EQ(index->Insert(txn, "batches", "k", bad), SIGNALS_INVALID_ARGUMENT) << bad;
  }
  EXPECT_EQ(index->Insert(txn, "batches", "", "{}"), SIGNALS_INVALID_ARGUMENT) << "empty key";
  index->Rollback(txn);
}

// --- names and injection -----------------------------------------------------------

TEST_F(IndexSqliteTest, RejectsInvalidCollectionNamesEverywhere) {
  auto index = Open();
  ASSERT_TRUE(index);
  const std::vector<std::string> bad = {"",
                                        "Batches",
                                        "1batches",
                                        "_batches",
                                        "bat-ches",
                                        "bat ches",
                                        std::string(64, 'a'),
                                        "sqlite_master",
                                        "x\"; DROP TABLE batches; --",
                                        "b\xc3\xa4tches"};
  signals_index_txn* txn = nullptr;
  ASSERT_EQ(index->Begin(&txn), SIGNALS_OK);
  for (const std::string& name : bad) {
    std::string out;
    std::vector<std::string> rows;
    EXPECT_EQ(index->Insert(txn, name, "k", "{}"), SIGNALS_INVALID_ARGUMENT) << name;
    EXPECT_EQ(index->Upsert(txn, name, "k", "{}"), SIGNALS_INVALID_ARGUMENT) << name;
    EXPECT_EQ(index->Remove(txn, name, "k"), SIGNALS_INVALID_ARGUMENT) << name;
    EXPECT_EQ(index->Get(name, "k", &out), SIGNALS_INVALID_ARGUMENT) << name;
    EXPECT_EQ(index->Query(name, "{}", &rows), SIGNALS_INVALID_ARGUMENT) << name;
  }
  // The longest valid name (63 characters) is accepted.
  EXPECT_EQ(index->Insert(txn, "a" + std::string(62, '9'), "k", "{}"), SIGNALS_OK) << index->LastError();
  ASSERT_EQ(index->Commit(txn), SIGNALS_OK);
}

TEST_F(IndexSqliteTest, RejectsInvalidMemberNamesInWhereAndOrderBy) {
  auto index = Open();
  ASSERT_TRUE(index);
  index->Put("batches", {{"a", {{"k", "a"}}}});
  std::vector<std::string> rows;
  for (const std::string member : {"", "1a", "a.b", "a b", "a')--", "$.a", "a[0]"}) {
    json where = {{"where", {{member, "x"}}}};
    EXPECT_EQ(index->Query("batches", where.dump(), &rows), SIGNALS_INVALID_ARGUMENT) << member;
    EXPECT_NE(index->LastError().find("query collection 'batches': invalid member name"), std::string::npos)
        << index->LastError();
    json order = {{"orderBy", member}};
    EXPECT_EQ(index->Query("batches", order.dump(), &rows), SIGNALS_INVALID_ARGUMENT) << member;
  }
  EXPECT_EQ(index->Query("batches", json({{"orderBy", std::string(65, 'm')}}).dump(), &rows),
            SIGNALS_INVALID_ARGUMENT);
  EXPECT_EQ(index->Query("batches", json({{"orderBy", std::string(64, 'm')}}).dump(), &rows), SIGNALS_OK)
      << index->LastError();
}

TEST_F(IndexSqliteTest, RejectsMalformedQueries) {
  auto index = Open();
  ASSERT_TRUE(index);
  index->Put("batches", {{"a", {{"k", "a"}}}});
  std::vector<std::string> rows;
  for (const std::string query :
       {"not json", "[1]", R"({"select": "*"})", R"({"limit": -1})", R"({"limit": 1.5})",
        R"({"where": {"a": {"$gt": 1}}})", R"({"where": {"a": [1]}})", R"({"where": []})",
        R"({"descending": "yes"})", R"({"after": 5})", R"({"orderBy": 1})"}) {
    EXPECT_EQ(index->Query("batches", query, &rows), SIGNALS_INVALID_ARGUMENT) << query;
    EXPECT_NE(index->LastError().find("'batches'"), std::string::npos) << index->LastError();
  }
}

TEST_F(IndexSqliteTest, InjectionAttemptsInKeysValuesAndDocumentsAreHarmlessData) {
  auto index = Open();
  ASSERT_TRUE(index);
  const std::string evil_key = "k'); DROP TABLE batches; --";
  const std::string evil_value = "x' OR '1'='1";
  index->Put("batches", {{evil_key, {{"k", evil_key}, {"tenant", evil_value}}},
                         {"plain", {{"k", "plain"}, {"tenant", "acme"}}}});

  std::string out;
  ASSERT_EQ(index->Get("batches", evil_key, &out), SIGNALS_OK) << index->LastError();
  EXPECT_EQ(json::parse(out)["tenant"], evil_value);
  EXPECT_EQ(index->QueryKeys("batches", json({{"where", {{"tenant", evil_value}}}}).dump()),
            std::vector<std::string>{evil_key});
  EXPECT_EQ(index->QueryKeys("batches", json({{"where", {{"tenant", "' OR 1=1 --"}}}}).dump()),
            std::vector<std::string>{});
  EXPECT_EQ(index->QueryKeys("batches", json({{"after", "' OR 1=1 --"}}).dump()),
            (std::vector<std::string>{evil_key, "plain"}));
  EXPECT_EQ(Sqlite3Cli(db_path_, "select count(*) from batches"), "2");
}

// --- queries ---------------------------------------------------------------------

class IndexSqliteQueryTest : public IndexSqliteTest {
 protected:
  void SetUp() override {
    IndexSqliteTest::SetUp();
    index_ = Open();
    ASSERT_TRUE(index_);
    index_->Put("batches", {{"b1", {{"k", "b1"}, {"tenant", "acme"}, {"size", 30}, {"sealed", true}}},
                            {"b2", {{"k", "b2"}, {"tenant", "acme"}, {"size", 10}, {"sealed", false}}},
                            {"b3", {{"k", "b3"}, {"tenant", "umbrella"}, {"size", 20}, {"sealed", true}}},
                            {"b4", {{"k", "b4"}, {"tenant", "acme"}, {"size", 20}, {"sealed", true}}},
                            {"b5", {{"k", "b5"}, {"tenant", 1}, {"size", "20"}, {"sealed", 1}}}});
  }
  std::vector<std::string> Keys(const json& query) { return index_->QueryKeys("batches", query.dump()); }
  using Keys_t = std::vector<std::string>;
  std::unique_ptr<Index> index_;
};

TEST_F(IndexSqliteQueryTest, DefaultsToAllRecordsInKeyOrder) {
  EXPECT_EQ(index_->QueryKeys("batches", ""), (Keys_t{"b1", "b2", "b3", "b4", "b5"}));
  EXPECT_EQ(Keys(json::object()), (Keys_t{"b1", "b2", "b3", "b4", "b5"}));
  EXPECT_EQ(Keys({{"descending", true}}), (Keys_t{"b5", "b4", "b3", "b2", "b1"}));
}

TEST_F(IndexSqliteQueryTest, FiltersByEqualityOnEveryWhereMember) {
  EXPECT_EQ(Keys({{"where", {{"tenant", "acme"}}}}), (Keys_t{"b1", "b2", "b4"}));
  EXPECT_EQ(Keys({{"where", {{"tenant", "acme"}, {"size", 20}}}}), (Keys_t{"b4"}));
  EXPECT_EQ(Keys({{"where", {{"tenant", "nobody"}}}}), Keys_t{});
  EXPECT_EQ(Keys({{"where", {{"missing", "x"}}}}), Keys_t{});
}

TEST_F(IndexSqliteQueryTest, EqualityRespectsJsonTypes) {
  EXPECT_EQ(Keys({{"where", {{"sealed", true}}}}), (Keys_t{"b1", "b3", "b4"}));
  EXPECT_EQ(Keys({{"where", {{"sealed", false}}}}), (Keys_t{"b2"}));
  EXPECT_EQ(Keys({{"where", {{"sealed", 1}}}}), (Keys_t{"b5"})) << "1 is not true";
  EXPECT_EQ(Keys({{"where", {{"size", "20"}}}}), (Keys_t{"b5"})) << "\"20\" is not 20";
  EXPECT_EQ(Keys({{"where", {{"size", 20}}}}), (Keys_t{"b3", "b4"}));
  EXPECT_EQ(Keys({{"where", {{"size", 20.0}}}}), (Keys_t{"b3", "b4"}));
  EXPECT_EQ(Keys({{"where", {{"tenant", 1}}}}), (Keys_t{"b5"}));
}

TEST_F(IndexSqliteQueryTest, OrdersByAMemberWithTiesBrokenByKeyInTheSameDirection) {
  const json acme = {{"tenant", "acme"}};
  EXPECT_EQ(Keys({{"where", acme}, {"orderBy", "size"}}), (Keys_t{"b2", "b4", "b1"}));
  EXPECT_EQ(Keys({{"where", acme}, {"orderBy", "size"}, {"descending", true}}), (Keys_t{"b1", "b4", "b2"}));
  // b3 and b4 tie on size 20.
  EXPECT_EQ(Keys({{"where", {{"sealed", true}}}, {"orderBy", "size"}}), (Keys_t{"b3", "b4", "b1"}));
  EXPECT_EQ(Keys({{"where", {{"sealed", true}}}, {"orderBy", "size"}, {"descending", true}}),
            (Keys_t{"b1", "b4", "b3"}));
}

TEST_F(IndexSqliteQueryTest, AfterIsExclusiveAndFollowsTheDirection) {
  const json acme = {{"tenant", "acme"}};
  EXPECT_EQ(Keys({{"where", acme}, {"orderBy", "size"}, {"after", 10}}), (Keys_t{"b4", "b1"}));
  EXPECT_EQ(Keys({{"where", acme}, {"orderBy", "size"}, {"after", 30}, {"descending", true}}),
            (Keys_t{"b4", "b2"}));
  EXPECT_EQ(Keys({{"after", "b3"}}), (Keys_t{"b4", "b5"}));
  EXPECT_EQ(Keys({{"after", "b3"}, {"descending", true}}), (Keys_t{"b2", "b1"}));
}

TEST_F(IndexSqliteQueryTest, LimitBoundsTheResultAndPagesWithAfter) {
  EXPECT_EQ(Keys({{"limit", 2}}), (Keys_t{"b1", "b2"}));
  EXPECT_EQ(Keys({{"limit", 2}, {"after", "b2"}}), (Keys_t{"b3", "b4"}));
  EXPECT_EQ(Keys({{"limit", 2}, {"after", "b4"}}), (Keys_t{"b5"}));
  EXPECT_EQ(Keys({{"limit", 0}}), Keys_t{});
  EXPECT_EQ(Keys({{"limit", nullptr}, {"after", nullptr}}), (Keys_t{"b1", "b2", "b3", "b4", "b5"}))
      << "null means absent";
}

TEST_F(IndexSqliteQueryTest, OfAnUnknownCollectionReturnsNothing) {
  EXPECT_EQ(index_->QueryKeys("unknown", R"({"where": {"a": 1}, "orderBy": "b"})"), Keys_t{});
}

TEST_F(IndexSqliteQueryTest, CreatesAnExpressionIndexThatSqliteUsesForTheMember) {
  Keys({{"where", {{"tenant", "acme"}}}});
  Keys({{"orderBy", "tenantId"}});
  const std::string indexes = Sqlite3Cli(
      db_path_, "select name from sqlite_master where type='index' and tbl_name='batches' order by name");
  EXPECT_NE(indexes.find("batches:tenant"), std::string::npos) << indexes;
  EXPECT_NE(indexes.find("batches:tenant^id"), std::string::npos) << indexes;
  const std::string plan = Sqlite3Cli(
      db_path_, "explain query plan select doc from batches where json_extract(doc,'$.tenant') = 'acme'");
  EXPECT_NE(plan.find("USING INDEX batches:tenant"), std::string::npos) << plan;
}

TEST_F(IndexSqliteQueryTest, CreatesIndexesRequestedDuringAnOpenTransactionLater) {
  signals_index_txn* txn = nullptr;
  ASSERT_EQ(index_->Begin(&txn), SIGNALS_OK);
  // The writer is busy: the query runs unindexed rather than waiting.
  EXPECT_EQ(Keys({{"where", {{"size", 30}}}}), (Keys_t{"b1"}));
  ASSERT_EQ(index_->Commit(txn), SIGNALS_OK);
  EXPECT_EQ(Sqlite3Cli(db_path_, "select count(*) from sqlite_master where name='batches:size'"), "0");
  ASSERT_EQ(index_->Begin(&txn), SIGNALS_OK);
  index_->Rollback(txn);
  EXPECT_EQ(Sqlite3Cli(db_path_, "select count(*) from sqlite_master where name='batches:size'"), "1");
}

// --- concurrency -------------------------------------------------------------------

TEST_F(IndexSqliteTest, SecondBeginWaitsUntilTheFirstTransactionEnds) {
  auto index = Open();
  ASSERT_TRUE(index);
  signals_index_txn* first = nullptr;
  ASSERT_EQ(index->Begin(&first), SIGNALS_OK);
  auto second = std::async(std::launch::async, [&] {
    signals_index_txn* txn = nullptr;
    signals_status s = index->Begin(&txn);
    if (s == SIGNALS_OK) {
      s = index->Insert(txn, "batches", "second", R"({"k": "second"})");
      if (s == SIGNALS_OK) s = index->Commit(txn);
    }
    return s;
  });
  EXPECT_EQ(second.wait_for(std::chrono::milliseconds(200)), std::future_status::timeout);
  ASSERT_EQ(index->Insert(first, "batches", "first", R"({"k": "first"})"), SIGNALS_OK);
  ASSERT_EQ(index->Commit(first), SIGNALS_OK);
  EXPECT_EQ(second.get(), SIGNALS_OK) << index->LastError();
  EXPECT_EQ(index->QueryKeys("batches", "{}"), (std::vector<std::string>{"first", "second"}));
}

TEST_F(IndexSqliteTest, BeginFailsWithRetryWhenATransactionStaysOpenPastBusyTimeout) {
  auto index = Open({{"busy_timeout", "100ms"}});
  ASSERT_TRUE(index);
  signals_index_txn* first = nullptr;
  ASSERT_EQ(index->Begin(&first), SIGNALS_OK);
  auto second = std::async(std::launch::async, [&] {
    signals_index_txn* txn = nullptr;
    return index->Begin(&txn);
  });
  EXPECT_EQ(second.get(), SIGNALS_RETRY);
  index->Rollback(first);
}

TEST_F(IndexSqliteTest, ConcurrentWritersAndReadersLoseNothingAndSeeWholeTransactions) {
  auto index = Open();
  ASSERT_TRUE(index);
  index->Put("facts",
             {{"seed-a", {{"k", "seed-a"}, {"group", "g"}}}, {"seed-b", {{"k", "seed-b"}, {"group", "g"}}}});
  constexpr int kWriters = 4;
  constexpr int kTxnsPerWriter = 40;
  std::atomic<bool> writing{true};
  std::atomic<int> failures{0};
  std::atomic<int> torn_reads{0};
  std::atomic<int> reads{0};

  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int t = 0; t < kTxnsPerWriter; ++t) {
        signals_index_txn* txn = nullptr;
        if (index->Begin(&txn) != SIGNALS_OK) {
          ++failures;
          continue;
        }
        // Two rows per transaction: a reader must never see an odd count.
        bool ok = true;
        for (int r = 0; r < 2; ++r) {
          std::string key = "w";
          key.append(std::to_string(w)).append("-t").append(std::to_string(t));
          key.append("-r").append(std::to_string(r));
          ok =
              ok && index->Insert(txn, "facts", key, json({{"k", key}, {"group", "g"}}).dump()) == SIGNALS_OK;
        }
        if (!ok || index->Commit(txn) != SIGNALS_OK) ++failures;
      }
    });
  }
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      while (writing) {
        std::vector<std::string> rows;
        if (index->Query("facts", R"({"where": {"group": "g"}, "orderBy": "group"})", &rows) != SIGNALS_OK) {
          ++failures;
        } else if (rows.size() % 2 != 0) {
          ++torn_reads;
        }
        std::string out;
        if (index->Get("facts", "seed-a", &out) != SIGNALS_OK) ++failures;
        ++reads;
      }
    });
  }
  for (auto& t : writers) t.join();
  writing = false;
  for (auto& t : readers) t.join();

  EXPECT_EQ(failures.load(), 0) << index->LastError();
  EXPECT_EQ(torn_reads.load(), 0);
  EXPECT_GT(reads.load(), 0);
  std::vector<std::string> rows;
  ASSERT_EQ(index->Query("facts", "{}", &rows), SIGNALS_OK);
  EXPECT_EQ(rows.size(), static_cast<size_t>(2 + kWriters * kTxnsPerWriter * 2));
}

// Group commit: transactions that commit at the same time share one SQLite
// COMMIT, yet each Commit() returns only once its rows are committed (a read
// connection, which sees only committed data, finds them at once), and a
// rollback in the middle of a group undoes only its own rows.
TEST_F(IndexSqliteTest, ConcurrentCommitsAreEachCommittedOnReturnAndRollbacksUndoOnlyTheirOwn) {
  auto index = Open();
  ASSERT_TRUE(index);
  constexpr int kThreads = 8;
  constexpr int kTxns = 12;
  std::atomic<int> failures{0};
  std::atomic<int> unseen{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kThreads; ++w) {
    threads.emplace_back([&, w] {
      for (int t = 0; t < kTxns; ++t) {
        const std::string key = "w" + std::to_string(w) + "-t" + std::to_string(t);
        signals_index_txn* txn = nullptr;
        if (index->Begin(&txn) != SIGNALS_OK) {
          ++failures;
          continue;
        }
        if (index->Insert(txn, "facts", key, json({{"k", key}}).dump()) != SIGNALS_OK) ++failures;
        if (t % 4 == 3) {  // every fourth transaction changes its mind
          index->Rollback(txn);
          continue;
        }
        if (index->Commit(txn) != SIGNALS_OK) {
          ++failures;
          continue;
        }
        std::string out;
        if (index->Get("facts", key, &out) != SIGNALS_OK) ++unseen;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0) << index->LastError();
  EXPECT_EQ(unseen.load(), 0);
  std::vector<std::string> rows;
  ASSERT_EQ(index->Query("facts", "{}", &rows), SIGNALS_OK);
  EXPECT_EQ(rows.size(), static_cast<size_t>(kThreads * kTxns * 3 / 4));
  for (const auto& row : rows) {
    const std::string key = json::parse(row)["k"];
    EXPECT_NE(std::stoi(key.substr(key.find("-t") + 2)) % 4, 3) << key << " was rolled back";
  }
  // Nothing is left open: another process can write at once (the CLI does not wait).
  EXPECT_EQ(Sqlite3Cli(db_path_, "insert into facts values('cli', '{}'); select count(*) from facts"),
            std::to_string(kThreads * kTxns * 3 / 4 + 1));
}

TEST_F(IndexSqliteTest, ReadWaitsForAFreeConnectionThenFailsWithRetry) {
  auto index = Open({{"read_connections", "1"}, {"busy_timeout", "100ms"}});
  ASSERT_TRUE(index);
  index->Put("batches", {{"b1", {{"k", "b1"}}}});
  // A sink that reads again while the only read connection streams to it.
  struct Nested {
    Index* index;
    signals_status inner = SIGNALS_OK;
    std::string error;
  } nested{index.get(), SIGNALS_OK, ""};
  auto sink = [](void* ctx, const uint8_t*, size_t) {
    auto* n = static_cast<Nested*>(ctx);
    std::string out;
    n->inner = n->index->Get("batches", "b1", &out);
    n->error = n->index->LastError();
  };
  ASSERT_EQ(index->QueryWithSink("batches", "{}", sink, &nested), SIGNALS_OK);
  EXPECT_EQ(nested.inner, SIGNALS_RETRY);
  EXPECT_NE(nested.error.find("read connections stayed busy"), std::string::npos) << nested.error;
}

// --- on disk ---------------------------------------------------------------------

TEST_F(IndexSqliteTest, DatabaseIsAPlainWalModeSqliteFileTheCliCanRead) {
  auto index = Open();
  ASSERT_TRUE(index);
  index->Put("batches",
             {{"b1", {{"k", "b1"}, {"tenant", "acme"}}}, {"b2", {{"k", "b2"}, {"tenant", "acme"}}}});
  EXPECT_EQ(Sqlite3Cli(db_path_, "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(Sqlite3Cli(db_path_, "select count(*) from batches"), "2");
  EXPECT_EQ(Sqlite3Cli(db_path_, "select json_extract(doc,'$.tenant') from batches where key='b2'"), "acme");
  EXPECT_EQ(Sqlite3Cli(db_path_, "select sql from sqlite_master where name='batches'"),
            "CREATE TABLE \"batches\" (key TEXT PRIMARY KEY, doc TEXT NOT NULL)");
  EXPECT_EQ(Sqlite3Cli(db_path_, "PRAGMA integrity_check"), "ok");
}

TEST_F(IndexSqliteTest, RefusesADatabaseWithANewerSchemaVersion) {
  { auto index = Open(); }
  ASSERT_EQ(Sqlite3Cli(db_path_, "PRAGMA user_version=2; PRAGMA user_version"), "2");
  std::string error;
  EXPECT_EQ(CreateStatus({{"path", db_path_}}, &error), SIGNALS_INVALID_CONFIG);
  EXPECT_NE(error.find("schema version 2"), std::string::npos) << error;
}

// --- durability --------------------------------------------------------------------

TEST_F(IndexSqliteTest, CommittedRecordSurvivesTheProcessDyingWithoutClosing) {
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // Ack, then vanish as kill -9 would: no destroy, no close, no atexit.
    void* instance = nullptr;
    std::map<std::string, std::string> options = {{"path", db_path_}, {"busy_timeout", "5000ms"}};
    if (Harness().Create("index-sqlite", options, dir_.string(), &instance) != SIGNALS_OK) _exit(2);
    const auto* api = static_cast<const signals_index_api*>(Harness().Component("index-sqlite").api);
    signals_index_txn* txn = nullptr;
    const std::string doc = R"({"k": "acked"})";
    if (api->begin(instance, &txn) != SIGNALS_OK) _exit(3);
    if (api->insert(instance, txn, "batches", "acked",
                    signals_bytes{reinterpret_cast<const uint8_t*>(doc.data()), doc.size()}) != SIGNALS_OK) {
      _exit(4);
    }
    if (api->commit(instance, txn) != SIGNALS_OK) _exit(5);
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
  // The child never checkpointed or closed: the row lives only in the WAL.
  EXPECT_TRUE(fs::exists(db_path_ + "-wal"));

  auto index = Open();
  ASSERT_TRUE(index);
  std::string out;
  ASSERT_EQ(index->Get("batches", "acked", &out), SIGNALS_OK) << index->LastError();
  EXPECT_EQ(out, R"({"k": "acked"})");
}

TEST_F(IndexSqliteTest, UncommittedRecordIsGoneAfterTheProcessIsKilled) {
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(ready[0]);
    void* instance = nullptr;
    std::map<std::string, std::string> options = {{"path", db_path_}, {"busy_timeout", "5000ms"}};
    if (Harness().Create("index-sqlite", options, dir_.string(), &instance) != SIGNALS_OK) _exit(2);
    const auto* api = static_cast<const signals_index_api*>(Harness().Component("index-sqlite").api);
    auto insert = [&](signals_index_txn* txn, const std::string& key) {
      const std::string doc = "{\"k\": \"" + key + "\", \"pad\": \"" + std::string(4000, 'x') + "\"}";
      return api->insert(instance, txn, "batches", key.c_str(),
                         signals_bytes{reinterpret_cast<const uint8_t*>(doc.data()), doc.size()});
    };
    signals_index_txn* txn = nullptr;
    if (api->begin(instance, &txn) != SIGNALS_OK || insert(txn, "committed") != SIGNALS_OK ||
        api->commit(instance, txn) != SIGNALS_OK) {
      _exit(3);
    }
    // Enough pages to spill out of SQLite's cache into the WAL before the kill.
    if (api->begin(instance, &txn) != SIGNALS_OK) _exit(4);
    for (int i = 0; i < 2000; ++i) {
      if (insert(txn, "pending-" + std::to_string(i)) != SIGNALS_OK) _exit(5);
    }
    char byte = 'x';
    if (write(ready[1], &byte, 1) != 1) _exit(6);
    for (;;) pause();
  }
  close(ready[1]);
  char byte = 0;
  ASSERT_EQ(read(ready[0], &byte, 1), 1) << "the child failed before signalling";
  close(ready[0]);
  ASSERT_EQ(kill(child, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status));
  // The uncommitted pages reached the WAL: recovery, not luck, discards them.
  EXPECT_GT(fs::file_size(db_path_ + "-wal"), 1024u * 1024u);

  auto index = Open();
  ASSERT_TRUE(index);
  std::string out;
  EXPECT_EQ(index->Get("batches", "committed", &out), SIGNALS_OK) << index->LastError();
  EXPECT_EQ(index->Get("batches", "pending-0", &out), SIGNALS_NOT_FOUND);
  EXPECT_EQ(index->QueryKeys("batches", "{}"), std::vector<std::string>{"committed"});
  EXPECT_EQ(Sqlite3Cli(db_path_, "PRAGMA integrity_check"), "ok");
}

}  // namespace
