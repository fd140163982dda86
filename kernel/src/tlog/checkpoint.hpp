// Transparency-log checkpoints: the signed note a log publishes for its tree
// head (C2SP signed-note and tlog-checkpoint formats, as Rekor v1 writes them):
//
//   <origin>\n<tree size>\n<base64 root hash>\n[extension lines\n]
//   \n
//   — <signer name> <base64(4-byte key hint || signature)>\n   (one or more)
//
// The signed text is everything up to and including the last "\n" before the
// blank line. The key hint is the first 4 bytes of SHA-256 of the log key's
// DER SubjectPublicKeyInfo, i.e. of the Rekor log ID.
//
// Called by the transparency-log verifier. Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.hpp"

namespace signals {

struct Checkpoint {
  std::string origin;  // e.g. "rekor.sigstore.dev - 1193050959916656506"
  uint64_t tree_size = 0;
  std::string root_hash;                // raw 32 bytes
  std::vector<std::string> extensions;  // further body lines, without "\n"
  std::string signer_name;              // the name on the signature line that verified
};

// Parses `note` and verifies that one of its signature lines carries the key
// hint of `log_public_key_pem` and a valid signature by that key over the
// signed text. Returns the checkpoint body.
// Failure: Status::Invalid rule "checkpoint" with a message naming the
// defect: no blank line, a malformed origin/size/root line, a malformed
// signature line, no signature line with the key's hint (the hints found are
// listed), or a signature that does not verify with the log key.
Result<Checkpoint> VerifyCheckpoint(std::string_view note, std::string_view log_public_key_pem);

}  // namespace signals
