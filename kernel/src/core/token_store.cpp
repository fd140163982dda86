#include "core/token_store.hpp"

#include <openssl/rand.h>

#include "base/base64.hpp"
#include "base/canonical_json.hpp"
#include "base/sha256.hpp"
#include "base/timestamp.hpp"

namespace signals {
namespace {

constexpr const char* kTokenPrefix = "sgt_";

}  // namespace

Result<IssuedToken> TokenStore::Create(const std::string& principal, const std::vector<std::string>& tenants,
                                       int64_t now_ms) {
  unsigned char random[32];
  if (RAND_bytes(random, sizeof(random)) != 1) return Status::Internal("no randomness for a token");
  IssuedToken issued;
  issued.token =
      kTokenPrefix + Base64UrlEncode(std::string_view(reinterpret_cast<const char*>(random), sizeof(random)));
  const std::string hash = Sha256Hex(issued.token);
  issued.token_id = hash.substr(0, 12);
  nlohmann::json record = {{"tokenId", issued.token_id},
                           {"principal", principal},
                           {"tenants", tenants},
                           {"createdAt", FormatRfc3339Millis(now_ms)},
                           // The hash is the record's key already; kept in the
                           // record so that revoke-by-id can find the key.
                           {"tokenHash", hash}};
  auto txn = index_->Begin();
  if (!txn.ok()) return txn.status();
  SIGNALS_RETURN_IF_ERROR((*txn)->Insert("tokens", hash, CanonicalJson(record)));
  SIGNALS_RETURN_IF_ERROR((*txn)->Commit());
  return issued;
}

Result<Principal> TokenStore::Authenticate(const std::string& token) {
  if (token.rfind(kTokenPrefix, 0) != 0 || token.size() > 128) {
    return Status(Code::kUnauthenticated, "the bearer token is malformed");
  }
  auto record = index_->Get("tokens", Sha256Hex(token));
  if (!record.ok()) {
    if (record.status().code() == Code::kNotFound)
      return Status(Code::kUnauthenticated, "unknown bearer token");
    return record.status();
  }
  auto j = nlohmann::json::parse(*record, nullptr, false);
  if (!j.is_object()) return Status::Internal("token record is malformed");
  Principal p;
  p.name = j.value("principal", "");
  for (const auto& t : j.value("tenants", nlohmann::json::array())) p.tenants.push_back(t.get<std::string>());
  return p;
}

Result<std::vector<nlohmann::json>> TokenStore::List() {
  std::vector<nlohmann::json> out;
  Status s = index_->Query("tokens", R"({"orderBy":"createdAt"})", [&](const std::string& record) {
    auto j = nlohmann::json::parse(record, nullptr, false);
    if (!j.is_object()) return;
    j.erase("tokenHash");
    out.push_back(std::move(j));
  });
  if (!s.ok()) return s;
  return out;
}

Status TokenStore::Revoke(const std::string& token_id) {
  std::string hash;
  Status s = index_->Query("tokens", nlohmann::json({{"where", {{"tokenId", token_id}}}}).dump(),
                           [&](const std::string& record) {
                             auto j = nlohmann::json::parse(record, nullptr, false);
                             if (j.is_object()) hash = j.value("tokenHash", "");
                           });
  SIGNALS_RETURN_IF_ERROR(s);
  if (hash.empty()) return Status::NotFound("no token with id " + token_id);
  auto txn = index_->Begin();
  if (!txn.ok()) return txn.status();
  SIGNALS_RETURN_IF_ERROR((*txn)->Remove("tokens", hash));
  return (*txn)->Commit();
}

}  // namespace signals
