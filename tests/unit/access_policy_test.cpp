// Specification of the access policy (README.md#tokens-and-the-access-policy): the default matrix, policy
// files, and tenant binding.
#include "core/access_policy.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace signals {
namespace {

std::string WritePolicy(const std::string& text) {
  std::string path = (std::filesystem::temp_directory_path() / "signals-policy-XXXXXX").string();
  int fd = mkstemp(path.data());
  EXPECT_GE(fd, 0);
  close(fd);
  std::ofstream(path) << text;
  return path;
}

TEST(AccessPolicy, DefaultMatrixIsTheDesignTable) {
  AccessPolicy p = AccessPolicy::Default();
  EXPECT_TRUE(p.Allows("scanner-worker", Resource::kCallgraphs, Action::kWrite));
  EXPECT_FALSE(p.Allows("scanner-worker", Resource::kCallgraphs, Action::kRead));
  EXPECT_TRUE(p.Allows("runtime-agent", Resource::kRuntimeFacts, Action::kWrite));
  EXPECT_FALSE(p.Allows("runtime-agent", Resource::kRuntimeFacts, Action::kRead));
  EXPECT_TRUE(p.Allows("audit-service", Resource::kAttestations, Action::kRead));
  EXPECT_FALSE(p.Allows("audit-service", Resource::kAttestations, Action::kWrite));
  EXPECT_FALSE(p.Allows("somebody", Resource::kManifests, Action::kRead));
}

TEST(AccessPolicy, PolicyFileReplacesTheDefault) {
  std::string path =
      WritePolicy("[auditor]\ncallgraphs = read\nruntime-facts = read-write\nmanifests = none\n");
  auto p = AccessPolicy::FromFile(path);
  std::filesystem::remove(path);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_TRUE(p->Allows("auditor", Resource::kCallgraphs, Action::kRead));
  EXPECT_FALSE(p->Allows("auditor", Resource::kCallgraphs, Action::kWrite));
  EXPECT_TRUE(p->Allows("auditor", Resource::kRuntimeFacts, Action::kWrite));
  EXPECT_FALSE(p->Allows("auditor", Resource::kManifests, Action::kRead));
  EXPECT_FALSE(p->Knows("signals-service"));
}

TEST(AccessPolicy, RejectsUnknownResourceAndPermissionNamingThem) {
  std::string bad_resource = WritePolicy("[auditor]\nblobs = read\n");
  auto r = AccessPolicy::FromFile(bad_resource);
  std::filesystem::remove(bad_resource);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("unknown resource 'blobs'"), std::string::npos) << r.status().message();

  std::string bad_grant = WritePolicy("[auditor]\ncallgraphs = everything\n");
  auto g = AccessPolicy::FromFile(bad_grant);
  std::filesystem::remove(bad_grant);
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("unknown permission 'everything'"), std::string::npos)
      << g.status().message();
}

TEST(AccessPolicy, RejectsMissingPolicyFile) {
  auto p = AccessPolicy::FromFile("/nonexistent/signals-policy.conf");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), Code::kConfig);
}

TEST(Authorize, BindsPrincipalsToTheirTenantsAndLetsEveryReaderReadGlobal) {
  AccessPolicy p = AccessPolicy::Default();
  Principal reader{"policy-engine", {"acme"}, false};
  EXPECT_TRUE(Authorize(p, reader, "acme", Resource::kRuntimeFacts, Action::kRead).ok());
  EXPECT_TRUE(Authorize(p, reader, "global", Resource::kRuntimeFacts, Action::kRead).ok());
  Status other = Authorize(p, reader, "globex", Resource::kRuntimeFacts, Action::kRead);
  EXPECT_EQ(other.code(), Code::kForbidden);
  EXPECT_EQ(other.rule(), "tenant-binding");

  Principal agent{"runtime-agent", {"acme"}, false};
  EXPECT_EQ(Authorize(p, agent, "global", Resource::kRuntimeFacts, Action::kWrite).rule(), "tenant-binding");
  EXPECT_EQ(Authorize(p, agent, "acme", Resource::kRuntimeFacts, Action::kRead).rule(), "policy");

  Principal trusted{"signals-service", {}, true};
  EXPECT_TRUE(Authorize(p, trusted, "anything", Resource::kManifests, Action::kWrite).ok());
}

}  // namespace
}  // namespace signals
