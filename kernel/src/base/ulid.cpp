// ULID parsing, formatting and monotonic generation. See ulid.hpp.
#include "base/ulid.hpp"

#include <openssl/rand.h>

namespace signals {
namespace {

constexpr char kCrockfordAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
constexpr size_t kUlidTextLength = 26;
constexpr size_t kTimeBytes = 6;

// Maps a character to its 5-bit value, or -1. Case-insensitive; the Crockford
// aliases I/L/O are deliberately rejected so that an id has one spelling.
int CrockfordValue(char c) {
  if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  for (int i = 0; i < 32; ++i) {
    if (kCrockfordAlphabet[i] == c) return i;
  }
  return -1;
}

Status UlidInvalid(std::string message) { return Status::Invalid("ulid", "", std::move(message)); }

}  // namespace

Result<Ulid> Ulid::Parse(std::string_view text) {
  if (text.size() != kUlidTextLength) {
    return UlidInvalid("ulid: bad data size: expected 26 characters, got " + std::to_string(text.size()));
  }
  // 26 base32 digits hold 130 bits; shift them through a 128-bit (hi, lo) pair.
  uint64_t hi = 0;
  uint64_t lo = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    int v = CrockfordValue(text[i]);
    if (v < 0) {
      return UlidInvalid("ulid: invalid characters: position " + std::to_string(i) +
                         " is not in the Crockford base32 alphabet");
    }
    if (i == 0 && v > 7) {
      // The top two of 130 bits must be zero, i.e. the first digit is 0-7.
      return UlidInvalid("ulid: overflow: first character must be 0-7, value exceeds 128 bits");
    }
    hi = (hi << 5) | (lo >> 59);
    lo = (lo << 5) | static_cast<uint64_t>(v);
  }
  Bytes bytes{};
  for (int i = 0; i < 8; ++i) {
    bytes[i] = static_cast<uint8_t>(hi >> (56 - 8 * i));
    bytes[8 + i] = static_cast<uint8_t>(lo >> (56 - 8 * i));
  }
  return Ulid(bytes);
}

Result<std::string> Ulid::EncodeTime(uint64_t ms, size_t len) {
  if (ms > kUlidMaxTimeMs) {
    return UlidInvalid("ulid: time " + std::to_string(ms) + " ms exceeds the 48-bit maximum " +
                       std::to_string(kUlidMaxTimeMs));
  }
  std::string out(len, '0');
  for (size_t i = len; i > 0; --i) {
    out[i - 1] = kCrockfordAlphabet[ms % 32];
    ms /= 32;
  }
  return out;
}

std::string Ulid::ToString() const {
  uint64_t hi = 0;
  uint64_t lo = 0;
  for (int i = 0; i < 8; ++i) {
    hi = (hi << 8) | bytes_[i];
    lo = (lo << 8) | bytes_[8 + i];
  }
  std::string out(kUlidTextLength, '0');
  for (size_t i = 0; i < kUlidTextLength; ++i) {
    unsigned shift = static_cast<unsigned>(5 * (kUlidTextLength - 1 - i));  // bit offset of digit i
    uint64_t digit;
    if (shift >= 64) {
      digit = hi >> (shift - 64);
    } else {
      digit = lo >> shift;
      if (shift > 59) digit |= hi << (64 - shift);  // digit straddles the halves
    }
    out[i] = kCrockfordAlphabet[digit & 31];
  }
  return out;
}

uint64_t Ulid::TimeMs() const {
  uint64_t ms = 0;
  for (size_t i = 0; i < kTimeBytes; ++i) ms = (ms << 8) | bytes_[i];
  return ms;
}

Result<Ulid> UlidGenerator::Next(uint64_t now_ms) {
  if (now_ms > kUlidMaxTimeMs) {
    return UlidInvalid("ulid: time " + std::to_string(now_ms) + " ms exceeds the 48-bit maximum");
  }
  std::lock_guard<std::mutex> lock(mu_);
  Ulid::Bytes bytes{};
  if (last_.has_value() && now_ms <= last_->TimeMs()) {
    // Same (or an earlier) millisecond: last + 1 in the random part keeps order.
    bytes = last_->bytes();
    size_t i = bytes.size();
    while (i > kTimeBytes) {
      --i;
      if (++bytes[i] != 0) break;  // no carry out of this byte
      if (i == kTimeBytes) {
        return UlidInvalid("ulid: monotonic random part overflowed within millisecond " +
                           std::to_string(last_->TimeMs()));
      }
    }
  } else {
    for (size_t i = 0; i < kTimeBytes; ++i) {
      bytes[i] = static_cast<uint8_t>(now_ms >> (8 * (kTimeBytes - 1 - i)));
    }
    if (RAND_bytes(bytes.data() + kTimeBytes, static_cast<int>(bytes.size() - kTimeBytes)) != 1) {
      return Status::Internal("ulid: OpenSSL RAND_bytes failed");
    }
  }
  last_ = Ulid(bytes);
  return *last_;
}

Status ValidateUlid(std::string_view s, std::string_view field) {
  auto parsed = Ulid::Parse(s);
  if (parsed.ok()) return Status::Ok();
  return parsed.status().WithField(std::string(field));
}

}  // namespace signals
