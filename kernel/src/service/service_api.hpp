// ServiceApi: what transports and sources can ask of the kernel, independent
// of any protocol (kernel/README.md#service-operations). Every operation authenticates
// its caller (bearer token, or the trusted in-process principal), applies the
// access policy and tenant binding, and answers JSON, a byte stream or a
// streaming ingest. The HTTP transport maps routes onto these operations; a
// second transport reuses all of it.
// Thread-safety: every method may be called from any thread.
#pragma once

#include <map>
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

// One JSON operation of ServiceApi::Call: the request (its "op" and the
// members that op reads) and the authenticated caller → the answer. An
// operation authorises the caller itself (access_policy.hpp).
using ServiceOp = Result<nlohmann::json> (*)(Kernel& kernel, const nlohmann::json& request,
                                             const Principal& principal);

class ServiceApi {
 public:
  // Registers the kernel's own operations (health, ready, metrics, keys.list,
  // runtime-facts.provenance/attestation, callgraphs.manifest/by-purl).
  // Libraries built on the kernel register theirs with RegisterOp, e.g.
  // RegisterAnalysisOps (analysis/analysis_ops.hpp) for reachability.*.
  explicit ServiceApi(Kernel& kernel);

  // Adds operation `name` to the op table, replacing one of the same name.
  // REQUIRES: called before the kernel serves (StartServices) — Call reads
  // the table without a lock.
  void RegisterOp(const std::string& name, ServiceOp op);
  bool HasOp(std::string_view name) const;

  // The caller of `request`: the trusted principal, or the owner of
  // request.credentials.bearer (kUnauthenticated when missing or unknown).
  Result<Principal> Authenticate(const nlohmann::json& request, bool trusted);

  // {"op": ...} → JSON, by the op table (see plugin.h signals_host.call for
  // the operations). An op nobody registered is Invalid (rule "op").
  Result<nlohmann::json> Call(const nlohmann::json& request, const Principal& principal);

  // {"op": ...} → bytes; `metadata` receives {contentType, contentEncoding, size?}.
  Result<std::unique_ptr<ObjectSource>> Open(const nlohmann::json& request, const Principal& principal,
                                             nlohmann::json* metadata);

  // {"kind": "runtime-facts", ...} → a streaming ingest.
  Result<std::unique_ptr<IngestSession>> BeginIngest(const nlohmann::json& request,
                                                     const Principal& principal);

 private:
  Kernel& kernel_;
  std::map<std::string, ServiceOp, std::less<>> ops_;
};

}  // namespace signals
