#include "core/tenant_registry.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/canonical_json.hpp"
#include "base/timestamp.hpp"

namespace signals {

Status ValidateTenantName(std::string_view tenant, std::string_view field) {
  auto bad = [&](const std::string& why) {
    return Status::Invalid("tenant", std::string(field),
                           "tenant '" + std::string(tenant.substr(0, 80)) + "' " + why +
                               " (tenants match [a-z0-9][a-z0-9-]{0,62})");
  };
  if (tenant.empty()) return bad("is empty");
  if (tenant.size() > 63) return bad("is longer than 63 characters");
  for (size_t i = 0; i < tenant.size(); ++i) {
    char c = tenant[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (i > 0 && c == '-');
    if (!ok) return bad("has an invalid character at position " + std::to_string(i + 1));
  }
  return Status::Ok();
}

Status TenantRegistry::Add(const std::string& tenant, int64_t now_ms) {
  SIGNALS_RETURN_IF_ERROR(ValidateTenantName(tenant, "tenant"));
  if (tenant == kGlobalTenant) return Status(Code::kConflict, "tenant 'global' always exists");
  auto txn = index_->Begin();
  if (!txn.ok()) return txn.status();
  nlohmann::json record = {{"tenantId", tenant}, {"createdAt", FormatRfc3339Millis(now_ms)}};
  Status s = (*txn)->Insert("tenants", tenant, CanonicalJson(record));
  if (s.code() == Code::kConflict) return Status(Code::kConflict, "tenant '" + tenant + "' already exists");
  SIGNALS_RETURN_IF_ERROR(s);
  return (*txn)->Commit();
}

Result<std::vector<std::string>> TenantRegistry::List() {
  std::vector<std::string> out = {kGlobalTenant};
  Status s = index_->Query("tenants", "{}", [&](const std::string& record) {
    auto j = nlohmann::json::parse(record, nullptr, false);
    if (j.is_object() && j.contains("tenantId")) out.push_back(j["tenantId"].get<std::string>());
  });
  if (!s.ok()) return s;
  std::sort(out.begin(), out.end());
  return out;
}

Status TenantRegistry::Check(std::string_view tenant, std::string_view field) {
  SIGNALS_RETURN_IF_ERROR(ValidateTenantName(tenant, field));
  if (tenant == kGlobalTenant) return Status::Ok();
  auto record = index_->Get("tenants", std::string(tenant));
  if (record.ok()) return Status::Ok();
  if (record.status().code() == Code::kNotFound) {
    return Status::Invalid("tenant-exists", std::string(field),
                           "unknown tenant '" + std::string(tenant) +
                               "'; add it with `signalsctl tenant add " + std::string(tenant) + "`");
  }
  return record.status();
}

}  // namespace signals
