// Algorithm-agnostic signature verification. See signature_verify.hpp.
#include "attest/signature_verify.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

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
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

Status KeyInvalid(std::string message) {
  return Status::Invalid("signature", "publicKey", std::move(message));
}

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

Status VerifySignature(std::string_view public_key_pem, std::string_view message,
                       std::string_view signature) {
  auto key = ReadPublicKey(public_key_pem);
  if (!key.ok()) return key.status();
  auto algorithm = AlgorithmOf(key->get());
  if (!algorithm.ok()) return algorithm.status();

  auto does_not_verify = [](std::string detail) {
    return Status::Invalid("signature", "signature", "signature does not verify" + detail);
  };
  if (*algorithm == kEd25519 && signature.size() != 64) {
    return does_not_verify(" (Ed25519 signatures are 64 bytes, got " + std::to_string(signature.size()) +
                           ")");
  }
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  if (!ctx) return Status::Internal("OpenSSL could not allocate a digest context");
  // Ed25519 hashes internally (PureEdDSA) and must be given no digest.
  const EVP_MD* md = *algorithm == kEd25519 ? nullptr : EVP_sha256();
  if (EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, key->get()) != 1) {
    return ClearingErrors(Status::Internal("OpenSSL could not initialise verification"));
  }
  int rc =
      EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                       reinterpret_cast<const unsigned char*>(message.data()), message.size());
  // 0 is a wrong signature; a negative value is a malformed one (e.g. bad DER).
  // Both mean the same thing to the caller.
  if (rc != 1) return ClearingErrors(does_not_verify(""));
  return Status::Ok();
}

Status VerifyDigestSignature(std::string_view public_key_pem, std::string_view digest,
                             std::string_view signature) {
  auto key = ReadPublicKey(public_key_pem);
  if (!key.ok()) return key.status();
  auto algorithm = AlgorithmOf(key->get());
  if (!algorithm.ok()) return algorithm.status();
  if (*algorithm == kEd25519) return KeyInvalid("an Ed25519 key cannot verify a pre-hashed message");
  if (digest.size() != 32) {
    return Status::Invalid("signature", "digest",
                           "digest is " + std::to_string(digest.size()) + " bytes, expected 32");
  }
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> ctx(EVP_PKEY_CTX_new(key->get(), nullptr));
  if (!ctx) return Status::Internal("OpenSSL could not allocate a key context");
  if (EVP_PKEY_verify_init(ctx.get()) != 1 || EVP_PKEY_CTX_set_signature_md(ctx.get(), EVP_sha256()) != 1) {
    return ClearingErrors(Status::Internal("OpenSSL could not initialise verification"));
  }
  int rc =
      EVP_PKEY_verify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                      reinterpret_cast<const unsigned char*>(digest.data()), digest.size());
  if (rc != 1) return ClearingErrors(Status::Invalid("signature", "signature", "signature does not verify"));
  return Status::Ok();
}

Result<std::string> PublicKeyDer(std::string_view public_key_pem) {
  auto key = ReadPublicKey(public_key_pem);
  if (!key.ok()) return key.status();
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(key->get(), &der);
  if (len <= 0) return ClearingErrors(Status::Internal("OpenSSL could not encode the public key"));
  std::string out(reinterpret_cast<const char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

Result<std::string> CertificatePublicKeyPem(std::string_view certificate_der) {
  auto invalid = [](std::string message) {
    return Status::Invalid("signature", "certificate", std::move(message));
  };
  if (certificate_der.size() > INT_MAX) return invalid("not a DER certificate (too large)");
  const auto* p = reinterpret_cast<const unsigned char*>(certificate_der.data());
  std::unique_ptr<X509, X509Free> cert(d2i_X509(nullptr, &p, static_cast<long>(certificate_der.size())));
  if (!cert) return ClearingErrors(invalid("not a DER X.509 certificate"));
  EVP_PKEY* key = X509_get0_pubkey(cert.get());  // owned by the certificate
  if (key == nullptr) return ClearingErrors(invalid("the certificate's public key cannot be read"));
  std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key) != 1) {
    return ClearingErrors(Status::Internal("OpenSSL could not write a PEM public key"));
  }
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

Result<std::string> PublicKeyAlgorithm(std::string_view public_key_pem) {
  auto key = ReadPublicKey(public_key_pem);
  if (!key.ok()) return key.status();
  return AlgorithmOf(key->get());
}

}  // namespace signals
