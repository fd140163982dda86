// TlogEntry: one Rekor v1 transparency-log entry, decoded from either of the
// two JSON shapes it travels in:
//   * the Rekor REST shape Signals stores next to an envelope
//     (`….rekor.json`, README.md#transparency-log-rekor-v1): hex logID/rootHash/hashes, integers as
//     JSON numbers, {"uuid","body","integratedTime","logID","logIndex",
//     "verification":{"inclusionProof":{…},"signedEntryTimestamp"}};
//   * a Sigstore bundle's `verificationMaterial.tlogEntries[i]`
//     (protobuf-JSON): base64 bytes, int64 values as strings, `kindVersion`,
//     `inclusionPromise`, `inclusionProof.checkpoint.envelope`.
// Both decode to the same struct, so one verifier serves both, and a stored
// REST entry can be written into a bundle.
//
// Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.hpp"

namespace signals {

struct TlogInclusionProof {
  uint64_t log_index = 0;  // the index in this log shard's tree (not the global one)
  uint64_t tree_size = 0;
  std::string root_hash;            // raw 32 bytes
  std::vector<std::string> hashes;  // raw 32 bytes each, leaf to root
  std::string checkpoint;           // the signed note, as text
};

struct TlogEntry {
  std::string uuid;  // REST shape only (empty from a bundle)
  std::string body;  // the canonicalized body, decoded (JSON text)
  int64_t integrated_time = 0;
  std::string log_id;      // raw 32 bytes: SHA-256 of the log key's DER
  uint64_t log_index = 0;  // the global (virtual) index the SET signs
  std::string kind;        // bundle's kindVersion; empty from the REST shape
  std::string version;
  std::string signed_entry_timestamp;  // raw DER signature; empty when absent
  std::optional<TlogInclusionProof> inclusion_proof;
};

// Decodes the REST shape. Also accepts Rekor's own answer shape
// {"<uuid>": {body, …}} (one member). Does not verify anything.
// Failure: Status::Invalid rule "tlog-entry" naming the member that is missing
// or malformed ("verification.inclusionProof.hashes[2] is not 64 hex digits").
Result<TlogEntry> ParseRekorEntry(const nlohmann::json& entry);

// Decodes a bundle's tlog entry (protobuf-JSON; int64 as strings or numbers,
// `inclusionPromise` / `inclusionProof` absent or null when not there).
// Failure: as ParseRekorEntry.
Result<TlogEntry> ParseBundleTlogEntry(const nlohmann::json& entry);

// Returns the entry as a bundle tlog entry (protobuf-JSON), kindVersion taken
// from the body's kind/apiVersion when the entry has none.
// Failure: Status::Invalid rule "tlog-entry" when the body is not JSON with
// string kind and apiVersion.
Result<nlohmann::json> BundleTlogEntryJson(const TlogEntry& entry);

}  // namespace signals
