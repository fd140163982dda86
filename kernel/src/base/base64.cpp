// RFC 4648 base64 / base64url. See base64.hpp.
#include "base/base64.hpp"

#include <cstdint>

namespace signals {
namespace {

constexpr char kStandardAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kUrlAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string Encode(std::string_view bytes, const char* alphabet, bool pad) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t n = (static_cast<uint8_t>(bytes[i]) << 16) | (static_cast<uint8_t>(bytes[i + 1]) << 8) |
                 static_cast<uint8_t>(bytes[i + 2]);
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    out += alphabet[(n >> 6) & 63];
    out += alphabet[n & 63];
  }
  size_t rest = bytes.size() - i;
  if (rest == 1) {
    uint32_t n = static_cast<uint8_t>(bytes[i]) << 16;
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    if (pad) out += "==";
  } else if (rest == 2) {
    uint32_t n = (static_cast<uint8_t>(bytes[i]) << 16) | (static_cast<uint8_t>(bytes[i + 1]) << 8);
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    out += alphabet[(n >> 6) & 63];
    if (pad) out += '=';
  }
  return out;
}

// 6-bit value of a character in either alphabet, or -1. '+' and '-' both mean
// 62, '/' and '_' both 63, so one table serves standard and URL-safe input.
int SextetValue(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}

Status Base64Invalid(std::string message) { return Status::Invalid("base64", "", std::move(message)); }

}  // namespace

std::string Base64Encode(std::string_view bytes) { return Encode(bytes, kStandardAlphabet, true); }

std::string Base64UrlEncode(std::string_view bytes) { return Encode(bytes, kUrlAlphabet, false); }

Result<std::string> Base64Decode(std::string_view text) {
  size_t data_len = text.size();
  while (data_len > 0 && text[data_len - 1] == '=') --data_len;
  size_t padding = text.size() - data_len;
  if (padding > 2) {
    return Base64Invalid("base64: more than two '=' padding characters");
  }
  if (padding > 0 && text.size() % 4 != 0) {
    return Base64Invalid("base64: padded input must be a multiple of 4 characters, got " +
                         std::to_string(text.size()));
  }
  if (data_len % 4 == 1) {
    // One leftover character carries only 6 bits: no byte string encodes to it.
    return Base64Invalid("base64: truncated input: " + std::to_string(data_len) +
                         " characters cannot encode whole bytes");
  }
  std::string out;
  out.reserve(data_len * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < data_len; ++i) {
    int v = SextetValue(text[i]);
    if (v < 0) {
      if (text[i] == '=')
        return Base64Invalid("base64: '=' padding inside the data at position " + std::to_string(i));
      return Base64Invalid("base64: invalid character at position " + std::to_string(i) + " (byte 0x" +
                           "0123456789abcdef"[static_cast<uint8_t>(text[i]) >> 4] +
                           "0123456789abcdef"[static_cast<uint8_t>(text[i]) & 15] + ")");
    }
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

}  // namespace signals
