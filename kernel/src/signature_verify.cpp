// Algorithm-agnostic signature verification. See signature_verify.hpp.
#include "signature_verify.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <climits>
#include <memory>

namespace signals {
namespace {

constexpr const char* kEd25519 = "Ed25519";
constexpr const char* kEcdsaP256 = "ECDSA-P256-SHA256";

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
struct BioFree {
  void operator()(BIO* p) const { BIO_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

Status KeyInvalid(std::string message) { return Status::Invalid("signature", "publicKey", std::move(message)); }

// Failed OpenSSL calls leave entries on the thread's error queue; drop them so
// they are not misattributed to a later, unrelated OpenSSL call.
template <typename T>
T ClearingErrors(T value) {
  ERR_clear_error();
  return value;
}

Result<PkeyPtr> ReadPublicKey(std::string_view pem) {
  if (pem.size() > INT_MAX) return KeyInvalid("not a PEM public key (too large)");
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return Status::Internal("OpenSSL could not allocate a BIO");
  PkeyPtr key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return ClearingErrors(KeyInvalid("not a PEM public key"));
  return key;
}

// Maps the key to one of the supported algorithms, or explains why not.
Result<std::string> AlgorithmOf(EVP_PKEY* key) {
  if (EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519) return std::string(kEd25519);
  if (EVP_PKEY_get_base_id(key) == EVP_PKEY_EC) {
    char group[64] = {0};
    size_t group_len = 0;
    if (EVP_PKEY_get_group_name(key, group, sizeof group, &group_len) != 1) {
      return ClearingErrors(KeyInvalid("unsupported key type EC (curve unknown)"));
    }
    std::string_view curve(group, group_len);
    if (curve == "prime256v1" || curve == "P-256" || curve == "secp256r1") return std::string(kEcdsaP256);
    return KeyInvalid("unsupported key type EC " + std::string(curve));
  }
  const char* name = EVP_PKEY_get0_type_name(key);
  return KeyInvalid(std::string("unsupported key type ") + (name != nullptr ? name : "unknown"));
}

}  // namespace

Status VerifySignature(std::string_view public_key_pem, std::string_view message, std::string_view signature) {
  auto key = ReadPublicKey(public_key_pem);
  if (!key.ok()) return key.status();
  auto algorithm = AlgorithmOf(key->get());
  if (!algorithm.ok()) return algorithm.status();

  auto does_not_verify = [](std::string detail) {
    return Status::Invalid("signature", "signature", "signature does not verify" + detail);
  };
  if (*algorithm == kEd25519 && signature.size() != 64) {
    return does_not_verify(" (Ed25519 signatures are 64 bytes, got " + std::to_string(signature.size()) + ")");
  }
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  if (!ctx) return Status::Internal("OpenSSL could not allocate a digest context");
  // Ed25519 hashes internally (PureEdDSA) and must be given no digest.
  const EVP_MD* md = *algorithm == kEd25519 ? nullptr : EVP_sha256();
  if (EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, key->get()) != 1) {
    return ClearingErrors(Status::Internal("OpenSSL could not initialise verification"));
  }
  int rc = EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                            reinterpret_cast<const unsigned char*>(message.data()), message.size());
  // 0 is a wrong signature; a negative value is a malformed one (e.g. bad DER).
  // Both mean the same thing to the caller.
  if (rc != 1) return ClearingErrors(does_not_verify(""));
  return Status::Ok();
}

Result<std::string> PublicKeyAlgorithm(std::string_view public_key_pem) {
  auto key = ReadPublicKey(public_key_pem);
  if (!key.ok()) return key.status();
  return AlgorithmOf(key->get());
}

}  // namespace signals
