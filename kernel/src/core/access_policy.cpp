#include "core/access_policy.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "config/settings.hpp"

namespace signals {
namespace {

constexpr int kRead = 1;
constexpr int kWrite = 2;

const std::vector<Resource>& AllResources() {
  static const std::vector<Resource> kAll = {Resource::kCallgraphs, Resource::kManifests,
                                             Resource::kRuntimeFacts, Resource::kAttestations};
  return kAll;
}

Result<Resource> ParseResource(const std::string& name) {
  for (Resource r : AllResources()) {
    if (name == ResourceName(r)) return r;
  }
  return Status::Invalid(
      "policy", name, "unknown resource '" + name + "' (callgraphs, manifests, runtime-facts, attestations)");
}

Result<int> ParseGrant(const std::string& text) {
  if (text == "read") return kRead;
  if (text == "write") return kWrite;
  if (text == "read-write" || text == "rw" || text == "read/write") return kRead | kWrite;
  if (text == "none" || text == "-") return 0;
  return Status::Invalid("policy", "", "unknown permission '" + text + "' (read, write, read-write, none)");
}

}  // namespace

const char* ResourceName(Resource resource) {
  switch (resource) {
    case Resource::kCallgraphs:
      return "callgraphs";
    case Resource::kManifests:
      return "manifests";
    case Resource::kRuntimeFacts:
      return "runtime-facts";
    case Resource::kAttestations:
      return "attestations";
  }
  return "?";
}

const char* ActionName(Action action) { return action == Action::kRead ? "read" : "write"; }

AccessPolicy AccessPolicy::Default() {
  AccessPolicy p;
  const int rw = kRead | kWrite;
  p.grants_["signals-service"] = {{Resource::kCallgraphs, rw},
                                  {Resource::kManifests, rw},
                                  {Resource::kRuntimeFacts, rw},
                                  {Resource::kAttestations, rw}};
  p.grants_["policy-engine"] = {{Resource::kCallgraphs, kRead},
                                {Resource::kManifests, kRead},
                                {Resource::kRuntimeFacts, kRead},
                                {Resource::kAttestations, kRead}};
  p.grants_["scanner-worker"] = {{Resource::kCallgraphs, kWrite}};
  p.grants_["audit-service"] = {{Resource::kCallgraphs, kRead},
                                {Resource::kManifests, kRead},
                                {Resource::kRuntimeFacts, kRead},
                                {Resource::kAttestations, kRead}};
  p.grants_["runtime-agent"] = {{Resource::kRuntimeFacts, kWrite}};
  return p;
}

Result<AccessPolicy> AccessPolicy::FromFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::Config(path + ": cannot read policy file");
  std::stringstream buffer;
  buffer << in.rdbuf();
  // Reuse the INI reader: "[principal]\nresource = grant" arrives as
  // section "principal", key "resource".
  auto parsed = ParseIniSettings(buffer.str(), "policy file " + path);
  if (!parsed.ok()) return parsed.status();
  AccessPolicy p;
  for (const auto& [principal, keys] : *parsed) {
    auto& grants = p.grants_[principal];
    for (const auto& [resource_name, value] : keys) {
      auto resource = ParseResource(resource_name);
      if (!resource.ok())
        return Status::Config(path + ": [" + principal + "] " + resource.status().message());
      auto grant = ParseGrant(value.value);
      if (!grant.ok())
        return Status::Config(path + ": [" + principal + "] " + resource_name + ": " +
                              grant.status().message());
      grants[*resource] = *grant;
    }
  }
  return p;
}

bool AccessPolicy::Allows(const std::string& principal, Resource resource, Action action) const {
  auto p = grants_.find(principal);
  if (p == grants_.end()) return false;
  auto r = p->second.find(resource);
  if (r == p->second.end()) return false;
  return (r->second & (action == Action::kRead ? kRead : kWrite)) != 0;
}

std::vector<std::string> AccessPolicy::Principals() const {
  std::vector<std::string> out;
  for (const auto& [name, grants] : grants_) out.push_back(name);
  return out;
}

std::string AccessPolicy::Render() const {
  std::ostringstream out;
  const size_t width = 18;
  auto pad = [&](const std::string& s) {
    return s + std::string(s.size() < width ? width - s.size() : 1, ' ');
  };
  out << pad("principal");
  for (Resource r : AllResources()) out << pad(ResourceName(r));
  out << "\n";
  for (const auto& [name, grants] : grants_) {
    out << pad(name);
    for (Resource r : AllResources()) {
      auto it = grants.find(r);
      int g = it == grants.end() ? 0 : it->second;
      out << pad(g == (kRead | kWrite) ? "read/write" : g == kRead ? "read" : g == kWrite ? "write" : "-");
    }
    out << "\n";
  }
  out << pad("anyone else");
  for (size_t i = 0; i < AllResources().size(); ++i) out << pad("deny");
  out << "\n";
  return out.str();
}

Status Authorize(const AccessPolicy& policy, const Principal& principal, const std::string& tenant,
                 Resource resource, Action action) {
  if (principal.trusted) return Status::Ok();
  std::string what = std::string(ActionName(action)) + " " + ResourceName(resource);
  if (!policy.Allows(principal.name, resource, action)) {
    return Status(Code::kForbidden, "principal '" + principal.name + "' may not " + what, "", "policy");
  }
  bool bound =
      std::find(principal.tenants.begin(), principal.tenants.end(), tenant) != principal.tenants.end();
  if (!bound && !(action == Action::kRead && tenant == "global")) {
    return Status(Code::kForbidden,
                  "principal '" + principal.name + "' is not bound to tenant '" + tenant + "'", "tenant",
                  "tenant-binding");
  }
  return Status::Ok();
}

}  // namespace signals
