// What a source plugin sees of the kernel through its host table, driven
// through the SDK's C++ wrapper as a plugin would: a request naming an unknown
// tenant or callgraph is SIGNALS_NOT_FOUND (a problem of configuration, to be
// retried), a bad line is SIGNALS_INVALID_ARGUMENT with the line as a number
// (a problem of the bytes, to be dropped), "ingest.check" answers both
// questions without storing anything, and a source instance gets a state
// directory of its own.
#include <sys/stat.h>
#include <unistd.h>
#include <signals/plugin.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "base/sha256.hpp"
#include "plugin/plugin_host.hpp"
#include "plugin/plugin_instance.hpp"
#include "plugin/plugin_registry.hpp"
#include "test_kernel.hpp"

namespace signals {
namespace {

namespace sdk = signals::sdk;

class SourceHostTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(kernel_.Open());
    ASSERT_NO_FATAL_FAILURE(testing::StoreSmallCallgraph(*kernel_, &graph_id_));
    binding_ = HostBinding{&*kernel_, true, "source.test"};
    InitHostTable(&binding_, &table_);
  }

  sdk::Host host() const { return sdk::Host(&table_, "source.test"); }

  std::string Request(const std::string& tenant, const std::string& graph,
                      const std::string& key = "") const {
    std::string r = R"({"kind":"runtime-facts","tenant":")" + tenant + R"(","callgraphId":")" + graph +
                    R"(","source":"unit-test")";
    if (!key.empty()) r += R"(,"idempotencyKey":")" + key + "\"";
    return r + "}";
  }

  // Runs a whole ingest of `body`; returns its status and the answer or problem.
  std::pair<signals_status, std::string> Ingest(const std::string& request, const std::string& body) {
    try {
      sdk::Ingest ingest = host().BeginIngest(request);
      ingest.Write(body.data(), body.size());
      bool created = false;
      std::string answer = ingest.Finish(&created);
      return {created ? SIGNALS_OK : SIGNALS_EXISTS, answer};
    } catch (const sdk::Error& e) {
      return {e.status(), e.what()};
    }
  }

  size_t StoredBatches() {
    size_t n = 0;
    EXPECT_TRUE(kernel_->index().Query("batches", "{}", [&](const std::string&) { ++n; }).ok());
    return n;
  }

  testing::TestKernel kernel_;
  std::string graph_id_;
  HostBinding binding_{};
  signals_host table_{};
};

const char kTwoFacts[] =
    "{\"symbolId\":\"a\",\"factType\":\"runtime.method.entered\"}\n"
    "{\"symbolId\":\"b\",\"factType\":\"runtime.method.entered\"}\n";

TEST_F(SourceHostTest, AnUnknownTenantIsNotFoundWithTheRuleThatSaysWhich) {
  auto [status, problem] = Ingest(Request("acme", graph_id_), kTwoFacts);
  EXPECT_EQ(status, SIGNALS_NOT_FOUND) << problem;
  sdk::Problem p = sdk::Error(status, problem).problem();
  EXPECT_EQ(p.rule, "tenant-exists");
  EXPECT_EQ(p.field, "tenant");
  EXPECT_EQ(p.http_status, 400) << "HTTP clients keep their 400";
  EXPECT_NE(p.detail.find("signalsctl tenant add acme"), std::string::npos) << p.detail;
  EXPECT_EQ(StoredBatches(), 0u);
}

TEST_F(SourceHostTest, AnUnknownCallgraphIsNotFound) {
  auto [status, problem] = Ingest(Request("global", "01ARZ3NDEKTSV4RRFFQ69G5FAV"), kTwoFacts);
  EXPECT_EQ(status, SIGNALS_NOT_FOUND) << problem;
  EXPECT_EQ(sdk::Error(status, problem).problem().rule, "callgraph-exists");
  EXPECT_EQ(StoredBatches(), 0u);
}

TEST_F(SourceHostTest, ABadLineIsInvalidArgumentAndTheProblemNamesItsLine) {
  const std::string body = std::string(kTwoFacts) + "{\"factType\":\"runtime.method.entered\"}\n" + kTwoFacts;
  auto [status, problem] = Ingest(Request("global", graph_id_), body);
  EXPECT_EQ(status, SIGNALS_INVALID_ARGUMENT) << problem;
  sdk::Problem p = sdk::Error(status, problem).problem();
  EXPECT_EQ(p.line, 3) << problem;
  EXPECT_EQ(p.field, "symbolId") << problem;
  EXPECT_EQ(p.rule, "required") << problem;

  auto [bad_json, problem2] = Ingest(Request("global", graph_id_), std::string(kTwoFacts) + "not json\n");
  EXPECT_EQ(bad_json, SIGNALS_INVALID_ARGUMENT) << problem2;
  EXPECT_EQ(sdk::Error(bad_json, problem2).problem().line, 3) << problem2;
  EXPECT_EQ(StoredBatches(), 0u);
}

TEST_F(SourceHostTest, AProblemThatIsNotAboutOneLineHasNoLine) {
  auto [status, problem] = Ingest(Request("global", graph_id_), "");
  EXPECT_EQ(status, SIGNALS_INVALID_ARGUMENT) << problem;
  EXPECT_EQ(sdk::Error(status, problem).problem().line, 0) << problem;
}

TEST_F(SourceHostTest, IngestCheckAnswersWithoutStoringOrClaimingTheKey) {
  std::string ok = host().Call(R"({"op":"ingest.check","tenant":"global","callgraphId":")" + graph_id_ +
                               R"(","idempotencyKey":"k-1"})");
  auto answer = support::JsonObject::Parse(ok);
  ASSERT_TRUE(answer) << ok;
  EXPECT_EQ(answer->Json("accepted"), "true") << ok;

  for (const auto& [tenant, graph, rule] :
       {std::tuple<std::string, std::string, std::string>{"acme", graph_id_, "tenant-exists"},
        {"global", "01ARZ3NDEKTSV4RRFFQ69G5FAV", "callgraph-exists"}}) {
    try {
      host().Call(R"({"op":"ingest.check","tenant":")" + tenant + R"(","callgraphId":")" + graph + "\"}");
      ADD_FAILURE() << "ingest.check accepted " << tenant << " / " << graph;
    } catch (const sdk::Error& e) {
      EXPECT_EQ(e.status(), SIGNALS_NOT_FOUND) << e.what();
      EXPECT_EQ(e.problem().rule, rule) << e.what();
    }
  }
  EXPECT_EQ(StoredBatches(), 0u);

  // Without a callgraph, the tenant alone is checked.
  EXPECT_NO_THROW(host().Call(R"({"op":"ingest.check","tenant":"global"})"));
  try {
    host().Call(R"({"op":"ingest.check","tenant":"acme"})");
    ADD_FAILURE() << "an unknown tenant was accepted";
  } catch (const sdk::Error& e) {
    EXPECT_EQ(e.status(), SIGNALS_NOT_FOUND) << e.what();
  }

  // The key the check carried is still free: the first real ingest with it stores.
  auto [status, answer_json] = Ingest(Request("global", graph_id_, "k-1"), kTwoFacts);
  EXPECT_EQ(status, SIGNALS_OK) << answer_json;
  EXPECT_EQ(StoredBatches(), 1u);
  // ... and the same bytes again with the same key are that batch, not a new one.
  auto [again, replay] = Ingest(Request("global", graph_id_, "k-1"), kTwoFacts);
  EXPECT_EQ(again, SIGNALS_EXISTS) << replay;
  EXPECT_EQ(replay, answer_json);
  EXPECT_EQ(StoredBatches(), 1u);
}

// Writes the pending record a request with `key` leaves when its process dies
// mid-ingest, owned by `owner` ("<pid>:<start time>").
void LeavePendingKey(Kernel& kernel, const std::string& key, const std::string& owner) {
  const std::string index_key = Sha256Hex("signals-service\nglobal\n" + key);
  const int64_t now = kernel.NowMs();
  nlohmann::json pending = {{"state", "pending"}, {"createdAtMs", now}, {"createdAt", "x"}, {"owner", owner}};
  auto txn = kernel.index().Begin();
  ASSERT_TRUE(txn.ok());
  ASSERT_TRUE((*txn)->Upsert("idempotency", index_key, pending.dump()).ok());
  ASSERT_TRUE((*txn)->Commit().ok());
}

std::string ThisProcessStartTime() {
  std::ifstream in("/proc/self/stat");
  std::string stat;
  std::getline(in, stat);
  std::istringstream fields(stat.substr(stat.rfind(')') + 1));
  std::string field;
  for (int i = 3; i <= 22; ++i) fields >> field;
  return field;
}

TEST_F(SourceHostTest, AKeyHeldByADeadProcessIsTakenOverAtOnce) {
  // The pid is ours, the start time is not: the process that wrote the
  // record is gone and its pid was reused.
  ASSERT_NO_FATAL_FAILURE(LeavePendingKey(*kernel_, "k-dead", std::to_string(::getpid()) + ":1"));
  auto [status, answer] = Ingest(Request("global", graph_id_, "k-dead"), kTwoFacts);
  EXPECT_EQ(status, SIGNALS_OK) << answer;
  EXPECT_EQ(StoredBatches(), 1u);
}

TEST_F(SourceHostTest, AKeyHeldByALiveRequestIsRetryNotARefusal) {
  ASSERT_NO_FATAL_FAILURE(
      LeavePendingKey(*kernel_, "k-live", std::to_string(::getpid()) + ":" + ThisProcessStartTime()));
  auto [status, problem] = Ingest(Request("global", graph_id_, "k-live"), kTwoFacts);
  EXPECT_EQ(status, SIGNALS_RETRY) << problem;
  sdk::Problem p = sdk::Error(status, problem).problem();
  EXPECT_EQ(p.rule, "idempotency-in-progress");
  EXPECT_EQ(p.http_status, 409);
  EXPECT_EQ(StoredBatches(), 0u);
}

TEST_F(SourceHostTest, IngestCheckRefusesOtherIngestKinds) {
  try {
    host().Call(R"({"op":"ingest.check","kind":"callgraph","tenant":"global"})");
    ADD_FAILURE() << "a callgraph check was accepted";
  } catch (const sdk::Error& e) {
    EXPECT_EQ(e.status(), SIGNALS_INVALID_ARGUMENT);
    EXPECT_EQ(e.problem().rule, "kind");
  }
}

// --- the state directory -------------------------------------------------------

class SourceStateDir : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(
        registry_.LoadFile(std::string(SIGNALS_FIXTURE_PLUGIN_DIR) + "/libsignals-fixture-noop.so").ok());
    std::memset(&host_, 0, sizeof(host_));
    host_.struct_size = sizeof(host_);
    host_.abi_major = SIGNALS_ABI_MAJOR;
    host_.abi_minor = SIGNALS_ABI_MINOR;
    std::string pattern = (std::filesystem::temp_directory_path() / "signals-state-dir-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    data_dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(data_dir_); }

  Result<std::unique_ptr<PluginInstance>> Create(const std::string& section) {
    InstanceConfig config;
    config.section = section;
    config.component = registry_.Find("source-fixture-noop");
    return PluginInstance::Create(config, data_dir_, &host_);
  }

  PluginRegistry registry_;
  signals_host host_{};
  std::string data_dir_;
};

TEST_F(SourceStateDir, ASourceGetsADirectoryNamedAfterItsSectionWithMode0750) {
  auto created = Create("source.tail-a");
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  struct stat st {};
  ASSERT_EQ(::stat((data_dir_ + "/state/source.tail-a").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0750u & ~static_cast<unsigned>(umask(umask(0))));
  // A second creation (a restart) finds it and keeps what is inside.
  std::filesystem::create_directories(data_dir_ + "/state/source.tail-a/kept");
  created->reset();
  ASSERT_TRUE(Create("source.tail-a").ok());
  EXPECT_TRUE(std::filesystem::exists(data_dir_ + "/state/source.tail-a/kept"));
}

TEST_F(SourceStateDir, ASectionNameThatIsNoSafePathComponentIsRefused) {
  for (const std::string& section :
       std::vector<std::string>{"source.a/../../etc", "..", ".", "source.a b", std::string(201, 'a')}) {
    auto created = Create(section);
    ASSERT_FALSE(created.ok()) << section;
    EXPECT_EQ(created.status().code(), Code::kConfig);
    EXPECT_NE(created.status().message().find("state directory"), std::string::npos)
        << created.status().message();
  }
  EXPECT_FALSE(std::filesystem::exists(data_dir_ + "/state/source.a"));
  EXPECT_FALSE(std::filesystem::exists(data_dir_ + "/etc"));
}

}  // namespace
}  // namespace signals
