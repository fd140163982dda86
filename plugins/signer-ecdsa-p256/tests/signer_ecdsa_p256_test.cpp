// signer_ecdsa_p256_test.cpp — specification tests for the signer-ecdsa-p256
// plugin, driven through its C ABI (dlopen + signals_signer_api) as the kernel
// drives it, and cross-checked with independent implementations: the openssl
// CLI and Python's `cryptography` package.
#include <signals/plugin.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "signer_test_fixture.hpp"

namespace fs = std::filesystem;

namespace {

constexpr const char* kPython = "/usr/bin/python3";

// Verifies argv[3] (DER ECDSA/SHA-256 signature file) over argv[2] with the
// SubjectPublicKeyInfo PEM argv[1]; exit 0 when valid, 1 when not.
constexpr const char* kPythonVerifier = R"PY(
import sys
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
key = serialization.load_pem_public_key(open(sys.argv[1], "rb").read())
assert isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp256r1", key
try:
    key.verify(open(sys.argv[3], "rb").read(), open(sys.argv[2], "rb").read(), ec.ECDSA(hashes.SHA256()))
except InvalidSignature:
    sys.exit(1)
)PY";

// Writes a PKCS#8 PEM whose private scalar is from argv[1] and public point
// from argv[2] (both openssl-generated P-256 PKCS#8 PEM keys) to argv[3].
constexpr const char* kPythonSplice = R"PY(
import base64, sys
def der(path):
    lines = open(path).read().strip().splitlines()
    return base64.b64decode("".join(lines[1:-1]))
a, b = der(sys.argv[1]), der(sys.argv[2])
out = a[:-65] + b[-65:]
body = base64.encodebytes(out).decode().replace("\n", "")
text = "-----BEGIN PRIVATE KEY-----\n" + "\n".join(body[i:i+64] for i in range(0, len(body), 64)) + "\n-----END PRIVATE KEY-----\n"
open(sys.argv[3], "w").write(text)
)PY";

class SignerEcdsaP256Test : public signals::testing::SignerPluginTest {
 protected:
  void SetUp() override {
    ASSERT_NO_FATAL_FAILURE(OpenPlugin(SIGNALS_PLUGIN_UNDER_TEST, "signer-ecdsa-p256"));
    WriteFile(Tmp("verify.py"), kPythonVerifier);
  }

  // Verifies `signature` over `message` with the PEM public key at `pub`, by
  // the openssl CLI and by Python cryptography; both must agree.
  bool Verifies(const fs::path& pub, const std::string& message, const std::string& signature,
                const std::string& tag = "v") {
    const fs::path msg = Tmp(tag + ".msg");
    const fs::path sig = Tmp(tag + ".sig");
    WriteFile(msg, message);
    WriteFile(sig, signature);
    int openssl = Shell("openssl dgst -sha256 -verify " + pub.string() + " -signature " + sig.string() + " " +
                        msg.string());
    int python = Shell(std::string(kPython) + " " + Tmp("verify.py").string() + " " + pub.string() + " " +
                       msg.string() + " " + sig.string());
    EXPECT_EQ(openssl == 0, python == 0) << "openssl=" << openssl << " python=" << python;
    EXPECT_TRUE(openssl <= 1 && python <= 1)
        << "a verifier failed to run: openssl=" << openssl << " python=" << python;
    return openssl == 0 && python == 0;
  }
};

TEST_F(SignerEcdsaP256Test, DescribesItselfAsSignerWithDocumentedOptions) {
  EXPECT_EQ(component_->kind, static_cast<uint32_t>(SIGNALS_KIND_SIGNER));
  EXPECT_NE(component_->capabilities & SIGNALS_CAP_CONCURRENT, 0u);
  ExpectKeyStoreOptions("signals-ecdsa-p256");
}

TEST_F(SignerEcdsaP256Test, GeneratesKeyPairInKeyDirAndLogsIt) {
  void* signer = CreateGenerating("test-key");
  ASSERT_NE(signer, nullptr);
  EXPECT_STREQ(api_->algorithm(signer), "ECDSA-P256-SHA256");
  EXPECT_EQ(ReadFile(KeyDir() / "test-key.key.pem").rfind("-----BEGIN PRIVATE KEY-----\n", 0), 0u);
  EXPECT_EQ(PublicKeyPem(signer).rfind("-----BEGIN PUBLIC KEY-----\n", 0), 0u);
  ExpectGeneratedTestKey(signer, "ECDSA P-256");
}

TEST_F(SignerEcdsaP256Test, PrivateKeyFileIsMode0600AndKeyDir0700) {
  mode_t old = ::umask(0);  // the modes must not depend on the daemon's umask
  void* signer = CreateGenerating();
  ::umask(old);
  ASSERT_NE(signer, nullptr);
  ExpectTestKeyFileModes();
}

TEST_F(SignerEcdsaP256Test, ReloadingUsesTheSameKey) {
  void* first = nullptr;
  void* second = nullptr;
  ASSERT_NO_FATAL_FAILURE(CreateTwoSignersOfTestKey(&first, &second));
  // ECDSA is randomised: compare by verification, not bytes.
  EXPECT_TRUE(Verifies(KeyDir() / "test-key.pub.pem", "same message", Sign(second, "same message")));
}

TEST_F(SignerEcdsaP256Test, OpensslAcceptsBothKeyFiles) {
  ASSERT_NE(CreateGenerating(), nullptr);
  const fs::path key = KeyDir() / "test-key.key.pem";
  const fs::path pub = KeyDir() / "test-key.pub.pem";
  EXPECT_EQ(Shell("openssl pkey -in " + key.string() + " -noout"), 0);
  EXPECT_EQ(Shell("openssl pkey -pubin -in " + pub.string() + " -noout"), 0);
  // It is a P-256 key, and openssl derives the same public key from it.
  EXPECT_EQ(Shell("openssl pkey -in " + key.string() + " -noout -text | grep -q 'NIST CURVE: P-256'"), 0);
  const fs::path derived = Tmp("derived.pub.pem");
  ASSERT_EQ(Shell("openssl pkey -in " + key.string() + " -pubout -out " + derived.string()), 0);
  EXPECT_EQ(ReadFile(derived), ReadFile(pub));
}

TEST_F(SignerEcdsaP256Test, SignaturesAreDerAndVerifyWithOpensslAndPython) {
  void* signer = CreateGenerating();
  ASSERT_NE(signer, nullptr);
  const fs::path pub = KeyDir() / "test-key.pub.pem";
  for (const std::string& message : std::vector<std::string>{
           "", "hello", "{\"payloadType\":\"application/vnd.in-toto+json\"}", std::string(100000, 'z')}) {
    std::string signature = Sign(signer, message);
    ASSERT_GE(signature.size(), 8u);
    EXPECT_EQ(static_cast<uint8_t>(signature[0]), 0x30) << "DER SEQUENCE";
    EXPECT_EQ(static_cast<size_t>(static_cast<uint8_t>(signature[1])) + 2, signature.size());
    EXPECT_LE(signature.size(), 72u);
    EXPECT_TRUE(Verifies(pub, message, signature)) << "message of " << message.size() << " bytes";
    EXPECT_FALSE(Verifies(pub, message + " ", signature)) << "a changed message must not verify";
  }
}

TEST_F(SignerEcdsaP256Test, ConcurrentSigningProducesValidSignatures) {
  void* signer = CreateGenerating();
  ASSERT_NE(signer, nullptr);
  std::vector<std::string> signatures(8);
  std::vector<signals_status> statuses(8, SIGNALS_ERROR);
  std::vector<std::thread> threads;
  const std::string message = "concurrent";
  for (size_t i = 0; i < signatures.size(); ++i) {
    threads.emplace_back([&, i] {
      for (int n = 0; n < 50; ++n) {
        signatures[i].clear();
        statuses[i] = api_->sign(
            signer, signals_bytes{reinterpret_cast<const uint8_t*>(message.data()), message.size()},
            &signals::testing::FakeHost::Append, &signatures[i]);
        if (statuses[i] != SIGNALS_OK) return;
      }
    });
  }
  for (auto& t : threads) t.join();
  for (size_t i = 0; i < signatures.size(); ++i) {
    ASSERT_EQ(statuses[i], SIGNALS_OK);
    EXPECT_TRUE(Verifies(KeyDir() / "test-key.pub.pem", message, signatures[i], "c" + std::to_string(i)));
  }
}

TEST_F(SignerEcdsaP256Test, LoadsOpensslGeneratedKeyThroughKeyFile) {
  const fs::path key = Tmp("k.pem");
  const fs::path pub = Tmp("k.pub.pem");
  void* signer = nullptr;
  ASSERT_NO_FATAL_FAILURE(
      CreateFromOpensslKey("-algorithm EC -pkeyopt ec_paramgen_curve:P-256", key, pub, &signer));
  const std::string message = "signed by an openssl key";
  EXPECT_TRUE(Verifies(pub, message, Sign(signer, message)));
  EXPECT_FALSE(LogContains("3", "accessible by group or others"));
}

TEST_F(SignerEcdsaP256Test, KeyFileResolvesAgainstTheDataDirectory) {
  ASSERT_EQ(
      Shell("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out " + Tmp("rel.pem").string()),
      0);
  std::string error;
  EXPECT_NE(Create({{"key_file", "rel.pem"}}, &error), nullptr) << error;
}

TEST_F(SignerEcdsaP256Test, MissingKeyWithoutCreateIfMissingFailsWithKeygenHint) {
  std::string error = CreateFails({{"key_id", "prod-1"}});
  EXPECT_EQ(error, "signing key 'prod-1' not found at " + (KeyDir() / "prod-1.key.pem").string() +
                       "; create one with `signalsctl keygen --alg ecdsa-p256 --key-id prod-1`");
  EXPECT_FALSE(fs::exists(KeyDir())) << "nothing is created without create_if_missing";
}

TEST_F(SignerEcdsaP256Test, MissingExplicitKeyFileFailsEvenWithCreateIfMissing) {
  const std::string path = data_dir_ + "/absent.pem";
  std::string error = CreateFails({{"key_file", path}, {"create_if_missing", "true"}});
  EXPECT_NE(error.find("not found at " + path), std::string::npos) << error;
  EXPECT_FALSE(fs::exists(path));
}

TEST_F(SignerEcdsaP256Test, RejectsEd25519KeyNamingTheAlgorithm) {
  const fs::path key = Tmp("ed.pem");
  ASSERT_EQ(Shell("openssl genpkey -algorithm ed25519 -out " + key.string()), 0);
  std::string error = CreateFails({{"key_file", key.string()}});
  EXPECT_NE(error.find(key.string() + " is not an ECDSA P-256 PKCS#8 PEM private key"), std::string::npos)
      << error;
  EXPECT_NE(error.find("ED25519 (1.3.101.112)"), std::string::npos) << error;
}

TEST_F(SignerEcdsaP256Test, RejectsP384KeyNamingTheCurve) {
  const fs::path key = Tmp("p384.pem");
  ASSERT_EQ(Shell("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out " + key.string()), 0);
  std::string error = CreateFails({{"key_file", key.string()}});
  EXPECT_NE(error.find(key.string() + " is not an ECDSA P-256 PKCS#8 PEM private key"), std::string::npos)
      << error;
  EXPECT_NE(error.find("curve secp384r1, not P-256"), std::string::npos) << error;
}

TEST_F(SignerEcdsaP256Test, RejectsP384KeyInTheKeyStoreToo) {
  fs::create_directories(KeyDir());
  ASSERT_EQ(Shell("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out " +
                  (KeyDir() / "big.key.pem").string()),
            0);
  std::string error = CreateFails({{"key_id", "big"}, {"create_if_missing", "true"}});
  EXPECT_NE(error.find("secp384r1"), std::string::npos) << error;
  EXPECT_FALSE(fs::exists(KeyDir() / "big.pub.pem")) << "nothing is written for a rejected key";
}

TEST_F(SignerEcdsaP256Test, RejectsFilesThatAreNotPkcs8PrivateKeyPem) {
  const fs::path legacy = Tmp("legacy.pem");
  ASSERT_EQ(Shell("openssl ecparam -name prime256v1 -genkey -noout -out " + legacy.string()), 0);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"not a key at all\n", "not a PEM file"},
      {"-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n"
       "-----END PUBLIC KEY-----\n",
       "'PUBLIC KEY'"},
      {ReadFile(legacy), "'EC PRIVATE KEY'"},
      {"-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n", "malformed"},
  };
  int n = 0;
  for (const auto& [text, expected] : cases) {
    const fs::path key = Tmp("bad" + std::to_string(n++) + ".pem");
    WriteFile(key, text);
    std::string error = CreateFails({{"key_file", key.string()}});
    EXPECT_NE(error.find(expected), std::string::npos) << error;
    EXPECT_NE(error.find("is not an ECDSA P-256 PKCS#8 PEM private key"), std::string::npos) << error;
  }
}

TEST_F(SignerEcdsaP256Test, RejectsKeyWhosePublicPartBelongsToAnotherKey) {
  const fs::path a = Tmp("a.pem"), b = Tmp("b.pem"), spliced = Tmp("spliced.pem");
  for (const fs::path& p : {a, b}) {
    ASSERT_EQ(Shell("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out " + p.string()), 0);
  }
  WriteFile(Tmp("splice.py"), kPythonSplice);
  ASSERT_EQ(Shell(std::string(kPython) + " " + Tmp("splice.py").string() + " " + a.string() + " " +
                  b.string() + " " + spliced.string()),
            0);
  std::string error = CreateFails({{"key_file", spliced.string()}});
  EXPECT_NE(error.find("holds a public key that does not belong to its private key"), std::string::npos)
      << error;
}

TEST_F(SignerEcdsaP256Test, WarnsWhenPrivateKeyIsReadableByOthers) {
  const fs::path key = Tmp("k.pem");
  ExpectWarningForReadableKey("-algorithm EC -pkeyopt ec_paramgen_curve:P-256", key);
}

TEST_F(SignerEcdsaP256Test, NeverLogsKeyMaterial) {
  void* signer = CreateGenerating();
  ASSERT_NE(signer, nullptr);
  ASSERT_NE(Create({{"key_id", "test-key"}}), nullptr);
  ExpectNoKeyMaterialLogged();
}

TEST_F(SignerEcdsaP256Test, RejectsInvalidKeyIds) {
  for (const std::string& id :
       std::vector<std::string>{"", "has space", "a/b", "../x", std::string(129, 'k')}) {
    std::string error = CreateFails({{"key_id", id}, {"create_if_missing", "true"}});
    EXPECT_EQ(error, "key_id '" + id + "' must match [A-Za-z0-9._-]{1,128}");
  }
  EXPECT_FALSE(fs::exists(KeyDir()));
}

TEST_F(SignerEcdsaP256Test, RewritesMissingPublicKeyFileAndRejectsMismatchedOne) {
  ASSERT_NO_FATAL_FAILURE(ExpectMissingPublicKeyFileRewritten("k1"));
  EXPECT_TRUE(LogContains("2", "wrote missing public key file " + (KeyDir() / "k1.pub.pem").string()));

  ASSERT_NE(CreateGenerating("k2"), nullptr);
  fs::copy_file(KeyDir() / "k2.pub.pem", KeyDir() / "k1.pub.pem", fs::copy_options::overwrite_existing);
  std::string error = CreateFails({{"key_id", "k1"}});
  EXPECT_NE(error.find("does not match"), std::string::npos) << error;
}

TEST_F(SignerEcdsaP256Test, RefusesToGenerateWhenOnlyThePublicKeyExists) {
  fs::create_directories(KeyDir());
  WriteFile(KeyDir() / "orphan.pub.pem", "-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n");
  std::string error = CreateFails({{"key_id", "orphan"}, {"create_if_missing", "true"}});
  EXPECT_NE(error.find("exists but its private key"), std::string::npos) << error;
  EXPECT_FALSE(fs::exists(KeyDir() / "orphan.key.pem"));
}

}  // namespace
