// SHA-256 over byte streams, backed by OpenSSL's EVP interface.
//
// Called by the digest module (blob and provenance hashes), the CAS writer and
// anything that must hash data arriving in pieces. A Sha256Hasher is a single
// stream: not safe for concurrent use, but distinct hashers are independent.
// The free functions are pure and thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.hpp"

// Forward declaration keeps OpenSSL headers out of every includer.
struct evp_md_ctx_st;

namespace signals {

class Sha256Hasher {
 public:
  // Starts a fresh SHA-256 stream. Allocation or initialisation failure of the
  // OpenSSL context is treated as fatal (std::abort): it only happens when the
  // process is out of memory or the OpenSSL install is broken.
  Sha256Hasher();
  ~Sha256Hasher();

  // A hashing stream has a single owner; copying it would silently fork state.
  Sha256Hasher(const Sha256Hasher&) = delete;
  Sha256Hasher& operator=(const Sha256Hasher&) = delete;
  Sha256Hasher(Sha256Hasher&& other) noexcept;
  Sha256Hasher& operator=(Sha256Hasher&& other) noexcept;

  // Feeds `len` bytes at `data` into the stream. The bytes are not retained.
  // REQUIRES: Finish() has not been called; data != nullptr unless len == 0.
  void Update(const void* data, size_t len);
  void Update(std::string_view bytes);

  // Returns the 32-byte digest of everything fed so far. After Finish() the
  // hasher is reset and may be reused for a new stream.
  // REQUIRES: the hasher has not been moved from.
  std::array<uint8_t, 32> Finish();

 private:
  evp_md_ctx_st* ctx_ = nullptr;  // owned
};

// Returns `n` bytes at `p` as lowercase hexadecimal (2n characters).
std::string HexLower(const uint8_t* p, size_t n);
std::string HexLower(std::string_view bytes);

// Decodes hexadecimal text (either case, even length) into bytes.
// Failure: Status::Invalid rule "hex" naming the offending position.
Result<std::string> HexDecode(std::string_view hex);

// Returns the SHA-256 of `bytes` as 64 lowercase hex characters.
std::string Sha256Hex(std::string_view bytes);

// Returns the SHA-256 of `bytes` as its 32 raw bytes.
std::string Sha256Raw(std::string_view bytes);

}  // namespace signals
