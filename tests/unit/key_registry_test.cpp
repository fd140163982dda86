// Specification of the key registry: every key that signed stays known, with
// when it was first and last used (recorded in the commit of what it signed).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "ingest/callgraph_ingest.hpp"
#include "test_kernel.hpp"

namespace signals {
namespace {

Result<CallgraphIngestResult> IngestGraph(Kernel& kernel, const std::string& purl) {
  CallgraphIngestRequest request;
  request.tenant = "global";
  request.component_purl = purl;
  request.language = "java";
  request.source = "key-registry-test";
  request.principal = "scanner-worker";
  auto ingest = kernel.BeginCallgraphIngest(request);
  if (!ingest.ok()) return ingest.status();
  Status s = (*ingest)->Write(
      R"({"schema":"stella.callgraph.v1","nodes":[{"id":"a","name":"a","kind":"method"}],"edges":[],)"
      R"("entrypoints":[{"nodeId":"a","kind":"main"}]})");
  if (!s.ok()) return s;
  return (*ingest)->Finish();
}

nlohmann::json KeyRecord(Kernel& kernel, const std::string& key_id) {
  auto keys = kernel.keys().List();
  EXPECT_TRUE(keys.ok()) << keys.status().ToString();
  if (!keys.ok()) return nullptr;
  for (const auto& k : *keys) {
    if (k.value("keyId", "") == key_id) return k;
  }
  return nullptr;
}

TEST(KeyRegistry, RecordsFirstAndLastUseOfTheSigningKey) {
  testing::TestKernel kernel;
  ASSERT_NO_FATAL_FAILURE(kernel.Open());
  auto first = IngestGraph(*kernel, "pkg:maven/org.acme/a@1.0");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  const std::string key_id = first->manifest.value("signerKeyId", "");
  ASSERT_FALSE(key_id.empty());
  nlohmann::json after_first = KeyRecord(*kernel, key_id);
  ASSERT_TRUE(after_first.is_object()) << "key " << key_id << " is not in the registry";
  ASSERT_TRUE(after_first.contains("firstUsedAt"));
  ASSERT_TRUE(after_first.contains("lastUsedAt"));
  EXPECT_EQ(after_first["status"], "active");

  auto second = IngestGraph(*kernel, "pkg:maven/org.acme/b@1.0");
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  nlohmann::json after_second = KeyRecord(*kernel, key_id);
  EXPECT_EQ(after_second["firstUsedAt"], after_first["firstUsedAt"]) << "firstUsedAt must never move";
  EXPECT_GE(after_second["lastUsedAt"].get<std::string>(), after_first["lastUsedAt"].get<std::string>());
}

TEST(KeyRegistry, AKeyThatSignedNothingHasNoUse) {
  testing::TestKernel kernel;
  ASSERT_NO_FATAL_FAILURE(kernel.Open());
  auto signer = kernel->signer();  // registers the key without signing
  ASSERT_TRUE(signer.ok()) << signer.status().ToString();
  nlohmann::json record = KeyRecord(*kernel, (*signer)->key_id());
  ASSERT_TRUE(record.is_object());
  EXPECT_FALSE(record.contains("firstUsedAt"));
  EXPECT_FALSE(record.contains("lastUsedAt"));
}

}  // namespace
}  // namespace signals
