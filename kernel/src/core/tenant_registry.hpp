// TenantRegistry: the tenants a deployment knows, kept in the index collection
// "tenants". `global` always exists. Tenant names are [a-z0-9][a-z0-9-]{0,62}
// and become path components only after this validation.
// Thread-safety: as thread-safe as the IndexStore it wraps.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.hpp"
#include "plugin/plugin_instance.hpp"

namespace signals {

inline constexpr const char* kGlobalTenant = "global";

// Syntax only: Status::Invalid(rule "tenant", field) when malformed.
Status ValidateTenantName(std::string_view tenant, std::string_view field);

class TenantRegistry {
 public:
  explicit TenantRegistry(IndexStore* index) : index_(index) {}

  // Adds a tenant; kConflict when it exists.
  Status Add(const std::string& tenant, int64_t now_ms);
  // Sorted, `global` included.
  Result<std::vector<std::string>> List();
  // OK when well-formed and registered; Invalid (rule "tenant-exists") else.
  Status Check(std::string_view tenant, std::string_view field);

 private:
  IndexStore* index_;
};

}  // namespace signals
