// TokenStore: bearer tokens for the API. A token is shown once, at creation;
// the index keeps only its SHA-256 (tokens are 256 random bits, so a plain
// hash is enough to make a stolen index useless), with the principal and the
// tenants it is bound to. Tokens never appear in logs.
// Thread-safety: as thread-safe as the IndexStore it wraps.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "base/status.hpp"
#include "core/access_policy.hpp"
#include "plugin/plugin_instance.hpp"

namespace signals {

struct IssuedToken {
  std::string token;     // the secret, shown once
  std::string token_id;  // a public handle: the first 12 hex digits of its hash
};

class TokenStore {
 public:
  explicit TokenStore(IndexStore* index) : index_(index) {}

  // Creates a token for `principal` bound to `tenants` (each must already be
  // validated and registered by the caller).
  Result<IssuedToken> Create(const std::string& principal, const std::vector<std::string>& tenants,
                             int64_t now_ms);
  // The principal of `token`, or kUnauthenticated.
  Result<Principal> Authenticate(const std::string& token);
  // Records without secrets, sorted by creation.
  Result<std::vector<nlohmann::json>> List();
  // Revokes by token id; kNotFound when unknown.
  Status Revoke(const std::string& token_id);

 private:
  IndexStore* index_;
};

}  // namespace signals
