// Specification of offline signature verification: Ed25519 and ECDSA P-256
// keys made in-process with OpenSSL, plus an independent signature made by the
// openssl command-line tool.
#include "attest/signature_verify.hpp"

#include "base/sha256.hpp"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

namespace signals {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

PkeyPtr MakeEd25519Key() { return PkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")); }
PkeyPtr MakeEcKey(const char* curve) { return PkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve)); }
PkeyPtr MakeRsaKey() { return PkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048})); }

std::string PublicPem(EVP_PKEY* key) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  EXPECT_EQ(PEM_write_bio_PUBKEY(bio.get(), key), 1);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

std::string PrivatePem(EVP_PKEY* key) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  EXPECT_EQ(PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr), 1);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

// Ed25519 signs the message itself (md = NULL); ECDSA signs SHA-256 of it.
std::string Sign(EVP_PKEY* key, std::string_view message, const EVP_MD* md) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  EXPECT_EQ(EVP_DigestSignInit(ctx.get(), nullptr, md, nullptr, key), 1);
  size_t len = 0;
  const auto* msg = reinterpret_cast<const unsigned char*>(message.data());
  EXPECT_EQ(EVP_DigestSign(ctx.get(), nullptr, &len, msg, message.size()), 1);
  std::string sig(len, '\0');
  EXPECT_EQ(
      EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, msg, message.size()), 1);
  sig.resize(len);
  return sig;
}

void ExpectInvalid(const Status& s, std::string_view message_part) {
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Code::kInvalid);
  EXPECT_EQ(s.rule(), "signature");
  EXPECT_NE(s.message().find(message_part), std::string::npos)
      << "message '" << s.message() << "' lacks '" << message_part << "'";
}

constexpr std::string_view kMessage = "DSSEv1 29 http://example.com/HelloWorld 11 hello world";

TEST(VerifySignature, AcceptsEd25519SignatureOverTheMessage) {
  PkeyPtr key = MakeEd25519Key();
  ASSERT_TRUE(key);
  std::string sig = Sign(key.get(), kMessage, nullptr);
  ASSERT_EQ(sig.size(), 64u);
  EXPECT_TRUE(VerifySignature(PublicPem(key.get()), kMessage, sig).ok());
}

TEST(VerifySignature, AcceptsEcdsaP256DerSignatureOverSha256) {
  PkeyPtr key = MakeEcKey("P-256");
  ASSERT_TRUE(key);
  std::string sig = Sign(key.get(), kMessage, EVP_sha256());
  Status s = VerifySignature(PublicPem(key.get()), kMessage, sig);
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST(VerifySignature, RejectsTamperedMessage) {
  for (bool ed25519 : {true, false}) {
    PkeyPtr key = ed25519 ? MakeEd25519Key() : MakeEcKey("P-256");
    std::string sig = Sign(key.get(), kMessage, ed25519 ? nullptr : EVP_sha256());
    std::string tampered(kMessage);
    tampered.back() = 'D';
    ExpectInvalid(VerifySignature(PublicPem(key.get()), tampered, sig), "signature does not verify");
  }
}

TEST(VerifySignature, RejectsTamperedSignature) {
  PkeyPtr key = MakeEd25519Key();
  std::string sig = Sign(key.get(), kMessage, nullptr);
  sig[10] = static_cast<char>(sig[10] ^ 0x01);
  ExpectInvalid(VerifySignature(PublicPem(key.get()), kMessage, sig), "signature does not verify");
}

TEST(VerifySignature, RejectsSignatureFromAnotherKey) {
  for (bool ed25519 : {true, false}) {
    PkeyPtr signer = ed25519 ? MakeEd25519Key() : MakeEcKey("P-256");
    PkeyPtr other = ed25519 ? MakeEd25519Key() : MakeEcKey("P-256");
    std::string sig = Sign(signer.get(), kMessage, ed25519 ? nullptr : EVP_sha256());
    ExpectInvalid(VerifySignature(PublicPem(other.get()), kMessage, sig), "signature does not verify");
  }
}

TEST(VerifySignature, RejectsEd25519SignatureOfWrongLength) {
  PkeyPtr key = MakeEd25519Key();
  std::string sig = Sign(key.get(), kMessage, nullptr);
  ExpectInvalid(VerifySignature(PublicPem(key.get()), kMessage, sig.substr(0, 63)),
                "signature does not verify");
  ExpectInvalid(VerifySignature(PublicPem(key.get()), kMessage, ""), "signature does not verify");
}

TEST(VerifySignature, RejectsMalformedEcdsaDer) {
  PkeyPtr key = MakeEcKey("P-256");
  ExpectInvalid(VerifySignature(PublicPem(key.get()), kMessage, "not DER at all"),
                "signature does not verify");
  // An Ed25519-style raw r||s is not the DER form Signals requires for ECDSA.
  ExpectInvalid(VerifySignature(PublicPem(key.get()), kMessage, std::string(64, '\x11')),
                "signature does not verify");
}

TEST(VerifySignature, RejectsTextThatIsNotAPemPublicKey) {
  ExpectInvalid(VerifySignature("hello", kMessage, "sig"), "not a PEM public key");
  ExpectInvalid(VerifySignature("", kMessage, "sig"), "not a PEM public key");
  PkeyPtr key = MakeEd25519Key();
  ExpectInvalid(VerifySignature(PrivatePem(key.get()), kMessage, "sig"), "not a PEM public key");
}

TEST(VerifySignature, RejectsUnsupportedKeyTypesNamingThem) {
  PkeyPtr rsa = MakeRsaKey();
  ASSERT_TRUE(rsa);
  ExpectInvalid(VerifySignature(PublicPem(rsa.get()), kMessage, "sig"), "unsupported key type RSA");
  PkeyPtr p384 = MakeEcKey("P-384");
  ASSERT_TRUE(p384);
  ExpectInvalid(VerifySignature(PublicPem(p384.get()), kMessage, "sig"), "unsupported key type EC");
}

TEST(PublicKeyAlgorithm, NamesEd25519AndEcdsaP256) {
  PkeyPtr ed = MakeEd25519Key();
  PkeyPtr ec = MakeEcKey("P-256");
  auto ed_alg = PublicKeyAlgorithm(PublicPem(ed.get()));
  auto ec_alg = PublicKeyAlgorithm(PublicPem(ec.get()));
  ASSERT_TRUE(ed_alg.ok() && ec_alg.ok());
  EXPECT_EQ(*ed_alg, "Ed25519");
  EXPECT_EQ(*ec_alg, "ECDSA-P256-SHA256");
  EXPECT_FALSE(PublicKeyAlgorithm("junk").ok());
}

// --- independent signer: the openssl command-line tool ------------------------

class OpenSslCliSignature : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::system("openssl version >/dev/null 2>&1") != 0) GTEST_SKIP() << "openssl CLI not installed";
    char tmpl[] = "/tmp/signals-sigverify-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    std::ofstream(dir_ / "msg.bin", std::ios::binary) << kMessage;
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  int Run(const std::string& command) {
    return std::system(("cd '" + dir_.string() + "' && " + command).c_str());
  }
  std::string Read(const char* name) {
    std::ifstream in(dir_ / name, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  std::filesystem::path dir_;
};

TEST_F(OpenSslCliSignature, AcceptsEd25519SignatureMadeByOpensslPkeyutl) {
  ASSERT_EQ(Run("openssl genpkey -algorithm ed25519 -out key.pem 2>/dev/null"), 0);
  ASSERT_EQ(Run("openssl pkey -in key.pem -pubout -out pub.pem 2>/dev/null"), 0);
  ASSERT_EQ(Run("openssl pkeyutl -sign -rawin -inkey key.pem -in msg.bin -out sig.bin 2>/dev/null"), 0);
  std::string pub = Read("pub.pem");
  std::string sig = Read("sig.bin");
  ASSERT_EQ(sig.size(), 64u);
  Status s = VerifySignature(pub, kMessage, sig);
  EXPECT_TRUE(s.ok()) << s.ToString();
  ExpectInvalid(VerifySignature(pub, "another message", sig), "signature does not verify");
}

TEST_F(OpenSslCliSignature, PreHashedEcdsaAndDerExportAgreeWithOpenssl) {
  ASSERT_EQ(Run("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out key.pem 2>/dev/null"),
            0);
  ASSERT_EQ(Run("openssl pkey -in key.pem -pubout -out pub.pem 2>/dev/null"), 0);
  ASSERT_EQ(Run("openssl pkey -in key.pem -pubout -outform DER -out pub.der 2>/dev/null"), 0);
  ASSERT_EQ(Run("openssl dgst -sha256 -sign key.pem -out sig.der msg.bin 2>/dev/null"), 0);
  const std::string pub = Read("pub.pem");
  EXPECT_EQ(PublicKeyDer(pub).value(), Read("pub.der"));
  // A Sigstore messageSignature: the signature checked against the digest alone.
  const std::string digest = Sha256Raw(kMessage);
  Status s = VerifyDigestSignature(pub, digest, Read("sig.der"));
  EXPECT_TRUE(s.ok()) << s.ToString();
  ExpectInvalid(VerifyDigestSignature(pub, Sha256Raw("another message"), Read("sig.der")),
                "signature does not verify");
  ExpectInvalid(VerifyDigestSignature(pub, digest.substr(1), Read("sig.der")),
                "digest is 31 bytes, expected 32");
}

TEST_F(OpenSslCliSignature, CertificateKeyIsTheKeyOpensslReads) {
  ASSERT_EQ(
      Run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout k.pem -subj /CN=t "
          "-days 1 -outform DER -out cert.der 2>/dev/null"),
      0);
  ASSERT_EQ(Run("openssl x509 -inform DER -in cert.der -pubkey -noout -out certpub.pem 2>/dev/null"), 0);
  auto pem = CertificatePublicKeyPem(Read("cert.der"));
  ASSERT_TRUE(pem.ok()) << pem.status().ToString();
  EXPECT_EQ(*pem, Read("certpub.pem"));
  auto garbage = CertificatePublicKeyPem("not a certificate");
  ASSERT_FALSE(garbage.ok());
  EXPECT_EQ(garbage.status().message(), "not a DER X.509 certificate");
}

TEST(VerifyDigestSignature, Ed25519CannotVerifyAPreHashedMessage) {
  PkeyPtr key = MakeEd25519Key();
  ExpectInvalid(VerifyDigestSignature(PublicPem(key.get()), std::string(32, 'd'), std::string(64, 's')),
                "an Ed25519 key cannot verify a pre-hashed message");
}

TEST_F(OpenSslCliSignature, AcceptsEcdsaP256SignatureMadeByOpensslDgst) {
  ASSERT_EQ(Run("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out key.pem 2>/dev/null"),
            0);
  ASSERT_EQ(Run("openssl pkey -in key.pem -pubout -out pub.pem 2>/dev/null"), 0);
  ASSERT_EQ(Run("openssl dgst -sha256 -sign key.pem -out sig.der msg.bin 2>/dev/null"), 0);
  Status s = VerifySignature(Read("pub.pem"), kMessage, Read("sig.der"));
  EXPECT_TRUE(s.ok()) << s.ToString();
}

}  // namespace
}  // namespace signals
