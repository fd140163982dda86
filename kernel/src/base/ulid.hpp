// ULIDs: the identifiers of graphs, batches and provenance records (kernel/README.md#identifiers). 128 bits =
// 48-bit big-endian Unix milliseconds + 80 random bits, written as 26 Crockford base32 characters, first
// character 0-7.
//
// Ulid is an immutable value (thread-safe to share). UlidGenerator is safe for
// concurrent use: one mutex guards its "last issued" state so that ids from one
// generator are strictly increasing, even within a millisecond.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.hpp"

namespace signals {

class Ulid {
 public:
  using Bytes = std::array<uint8_t, 16>;

  // The all-zero ULID "00000000000000000000000000".
  Ulid() = default;
  explicit Ulid(const Bytes& bytes) : bytes_(bytes) {}

  // Parses a 26-character Crockford base32 ULID, case-insensitively.
  // Failure: Status::Invalid rule "ulid" whose message says "data size" (not
  // 26 characters), "invalid characters" (outside the Crockford alphabet; I, L,
  // O and U are not accepted) or "overflow" (first character above '7', the
  // value would exceed 128 bits).
  static Result<Ulid> Parse(std::string_view text);

  // Returns the first `len` characters' worth (the low-order `len` base32
  // digits) of `ms` in Crockford base32, zero-padded on the left. ULIDs use
  // len == 10. Failure: Status::Invalid rule "ulid" when ms >= 2^48.
  static Result<std::string> EncodeTime(uint64_t ms, size_t len);

  // The canonical 26-character uppercase form.
  std::string ToString() const;
  // The 48-bit timestamp in Unix milliseconds.
  uint64_t TimeMs() const;
  const Bytes& bytes() const { return bytes_; }

  friend bool operator==(const Ulid&, const Ulid&) = default;
  // Byte order equals string order equals creation order (for one generator).
  friend auto operator<=>(const Ulid&, const Ulid&) = default;

 private:
  Bytes bytes_{};
};

// The largest timestamp a ULID can carry: 2^48 - 1 ms.
inline constexpr uint64_t kUlidMaxTimeMs = (uint64_t{1} << 48) - 1;

class UlidGenerator {
 public:
  UlidGenerator() = default;
  // Continues after `last_issued`: the next id in the same (or an earlier)
  // millisecond is last_issued's random part + 1. Lets a restarted process, or
  // a test, resume a monotonic sequence.
  explicit UlidGenerator(const Ulid& last_issued) : last_(last_issued) {}

  UlidGenerator(const UlidGenerator&) = delete;
  UlidGenerator& operator=(const UlidGenerator&) = delete;

  // Returns a new ULID for `now_ms`. When now_ms is later than the last issued
  // id's time, the 80 random bits come fresh from OpenSSL RAND_bytes. When it
  // is the same or earlier (clock stall or step back), the last id's time is
  // kept and its random part incremented by one, so ids never go backwards.
  // Failure: Status::Invalid rule "ulid" when now_ms >= 2^48 or the random
  // part would overflow within one millisecond; Status::Internal when the
  // OpenSSL random generator fails.
  Result<Ulid> Next(uint64_t now_ms);

 private:
  std::mutex mu_;
  std::optional<Ulid> last_;  // guarded by mu_
};

// Returns Ok when `s` is a valid ULID; otherwise the Status::Invalid from
// Ulid::Parse (rule "ulid") with its field set to `field`.
Status ValidateUlid(std::string_view s, std::string_view field);

}  // namespace signals
