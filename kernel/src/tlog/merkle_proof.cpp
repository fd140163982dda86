// RFC 9162 §2.1 Merkle hashes and inclusion verification. See merkle_proof.hpp.
#include "tlog/merkle_proof.hpp"

#include "base/sha256.hpp"

namespace signals {
namespace {

Status ProofInvalid(std::string message) {
  return Status::Invalid("inclusion-proof", "inclusionProof", std::move(message));
}

// The number of hashes a correct proof has for `index` in `tree_size` leaves:
// the path up to where index and the last leaf diverge, plus one per set bit
// above that (the right border).
size_t ExpectedProofLength(uint64_t index, uint64_t tree_size) {
  uint64_t diverge = index ^ (tree_size - 1);
  size_t inner = 0;
  while (diverge != 0) {
    ++inner;
    diverge >>= 1;
  }
  size_t border = 0;
  for (uint64_t rest = inner >= 64 ? 0 : index >> inner; rest != 0; rest &= rest - 1) ++border;
  return inner + border;
}

}  // namespace

std::string MerkleLeafHash(std::string_view leaf) {
  std::string prefixed;
  prefixed.reserve(leaf.size() + 1);
  prefixed.push_back('\x00');
  prefixed.append(leaf);
  return Sha256Raw(prefixed);
}

std::string MerkleNodeHash(std::string_view left, std::string_view right) {
  std::string prefixed;
  prefixed.reserve(1 + left.size() + right.size());
  prefixed.push_back('\x01');
  prefixed.append(left);
  prefixed.append(right);
  return Sha256Raw(prefixed);
}

Result<std::string> MerkleRootFromInclusionProof(uint64_t index, uint64_t tree_size,
                                                 std::string_view leaf_hash,
                                                 const std::vector<std::string>& proof) {
  if (index >= tree_size) {
    return ProofInvalid("logIndex " + std::to_string(index) + " is not below treeSize " +
                        std::to_string(tree_size));
  }
  for (size_t i = 0; i < proof.size(); ++i) {
    if (proof[i].size() != 32) {
      return ProofInvalid("hashes[" + std::to_string(i) + "] is " + std::to_string(proof[i].size()) +
                          " bytes, expected 32");
    }
  }
  const size_t expected = ExpectedProofLength(index, tree_size);
  if (proof.size() != expected) {
    return ProofInvalid(std::to_string(proof.size()) + " hashes given, a tree of size " +
                        std::to_string(tree_size) + " needs " + std::to_string(expected) + " for logIndex " +
                        std::to_string(index));
  }
  // RFC 9162 §2.1.3.2, step by step: fn walks the leaf's path, sn the last
  // leaf's; where fn is a right child (or on the right border) the proof
  // hash goes on the left.
  uint64_t fn = index;
  uint64_t sn = tree_size - 1;
  std::string r(leaf_hash);
  for (const auto& p : proof) {
    if (sn == 0) return ProofInvalid("proof is longer than the path to the root");
    if ((fn & 1) == 1 || fn == sn) {
      r = MerkleNodeHash(p, r);
      if ((fn & 1) == 0) {
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = MerkleNodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return ProofInvalid("proof is shorter than the path to the root");
  return r;
}

}  // namespace signals
