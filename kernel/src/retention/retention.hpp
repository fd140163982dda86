// Retention: what an object expired by retention GC (README.md#retention) looks like to
// everything that reads the index. GC (retention_gc.hpp) deletes the blobs of
// a runtime-fact batch or an orphan callgraph but keeps its index row, marked
//   "state": "expired", "expiredAt": <RFC 3339>, "tombstoneKey": <CAS key>
// and a tombstone object at cas_paths::Tombstone(). Readers go by the row: an expired
// row answers 410 Gone with a link to the attestation (or manifest envelope)
// that remains, whether or not its blobs are already gone.
// Pure functions; thread-safe.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "base/status.hpp"

namespace signals {

class IndexStore;

// The kinds of expiring content; also the tombstone path segment and the
// `kind` label of signals_gc_deleted_total.
inline constexpr const char* kRuntimeFactsKind = "runtime-facts";
inline constexpr const char* kCallgraphsKind = "callgraphs";

inline constexpr const char* kExpiredState = "expired";

// tombstones/{kind}/ — where the tombstones of one kind are.
std::string TombstonePrefix(const std::string& kind);
// A tombstone itself is at cas_paths::Tombstone(kind, tenant, id).

// True when an index row (batch or callgraph) was expired by retention.
bool IsExpired(const nlohmann::json& row);

// OK for a live row. For an expired one, kGone naming the object and when it
// was deleted, with problem extension members "attestation" (the API path of
// what remains: a batch's attestation, an orphan callgraph's manifest
// envelope), "deletedAt" and "tombstone".
Status GoneIfExpired(const std::string& kind, const nlohmann::json& row);

// For a read that found its row live but then its blob missing (kNotFound):
// GC may have expired the row in between. Re-reads the row of `key` (a batchId
// or graphId, by `kind`) and answers its kGone; else `missing` unchanged.
Status GoneIfExpiredSince(IndexStore& index, const std::string& kind, const std::string& key, Status missing);

}  // namespace signals
