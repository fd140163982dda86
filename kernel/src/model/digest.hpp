// Content digests as Signals writes them: "sha256:" followed by 64 lowercase
// hex characters (kernel/README.md#identifiers).
//
// Used wherever a blob, batch, callgraph or manifest is named by its content
// (CAS paths, provenanceHash, in-toto subjects) and to validate digests that
// arrive from clients. All functions are pure and thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.hpp"

namespace signals {

inline constexpr std::string_view kSha256DigestPrefix = "sha256:";

// Returns "sha256:<hex>" of `bytes`.
std::string DigestOf(std::string_view bytes);

// Returns "sha256:<hex>" for a digest already computed (e.g. by Sha256Hasher).
std::string DigestFromRaw(const std::array<uint8_t, 32>& raw);

// Returns Ok when `s` is exactly "sha256:" + 64 lowercase hex characters.
// Otherwise Status::Invalid with rule "digest", field `field`, and a message
// naming the defect (missing prefix, wrong length, uppercase or non-hex digit).
Status ValidateDigest(std::string_view s, std::string_view field);

}  // namespace signals
