// Tombstone: what retention GC leaves of a deleted batch or callgraph
// (README.md#retention): the CAS object tombstones/{kind}/{tenant}/{id}.json, canonical
// JSON {"kind","tenantId","id","deletedAt","reason","deletedKeys":[...],
// "attestation","index":{"collection","key","record"}}, where index.record is
// the complete index row as GC left it. fsck expects the deletedKeys to be
// absent and the row to be the record; reindex restores the record verbatim.
// Pure reading; thread-safety as the CasStore.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/status.hpp"
#include "plugin/plugin_instance.hpp"

namespace signals {

struct Tombstone {
  std::string key;         // its own CAS key
  std::string collection;  // index.collection
  std::string row_key;     // index.key
  nlohmann::json record;   // index.record
  std::vector<std::string> deleted_keys;
  std::string attestation;  // the CAS key of the envelope that remains
};

// Reads and checks the tombstone at `key`: canonical JSON of the shape above,
// whose kind, tenantId and id are those its key names. Invalid (field = key)
// naming the first defect.
Result<Tombstone> ReadTombstone(CasStore& cas, const std::string& key);

// ReadTombstone for the verifiers of an expired batch or graph: a missing or
// defective tombstone is an integrity failure (Invalid, rule "integrity",
// field = key), like any other damaged object.
Result<Tombstone> ReadTombstoneOfExpired(CasStore& cas, const std::string& key);

}  // namespace signals
