// AccessPolicy: which principal may read or write which kind of content
// (README.md#tokens-and-the-access-policy). The policy is data: the default matrix below, or a policy file
// named by auth.policy_file:
//
//   [policy-engine]            # a principal
//   callgraphs = read          # read | write | read-write | none
//   runtime-facts = read
//
// Principals not in the policy are denied everything. Tenancy is checked
// separately (Authorize): a principal acts only for the tenants its token is
// bound to, and every tenant's readers may read `global` content.
// Thread-safety: immutable after construction.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "base/status.hpp"

namespace signals {

enum class Resource { kCallgraphs, kManifests, kRuntimeFacts, kAttestations };
enum class Action { kRead, kWrite };

const char* ResourceName(Resource resource);
const char* ActionName(Action action);

struct Principal {
  std::string name;
  std::vector<std::string> tenants;  // tenants the credential is bound to
  bool trusted = false;              // in-process callers acting as signals-service
};

class AccessPolicy {
 public:
  // The default matrix of README.md#tokens-and-the-access-policy (signals-service, policy-engine,
  // scanner-worker, audit-service, runtime-agent).
  static AccessPolicy Default();
  // Parses a policy file (see file comment).
  static Result<AccessPolicy> FromFile(const std::string& path);

  bool Allows(const std::string& principal, Resource resource, Action action) const;
  bool Knows(const std::string& principal) const { return grants_.count(principal) != 0; }
  std::vector<std::string> Principals() const;

  // The effective matrix as a table for people.
  std::string Render() const;

 private:
  // principal → resource → bit 1 read, bit 2 write
  std::map<std::string, std::map<Resource, int>> grants_;
};

// 403 unless `principal` may `action` on `resource` content of `tenant`.
// Reads of `global` content are allowed to any principal with the read
// permission; writes to `global` need a token bound to `global`.
Status Authorize(const AccessPolicy& policy, const Principal& principal, const std::string& tenant,
                 Resource resource, Action action);

}  // namespace signals
