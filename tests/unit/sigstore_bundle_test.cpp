// Specification of Sigstore bundle verification and writing: the three
// production bundles of tests/data/sigstore verify offline with the
// keys their README names, tampered copies fail naming what failed, and a
// bundle written from a Signals envelope verifies with the same code.
#include "tlog/sigstore_bundle.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <memory>
#include <string>

#include "attest/dsse.hpp"
#include "attest/signature_verify.hpp"
#include "base/base64.hpp"
#include "base/sha256.hpp"
#include "sigstore_testdata.hpp"
#include "tlog/tlog_verify.hpp"

namespace signals {
namespace {

using testing::ExpectFailureNaming;
using testing::kNpmKey;
using testing::kProductionRekorKey;
using testing::kSigstoreDir;
using testing::ReadTestFile;
using testing::ReadTestJson;

const std::string kManagedKeyBundle = kSigstoreDir + "/managed-key-happy-path/bundle.sigstore.json";
const std::string kDsseV3Bundle = kSigstoreDir + "/happy-path-intoto-in-dsse-v3/bundle.sigstore.json";
const std::string kPublishBundle = kSigstoreDir + "/bundle-publish.json";

nlohmann::json& EntryOf(nlohmann::json& bundle) { return bundle["verificationMaterial"]["tlogEntries"][0]; }

std::string ManagedKey() { return ReadTestFile(kSigstoreDir + "/managed-key-happy-path/key.pub"); }

TEST(SigstoreBundle, ManagedKeyBundleVerifiesWithItsKeyAndTheRekorKey) {
  auto v = VerifySigstoreBundle(ReadTestFile(kManagedKeyBundle), {ManagedKey(), kProductionRekorKey});
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->version, "0.3");
  EXPECT_EQ(v->content, "messageSignature");
  EXPECT_EQ(v->key_source, "given key");
  EXPECT_EQ(v->key_hint, "TLMsSDfG3ajPsWge+z/vX5T/zluXnmvbkTkwLIV68Tk=");
  ASSERT_EQ(v->tlog_entries.size(), 1u);
  EXPECT_EQ(v->tlog_entries[0].log_index, 771488337u);
  EXPECT_EQ(v->tlog_entries[0].proof_log_index, 649584075u);
  EXPECT_TRUE(v->has_rfc3161_timestamps);
  // The hint Signals writes is the one this bundle carries for its key.
  EXPECT_EQ(SigstorePublicKeyHint(ManagedKey()).value(), v->key_hint);
}

TEST(SigstoreBundle, DsseBundleVerifiesWithItsCertificateKey) {
  auto v = VerifySigstoreBundle(ReadTestFile(kDsseV3Bundle), {"", kProductionRekorKey});
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->content, "dsseEnvelope");
  EXPECT_EQ(v->payload_type, "application/vnd.in-toto+json");
  EXPECT_EQ(v->key_source, "certificate (not checked against a Fulcio root)");
  ASSERT_EQ(v->tlog_entries.size(), 1u);
  EXPECT_EQ(v->tlog_entries[0].log_index, 155690850u);
}

TEST(SigstoreBundle, PublishBundleV01VerifiesWithTheNpmKeyAndSetOnly) {
  auto v = VerifySigstoreBundle(ReadTestFile(kPublishBundle), {kNpmKey, kProductionRekorKey});
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->version, "0.1");
  ASSERT_EQ(v->tlog_entries.size(), 1u);
  EXPECT_TRUE(v->tlog_entries[0].signed_entry_timestamp_verified);
  EXPECT_FALSE(v->tlog_entries[0].inclusion_proof_verified);
}

TEST(SigstoreBundle, WrongSignerKeyFailsTheSignature) {
  ExpectFailureNaming(
      VerifySigstoreBundle(ReadTestFile(kPublishBundle), {ManagedKey(), kProductionRekorKey}).status(),
      "DSSE signature: ");
  ExpectFailureNaming(
      VerifySigstoreBundle(ReadTestFile(kManagedKeyBundle), {kNpmKey, kProductionRekorKey}).status(),
      "message signature: signature does not verify");
}

TEST(SigstoreBundle, MissingKeysAreUsageErrors) {
  auto no_key = VerifySigstoreBundle(ReadTestFile(kManagedKeyBundle), {"", kProductionRekorKey});
  ExpectFailureNaming(no_key.status(), "key: the bundle has no certificate", Code::kConfig);
  auto no_log_key = VerifySigstoreBundle(ReadTestFile(kManagedKeyBundle), {ManagedKey(), ""});
  ExpectFailureNaming(no_log_key.status(), "give the log's public key", Code::kConfig);
}

TEST(SigstoreBundle, TamperedBundlesFailNamingThePart) {
  struct Case {
    const char* name;
    std::string file;
    std::string key;
    void (*tamper)(nlohmann::json&);
    const char* reason;
  };
  const Case cases[] = {
      {"flipped proof hash", kManagedKeyBundle, ManagedKey(),
       [](nlohmann::json& b) {
         EntryOf(b)["inclusionProof"]["hashes"][3] = Base64Encode(std::string(32, '\x07'));
       },
       "tlog entry 0: inclusion proof: computed root "},
      {"changed integratedTime", kManagedKeyBundle, ManagedKey(),
       [](nlohmann::json& b) { EntryOf(b)["integratedTime"] = "1766077480"; },
       "tlog entry 0: signed entry timestamp (SET): does not verify"},
      {"shard index for the SET", kManagedKeyBundle, ManagedKey(),
       [](nlohmann::json& b) { EntryOf(b)["logIndex"] = EntryOf(b)["inclusionProof"]["logIndex"]; },
       "logIndex 649584075"},
      {"other log ID", kDsseV3Bundle, "",
       [](nlohmann::json& b) { EntryOf(b)["logId"]["keyId"] = Base64Encode(std::string(32, 'x')); },
       "tlog entry 0: log ID: "},
      {"changed payload", kDsseV3Bundle, "",
       [](nlohmann::json& b) { b["dsseEnvelope"]["payload"] = Base64Encode("{\"_type\":\"x\"}"); },
       "DSSE signature: "},
      {"changed message digest", kManagedKeyBundle, ManagedKey(),
       [](nlohmann::json& b) {
         b["messageSignature"]["messageDigest"]["digest"] = Base64Encode(std::string(32, 'd'));
       },
       "message signature: signature does not verify"},
      {"changed body", kPublishBundle, kNpmKey,
       [](nlohmann::json& b) {
         auto body =
             nlohmann::json::parse(Base64Decode(EntryOf(b)["canonicalizedBody"].get<std::string>()).value());
         body["spec"]["content"]["payloadHash"]["value"] = std::string(64, 'a');
         EntryOf(b)["canonicalizedBody"] = Base64Encode(body.dump());
       },
       "tlog entry 0: log entry body: spec.content.payloadHash.value aaaa"},
      {"flipped SET byte", kPublishBundle, kNpmKey,
       [](nlohmann::json& b) {
         auto set =
             Base64Decode(EntryOf(b)["inclusionPromise"]["signedEntryTimestamp"].get<std::string>()).value();
         set[12] = static_cast<char>(set[12] ^ 0x10);
         EntryOf(b)["inclusionPromise"]["signedEntryTimestamp"] = Base64Encode(set);
       },
       "tlog entry 0: signed entry timestamp (SET): does not verify"},
      {"v0.1 without SET", kPublishBundle, kNpmKey,
       [](nlohmann::json& b) { EntryOf(b)["inclusionPromise"] = nullptr; },
       "tlog entry 0: signed entry timestamp (SET): missing"},
      {"v0.3 without proof", kDsseV3Bundle, "", [](nlohmann::json& b) { EntryOf(b).erase("inclusionProof"); },
       "tlog entry 0: inclusion proof: missing"},
      {"wrong checkpoint root", kDsseV3Bundle, "",
       [](nlohmann::json& b) {
         std::string note = EntryOf(b)["inclusionProof"]["checkpoint"]["envelope"];
         note.replace(note.find('\n', note.find('\n') + 1) + 1, 44, Base64Encode(std::string(32, '\x02')));
         EntryOf(b)["inclusionProof"]["checkpoint"]["envelope"] = note;
       },
       "tlog entry 0: checkpoint: signature of 'rekor.sigstore.dev'"},
      {"unknown media type", kDsseV3Bundle, "",
       [](nlohmann::json& b) { b["mediaType"] = "application/vnd.dev.sigstore.bundle.v0.9+json"; },
       "bundle: mediaType 'application/vnd.dev.sigstore.bundle.v0.9+json' is not"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto bundle = ReadTestJson(c.file);
    ASSERT_TRUE(VerifySigstoreBundle(bundle.dump(), {c.key, kProductionRekorKey}).ok());
    c.tamper(bundle);
    ExpectFailureNaming(VerifySigstoreBundle(bundle.dump(), {c.key, kProductionRekorKey}).status(), c.reason);
  }
}

// A Signals-shaped envelope (Ed25519, keyid) written into a bundle, with and
// without a log entry.
struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};

std::string PublicPem(EVP_PKEY* key) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  PEM_write_bio_PUBKEY(bio.get(), key);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

TEST(SigstoreBundle, WrittenBundleOfASignalsEnvelopeVerifies) {
  std::unique_ptr<EVP_PKEY, PkeyFree> key(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  ASSERT_TRUE(key);
  DsseEnvelope envelope{
      std::string(kInTotoPayloadType), R"({"_type":"https://in-toto.io/Statement/v1"})", {}};
  std::string pae = DssePae(envelope.payload_type, envelope.payload);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  ASSERT_EQ(EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key.get()), 1);
  std::string sig(64, '\0');
  size_t len = sig.size();
  ASSERT_EQ(EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                           reinterpret_cast<const unsigned char*>(pae.data()), pae.size()),
            1);
  envelope.signatures.push_back({"ed25519-test", sig});
  const std::string pem = PublicPem(key.get());

  auto bundle = WriteSigstoreBundle(SerializeDsseEnvelope(envelope), pem);
  ASSERT_TRUE(bundle.ok()) << bundle.status().ToString();
  EXPECT_EQ((*bundle)["mediaType"], "application/vnd.dev.sigstore.bundle.v0.3+json");
  EXPECT_EQ((*bundle)["verificationMaterial"]["publicKey"]["hint"], SigstorePublicKeyHint(pem).value());
  EXPECT_EQ((*bundle)["verificationMaterial"]["tlogEntries"], nlohmann::json::array());
  EXPECT_EQ((*bundle)["dsseEnvelope"]["signatures"][0]["keyid"], "ed25519-test");
  auto v = VerifySigstoreBundle(bundle->dump(), {pem, ""});
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_TRUE(v->tlog_entries.empty());

  auto two = envelope;
  two.signatures.push_back(envelope.signatures[0]);
  ExpectFailureNaming(WriteSigstoreBundle(SerializeDsseEnvelope(two), pem).status(), "one DSSE signature");
}

TEST(SigstoreBundle, WrittenBundleCarriesTheStoredRekorEntry) {
  // The production dsse entry in its stored REST shape, around its envelope
  // and certificate key: the written bundle's entry is the original one.
  auto source = ReadTestJson(kDsseV3Bundle);
  auto original = source["verificationMaterial"]["tlogEntries"][0];
  auto rest = testing::RestEntryFromBundleEntry(original);
  std::string cert_key =
      CertificatePublicKeyPem(
          Base64Decode(source["verificationMaterial"]["certificate"]["rawBytes"].get<std::string>()).value())
          .value();
  auto bundle = WriteSigstoreBundle(source["dsseEnvelope"].dump(), cert_key, rest);
  ASSERT_TRUE(bundle.ok()) << bundle.status().ToString();
  const auto& written = (*bundle)["verificationMaterial"]["tlogEntries"][0];
  for (const char* member : {"logIndex", "logId", "kindVersion", "integratedTime", "inclusionPromise",
                             "inclusionProof", "canonicalizedBody"}) {
    EXPECT_EQ(written[member], original[member]) << member;
  }
  auto v = VerifySigstoreBundle(bundle->dump(), {cert_key, kProductionRekorKey});
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  ASSERT_EQ(v->tlog_entries.size(), 1u);
}

// Every member of every production bundle, replaced in turn by a value of each
// JSON type: verification answers (mostly a named failure), never throws.
void ForEachPath(const nlohmann::json& value, const nlohmann::json::json_pointer& at,
                 std::vector<nlohmann::json::json_pointer>& out) {
  out.push_back(at);
  if (value.is_object()) {
    for (const auto& [k, v] : value.items()) ForEachPath(v, at / k, out);
  } else if (value.is_array()) {
    for (size_t i = 0; i < value.size(); ++i) ForEachPath(value[i], at / i, out);
  }
}

TEST(SigstoreBundle, EveryMemberReplacedByAnyTypeIsAnsweredWithoutThrowing) {
  const nlohmann::json replacements[] = {nullptr, -1, "x", nlohmann::json::array(), nlohmann::json::object()};
  for (const auto& [file, key] :
       {std::pair{kManagedKeyBundle, ManagedKey()}, std::pair{kDsseV3Bundle, std::string()},
        std::pair{kPublishBundle, std::string(kNpmKey)}}) {
    const auto bundle = ReadTestJson(file);
    std::vector<nlohmann::json::json_pointer> paths;
    ForEachPath(bundle, nlohmann::json::json_pointer(), paths);
    size_t failures = 0;
    for (const auto& path : paths) {
      for (const auto& r : replacements) {
        auto mutated = bundle;
        mutated[path] = r;
        Result<BundleVerification> v = Status::Internal("not run");
        EXPECT_NO_THROW(v = VerifySigstoreBundle(mutated.dump(), {key, kProductionRekorKey}))
            << path.to_string();
        if (!v.ok()) {
          ++failures;
          EXPECT_FALSE(v.status().message().empty()) << path.to_string();
        }
      }
    }
    EXPECT_GT(failures, paths.size()) << file;
  }
}

TEST(SigstoreBundle, EveryMemberOfAStoredEntryReplacedByAnyTypeIsAnsweredWithoutThrowing) {
  const auto bundle = ReadTestJson(kDsseV3Bundle);
  const auto entry = testing::RestEntryFromBundleEntry(bundle["verificationMaterial"]["tlogEntries"][0]);
  const std::string envelope = bundle["dsseEnvelope"].dump();
  std::vector<nlohmann::json::json_pointer> paths;
  ForEachPath(entry, nlohmann::json::json_pointer(), paths);
  for (const auto& path : paths) {
    for (const nlohmann::json& r : {nlohmann::json(nullptr), nlohmann::json(-1), nlohmann::json("x"),
                                    nlohmann::json::array(), nlohmann::json::object()}) {
      auto mutated = entry;
      mutated[path] = r;
      Status s;
      EXPECT_NO_THROW(s = VerifyRekorEntry(mutated, envelope, {kProductionRekorKey})) << path.to_string();
      if (path.to_string() != "/uuid" || !r.is_null()) {
        EXPECT_FALSE(s.ok()) << path.to_string() << " = " << r.dump();
      }
    }
  }
}

}  // namespace
}  // namespace signals
