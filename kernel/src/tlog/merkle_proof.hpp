// Merkle tree hashing and inclusion proofs of RFC 9162 (Certificate
// Transparency v2, §2.1), the tree every Rekor log shard is.
//
// Called by the transparency-log verifier (tlog_verify.hpp). Pure functions,
// thread-safe. All hashes are raw 32-byte SHA-256 values, not hex.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.hpp"

namespace signals {

// SHA-256(0x00 || leaf): the hash of one leaf (a Rekor entry's body).
std::string MerkleLeafHash(std::string_view leaf);

// SHA-256(0x01 || left || right): the hash of an inner node.
std::string MerkleNodeHash(std::string_view left, std::string_view right);

// Returns the root hash implied by `proof` for the leaf with hash `leaf_hash`
// at `index` in a tree of `tree_size` leaves (RFC 9162 §2.1.3.2). The caller
// compares it with the root it trusts.
// Failure: Status::Invalid rule "inclusion-proof" when index >= tree_size,
// when a proof hash is not 32 bytes, or when the proof has more or fewer
// hashes than a tree of that size needs for that index (the message says
// how many were given and how many are needed).
Result<std::string> MerkleRootFromInclusionProof(uint64_t index, uint64_t tree_size,
                                                 std::string_view leaf_hash,
                                                 const std::vector<std::string>& proof);

}  // namespace signals
