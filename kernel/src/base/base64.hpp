// Base64 (RFC 4648 §4) and base64url (§5) for DSSE envelopes, signatures and
// Content-Digest headers.
//
// Encoders are used when Signals emits data (standard padded base64 in DSSE
// and manifests); the decoder is used on input, where clients send either
// alphabet, padded or not. All functions are pure and thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "base/status.hpp"

namespace signals {

// Standard alphabet (+ /), padded with '=' to a multiple of 4 characters.
std::string Base64Encode(std::string_view bytes);

// URL-safe alphabet (- _), without padding.
std::string Base64UrlEncode(std::string_view bytes);

// Decodes `text` written in the standard or the URL-safe alphabet, with or
// without '=' padding. Returns the decoded bytes.
// Failure: Status::Invalid rule "base64" when a character is outside both
// alphabets (including whitespace), padding is misplaced or too long, or the
// length cannot come from any encoding (length % 4 == 1).
Result<std::string> Base64Decode(std::string_view text);

}  // namespace signals
