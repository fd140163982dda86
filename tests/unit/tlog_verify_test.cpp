// Specification of offline transparency-log verification (README.md#transparency-log-rekor-v1)
// against Sigstore production data: the RFC 9162 inclusion vector of
// transparency-dev/merkle, the Rekor entries of three production bundles, and
// tampered copies of them, each failing with a message that names the part.
#include "tlog/tlog_verify.hpp"

#include <gtest/gtest.h>

#include <string>

#include "base/base64.hpp"
#include "base/sha256.hpp"
#include "sigstore_testdata.hpp"
#include "tlog/checkpoint.hpp"
#include "tlog/merkle_proof.hpp"
#include "tlog/tlog_body.hpp"

namespace signals {
namespace {

using testing::ExpectFailureNaming;
using testing::kNpmKey;
using testing::kProductionRekorKey;
using testing::kSigstoreDir;
using testing::ReadTestJson;
using testing::RestEntryFromBundleEntry;

std::string Unbase64(const nlohmann::json& text) { return Base64Decode(text.get<std::string>()).value(); }

// ---------------------------------------------------------------------------
// RFC 9162 inclusion proofs

TEST(MerkleInclusion, TransparencyDevHappyPathVectorComputesItsRoot) {
  auto v = ReadTestJson(kSigstoreDir + "/merkle-inclusion/happy-path.json");
  ASSERT_EQ(MerkleLeafHash(""), Unbase64(v["leafHash"])) << "leaf hash of the empty leaf";
  std::vector<std::string> proof;
  for (const auto& h : v["proof"]) proof.push_back(Unbase64(h));
  auto root = MerkleRootFromInclusionProof(v["leafIdx"].get<uint64_t>(), v["treeSize"].get<uint64_t>(),
                                           Unbase64(v["leafHash"]), proof);
  ASSERT_TRUE(root.ok()) << root.status().ToString();
  EXPECT_EQ(HexLower(*root), HexLower(Unbase64(v["root"])));
}

TEST(MerkleInclusion, MutatedVectorsComputeAnotherRootOrFail) {
  auto v = ReadTestJson(kSigstoreDir + "/merkle-inclusion/happy-path.json");
  std::vector<std::string> proof;
  for (const auto& h : v["proof"]) proof.push_back(Unbase64(h));
  const std::string leaf = Unbase64(v["leafHash"]);
  const std::string want = Unbase64(v["root"]);

  auto flipped = proof;
  flipped[1][0] = static_cast<char>(flipped[1][0] ^ 0x01);
  auto root = MerkleRootFromInclusionProof(0, 8, leaf, flipped);
  ASSERT_TRUE(root.ok());
  EXPECT_NE(*root, want);

  auto other_index = MerkleRootFromInclusionProof(1, 8, leaf, proof);
  ASSERT_TRUE(other_index.ok());
  EXPECT_NE(*other_index, want);

  ExpectFailureNaming(MerkleRootFromInclusionProof(0, 4, leaf, proof).status(),
                      "3 hashes given, a tree of size 4 needs 2");
  ExpectFailureNaming(MerkleRootFromInclusionProof(0, 8, leaf, {proof[0], proof[1]}).status(), "needs 3");
  ExpectFailureNaming(MerkleRootFromInclusionProof(8, 8, leaf, proof).status(),
                      "logIndex 8 is not below treeSize 8");
  proof[2] = proof[2].substr(1);
  ExpectFailureNaming(MerkleRootFromInclusionProof(0, 8, leaf, proof).status(), "hashes[2] is 31 bytes");
}

TEST(MerkleInclusion, SingleLeafTreeNeedsNoProof) {
  auto root = MerkleRootFromInclusionProof(0, 1, MerkleLeafHash("x"), {});
  ASSERT_TRUE(root.ok());
  EXPECT_EQ(*root, MerkleLeafHash("x"));
}

// ---------------------------------------------------------------------------
// Production bundles' log entries, in the bundle shape

struct ProductionEntry {
  const char* file;
  uint64_t log_index;
  uint64_t proof_log_index;  // 0 when the entry has no proof
  int64_t integrated_time;
  const char* leaf_hash;
};

constexpr ProductionEntry kManagedKey{"managed-key-happy-path/bundle.sigstore.json", 771488337, 649584075,
                                      1766077479,
                                      "251d7335e207fb694536143ecff500072df1cae8f388a9c181794f31e1b2d42e"};
constexpr ProductionEntry kDsseV3{"happy-path-intoto-in-dsse-v3/bundle.sigstore.json", 155690850, 33786588,
                                  1734374576,
                                  "875d33538d49eb9bc3224c4868c25d06f78f566730771c4437f50962530906ae"};
constexpr ProductionEntry kPublish{"bundle-publish.json", 18300940, 0, 1681839916,
                                   "f82554020bbb6c52df975495f1b18501020afcf6c20fb06aba808879c6f73c98"};

nlohmann::json BundleOf(const ProductionEntry& e) { return ReadTestJson(kSigstoreDir + "/" + e.file); }
nlohmann::json TlogEntryOf(const ProductionEntry& e) {
  return BundleOf(e)["verificationMaterial"]["tlogEntries"][0];
}

TEST(TlogVerify, ProductionBundleEntriesVerifyWithTheRekorKey) {
  for (const auto& e : {kManagedKey, kDsseV3, kPublish}) {
    SCOPED_TRACE(e.file);
    auto entry = ParseBundleTlogEntry(TlogEntryOf(e));
    ASSERT_TRUE(entry.ok()) << entry.status().ToString();
    TlogRequirements requirements;
    requirements.inclusion_proof = e.proof_log_index != 0;
    auto v = VerifyTlogInclusion(*entry, {kProductionRekorKey}, requirements);
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    EXPECT_EQ(v->log_index, e.log_index);
    EXPECT_EQ(v->integrated_time, e.integrated_time);
    EXPECT_EQ(v->leaf_hash_hex, e.leaf_hash);
    EXPECT_TRUE(v->signed_entry_timestamp_verified);
    EXPECT_EQ(v->inclusion_proof_verified, e.proof_log_index != 0);
    if (e.proof_log_index != 0) {
      EXPECT_EQ(v->proof_log_index, e.proof_log_index);
      EXPECT_EQ(v->tree_size, e.proof_log_index + 1);
      EXPECT_EQ(v->checkpoint_origin, "rekor.sigstore.dev - 1193050959916656506");
    }
  }
}

TEST(TlogVerify, BundlePublishHasNoProofAndFailsWhenOneIsRequired) {
  auto entry = ParseBundleTlogEntry(TlogEntryOf(kPublish));
  ASSERT_TRUE(entry.ok());
  ExpectFailureNaming(VerifyTlogInclusion(*entry, {kProductionRekorKey}).status(),
                      "inclusion proof: missing");
}

TEST(TlogVerify, ProductionBodiesMatchTheirContent) {
  auto dsse_bundle = BundleOf(kDsseV3);
  auto envelope = ParseDsseEnvelope(dsse_bundle["dsseEnvelope"].dump());
  ASSERT_TRUE(envelope.ok()) << envelope.status().ToString();
  auto dsse_entry = ParseBundleTlogEntry(TlogEntryOf(kDsseV3));
  ASSERT_TRUE(dsse_entry.ok());
  EXPECT_TRUE(VerifyTlogBodyForEnvelope(*dsse_entry, *envelope).ok());

  // intoto 0.0.2: the logged sig is base64 of the envelope's base64 string.
  auto publish = BundleOf(kPublish);
  auto publish_envelope = ParseDsseEnvelope(publish["dsseEnvelope"].dump());
  ASSERT_TRUE(publish_envelope.ok());
  auto publish_entry = ParseBundleTlogEntry(TlogEntryOf(kPublish));
  ASSERT_TRUE(publish_entry.ok());
  Status s = VerifyTlogBodyForEnvelope(*publish_entry, *publish_envelope);
  EXPECT_TRUE(s.ok()) << s.ToString();

  auto managed = BundleOf(kManagedKey);
  auto managed_entry = ParseBundleTlogEntry(TlogEntryOf(kManagedKey));
  ASSERT_TRUE(managed_entry.ok());
  const auto& message = managed["messageSignature"];
  s = VerifyTlogBodyForMessageSignature(*managed_entry, Unbase64(message["messageDigest"]["digest"]),
                                        Unbase64(message["signature"]));
  EXPECT_TRUE(s.ok()) << s.ToString();
  // A DSSE entry cannot stand for a message signature, nor the reverse.
  ExpectFailureNaming(VerifyTlogBodyForEnvelope(*managed_entry, *envelope),
                      "hashedrekord/0.0.1 does not log a DSSE envelope");
  ExpectFailureNaming(VerifyTlogBodyForMessageSignature(*dsse_entry, std::string(32, 'x'), "sig"),
                      "dsse/0.0.1 does not log a message signature");
  // Another envelope's payload or signature is not what was logged.
  auto other = *envelope;
  other.payload += " ";
  ExpectFailureNaming(VerifyTlogBodyForEnvelope(*dsse_entry, other), "spec.payloadHash.value d6b209ba");
  other = *envelope;
  other.signatures[0].sig[8] = static_cast<char>(other.signatures[0].sig[8] ^ 1);
  ExpectFailureNaming(VerifyTlogBodyForEnvelope(*dsse_entry, other),
                      "does not contain the envelope's signatures[0]");
  other = *publish_envelope;
  other.signatures[0].sig[8] = static_cast<char>(other.signatures[0].sig[8] ^ 1);
  ExpectFailureNaming(VerifyTlogBodyForEnvelope(*publish_entry, other),
                      "spec.content.envelope.signatures does not contain the envelope's signatures[0]");
}

TEST(TlogVerify, KindVersionMustAgreeWithTheBody) {
  auto json = TlogEntryOf(kDsseV3);
  json["kindVersion"]["kind"] = "intoto";
  auto entry = ParseBundleTlogEntry(json);
  ASSERT_TRUE(entry.ok());
  auto envelope = ParseDsseEnvelope(BundleOf(kDsseV3)["dsseEnvelope"].dump());
  ExpectFailureNaming(VerifyTlogBodyForEnvelope(*entry, *envelope),
                      "differs from the entry's kindVersion intoto/0.0.1");
}

// ---------------------------------------------------------------------------
// The stored (REST) shape through the contract API, and tampered copies

class RekorEntryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    bundle_ = BundleOf(kDsseV3);
    entry_ = RestEntryFromBundleEntry(bundle_["verificationMaterial"]["tlogEntries"][0]);
    envelope_ = bundle_["dsseEnvelope"].dump();
  }
  Status Verify(const nlohmann::json& entry, const std::string& key = kProductionRekorKey) {
    return VerifyRekorEntry(entry, envelope_, {key});
  }
  nlohmann::json& Proof(nlohmann::json& entry) { return entry["verification"]["inclusionProof"]; }

  nlohmann::json bundle_;
  nlohmann::json entry_;
  std::string envelope_;
};

TEST_F(RekorEntryTest, ProductionEntryInRestShapeVerifies) {
  auto v = VerifyRekorEntryDetailed(entry_, envelope_, {kProductionRekorKey});
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->uuid, std::string(testing::kProductionTreeIdHex) + kDsseV3.leaf_hash);
  EXPECT_EQ(v->log_index, kDsseV3.log_index);
  EXPECT_EQ(v->proof_log_index, kDsseV3.proof_log_index);
}

TEST_F(RekorEntryTest, RekorAnswerShapeKeyedByUuidVerifies) {
  nlohmann::json keyed;
  std::string uuid = entry_["uuid"];
  nlohmann::json inner = entry_;
  inner.erase("uuid");
  keyed[uuid] = inner;
  auto v = VerifyRekorEntryDetailed(keyed, envelope_, {kProductionRekorKey});
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->uuid, uuid);
}

TEST_F(RekorEntryTest, FlippedProofHashFailsTheInclusionProof) {
  std::string h = Proof(entry_)["hashes"][4];
  h[0] = h[0] == '0' ? '1' : '0';
  Proof(entry_)["hashes"][4] = h;
  ExpectFailureNaming(Verify(entry_), "inclusion proof: computed root ");
  ExpectFailureNaming(Verify(entry_),
                      "!= rootHash 66b611dbded32538b4a2ec753e77d8cda731455040929e5e5b9969c3fa856164");
}

TEST_F(RekorEntryTest, DroppedProofHashFailsTheInclusionProof) {
  Proof(entry_)["hashes"].erase(10);
  ExpectFailureNaming(Verify(entry_), "inclusion proof: 10 hashes given, a tree of size 33786589 needs 11");
}

TEST_F(RekorEntryTest, ChangedIntegratedTimeFailsTheSet) {
  entry_["integratedTime"] = entry_["integratedTime"].get<int64_t>() + 1;
  ExpectFailureNaming(Verify(entry_), "signed entry timestamp (SET): does not verify with the log key");
  ExpectFailureNaming(Verify(entry_), "integratedTime 1734374577");
}

TEST_F(RekorEntryTest, FlippedSetByteFailsTheSet) {
  std::string set = Base64Decode(entry_["verification"]["signedEntryTimestamp"].get<std::string>()).value();
  set[20] = static_cast<char>(set[20] ^ 0x40);
  entry_["verification"]["signedEntryTimestamp"] = Base64Encode(set);
  ExpectFailureNaming(Verify(entry_), "signed entry timestamp (SET): does not verify");
}

TEST_F(RekorEntryTest, ShardIndexInPlaceOfTheGlobalIndexFailsTheSet) {
  // The global-vs-shard trap: the SET signs the global logIndex.
  entry_["logIndex"] = Proof(entry_)["logIndex"];
  ExpectFailureNaming(Verify(entry_), "signed entry timestamp (SET): does not verify");
  ExpectFailureNaming(Verify(entry_), "logIndex 33786588");
}

TEST_F(RekorEntryTest, GlobalIndexInPlaceOfTheShardIndexFailsTheProof) {
  Proof(entry_)["logIndex"] = entry_["logIndex"];
  ExpectFailureNaming(Verify(entry_), "inclusion proof: logIndex 155690850 is not below treeSize 33786589");
}

TEST_F(RekorEntryTest, WrongLogKeyFailsTheLogId) {
  ExpectFailureNaming(
      Verify(entry_, kNpmKey),
      "log ID: the entry's logID c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d is not "
      "the SHA-256 of the given log key");
  ExpectFailureNaming(Verify(entry_, "not a key"), "log key: not a PEM public key");
}

TEST_F(RekorEntryTest, WrongCheckpointRootFailsTheCheckpointSignature) {
  std::string note = Proof(entry_)["checkpoint"];
  std::string root_line = "ZrYR297TJTi0oux1PnfYzacxRVBAkp5eW5lpw/qFYWQ=";
  ASSERT_NE(note.find(root_line), std::string::npos);
  note.replace(note.find(root_line), root_line.size(), Base64Encode(std::string(32, '\x01')));
  Proof(entry_)["checkpoint"] = note;
  ExpectFailureNaming(
      Verify(entry_),
      "checkpoint: signature of 'rekor.sigstore.dev' (key hint c0d23d6a) does not verify with the log key");
}

TEST_F(RekorEntryTest, CheckpointOfAnotherTreeFailsTheCheckpointMatch) {
  // A genuine, validly signed checkpoint, but for another tree head.
  auto other = TlogEntryOf(kManagedKey);
  Proof(entry_)["checkpoint"] = other["inclusionProof"]["checkpoint"]["envelope"];
  ExpectFailureNaming(Verify(entry_),
                      "checkpoint: tree size 649584076 and root "
                      "ae7a5a7085d28e84e8103874a83e022c029d90f9d6d58e11d43845312f801a52 "
                      "do not match the inclusion proof's treeSize 33786589");
}

TEST_F(RekorEntryTest, ChangedBodyFailsTheBodyCheck) {
  auto body = nlohmann::json::parse(Base64Decode(entry_["body"].get<std::string>()).value());
  body["spec"]["payloadHash"]["value"] = std::string(64, '0');
  entry_["body"] = Base64Encode(body.dump());
  ExpectFailureNaming(Verify(entry_), "log entry body: spec.payloadHash.value 0000");
}

TEST_F(RekorEntryTest, ReencodedBodyFailsTheUuidAndTheSet) {
  // Same content, other bytes: the log signed the bytes.
  auto body = nlohmann::json::parse(Base64Decode(entry_["body"].get<std::string>()).value());
  entry_["body"] = Base64Encode(body.dump(1));
  ExpectFailureNaming(Verify(entry_), "entry UUID 108e9186e8c5677a875d3353");
  entry_.erase("uuid");
  ExpectFailureNaming(Verify(entry_), "signed entry timestamp (SET): does not verify");
}

TEST_F(RekorEntryTest, OtherEnvelopeFailsTheBodyCheck) {
  auto envelope = bundle_["dsseEnvelope"];
  envelope["payload"] = Base64Encode("{}");
  ExpectFailureNaming(VerifyRekorEntry(entry_, envelope.dump(), {kProductionRekorKey}),
                      "log entry body: spec.payloadHash");
}

TEST_F(RekorEntryTest, MissingPartsAreNamed) {
  auto no_set = entry_;
  no_set["verification"].erase("signedEntryTimestamp");
  ExpectFailureNaming(Verify(no_set), "signed entry timestamp (SET): missing");
  auto no_proof = entry_;
  no_proof["verification"].erase("inclusionProof");
  ExpectFailureNaming(Verify(no_proof), "inclusion proof: missing");
  auto bad_hex = entry_;
  Proof(bad_hex)["rootHash"] = "zz";
  ExpectFailureNaming(Verify(bad_hex), "log entry: verification.inclusionProof.rootHash is not hex");
  auto short_hash = entry_;
  Proof(short_hash)["hashes"][2] = "abcd";
  ExpectFailureNaming(Verify(short_hash),
                      "verification.inclusionProof.hashes[2] is 2 bytes (hex), expected 32");
  auto no_body = entry_;
  no_body.erase("body");
  ExpectFailureNaming(Verify(no_body), "log entry: body is missing");
  ExpectFailureNaming(VerifyRekorEntry(entry_, "{}", {kProductionRekorKey}), "envelope");
}

// ---------------------------------------------------------------------------
// Checkpoint notes

TEST(Checkpoint, ProductionCheckpointParses) {
  std::string note = TlogEntryOf(kManagedKey)["inclusionProof"]["checkpoint"]["envelope"];
  auto cp = VerifyCheckpoint(note, kProductionRekorKey);
  ASSERT_TRUE(cp.ok()) << cp.status().ToString();
  EXPECT_EQ(cp->origin, "rekor.sigstore.dev - 1193050959916656506");
  EXPECT_EQ(cp->tree_size, 649584076u);
  EXPECT_EQ(HexLower(cp->root_hash), "ae7a5a7085d28e84e8103874a83e022c029d90f9d6d58e11d43845312f801a52");
  EXPECT_TRUE(cp->extensions.empty());
  EXPECT_EQ(cp->signer_name, "rekor.sigstore.dev");
}

TEST(Checkpoint, OtherSignersAndHintCollisionsDoNotHideTheLogSignature) {
  std::string note = TlogEntryOf(kManagedKey)["inclusionProof"]["checkpoint"]["envelope"];
  const size_t signatures = note.find("\n\n") + 2;
  // A witness's line, and a line that claims the log's hint with a bad signature.
  std::string witness =
      "\xE2\x80\x94 witness.example " + Base64Encode("\x01\x02\x03\x04" + std::string(64, 'w')) + "\n";
  std::string impostor = "\xE2\x80\x94 rekor.sigstore.dev " +
                         Base64Encode(std::string("\xc0\xd2\x3d\x6a") + std::string(70, 'i')) + "\n";
  std::string crowded = note;
  crowded.insert(signatures, witness + impostor);
  auto cp = VerifyCheckpoint(crowded, kProductionRekorKey);
  ASSERT_TRUE(cp.ok()) << cp.status().ToString();
  EXPECT_EQ(cp->tree_size, 649584076u);
  std::string only_impostor = note.substr(0, signatures) + witness + impostor;
  ExpectFailureNaming(VerifyCheckpoint(only_impostor, kProductionRekorKey).status(),
                      "checkpoint: signature of 'rekor.sigstore.dev' (key hint c0d23d6a) does not verify");
  std::string only_witness = note.substr(0, signatures) + witness;
  ExpectFailureNaming(VerifyCheckpoint(only_witness, kProductionRekorKey).status(),
                      "no signature with the log key's hint c0d23d6a (found: witness.example 01020304)");
}

TEST(Checkpoint, MalformedNotesAreNamed) {
  std::string note = TlogEntryOf(kManagedKey)["inclusionProof"]["checkpoint"]["envelope"];
  ExpectFailureNaming(VerifyCheckpoint("a\nb\n", kProductionRekorKey).status(), "checkpoint: no blank line");
  ExpectFailureNaming(
      VerifyCheckpoint(note, kNpmKey).status(),
      "checkpoint: no signature with the log key's hint 1e908a55 (found: rekor.sigstore.dev c0d23d6a)");
  std::string bad_size = note;
  bad_size.replace(bad_size.find("649584076"), 9, "64958407x");
  ExpectFailureNaming(VerifyCheckpoint(bad_size, kProductionRekorKey).status(), "tree size line '64958407x'");
  std::string no_dash = note;
  no_dash.replace(no_dash.find("\xE2\x80\x94"), 3, "-");
  ExpectFailureNaming(VerifyCheckpoint(no_dash, kProductionRekorKey).status(),
                      "does not start with an em dash");
  // One more byte in the signed text breaks the signature.
  std::string extended = note;
  extended.insert(extended.find("\n\n") + 1, "extension line\n");
  ExpectFailureNaming(VerifyCheckpoint(extended, kProductionRekorKey).status(),
                      "does not verify with the log key");
}

}  // namespace
}  // namespace signals
