// SHA-256 stream hashing over OpenSSL EVP. See sha256.hpp.
#include "base/sha256.hpp"

#include <openssl/evp.h>

#include <cstdio>
#include <cstdlib>
#include <utility>

namespace signals {
namespace {

// A failing EVP call on SHA-256 means memory exhaustion or a broken libcrypto;
// there is no meaningful way to continue hashing, so stop loudly.
[[noreturn]] void DieOnOpenSslFailure(const char* what) {
  std::fprintf(stderr, "signals: OpenSSL SHA-256 failure in %s\n", what);
  std::abort();
}

void InitSha256(EVP_MD_CTX* ctx) {
  if (EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) != 1) DieOnOpenSslFailure("EVP_DigestInit_ex");
}

}  // namespace

Sha256Hasher::Sha256Hasher() : ctx_(EVP_MD_CTX_new()) {
  if (ctx_ == nullptr) DieOnOpenSslFailure("EVP_MD_CTX_new");
  InitSha256(ctx_);
}

Sha256Hasher::~Sha256Hasher() { EVP_MD_CTX_free(ctx_); }

Sha256Hasher::Sha256Hasher(Sha256Hasher&& other) noexcept : ctx_(std::exchange(other.ctx_, nullptr)) {}

Sha256Hasher& Sha256Hasher::operator=(Sha256Hasher&& other) noexcept {
  if (this != &other) {
    EVP_MD_CTX_free(ctx_);
    ctx_ = std::exchange(other.ctx_, nullptr);
  }
  return *this;
}

void Sha256Hasher::Update(const void* data, size_t len) {
  if (len == 0) return;
  if (EVP_DigestUpdate(ctx_, data, len) != 1) DieOnOpenSslFailure("EVP_DigestUpdate");
}

void Sha256Hasher::Update(std::string_view bytes) { Update(bytes.data(), bytes.size()); }

std::array<uint8_t, 32> Sha256Hasher::Finish() {
  std::array<uint8_t, 32> out{};
  unsigned int written = 0;
  if (EVP_DigestFinal_ex(ctx_, out.data(), &written) != 1 || written != out.size()) {
    DieOnOpenSslFailure("EVP_DigestFinal_ex");
  }
  InitSha256(ctx_);  // ready for the next stream
  return out;
}

std::string HexLower(const uint8_t* p, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(n * 2, '\0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[p[i] >> 4];
    out[2 * i + 1] = kDigits[p[i] & 0x0f];
  }
  return out;
}

std::string HexLower(std::string_view bytes) {
  return HexLower(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

Result<std::string> HexDecode(std::string_view hex) {
  if (hex.size() % 2 != 0) {
    return Status::Invalid("hex", "", "odd number of hex digits (" + std::to_string(hex.size()) + ")");
  }
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out(hex.size() / 2, '\0');
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = nibble(hex[i]);
    int lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) {
      return Status::Invalid("hex", "", "not a hex digit at position " + std::to_string(hi < 0 ? i : i + 1));
    }
    out[i / 2] = static_cast<char>((hi << 4) | lo);
  }
  return out;
}

std::string Sha256Raw(std::string_view bytes) {
  Sha256Hasher hasher;
  hasher.Update(bytes);
  auto raw = hasher.Finish();
  return std::string(reinterpret_cast<const char*>(raw.data()), raw.size());
}

std::string Sha256Hex(std::string_view bytes) {
  Sha256Hasher hasher;
  hasher.Update(bytes);
  auto raw = hasher.Finish();
  return HexLower(raw.data(), raw.size());
}

}  // namespace signals
