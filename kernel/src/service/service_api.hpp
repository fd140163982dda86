// ServiceApi: what transports and sources can ask of the kernel, independent
// of any protocol (DESIGN §1.1 "service API"). Every operation authenticates
// its caller (bearer token, or the trusted in-process principal), applies the
// access policy and tenant binding, and answers JSON, a byte stream or a
// streaming ingest. The HTTP transport maps routes onto these operations; a
// second transport reuses all of it.
// Thread-safety: every method may be called from any thread.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "base/status.hpp"
#include "core/access_policy.hpp"

namespace signals {

class Kernel;

// A byte stream answered by Open().
class ObjectSource {
 public:
  virtual ~ObjectSource() = default;
  // Up to `capacity` bytes; 0 at the end.
  virtual Result<size_t> Read(uint8_t* buffer, size_t capacity) = 0;
};

// A streaming upload answered by BeginIngest().
class IngestSession {
 public:
  virtual ~IngestSession() = default;  // destruction without Finish() aborts
  virtual Status Write(std::string_view chunk) = 0;
  // The result document; `created` is false when an earlier identical
  // request's answer is replayed (Idempotency-Key, or an identical callgraph).
  virtual Result<nlohmann::json> Finish(bool* created) = 0;
};

class ServiceApi {
 public:
  explicit ServiceApi(Kernel& kernel) : kernel_(kernel) {}

  // The caller of `request`: the trusted principal, or the owner of
  // request.credentials.bearer (kUnauthenticated when missing or unknown).
  Result<Principal> Authenticate(const nlohmann::json& request, bool trusted);

  // {"op": ...} → JSON (see plugin.h signals_host.call for the operations).
  Result<nlohmann::json> Call(const nlohmann::json& request, const Principal& principal);

  // {"op": ...} → bytes; `metadata` receives {contentType, contentEncoding, size?}.
  Result<std::unique_ptr<ObjectSource>> Open(const nlohmann::json& request, const Principal& principal,
                                             nlohmann::json* metadata);

  // {"kind": "runtime-facts", ...} → a streaming ingest.
  Result<std::unique_ptr<IngestSession>> BeginIngest(const nlohmann::json& request,
                                                     const Principal& principal);

 private:
  Kernel& kernel_;
};

}  // namespace signals
