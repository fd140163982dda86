// CallgraphVerifier: proves a stored callgraph is intact, offline, from the CAS
// and the key registry alone (kernel/README.md#callgraph-manifest, #attestations; README.md#what-is-stored):
//   * the manifest has exactly the contract's members, and its body equals the
//     predicate of the DSSE envelope member by member (so a changed field is
//     named);
//   * the envelope verifies with the registered key of its keyid, is an
//     in-toto Statement with the callgraph-manifest predicateType, and its
//     subject names callgraphs/{tenant}/{graphId}.ndjson with the digest;
//   * the manifest signature verifies over JCS(manifest without signature and
//     rekorUuid) with the registered key of signerKeyId (an unsigned manifest
//     fails when signing.sign_manifests is true);
//   * the blob decompresses and re-hashes to the digest;
//   * the .meta.json record and the index row agree with the manifest;
//   * optionally (deep), the blob is in canonical form: re-canonicalizing it
//     gives the same bytes and the manifest's counts and entry points.
// Keys are never taken from the objects being checked, only from the registry.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.hpp"
#include "core/kernel.hpp"

namespace signals {

struct CallgraphVerifyOptions {
  bool recanonicalize = false;  // the deep check; costs a full sort of the graph
};

struct CallgraphVerification {
  std::string graph_id;
  std::string digest;
  std::string key_id;  // the envelope's signer
  bool manifest_signed = false;
  uint64_t node_count = 0;
  uint64_t edge_count = 0;
  // An orphan graph deleted by retention: only the manifest, its signature,
  // the envelope, the tombstone and the index row were checked.
  bool expired = false;
  std::string expired_at;
};

// OK with what was checked; Invalid (rule "integrity") with the first defect,
// naming the object and field ("manifest field 'nodeCount' …") in the message
// and the CAS key of the object at fault as the Status field; kNotFound for an
// unknown graph.
Result<CallgraphVerification> VerifyCallgraph(Kernel& kernel, const std::string& graph_id,
                                              const CallgraphVerifyOptions& options = {});

}  // namespace signals
