// signer_test_fixture.hpp — the gtest fixture of the signer plugin tests
// (signer-ed25519, signer-ecdsa-p256): loads the built plugin library through
// PluginUnderTest (signals/testing/fake_host.hpp) as the kernel would, gives each test a
// fresh temporary data directory (removed afterwards, with the instances
// destroyed first), and drives signer instances through signals_signer_api.
// Plus the small file and shell helpers the tests cross-check with.
//
// A test derives from SignerPluginTest and calls OpenPlugin() from SetUp().
// Not thread-safe: one test, one thread (but for what a test itself starts).
#pragma once

#include <signals/plugin.h>
#include <stdlib.h>  // mkdtemp
#include <sys/stat.h>
#include <sys/wait.h>  // WIFEXITED

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include <signals/testing/fake_host.hpp>

namespace signals::testing {

class SignerPluginTest : public ::testing::Test {
 protected:
  // The whole file at `path` ("" when it cannot be read).
  static std::string ReadFile(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }

  // Creates or truncates `path` and writes `bytes` to it.
  static void WriteFile(const std::filesystem::path& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary) << bytes;
  }

  // Runs a shell command quietly; returns its exit status (-1 when it did
  // not exit normally).
  static int Shell(const std::string& command) {
    int rc = std::system((command + " >/dev/null 2>&1").c_str());
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  }

  // Loads the plugin library at `library` and selects its signer `component`
  // (e.g. "signer-ed25519"); makes the data directory
  // $TMPDIR/<component>-test-XXXXXX. Fails the test (fatally) when either
  // does not work; call it through ASSERT_NO_FATAL_FAILURE from SetUp().
  void OpenPlugin(const std::string& library, const std::string& component) {
    std::string pattern = (std::filesystem::temp_directory_path() / (component + "-test-XXXXXX")).string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    data_dir_ = pattern;
    component_name_ = component;
    harness_ = std::make_unique<PluginUnderTest>(library);
    component_ = &harness_->Component(component);
    api_ = static_cast<const signals_signer_api*>(component_->api);
  }

  void TearDown() override {
    for (void* instance : instances_) component_->destroy(instance);
    if (!data_dir_.empty()) std::filesystem::remove_all(data_dir_);
  }

  std::filesystem::path Tmp(const std::string& name) const { return std::filesystem::path(data_dir_) / name; }
  // The key directory of the default options: {data_dir}/keys.
  std::filesystem::path KeyDir() const { return std::filesystem::path(data_dir_) / "keys"; }

  // Creates an instance; returns nullptr (and the message in *error) on
  // failure. Instances are destroyed in TearDown().
  void* Create(std::map<std::string, std::string> options, std::string* error = nullptr,
               signals_status* status = nullptr) {
    void* instance = nullptr;
    std::string message;
    signals_status s = harness_->Create(component_name_, std::move(options), data_dir_, &instance, &message);
    if (status != nullptr) *status = s;
    if (error != nullptr) *error = message;
    if (s != SIGNALS_OK) return nullptr;
    instances_.push_back(instance);
    return instance;
  }

  // Creates an instance that generates key `key_id` in KeyDir() if needed.
  void* CreateGenerating(const std::string& key_id = "test-key") {
    std::string error;
    void* signer = Create({{"key_id", key_id}, {"create_if_missing", "true"}}, &error);
    EXPECT_NE(signer, nullptr) << error;
    return signer;
  }

  // Expects creation to fail with SIGNALS_INVALID_CONFIG; returns the message.
  std::string CreateFails(std::map<std::string, std::string> options) {
    std::string error;
    signals_status status = SIGNALS_OK;
    EXPECT_EQ(Create(std::move(options), &error, &status), nullptr);
    EXPECT_EQ(status, SIGNALS_INVALID_CONFIG) << error;
    return error;
  }

  // --- the key store specification both signers share -----------------------
  // (signals/support/pem_key_store.hpp). Each TEST_F of a signer calls these
  // with what is particular to its algorithm.

  // The component declares exactly the key store options, with their
  // defaults ("<none>" for none).
  void ExpectKeyStoreOptions(const std::string& default_key_id) {
    std::map<std::string, std::string> defaults;
    for (size_t i = 0; i < component_->option_count; ++i) {
      const signals_option& o = component_->options[i];
      defaults[o.name] = o.default_value ? o.default_value : "<none>";
    }
    EXPECT_EQ(defaults, (std::map<std::string, std::string>{{"key_dir", "keys"},
                                                            {"key_id", default_key_id},
                                                            {"key_file", "<none>"},
                                                            {"create_if_missing", "false"}}));
  }

  // `signer` has just generated key "test-key" of `key_kind` (e.g. "Ed25519")
  // in KeyDir(): both files are there and nothing else, the public key file
  // is what the signer reports, and a WARN line says so.
  void ExpectGeneratedTestKey(void* signer, const std::string& key_kind) {
    EXPECT_STREQ(api_->key_id(signer), "test-key");
    EXPECT_TRUE(std::filesystem::is_regular_file(KeyDir() / "test-key.key.pem"));
    EXPECT_EQ(ReadFile(KeyDir() / "test-key.pub.pem"), PublicKeyPem(signer));
    EXPECT_TRUE(
        LogContains("3", "generated new " + key_kind + " signing key 'test-key' in " + KeyDir().string()))
        << "expected a WARN log naming the key and directory";
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(KeyDir())) names.push_back(e.path().filename());
    EXPECT_EQ(names.size(), 2u) << "no temp files may remain";
  }

  // Makes private key `key` (mode 0600) and its public key `pub` with the
  // openssl CLI (`openssl genpkey <genpkey_args>`), and in *signer a signer
  // with key_file = `key` and key_id "ops-key"; checks that it uses that key
  // and leaves KeyDir() alone. Call it through ASSERT_NO_FATAL_FAILURE.
  void CreateFromOpensslKey(const std::string& genpkey_args, const std::filesystem::path& key,
                            const std::filesystem::path& pub, void** signer) {
    ASSERT_EQ(Shell("openssl genpkey " + genpkey_args + " -out " + key.string()), 0);
    ASSERT_EQ(Shell("openssl pkey -in " + key.string() + " -pubout -out " + pub.string()), 0);
    ::chmod(key.c_str(), 0600);
    std::string error;
    *signer = Create({{"key_file", key.string()}, {"key_id", "ops-key"}}, &error);
    ASSERT_NE(*signer, nullptr) << error;
    EXPECT_STREQ(api_->key_id(*signer), "ops-key");
    EXPECT_EQ(PublicKeyPem(*signer), ReadFile(pub));
    EXPECT_FALSE(std::filesystem::exists(KeyDir())) << "key_dir is not touched when key_file is set";
  }

  // A signer loading private key `key`, made by `openssl genpkey
  // <genpkey_args>` with mode 0644, starts but warns about the mode.
  void ExpectWarningForReadableKey(const std::string& genpkey_args, const std::filesystem::path& key) {
    ASSERT_EQ(Shell("openssl genpkey " + genpkey_args + " -out " + key.string()), 0);
    ASSERT_EQ(::chmod(key.c_str(), 0644), 0);
    std::string error;
    ASSERT_NE(Create({{"key_file", key.string()}}, &error), nullptr) << error;
    EXPECT_TRUE(LogContains(
        "3", "private key file " + key.string() + " is accessible by group or others (mode 0644)"));
  }

  // No log line so far quotes the private key "test-key" or any PEM.
  void ExpectNoKeyMaterialLogged() {
    const std::string private_pem = ReadFile(KeyDir() / "test-key.key.pem");
    const std::string body = private_pem.substr(private_pem.find('\n') + 1, 40);
    for (const auto& line : harness_->logs()) {
      EXPECT_EQ(line.find(body), std::string::npos) << line;
      EXPECT_EQ(line.find("BEGIN"), std::string::npos) << line;
    }
  }

  // Generates key `key_id`, removes its public key file, and checks that the
  // next signer of that key writes the same file again.
  void ExpectMissingPublicKeyFileRewritten(const std::string& key_id) {
    const std::filesystem::path pub = KeyDir() / (key_id + ".pub.pem");
    ASSERT_NE(CreateGenerating(key_id), nullptr);
    const std::string original = ReadFile(pub);
    std::filesystem::remove(pub);
    std::string error;
    ASSERT_NE(Create({{"key_id", key_id}}, &error), nullptr) << error;
    EXPECT_EQ(ReadFile(pub), original);
  }

  // Creates in *first a signer that generates key "test-key", and in *second
  // one that loads it (create_if_missing off); checks that they report the
  // same public key and that only the first generated one. Call it through
  // ASSERT_NO_FATAL_FAILURE.
  void CreateTwoSignersOfTestKey(void** first, void** second) {
    *first = CreateGenerating();
    ASSERT_NE(*first, nullptr);
    std::string error;
    *second = Create({{"key_id", "test-key"}}, &error);  // create_if_missing off
    ASSERT_NE(*second, nullptr) << error;
    EXPECT_EQ(PublicKeyPem(*first), PublicKeyPem(*second));
    size_t generated = 0;
    for (const auto& line : harness_->logs()) generated += line.find("generated new") != std::string::npos;
    EXPECT_EQ(generated, 1u) << "only the first instance generates a key";
  }

  // The files of key "test-key" and KeyDir() have the key store's modes.
  void ExpectTestKeyFileModes() {
    struct stat st {};
    ASSERT_EQ(::stat((KeyDir() / "test-key.key.pem").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
    ASSERT_EQ(::stat(KeyDir().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0700u);
    ASSERT_EQ(::stat((KeyDir() / "test-key.pub.pem").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0644u);
  }

  std::string PublicKeyPem(void* signer) {
    std::string pem;
    EXPECT_EQ(api_->public_key_pem(signer, &FakeHost::Append, &pem), SIGNALS_OK);
    return pem;
  }

  std::string Sign(void* signer, const std::string& message) {
    std::string signature;
    EXPECT_EQ(
        api_->sign(signer, signals_bytes{reinterpret_cast<const uint8_t*>(message.data()), message.size()},
                   &FakeHost::Append, &signature),
        SIGNALS_OK);
    return signature;
  }

  // True when a log line of `level` ("3" for WARN) contains `text`.
  bool LogContains(const std::string& level, const std::string& text) {
    for (const auto& line : harness_->logs()) {
      if (line.rfind(level + " ", 0) == 0 && line.find(text) != std::string::npos) return true;
    }
    return false;
  }

  // How many log lines contain `text`.
  size_t LogCount(const std::string& text) {
    size_t count = 0;
    for (const auto& line : harness_->logs()) count += line.find(text) != std::string::npos;
    return count;
  }

  std::string data_dir_;
  std::string component_name_;
  std::unique_ptr<PluginUnderTest> harness_;
  const signals_component* component_ = nullptr;
  const signals_signer_api* api_ = nullptr;
  std::vector<void*> instances_;
};

}  // namespace signals::testing
