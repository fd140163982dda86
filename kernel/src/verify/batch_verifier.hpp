// BatchVerifier: proves a stored runtime-fact batch is intact, offline, from
// the CAS and the key registry alone: the blob decompresses and re-hashes to
// provenanceHash; the provenance record and index row agree; the DSSE envelope
// verifies with the registered key of its keyid; the statement's subject and
// predicate name this batch and this hash, and it lists the referenced
// callgraph's blob with the digest stored for it.
//
// A batch expired by retention (retention.hpp) has no blob and no provenance
// record any more: it verifies as *expired* — its tombstone names it, and its
// attestation still verifies (signature, statement, subjects) against the
// index row — rather than as corrupt.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/status.hpp"
#include "core/kernel.hpp"

namespace signals {

struct BatchVerification {
  std::string batch_id;
  std::string provenance_hash;
  std::string key_id;
  uint64_t fact_count = 0;
  bool expired = false;    // deleted by retention; only the attestation was checked
  std::string expired_at;  // when expired
  std::string tombstone_key;
};

// OK with the facts checked (or, for an expired batch, its tombstone and
// attestation), or Invalid (rule "integrity") with the first reason it is not
// valid and the CAS key of the object at fault as the field (kNotFound for an
// unknown batch).
Result<BatchVerification> VerifyBatch(Kernel& kernel, const std::string& batch_id);

// Helpers shared with the callgraph verifier, fsck and reindex: how a stored
// record (provenance, callgraph meta) relates to its index row.
//
// Members only the index row has for a batch: the keys of its objects.
const std::vector<std::string>& BatchRowOnlyMembers();
// Members a transparency log updates in the row after the record was stored.
const std::vector<std::string>& TlogStateMembers();
// The first member (other than the tlog state) on which the immutable record
// `stored` and the index `row` disagree — including a member one of them
// lacks, unless it is in `row_only` — or "" when they agree.
std::string StoredRecordDifference(const nlohmann::json& stored, const nlohmann::json& row,
                                   const std::vector<std::string>& row_only);

}  // namespace signals
