// CasObject. See cas_object.hpp.
#include "model/cas_object.hpp"

#include <vector>

#include "base/ulid.hpp"
#include "core/tenant_registry.hpp"

namespace signals {
namespace {

std::vector<std::string_view> Split(std::string_view key) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t slash = key.find('/', start);
    out.push_back(
        key.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start));
    if (slash == std::string_view::npos) return out;
    start = slash + 1;
  }
}

// The id when `name` is "<ULID><suffix>", else "".
std::string UlidWithSuffix(std::string_view name, std::string_view suffix) {
  if (name.size() <= suffix.size() || name.substr(name.size() - suffix.size()) != suffix) return "";
  std::string id(name.substr(0, name.size() - suffix.size()));
  return ValidateUlid(id, "id").ok() ? id : "";
}

bool IsKeyId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

CasObject Make(CasObjectKind kind, std::string_view tenant, std::string id) {
  CasObject o;
  o.kind = kind;
  o.tenant = std::string(tenant);
  o.id = std::move(id);
  return o;
}

}  // namespace

CasObject ClassifyCasKey(std::string_view key) {
  const std::vector<std::string_view> parts = Split(key);
  const std::string_view last = parts.back();
  if (!last.empty() && last.front() == '.') return Make(CasObjectKind::kLeftover, "", "");
  const std::string_view top = parts.front();
  auto tenant_ok = [](std::string_view t) { return ValidateTenantName(t, "tenant").ok(); };

  if (parts.size() == 3 && (top == "runtime-facts" || top == "callgraphs") && tenant_ok(parts[1])) {
    const bool facts = top == "runtime-facts";
    if (std::string id = UlidWithSuffix(last, ".ndjson.zst"); !id.empty()) {
      return Make(facts ? CasObjectKind::kFactBlob : CasObjectKind::kCallgraphBlob, parts[1], id);
    }
    std::string id = UlidWithSuffix(last, facts ? ".provenance.json" : ".meta.json");
    if (!id.empty())
      return Make(facts ? CasObjectKind::kFactProvenance : CasObjectKind::kCallgraphMeta, parts[1], id);
  } else if (parts.size() == 2 && top == "attestations") {
    if (std::string id = UlidWithSuffix(last, ".dsse"); !id.empty())
      return Make(CasObjectKind::kBatchAttestation, "", id);
    if (std::string id = UlidWithSuffix(last, ".rekor.json"); !id.empty()) {
      return Make(CasObjectKind::kBatchRekorEntry, "", id);
    }
  } else if (parts.size() == 2 && top == "manifests") {
    if (std::string id = UlidWithSuffix(last, ".json.dsse"); !id.empty()) {
      return Make(CasObjectKind::kManifestEnvelope, "", id);
    }
    if (std::string id = UlidWithSuffix(last, ".rekor.json"); !id.empty()) {
      return Make(CasObjectKind::kManifestRekorEntry, "", id);
    }
    if (std::string id = UlidWithSuffix(last, ".json"); !id.empty())
      return Make(CasObjectKind::kManifest, "", id);
  } else if (parts.size() == 4 && top == "tombstones" &&
             (parts[1] == "runtime-facts" || parts[1] == "callgraphs") && tenant_ok(parts[2])) {
    if (std::string id = UlidWithSuffix(last, ".json"); !id.empty()) {
      CasObject o = Make(CasObjectKind::kTombstone, parts[2], id);
      o.tombstone_kind = std::string(parts[1]);
      return o;
    }
  } else if (top == "keys" && (parts.size() == 2 || (parts.size() == 3 && parts[1] == "retired"))) {
    constexpr std::string_view kSuffix = ".json";
    if (last.size() > kSuffix.size() && last.substr(last.size() - kSuffix.size()) == kSuffix) {
      std::string_view id = last.substr(0, last.size() - kSuffix.size());
      if (IsKeyId(id)) {
        return Make(parts.size() == 2 ? CasObjectKind::kKeyRecord : CasObjectKind::kKeyRetirement, "",
                    std::string(id));
      }
    }
  }
  return CasObject{};
}

}  // namespace signals
