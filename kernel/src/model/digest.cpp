// "sha256:<hex>" digests. See digest.hpp.
#include "model/digest.hpp"

#include "base/sha256.hpp"

namespace signals {

std::string DigestOf(std::string_view bytes) { return std::string(kSha256DigestPrefix) + Sha256Hex(bytes); }

std::string DigestFromRaw(const std::array<uint8_t, 32>& raw) {
  return std::string(kSha256DigestPrefix) + HexLower(raw.data(), raw.size());
}

Status ValidateDigest(std::string_view s, std::string_view field) {
  auto invalid = [&](std::string message) {
    return Status::Invalid("digest", std::string(field), std::move(message));
  };
  if (s.substr(0, kSha256DigestPrefix.size()) != kSha256DigestPrefix) {
    return invalid("digest must start with 'sha256:' (got '" + std::string(s.substr(0, 16)) +
                   (s.size() > 16 ? "...'" : "'") + ")");
  }
  std::string_view hex = s.substr(kSha256DigestPrefix.size());
  if (hex.size() != 64) {
    return invalid("sha256 digest must have 64 hex characters after 'sha256:', got " +
                   std::to_string(hex.size()));
  }
  for (size_t i = 0; i < hex.size(); ++i) {
    char c = hex[i];
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) continue;
    // Uppercase is the common mistake; say so, since the same digest in another
    // case would name a different CAS path.
    if (c >= 'A' && c <= 'F') {
      return invalid("sha256 digest must be lowercase hex; uppercase '" + std::string(1, c) +
                     "' at position " + std::to_string(i));
    }
    return invalid("sha256 digest contains a non-hex character at position " + std::to_string(i));
  }
  return Status::Ok();
}

}  // namespace signals
