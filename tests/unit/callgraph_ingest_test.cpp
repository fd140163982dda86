// Specification of the callgraph pipeline (kernel/README.md#callgraphs, #callgraph-manifest, #attestations;
// README.md#what-is-stored) run in process over the real plugins: what is stored, the signed manifest and its
// envelope, deduplication, request validation, offline verification, and that
// a failed ingest stores nothing.
#include "ingest/callgraph_ingest.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "attest/attestation.hpp"
#include "attest/dsse.hpp"
#include "attest/signature_verify.hpp"
#include "base/base64.hpp"
#include "base/canonical_json.hpp"
#include "ingest/callgraph_store.hpp"
#include "model/cas_paths.hpp"
#include "model/digest.hpp"
#include "test_kernel.hpp"
#include "verify/callgraph_verifier.hpp"

namespace signals {
namespace {

using nlohmann::json;

constexpr const char* kPurl = "pkg:maven/org.acme/shop@1.2.0";

json Graph() {
  return json::parse(R"({
    "schema": "stella.callgraph.v1",
    "nodes": [
      {"id": "main", "name": "Shop.main", "kind": "method"},
      {"id": "handler", "name": "Cart.add", "kind": "method"},
      {"id": "sink", "name": "Yaml.load", "kind": "method"}
    ],
    "edges": [
      {"sourceId": "main", "targetId": "handler", "kind": "static"},
      {"sourceId": "handler", "targetId": "sink", "kind": "heuristic", "weight": 0.25}
    ],
    "entrypoints": [{"nodeId": "handler", "kind": "http", "route": "/cart"}, {"nodeId": "main", "kind": "main"}]
  })");
}

class CallgraphIngestTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_NO_FATAL_FAILURE(kernel_.Open()); }

  CallgraphIngestRequest Request(const std::string& tenant = "global", const std::string& purl = kPurl) {
    CallgraphIngestRequest r;
    r.tenant = tenant;
    r.component_purl = purl;
    r.language = "java";
    r.source = "unit-test-scanner";
    r.principal = "scanner-worker";
    return r;
  }

  Result<CallgraphIngestResult> Ingest(const std::string& input, const CallgraphIngestRequest& request) {
    auto ingest = kernel_->BeginCallgraphIngest(request);
    if (!ingest.ok()) return ingest.status();
    last_graph_id_ = (*ingest)->graph_id();
    for (size_t at = 0; at < input.size(); at += 4096) {
      Status s = (*ingest)->Write(std::string_view(input).substr(at, 4096));
      if (!s.ok()) return s;
    }
    return (*ingest)->Finish();
  }
  Result<CallgraphIngestResult> Ingest(const std::string& input) { return Ingest(input, Request()); }

  std::string Canonical(const std::string& graph_id) {
    std::string out;
    Status s = CallgraphStore(*kernel_).ReadCanonical(graph_id, [&](std::string_view b) {
      out.append(b);
      return Status::Ok();
    });
    EXPECT_TRUE(s.ok()) << s.ToString();
    return out;
  }

  size_t Rows(const char* collection) {
    size_t rows = 0;
    Status s = kernel_->index().Query(collection, "{}", [&](const std::string&) { ++rows; });
    EXPECT_TRUE(s.ok() || s.code() == Code::kNotFound) << s.ToString();
    return rows;
  }

  // CAS files other than the key registry's records (stored when the signer
  // is first used, whatever the ingest's outcome).
  std::vector<std::string> IngestFiles() const {
    std::vector<std::string> files;
    for (const auto& f : kernel_.CasFiles()) {
      if (f.find("/keys/") == std::string::npos) files.push_back(f);
    }
    return files;
  }

  void ExpectNothingStored() {
    std::vector<std::string> files = IngestFiles();
    std::string listing;
    for (const auto& f : files) listing += "\n  " + f;
    EXPECT_TRUE(files.empty()) << "the CAS holds files after a failed ingest:" << listing;
    EXPECT_EQ(Rows(kCallgraphCollection), 0u);
    EXPECT_EQ(Rows(kCallgraphDigestCollection), 0u);
  }

  void ExpectRejected(const Result<CallgraphIngestResult>& r, const std::string& rule,
                      const std::string& field) {
    ASSERT_FALSE(r.ok()) << "accepted: " << r->manifest.dump();
    EXPECT_EQ(r.status().code(), Code::kInvalid) << r.status().ToString();
    EXPECT_EQ(r.status().rule(), rule) << r.status().ToString();
    EXPECT_EQ(r.status().field(), field) << r.status().ToString();
    ExpectNothingStored();
  }

  // Rewrites a stored object in place (the CAS refuses overwrites, as it should).
  void Tamper(const std::string& key, const std::function<void(std::string&)>& edit) {
    const std::string path = kernel_.ObjectPath(key);
    std::ifstream in(path, std::ios::binary);
    ASSERT_TRUE(in.good()) << path;
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    in.close();
    edit(bytes);
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << bytes;
  }

  testing::TestKernel kernel_;
  std::string last_graph_id_;
};

// --- what is stored ----------------------------------------------------------------

TEST_F(CallgraphIngestTest, StoresCanonicalBlobWhoseHashIsTheDigest) {
  auto r = Ingest(Graph().dump());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->created);
  const std::string canonical = Canonical(r->graph_id);
  EXPECT_EQ(DigestOf(canonical), r->manifest["digest"]);
  EXPECT_EQ(std::count(canonical.begin(), canonical.end(), '\n'), 3 + 2 + 2);
  EXPECT_TRUE(kernel_->cas().Stat(cas_paths::CallgraphBlob("global", r->graph_id)).ok());
}

TEST_F(CallgraphIngestTest, ManifestHasExactlyTheContractFields) {
  auto r = Ingest(Graph().dump());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const json& m = r->manifest;
  std::vector<std::string> keys;
  for (auto it = m.begin(); it != m.end(); ++it) keys.push_back(it.key());
  std::vector<std::string> expected = CallgraphManifestFields();
  std::sort(keys.begin(), keys.end());
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(keys, expected);
  EXPECT_EQ(m["graphId"], r->graph_id);
  EXPECT_EQ(m["tenantId"], "global");
  EXPECT_EQ(m["componentPurl"], kPurl);
  EXPECT_EQ(m["language"], "java");
  EXPECT_EQ(m["source"], "unit-test-scanner");
  EXPECT_EQ(m["nodeCount"], 3);
  EXPECT_EQ(m["edgeCount"], 2);
  EXPECT_EQ(m["entryPoints"], json::parse(R"([{"id":"handler","kind":"http"},{"id":"main","kind":"main"}])"));
  EXPECT_TRUE(m["rekorUuid"].is_null());
  EXPECT_TRUE(m["signature"].is_string());
  auto stored = kernel_->cas().ReadAll(cas_paths::Manifest(r->graph_id));
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(*stored, CanonicalJson(m)) << "the manifest is stored as JCS, as returned";
}

TEST_F(CallgraphIngestTest, ManifestSignatureVerifiesOverJcsOfTheBody) {
  auto r = Ingest(Graph().dump());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  json body = r->manifest;
  body.erase("signature");
  body.erase("rekorUuid");
  auto key = kernel_->keys().PublicKey(r->manifest["signerKeyId"]);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  auto signature = Base64Decode(r->manifest["signature"].get<std::string>());
  ASSERT_TRUE(signature.ok());
  EXPECT_EQ(signature->size(), 64u) << "Ed25519 signatures are the raw 64 bytes";
  EXPECT_TRUE(VerifySignature(*key, CanonicalJson(body), *signature).ok());
  body["nodeCount"] = 4;
  EXPECT_FALSE(VerifySignature(*key, CanonicalJson(body), *signature).ok());
}

TEST_F(CallgraphIngestTest, EnvelopeAttestsTheBlobWithTheManifestBodyAsPredicate) {
  auto r = Ingest(Graph().dump());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto text = CallgraphStore(*kernel_).ManifestEnvelope(r->graph_id);
  ASSERT_TRUE(text.ok());
  auto envelope = ParseDsseEnvelope(*text);
  ASSERT_TRUE(envelope.ok());
  auto key = kernel_->keys().PublicKey(envelope->signatures.front().keyid);
  ASSERT_TRUE(key.ok());
  EXPECT_TRUE(VerifyEnvelopeSignature(*envelope, *key).ok());
  json statement = json::parse(envelope->payload);
  EXPECT_EQ(statement["predicateType"], kCallgraphManifestPredicate);
  EXPECT_EQ(statement["subject"][0]["name"], "callgraphs/global/" + r->graph_id + ".ndjson");
  EXPECT_EQ("sha256:" + statement["subject"][0]["digest"]["sha256"].get<std::string>(),
            r->manifest["digest"]);
  EXPECT_EQ(statement["predicate"], CallgraphManifestBody(r->manifest));
}

TEST_F(CallgraphIngestTest, MetaRecordAndIndexRowDescribeTheGraph) {
  auto r = Ingest(Graph().dump());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto meta_text = kernel_->cas().ReadAll(cas_paths::CallgraphMeta("global", r->graph_id));
  ASSERT_TRUE(meta_text.ok());
  json meta = json::parse(*meta_text);
  for (const char* f : {"graphId", "tenantId", "componentPurl", "language", "source", "digest", "nodeCount",
                        "edgeCount", "createdAt", "sizeBytes", "compressedSizeBytes", "blobKey"}) {
    EXPECT_TRUE(meta.contains(f)) << f;
  }
  EXPECT_EQ(meta["sizeBytes"], Canonical(r->graph_id).size());
  auto row = CallgraphStore(*kernel_).Record(r->graph_id);
  ASSERT_TRUE(row.ok());
  EXPECT_EQ((*row)["digest"], r->manifest["digest"]);
  EXPECT_EQ((*row)["signature"], r->manifest["signature"]);
}

TEST_F(CallgraphIngestTest, CountsStoredGraphsAndNodes) {
  ASSERT_TRUE(Ingest(Graph().dump()).ok());
  EXPECT_EQ(kernel_->metrics().Value("signals_callgraphs_stored_total", "language=java,tenant=global"), 1);
  EXPECT_EQ(kernel_->metrics().HistogramCount("signals_callgraph_nodes", "language=java"), 1u);
}

// --- deduplication -------------------------------------------------------------------

TEST_F(CallgraphIngestTest, SameGraphAgainReturnsTheExistingManifest) {
  auto first = Ingest(Graph().dump());
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  const size_t files = kernel_.CasFiles().size();
  json shuffled = Graph();
  std::reverse(shuffled["nodes"].begin(), shuffled["nodes"].end());
  std::reverse(shuffled["edges"].begin(), shuffled["edges"].end());
  std::reverse(shuffled["entrypoints"].begin(), shuffled["entrypoints"].end());
  auto second = Ingest(shuffled.dump(2));
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_FALSE(second->created);
  EXPECT_EQ(second->graph_id, first->graph_id);
  EXPECT_EQ(second->manifest, first->manifest);
  EXPECT_EQ(kernel_.CasFiles().size(), files) << "the duplicate left objects behind";
  EXPECT_EQ(Rows(kCallgraphCollection), 1u);
}

TEST_F(CallgraphIngestTest, SameGraphForAnotherPurlOrTenantIsANewGraph) {
  ASSERT_TRUE(kernel_->tenants().Add("acme", kernel_->NowMs()).ok());
  auto a = Ingest(Graph().dump());
  auto b = Ingest(Graph().dump(), Request("global", "pkg:maven/org.acme/shop@1.3.0"));
  auto c = Ingest(Graph().dump(), Request("acme"));
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_TRUE(b->created);
  EXPECT_TRUE(c->created);
  EXPECT_EQ(a->manifest["digest"], b->manifest["digest"]);
  EXPECT_NE(a->graph_id, b->graph_id);
  EXPECT_EQ(c->manifest["tenantId"], "acme");
}

// --- request validation (kernel/README.md#validation) --------------------------------

TEST_F(CallgraphIngestTest, RejectsUnknownTenant) {
  ExpectRejected(Ingest(Graph().dump(), Request("nobody")), "tenant-exists", "tenant");
}

TEST_F(CallgraphIngestTest, RejectsInvalidPurl) {
  ExpectRejected(Ingest(Graph().dump(), Request("global", "maven/org.acme/shop")), "purl", "componentPurl");
  ExpectRejected(Ingest(Graph().dump(), Request("global", "")), "required", "componentPurl");
}

TEST_F(CallgraphIngestTest, RejectsUnknownLanguage) {
  CallgraphIngestRequest r = Request();
  r.language = "cobol";
  ExpectRejected(Ingest(Graph().dump(), r), "language", "language");
  for (const auto& known : CallgraphLanguages()) EXPECT_TRUE(ValidateCallgraphLanguage(known).ok()) << known;
}

TEST_F(CallgraphIngestTest, RejectsSourceWithControlCharacters) {
  CallgraphIngestRequest r = Request();
  r.source = "scan\nner";
  ExpectRejected(Ingest(Graph().dump(), r), "source", "source");
}

TEST_F(CallgraphIngestTest, StoresCanonicalPurl) {
  auto r = Ingest(Graph().dump(), Request("global", "pkg:MAVEN/org.acme/shop@1.2.0"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->manifest["componentPurl"], kPurl);
}

TEST_F(CallgraphIngestTest, RequestFromServiceJson) {
  auto r = CallgraphIngestRequest::FromJson(json{{"kind", "callgraph"},
                                                 {"tenant", "global"},
                                                 {"componentPurl", kPurl},
                                                 {"language", "go"},
                                                 {"format", "ndjson"}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->format, CallgraphInputFormat::kNdjson);
  EXPECT_EQ(CallgraphIngestRequest::FromJson(json{{"format", "xml"}}).status().rule(), "format");
}

// --- failures store nothing ---------------------------------------------------------------

TEST_F(CallgraphIngestTest, InvalidGraphStoresNothing) {
  json g = Graph();
  g["edges"][1]["targetId"] = "missing";
  ExpectRejected(Ingest(g.dump()), "edge-endpoint", "edges[1].targetId");
}

TEST_F(CallgraphIngestTest, RefusesA1000000ByteNodeIdAndA5000ByteName) {
  json g = Graph();
  g["nodes"][2]["id"] = std::string(1000000, 'x');
  ExpectRejected(Ingest(g.dump()), "id-length", "nodes[2].id");
  g = Graph();
  g["nodes"][1]["name"] = std::string(5000, 'n');
  ExpectRejected(Ingest(g.dump()), "string-length", "nodes[1].name");
  // The limits are configuration.
  ASSERT_NO_FATAL_FAILURE(kernel_.Open({{"kernel.callgraph_max_string_bytes", "8KiB"}}));
  EXPECT_TRUE(Ingest(g.dump()).ok());
}

TEST_F(CallgraphIngestTest, RefusesANodeAttributeNested100000DeepWithItsLine) {
  const size_t n = 100000;
  const std::string input =
      "{\"nodes\": [{\"id\": \"a\"},\n{\"id\": \"b\", \"attributes\": {\"x\": " + std::string(n, '[') +
      std::string(n, ']') + "}}]}";
  auto result = Ingest(input);
  ExpectRejected(result, "max-depth", "nodes[1].attributes");
  EXPECT_NE(result.status().message().find("line 2"), std::string::npos) << result.status().message();
  const std::string ndjson =
      "{\"t\":\"node\",\"id\":\"a\"}\n{\"t\":\"node\",\"id\":\"b\",\"attributes\":{\"x\":" +
      std::string(n, '[') + std::string(n, ']') + "}}\n";
  result = Ingest(ndjson);
  ExpectRejected(result, "max-depth", "attributes");
  EXPECT_EQ(result.status().message().rfind("line 2:", 0), 0u) << result.status().message();
}

TEST_F(CallgraphIngestTest, FailureDuringCommitRemovesWhatWasWritten) {
  auto ingest = kernel_->BeginCallgraphIngest(Request());
  ASSERT_TRUE(ingest.ok());
  // Occupy the manifest's key: the CAS refuses to overwrite, so the commit fails
  // after the blob and the meta record were written.
  const std::string manifest_key = cas_paths::Manifest((*ingest)->graph_id());
  ASSERT_TRUE(kernel_->cas().Put(manifest_key, "{}").ok());
  ASSERT_TRUE((*ingest)->Write(Graph().dump()).ok());
  auto r = (*ingest)->Finish();
  ASSERT_FALSE(r.ok());
  std::vector<std::string> files = IngestFiles();
  ASSERT_EQ(files.size(), 1u) << "only the foreign object may remain, not " << files.front();
  EXPECT_EQ(kernel_.ObjectPath(manifest_key), kernel_.data_dir() + "/cas/" + files.front());
  EXPECT_EQ(Rows(kCallgraphCollection), 0u);
}

// --- unsigned manifests -------------------------------------------------------------------

TEST_F(CallgraphIngestTest, UnsignedManifestWhenSigningIsOff) {
  ASSERT_NO_FATAL_FAILURE(kernel_.Open({{"signing.sign_manifests", "false"}}));
  auto r = Ingest(Graph().dump());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->manifest["signature"].is_null());
  EXPECT_TRUE(r->manifest["signerKeyId"].is_null());
  auto v = VerifyCallgraph(*kernel_, r->graph_id);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_FALSE(v->manifest_signed);
  ASSERT_NO_FATAL_FAILURE(kernel_.Open());
  EXPECT_FALSE(VerifyCallgraph(*kernel_, r->graph_id).ok()) << "sign_manifests = true requires a signature";
}

// --- lookups ----------------------------------------------------------------------------------

TEST_F(CallgraphIngestTest, ListsNewestFirstByPurlAndTenant) {
  ASSERT_TRUE(kernel_->tenants().Add("acme", kernel_->NowMs()).ok());
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    json g = Graph();
    g["nodes"][0]["name"] = "v" + std::to_string(i);  // a different graph each time
    auto r = Ingest(g.dump(), Request("acme"));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ids.push_back(r->graph_id);
  }
  ASSERT_TRUE(Ingest(Graph().dump(), Request("acme", "pkg:npm/other@1")).ok());
  CallgraphStore store(*kernel_);
  auto listed = store.List({"acme", std::string("pkg:maven/org.acme/shop@1.2.0"), 0});
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  ASSERT_EQ(listed->size(), 3u);
  EXPECT_EQ((*listed)[0]["graphId"], ids[2]);
  EXPECT_EQ((*listed)[2]["graphId"], ids[0]);
  EXPECT_EQ(store.List({"acme", std::nullopt, 0})->size(), 4u);
  EXPECT_EQ(store.List({"global", std::nullopt, 0})->size(), 0u);
  EXPECT_EQ(store.List({std::nullopt, std::string("not a purl"), 0}).status().rule(), "purl");
}

TEST_F(CallgraphIngestTest, LookupsOfUnknownOrMalformedIds) {
  CallgraphStore store(*kernel_);
  EXPECT_EQ(store.Manifest("01ARZ3NDEKTSV4RRFFQ69G5FAV").status().code(), Code::kNotFound);
  EXPECT_EQ(store.Record("nope").status().rule(), "ulid");
  auto visible = store.RecordVisibleTo("global", "01ARZ3NDEKTSV4RRFFQ69G5FAV", "callgraphId");
  EXPECT_EQ(visible.status().rule(), "callgraph-exists");
  EXPECT_EQ(visible.status().field(), "callgraphId");
}

TEST_F(CallgraphIngestTest, GlobalGraphsAreVisibleToEveryTenant) {
  ASSERT_TRUE(kernel_->tenants().Add("acme", kernel_->NowMs()).ok());
  ASSERT_TRUE(kernel_->tenants().Add("other", kernel_->NowMs()).ok());
  auto global = Ingest(Graph().dump());
  auto acme = Ingest(Graph().dump(), Request("acme"));
  ASSERT_TRUE(global.ok() && acme.ok());
  CallgraphStore store(*kernel_);
  EXPECT_TRUE(store.RecordVisibleTo("acme", global->graph_id, "callgraphId").ok());
  EXPECT_TRUE(store.RecordVisibleTo("acme", acme->graph_id, "callgraphId").ok());
  EXPECT_EQ(store.RecordVisibleTo("other", acme->graph_id, "callgraphId").status().rule(),
            "callgraph-exists");
}

// --- verification -------------------------------------------------------------------------------

TEST_F(CallgraphIngestTest, VerifiesAnIntactGraphDeeply) {
  auto r = Ingest(Graph().dump());
  ASSERT_TRUE(r.ok());
  auto v = VerifyCallgraph(*kernel_, r->graph_id, {.recanonicalize = true});
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_TRUE(v->manifest_signed);
  EXPECT_EQ(v->digest, r->manifest["digest"]);
  EXPECT_EQ(VerifyCallgraph(*kernel_, "01ARZ3NDEKTSV4RRFFQ69G5FAV").status().code(), Code::kNotFound);
}

TEST_F(CallgraphIngestTest, OneChangedByteInAnySignedFieldFailsVerificationNamingIt) {
  auto r = Ingest(Graph().dump());
  ASSERT_TRUE(r.ok());
  const std::string key = cas_paths::Manifest(r->graph_id);
  auto original = kernel_->cas().ReadAll(key);
  ASSERT_TRUE(original.ok());
  for (const char* field : {"nodeCount", "edgeCount", "language", "source", "componentPurl", "createdAt",
                            "signerKeyId", "entryPoints", "digest", "tenantId"}) {
    json m = json::parse(*original);
    std::string text = m[field].dump();
    // Change one character of the value (a digit or a letter).
    size_t at = text.find_first_of("0123456789abcdefghijklmnopqrstuvwxyz");
    ASSERT_NE(at, std::string::npos) << field;
    text[at] = text[at] == '1' ? '2' : (std::isdigit(static_cast<unsigned char>(text[at])) ? '1' : 'x');
    m[field] = json::parse(text);
    Tamper(key, [&](std::string& bytes) { bytes = CanonicalJson(m); });
    auto v = VerifyCallgraph(*kernel_, r->graph_id);
    ASSERT_FALSE(v.ok()) << field << " changed but verification passed";
    EXPECT_NE(v.status().message().find(field), std::string::npos) << v.status().message();
  }
  Tamper(key, [&](std::string& bytes) { bytes = *original; });
  ASSERT_TRUE(VerifyCallgraph(*kernel_, r->graph_id).ok());
}

TEST_F(CallgraphIngestTest, ChangedSignatureEnvelopeOrBlobFailsVerification) {
  auto r = Ingest(Graph().dump());
  ASSERT_TRUE(r.ok());
  const std::string manifest_key = cas_paths::Manifest(r->graph_id);
  json m = r->manifest;
  std::string sig = Base64Decode(m["signature"].get<std::string>()).value();
  sig[5] ^= 1;
  m["signature"] = Base64Encode(sig);
  Tamper(manifest_key, [&](std::string& bytes) { bytes = CanonicalJson(m); });
  auto v = VerifyCallgraph(*kernel_, r->graph_id);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("'signature'"), std::string::npos) << v.status().message();
  Tamper(manifest_key, [&](std::string& bytes) { bytes = CanonicalJson(r->manifest); });

  const std::string envelope_key = cas_paths::ManifestEnvelope(r->graph_id);
  auto envelope_text = kernel_->cas().ReadAll(envelope_key).value();
  Tamper(envelope_key, [&](std::string& bytes) {
    json e = json::parse(bytes);
    std::string payload = Base64Decode(e["payload"].get<std::string>()).value();
    payload[payload.find("\"nodeCount\":3")] = ' ';
    e["payload"] = Base64Encode(payload);
    bytes = e.dump();
  });
  v = VerifyCallgraph(*kernel_, r->graph_id);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("envelope"), std::string::npos) << v.status().message();
  Tamper(envelope_key, [&](std::string& bytes) { bytes = envelope_text; });

  const std::string blob_key = cas_paths::CallgraphBlob("global", r->graph_id);
  Tamper(blob_key, [&](std::string& bytes) { bytes[bytes.size() / 2] ^= 0x40; });
  v = VerifyCallgraph(*kernel_, r->graph_id);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("blob"), std::string::npos) << v.status().message();
}

}  // namespace
}  // namespace signals
