// cas_fs_test.cpp — specification tests for the cas-fs plugin, driven through
// its C ABI exactly as the kernel drives it (dlopen + signals_cas_api).
//
// Each test gets a fresh temporary data directory. Tests run one per process
// under ctest (gtest_discover_tests), so the umask changes below are contained.
#include <fcntl.h>
#include <sched.h>
#include <signals/plugin.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include <signals/testing/fake_host.hpp>

namespace fs = std::filesystem;

namespace {

std::string MakeTempDir() {
  std::string pattern = (fs::temp_directory_path() / "cas-fs-test-XXXXXX").string();
  char* made = ::mkdtemp(pattern.data());
  if (made == nullptr) throw std::runtime_error("mkdtemp failed");
  return made;
}

// Files (recursively) below `dir`, as paths relative to it, sorted.
std::vector<std::string> FilesUnder(const fs::path& dir) {
  std::vector<std::string> out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) out.push_back(fs::relative(e.path(), dir).string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

class CasFsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_dir_ = MakeTempDir();
    harness_ = std::make_unique<signals::testing::PluginUnderTest>(SIGNALS_PLUGIN_UNDER_TEST);
    component_ = &harness_->Component("cas-fs");
    api_ = static_cast<const signals_cas_api*>(component_->api);
  }
  void TearDown() override {
    for (void* instance : instances_) component_->destroy(instance);
    fs::remove_all(data_dir_);
  }

  // Creates an instance; fails the test when creation fails.
  void* Create(std::map<std::string, std::string> options = {}) {
    void* instance = nullptr;
    std::string error;
    signals_status s = harness_->Create("cas-fs", std::move(options), data_dir_, &instance, &error);
    EXPECT_EQ(s, SIGNALS_OK) << error;
    if (s == SIGNALS_OK) instances_.push_back(instance);
    return instance;
  }

  std::string LastError(void* instance) { return component_->last_error(instance); }

  signals_status Put(void* instance, const std::string& key, const std::string& bytes) {
    signals_cas_writer* writer = nullptr;
    signals_status s = api_->put_begin(instance, key.c_str(), &writer);
    if (s != SIGNALS_OK) return s;
    s = api_->put_write(instance, writer, Bytes(bytes));
    if (s != SIGNALS_OK) {
      api_->put_abort(instance, writer);
      return s;
    }
    return api_->put_commit(instance, writer);
  }

  std::optional<std::string> Get(void* instance, const std::string& key) {
    signals_cas_reader* reader = nullptr;
    uint64_t size = 0;
    if (api_->get_open(instance, key.c_str(), &reader, &size) != SIGNALS_OK) return std::nullopt;
    std::string out;
    uint8_t buffer[1000];
    size_t n = 0;
    signals_status s;
    while ((s = api_->get_read(instance, reader, buffer, sizeof(buffer), &n)) == SIGNALS_OK) {
      out.append(reinterpret_cast<const char*>(buffer), n);
    }
    api_->get_close(instance, reader);
    EXPECT_EQ(s, SIGNALS_EOF);
    EXPECT_EQ(out.size(), size) << "get_open size differs from bytes read";
    return out;
  }

  std::vector<std::string> List(void* instance, const std::string& prefix, signals_status* status = nullptr) {
    std::vector<std::string> keys;
    signals_status s = api_->list(
        instance, prefix.c_str(),
        [](void* ctx, const uint8_t* data, size_t len) {
          static_cast<std::vector<std::string>*>(ctx)->emplace_back(reinterpret_cast<const char*>(data), len);
        },
        &keys);
    if (status != nullptr) *status = s;
    return keys;
  }

  static signals_bytes Bytes(const std::string& s) {
    return signals_bytes{reinterpret_cast<const uint8_t*>(s.data()), s.size()};
  }

  fs::path StoreDir() const { return fs::path(data_dir_) / "cas" / "signals"; }

  // Runs `body` in a child process on a cas-fs instance whose root is a tiny
  // private tmpfs (a mount namespace keeps the mount away from the rest of
  // the system) at data_dir_/<name>, and expects the child to pass. `body`
  // returns the child's exit code: 0 pass, 77 cannot set up the namespace or
  // a mount (the test is skipped with `skip_reason`), anything else a failed
  // expectation that `legend` explains; 10 is taken: create failed.
  void RunOnPrivateTmpfs(const std::string& name, const std::function<int(void*, const std::string&)>& body,
                         const char* skip_reason, const std::string& legend) {
    const std::string mount_point = data_dir_ + "/" + name;
    fs::create_directories(mount_point);
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      if (::unshare(CLONE_NEWNS) != 0 && ::unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) ::_exit(77);
      if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) ::_exit(77);
      if (::mount("tmpfs", mount_point.c_str(), "tmpfs", 0, "size=256k") != 0) ::_exit(77);
      void* cas = nullptr;
      std::string error;
      if (harness_->Create("cas-fs", {{"root", mount_point}}, data_dir_, &cas, &error) != SIGNALS_OK) {
        ::_exit(10);
      }
      ::_exit(body(cas, mount_point));
    }
    int wstatus = 0;
    ASSERT_EQ(::waitpid(child, &wstatus, 0), child);
    ASSERT_TRUE(WIFEXITED(wstatus));
    if (WEXITSTATUS(wstatus) == 77) GTEST_SKIP() << skip_reason;
    EXPECT_EQ(WEXITSTATUS(wstatus), 0) << "10 create failed, " << legend;
  }

  std::string data_dir_;
  std::unique_ptr<signals::testing::PluginUnderTest> harness_;
  const signals_component* component_ = nullptr;
  const signals_cas_api* api_ = nullptr;
  std::vector<void*> instances_;
};

TEST_F(CasFsTest, DescribesItselfAsConcurrentCasComponentWithDocumentedOptions) {
  EXPECT_EQ(component_->kind, static_cast<uint32_t>(SIGNALS_KIND_CAS));
  EXPECT_EQ(component_->capabilities & SIGNALS_CAP_CONCURRENT, SIGNALS_CAP_CONCURRENT);
  std::map<std::string, std::string> defaults;
  for (size_t i = 0; i < component_->option_count; ++i) {
    defaults[component_->options[i].name] = component_->options[i].default_value;
  }
  EXPECT_EQ(defaults, (std::map<std::string, std::string>{{"root", "cas"},
                                                          {"bucket_prefix", "cas://signals"},
                                                          {"fsync", "true"},
                                                          {"list_leftovers", "false"}}));
}

TEST_F(CasFsTest, StoresObjectsUnderRootAndBucketResolvedAgainstDataDir) {
  void* cas = Create();
  ASSERT_EQ(Put(cas, "runtime-facts/global/01ARZ3NDEKTSV4RRFFQ69G5FAV.ndjson.zst", "facts"), SIGNALS_OK)
      << LastError(cas);
  std::ifstream in(StoreDir() / "runtime-facts/global/01ARZ3NDEKTSV4RRFFQ69G5FAV.ndjson.zst");
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(content, "facts");
}

TEST_F(CasFsTest, UsesAbsoluteRootAndCustomBucketAsGiven) {
  std::string root = data_dir_ + "/elsewhere";
  void* cas = Create({{"root", root}, {"bucket_prefix", "cas://tenant-a"}});
  ASSERT_EQ(Put(cas, "k", "v"), SIGNALS_OK) << LastError(cas);
  EXPECT_TRUE(fs::is_regular_file(fs::path(root) / "tenant-a" / "k"));
}

TEST_F(CasFsTest, RejectsBucketPrefixWithoutCasSchemeOrWithBadBucket) {
  for (const std::string prefix : {"s3://signals", "signals", "cas://", "cas://../up", "cas:///abs"}) {
    void* instance = nullptr;
    std::string error;
    EXPECT_EQ(harness_->Create("cas-fs", {{"bucket_prefix", prefix}}, data_dir_, &instance, &error),
              SIGNALS_INVALID_CONFIG)
        << prefix;
    EXPECT_NE(error.find("bucket_prefix"), std::string::npos) << error;
  }
}

TEST_F(CasFsTest, ReturnsExactlyTheBytesWrittenInAnyChunking) {
  void* cas = Create();
  std::string big(300 * 1000 + 7, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 131) ^ (i >> 9));

  signals_cas_writer* writer = nullptr;
  ASSERT_EQ(api_->put_begin(cas, "callgraphs/t/g.ndjson.zst", &writer), SIGNALS_OK);
  // Chunks smaller and larger than the plugin's buffer, and an empty one.
  size_t sizes[] = {1, 0, 4096, 70000, 100, 200000};
  size_t pos = 0;
  for (size_t n : sizes) {
    n = std::min(n, big.size() - pos);
    ASSERT_EQ(
        api_->put_write(cas, writer, signals_bytes{reinterpret_cast<const uint8_t*>(big.data()) + pos, n}),
        SIGNALS_OK);
    pos += n;
  }
  ASSERT_EQ(api_->put_write(cas, writer, Bytes(big.substr(pos))), SIGNALS_OK);
  ASSERT_EQ(api_->put_commit(cas, writer), SIGNALS_OK) << LastError(cas);

  EXPECT_EQ(Get(cas, "callgraphs/t/g.ndjson.zst"), big);
  uint64_t size = 0;
  EXPECT_EQ(api_->stat(cas, "callgraphs/t/g.ndjson.zst", &size), SIGNALS_OK);
  EXPECT_EQ(size, big.size());
}

TEST_F(CasFsTest, StoresEmptyObjects) {
  void* cas = Create();
  ASSERT_EQ(Put(cas, "empty", ""), SIGNALS_OK) << LastError(cas);
  EXPECT_EQ(Get(cas, "empty"), std::string());
}

TEST_F(CasFsTest, UncommittedWriteIsInvisibleAndLeavesNoTempFileAfterAbort) {
  void* cas = Create();
  signals_cas_writer* writer = nullptr;
  ASSERT_EQ(api_->put_begin(cas, "manifests/g.json", &writer), SIGNALS_OK);
  ASSERT_EQ(api_->put_write(cas, writer, Bytes(std::string(100000, 'x'))), SIGNALS_OK);

  uint64_t size = 0;
  EXPECT_EQ(api_->stat(cas, "manifests/g.json", &size), SIGNALS_NOT_FOUND);
  EXPECT_EQ(Get(cas, "manifests/g.json"), std::nullopt);
  EXPECT_TRUE(List(cas, "").empty());
  // The bytes sit in a hidden temp file beside the final name.
  std::vector<std::string> during = FilesUnder(StoreDir());
  ASSERT_EQ(during.size(), 1u);
  EXPECT_EQ(during[0].rfind("manifests/.g.json.tmp.", 0), 0u) << during[0];

  api_->put_abort(cas, writer);
  EXPECT_TRUE(FilesUnder(StoreDir()).empty());
  EXPECT_EQ(api_->stat(cas, "manifests/g.json", &size), SIGNALS_NOT_FOUND);
}

TEST_F(CasFsTest, SecondPutOfSameKeyFailsWithExistsAndLeavesOriginalUntouched) {
  void* cas = Create();
  ASSERT_EQ(Put(cas, "attestations/b.dsse", "original"), SIGNALS_OK);

  signals_cas_writer* writer = nullptr;
  EXPECT_EQ(api_->put_begin(cas, "attestations/b.dsse", &writer), SIGNALS_EXISTS);
  EXPECT_NE(LastError(cas).find("'attestations/b.dsse'"), std::string::npos) << LastError(cas);
  EXPECT_NE(LastError(cas).find("immutable"), std::string::npos) << LastError(cas);
  EXPECT_EQ(Get(cas, "attestations/b.dsse"), "original");
}

TEST_F(CasFsTest, ConcurrentWritersOfOneKeyYieldOneWinnerAndOneExists) {
  void* cas = Create();
  signals_cas_writer* first = nullptr;
  signals_cas_writer* second = nullptr;
  ASSERT_EQ(api_->put_begin(cas, "k/race", &first), SIGNALS_OK);
  ASSERT_EQ(api_->put_begin(cas, "k/race", &second), SIGNALS_OK);
  ASSERT_EQ(api_->put_write(cas, first, Bytes("first")), SIGNALS_OK);
  ASSERT_EQ(api_->put_write(cas, second, Bytes("second")), SIGNALS_OK);
  ASSERT_EQ(api_->put_commit(cas, first), SIGNALS_OK) << LastError(cas);
  EXPECT_EQ(api_->put_commit(cas, second), SIGNALS_EXISTS);
  EXPECT_EQ(Get(cas, "k/race"), "first");
  EXPECT_EQ(FilesUnder(StoreDir()), std::vector<std::string>{"k/race"}) << "a temp file was left";
}

TEST_F(CasFsTest, RejectsKeysThatCouldEscapeTheStoreOrHitTempFiles) {
  void* cas = Create();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"../x", "'..'"},
      {"a/../b", "'..'"},
      {"./a", "'.'"},
      {"/abs", "leading '/'"},
      {"a//b", "empty segment"},
      {"a/", "end with '/'"},
      {"", "empty"},
      {".hidden", "starts with '.'"},
      {"a/.x.tmp.123", "starts with '.'"},
      {"a\\b", "'\\'"},
      {"sp ace", "' '"},
      {"tab\tkey", "\\x09"},
      {"caf\xc3\xa9", "\\xc3"},
      {std::string(201, 'a'), "longer than 200"},
      {std::string(1025, 'a'), "longer than 1024"},
  };
  for (const auto& [key, rule] : cases) {
    signals_cas_writer* writer = nullptr;
    EXPECT_EQ(api_->put_begin(cas, key.c_str(), &writer), SIGNALS_INVALID_ARGUMENT) << key;
    const std::string error = LastError(cas);
    EXPECT_NE(error.find("invalid key"), std::string::npos) << error;
    EXPECT_NE(error.find(rule), std::string::npos) << "for key '" << key << "': " << error;

    signals_cas_reader* reader = nullptr;
    uint64_t size = 0;
    EXPECT_EQ(api_->get_open(cas, key.c_str(), &reader, &size), SIGNALS_INVALID_ARGUMENT) << key;
    EXPECT_EQ(api_->stat(cas, key.c_str(), &size), SIGNALS_INVALID_ARGUMENT) << key;
    EXPECT_EQ(api_->remove(cas, key.c_str()), SIGNALS_INVALID_ARGUMENT) << key;
  }
  EXPECT_NE(LastError(cas).find(std::string(40, 'a')), std::string::npos) << "the message names the key";
  EXPECT_TRUE(FilesUnder(data_dir_).empty()) << "nothing may be written for a rejected key";
}

TEST_F(CasFsTest, ListsAllKeysRecursivelyInByteOrder) {
  void* cas = Create();
  const std::vector<std::string> keys = {"b/2",   "a/b/c", "a-c", "a/a",     "A",
                                         "a/b.d", "z",     "a.c", "b/1/x.y", "runtime-facts/t/1"};
  for (const auto& key : keys) ASSERT_EQ(Put(cas, key, key), SIGNALS_OK) << LastError(cas);
  std::vector<std::string> expected = keys;
  std::sort(expected.begin(), expected.end());
  signals_status status = SIGNALS_ERROR;
  EXPECT_EQ(List(cas, "", &status), expected);
  EXPECT_EQ(status, SIGNALS_OK);
}

TEST_F(CasFsTest, ListFiltersByStringPrefix) {
  void* cas = Create();
  for (const std::string key : {"runtime-facts/t1/a", "runtime-facts/t1/b", "runtime-facts/t2/a",
                                "runtime-facts-old/x", "manifests/m"}) {
    ASSERT_EQ(Put(cas, key, "v"), SIGNALS_OK) << LastError(cas);
  }
  EXPECT_EQ(List(cas, "runtime-facts/"),
            (std::vector<std::string>{"runtime-facts/t1/a", "runtime-facts/t1/b", "runtime-facts/t2/a"}));
  EXPECT_EQ(List(cas, "runtime-facts/t1/"),
            (std::vector<std::string>{"runtime-facts/t1/a", "runtime-facts/t1/b"}));
  EXPECT_EQ(List(cas, "runtime-facts/t"),
            (std::vector<std::string>{"runtime-facts/t1/a", "runtime-facts/t1/b", "runtime-facts/t2/a"}));
  EXPECT_EQ(List(cas, "runtime-facts"),
            (std::vector<std::string>{"runtime-facts-old/x", "runtime-facts/t1/a", "runtime-facts/t1/b",
                                      "runtime-facts/t2/a"}));
  EXPECT_TRUE(List(cas, "nothing-here/").empty());
}

TEST_F(CasFsTest, ListRejectsPrefixThatCouldEscapeTheStore) {
  void* cas = Create();
  for (const std::string prefix : {"../", "/etc", "a/../", "a//", ".tmp"}) {
    signals_status status = SIGNALS_OK;
    List(cas, prefix, &status);
    EXPECT_EQ(status, SIGNALS_INVALID_ARGUMENT) << prefix;
    EXPECT_NE(LastError(cas).find("invalid prefix"), std::string::npos) << LastError(cas);
  }
}

TEST_F(CasFsTest, ListIgnoresTempFilesLeftByACrash) {
  void* cas = Create();
  ASSERT_EQ(Put(cas, "runtime-facts/t/real", "v"), SIGNALS_OK);
  // What a crash between create and rename leaves behind.
  std::ofstream(StoreDir() / ".x.tmp.123") << "partial";
  std::ofstream(StoreDir() / "runtime-facts/t/.real2.tmp.9f8e7d6c5b4a3210") << "partial";
  EXPECT_EQ(List(cas, ""), std::vector<std::string>{"runtime-facts/t/real"});
  uint64_t size = 0;
  EXPECT_EQ(api_->stat(cas, ".x.tmp.123", &size), SIGNALS_INVALID_ARGUMENT);
}

TEST_F(CasFsTest, ListLeftoversShowsTempFilesNoWriterHoldsAndRemoveTakesThem) {
  void* cas = Create({{"list_leftovers", "true"}});
  ASSERT_EQ(Put(cas, "runtime-facts/t/real", "v"), SIGNALS_OK);
  const std::string leftover = "runtime-facts/t/.real2.tmp.9f8e7d6c5b4a3210";
  std::ofstream(StoreDir() / leftover) << "partial";
  std::ofstream(StoreDir() / "runtime-facts/t/.not-a-temp-name") << "x";
  // A write in progress holds the lock of its temp file: not a leftover.
  signals_cas_writer* writer = nullptr;
  ASSERT_EQ(api_->put_begin(cas, "runtime-facts/t/busy", &writer), SIGNALS_OK);
  ASSERT_EQ(api_->put_write(cas, writer, Bytes("half")), SIGNALS_OK);

  EXPECT_EQ(List(cas, ""), (std::vector<std::string>{leftover, "runtime-facts/t/real"}));
  uint64_t size = 0;
  EXPECT_EQ(api_->stat(cas, leftover.c_str(), &size), SIGNALS_OK);
  EXPECT_EQ(size, 7u);
  EXPECT_EQ(api_->remove(cas, leftover.c_str()), SIGNALS_OK) << LastError(cas);
  EXPECT_FALSE(fs::exists(StoreDir() / leftover));
  EXPECT_EQ(List(cas, ""), std::vector<std::string>{"runtime-facts/t/real"});

  // The live writer's temp file cannot be removed, and its write completes.
  std::string busy_temp;
  for (const auto& f : FilesUnder(StoreDir())) {
    if (f.find(".busy.tmp.") != std::string::npos) busy_temp = f;
  }
  ASSERT_FALSE(busy_temp.empty());
  EXPECT_EQ(api_->remove(cas, busy_temp.c_str()), SIGNALS_ERROR);
  EXPECT_NE(LastError(cas).find("write in progress"), std::string::npos) << LastError(cas);
  ASSERT_EQ(api_->put_commit(cas, writer), SIGNALS_OK) << LastError(cas);
  EXPECT_EQ(Get(cas, "runtime-facts/t/busy"), "half");
  // Object keys keep their rules: a temp name is no key to get or put.
  EXPECT_EQ(api_->put_begin(cas, leftover.c_str(), &writer), SIGNALS_INVALID_ARGUMENT);
}

TEST_F(CasFsTest, WithoutListLeftoversTempFilesStayInvisibleToStatAndRemove) {
  void* cas = Create();
  const std::string leftover = "runtime-facts/t/.real2.tmp.9f8e7d6c5b4a3210";
  fs::create_directories(StoreDir() / "runtime-facts/t");
  std::ofstream(StoreDir() / leftover) << "partial";
  uint64_t size = 0;
  EXPECT_EQ(api_->stat(cas, leftover.c_str(), &size), SIGNALS_INVALID_ARGUMENT);
  EXPECT_EQ(api_->remove(cas, leftover.c_str()), SIGNALS_INVALID_ARGUMENT);
  EXPECT_TRUE(fs::exists(StoreDir() / leftover));
}

TEST_F(CasFsTest, RemoveDeletesTheObjectAndASecondRemoveIsNotFound) {
  void* cas = Create();
  ASSERT_EQ(Put(cas, "manifests/g.json", "{}"), SIGNALS_OK);
  ASSERT_EQ(api_->remove(cas, "manifests/g.json"), SIGNALS_OK) << LastError(cas);
  uint64_t size = 0;
  EXPECT_EQ(api_->stat(cas, "manifests/g.json", &size), SIGNALS_NOT_FOUND);
  EXPECT_TRUE(List(cas, "").empty());
  EXPECT_EQ(api_->remove(cas, "manifests/g.json"), SIGNALS_NOT_FOUND);
  EXPECT_NE(LastError(cas).find("'manifests/g.json'"), std::string::npos) << LastError(cas);
  // Removed objects can be written again (retention deletes, re-ingest).
  EXPECT_EQ(Put(cas, "manifests/g.json", "{\"v\":2}"), SIGNALS_OK) << LastError(cas);
}

TEST_F(CasFsTest, MissingObjectsAreNotFoundAndTheMessageNamesTheKey) {
  void* cas = Create();
  ASSERT_EQ(Put(cas, "a/object", "v"), SIGNALS_OK);
  signals_cas_reader* reader = nullptr;
  uint64_t size = 0;
  EXPECT_EQ(api_->get_open(cas, "missing/key", &reader, &size), SIGNALS_NOT_FOUND);
  EXPECT_NE(LastError(cas).find("'missing/key'"), std::string::npos) << LastError(cas);
  EXPECT_EQ(api_->stat(cas, "missing", &size), SIGNALS_NOT_FOUND);
  EXPECT_EQ(api_->remove(cas, "missing"), SIGNALS_NOT_FOUND);
  // A directory of objects is not itself an object; nor is a path through an object.
  EXPECT_EQ(api_->stat(cas, "a", &size), SIGNALS_NOT_FOUND);
  EXPECT_EQ(api_->get_open(cas, "a", &reader, &size), SIGNALS_NOT_FOUND);
  EXPECT_EQ(api_->remove(cas, "a"), SIGNALS_NOT_FOUND);
  EXPECT_EQ(api_->stat(cas, "a/object/deeper", &size), SIGNALS_NOT_FOUND);
}

TEST_F(CasFsTest, ObjectsAreCreatedWithMode0640InDirectories0750UnderUmask022AndNoTempFileRemains) {
  ::umask(022);
  void* cas = Create();
  ASSERT_EQ(Put(cas, "d/e/object", "v"), SIGNALS_OK);
  struct stat st {};
  ASSERT_EQ(::stat((StoreDir() / "d/e/object").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  ASSERT_EQ(::stat((StoreDir() / "d/e").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0750u);
  ASSERT_EQ(::stat(StoreDir().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0750u);
  EXPECT_EQ(FilesUnder(StoreDir()), std::vector<std::string>{"d/e/object"});
}

TEST_F(CasFsTest, ObjectModesHonourTheProcessUmask) {
  ::umask(077);
  void* cas = Create();
  ASSERT_EQ(Put(cas, "object", "v"), SIGNALS_OK);
  struct stat st {};
  ASSERT_EQ(::stat((StoreDir() / "object").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
}

TEST_F(CasFsTest, WritesWithFsyncDisabledAndWarnsThatItIsForBenchmarks) {
  void* cas = Create({{"fsync", "false"}});
  ASSERT_EQ(Put(cas, "bench/1", "v"), SIGNALS_OK) << LastError(cas);
  EXPECT_EQ(Get(cas, "bench/1"), "v");
  bool warned = false;
  for (const auto& line : harness_->logs()) {
    warned |= line.rfind("3 ", 0) == 0 && line.find("benchmarks") != std::string::npos;
  }
  EXPECT_TRUE(warned) << "expected a WARN log about fsync=false";
}

TEST_F(CasFsTest, HealthFailsWhenTheStoreDirectoryDisappears) {
  void* cas = Create();
  EXPECT_EQ(component_->health(cas), SIGNALS_OK) << LastError(cas);
  fs::remove_all(StoreDir());
  EXPECT_EQ(component_->health(cas), SIGNALS_ERROR);
  EXPECT_NE(LastError(cas).find(StoreDir().string()), std::string::npos) << LastError(cas);
  EXPECT_NE(LastError(cas).find("No such file or directory"), std::string::npos) << LastError(cas);
}

TEST_F(CasFsTest, ConcurrentPutsOfDistinctKeysAllSucceed) {
  void* cas = Create();
  constexpr int kThreads = 8;
  constexpr int kPerThread = 25;
  std::vector<std::thread> threads;
  std::vector<int> failures(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string key =
            "runtime-facts/t" + std::to_string(i % 3) + "/" + std::to_string(t) + "-" + std::to_string(i);
        if (Put(cas, key, key) != SIGNALS_OK) ++failures[t];
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int f : failures) EXPECT_EQ(f, 0);
  EXPECT_EQ(List(cas, "").size(), static_cast<size_t>(kThreads * kPerThread));
}

// Fills a tiny private tmpfs: SIGNALS_NO_SPACE, the errno text in the
// message, and no temp file left behind.
TEST_F(CasFsTest, FullFilesystemReportsNoSpaceAndRemovesTheTempFile) {
  RunOnPrivateTmpfs(
      "small",
      [&](void* cas, const std::string& mount_point) {
        signals_cas_writer* writer = nullptr;
        if (api_->put_begin(cas, "big/object", &writer) != SIGNALS_OK) return 11;
        std::string chunk(64 * 1024, 'x');
        signals_status s = SIGNALS_OK;
        for (int i = 0; i < 64 && s == SIGNALS_OK; ++i) s = api_->put_write(cas, writer, Bytes(chunk));
        if (s == SIGNALS_OK)
          s = api_->put_commit(cas, writer);
        else
          api_->put_abort(cas, writer);
        if (s != SIGNALS_NO_SPACE) return 12;
        if (std::string(component_->last_error(cas)).find("No space left on device") == std::string::npos) {
          return 13;
        }
        if (!FilesUnder(fs::path(mount_point) / "signals").empty()) return 14;
        return 0;
      },
      "cannot mount a private tmpfs here",
      "11 put_begin failed, 12 status was not SIGNALS_NO_SPACE, "
      "13 message lacks errno text, 14 temp file left behind");
}

// A file system remounted read-only (ext4's errors=remount-ro, an operator)
// cannot take the write either: SIGNALS_NO_SPACE (507 at the REST API), the
// errno text in the message, nothing left behind, and reads still work.
TEST_F(CasFsTest, ReadOnlyFilesystemReportsNoSpaceAndReadsStillWork) {
  RunOnPrivateTmpfs(
      "readonly",
      [&](void* cas, const std::string& mount_point) {
        if (Put(cas, "dir/before", "payload") != SIGNALS_OK) return 11;
        if (::mount(nullptr, mount_point.c_str(), nullptr, MS_REMOUNT | MS_RDONLY, nullptr) != 0) return 77;
        if (Put(cas, "dir/after", "payload") != SIGNALS_NO_SPACE) return 12;
        if (std::string(component_->last_error(cas)).find("Read-only file system") == std::string::npos) {
          return 13;
        }
        if (Put(cas, "newdir/after", "payload") != SIGNALS_NO_SPACE) return 14;
        uint64_t size = 0;
        if (api_->stat(cas, "dir/before", &size) != SIGNALS_OK || size != 7) return 15;
        if (FilesUnder(fs::path(mount_point) / "signals").size() != 1) return 16;
        return 0;
      },
      "cannot mount and remount a private tmpfs here",
      "11 first put failed, 12 put on the read-only mount was not "
      "SIGNALS_NO_SPACE, 13 message lacks errno text, 14 put needing a new directory was not "
      "SIGNALS_NO_SPACE, 15 the earlier object is unreadable, 16 files added or lost");
}

}  // namespace
