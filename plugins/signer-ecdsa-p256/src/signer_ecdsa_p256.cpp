// signer_ecdsa_p256.cpp — the signer-ecdsa-p256 plugin: holds one ECDSA P-256
// private key and signs with it through OpenSSL 3 EVP (SHA-256, DER
// signatures).
//
// The key lives in the SDK's PEM key store (signals/support/pem_key_store.hpp,
// the same layout as signer-ed25519):
//   {key_dir}/{key_id}.key.pem   PKCS#8 "PRIVATE KEY", mode 0600
//   {key_dir}/{key_id}.pub.pem   SubjectPublicKeyInfo "PUBLIC KEY", mode 0644
// Both are the files `openssl genpkey -algorithm EC -pkeyopt
// ec_paramgen_curve:P-256` / `openssl pkey -pubout` write. `key_file` points
// at an explicit private key instead. This file holds the P-256 half:
// generating, decoding and comparing keys.
//
// Thread-safety: after construction an instance is immutable; an EVP_PKEY may
// be used by many threads at once as long as none modifies it, and every
// Sign() uses its own EVP_MD_CTX, so the component declares
// SIGNALS_CAP_CONCURRENT. Key material never reaches a log line or an error
// message; buffers that held it are cleansed.
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <signals/plugin.hpp>
#include <signals/support/pem_key_store.hpp>

#include <memory>
#include <string>

namespace signals::signer_ecdsa_p256 {
namespace {

namespace sdk = signals::sdk;
namespace support = signals::support;

// Frees an OpenSSL object with `Free`, for std::unique_ptr.
template <auto Free>
struct OpensslFree {
  template <typename T>
  void operator()(T* p) const {
    Free(p);
  }
};
using Pkey = std::unique_ptr<EVP_PKEY, OpensslFree<EVP_PKEY_free>>;
using Bio = std::unique_ptr<BIO, OpensslFree<BIO_free>>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, OpensslFree<EVP_MD_CTX_free>>;
using PkeyCtx = std::unique_ptr<EVP_PKEY_CTX, OpensslFree<EVP_PKEY_CTX_free>>;
using Pkcs8 = std::unique_ptr<PKCS8_PRIV_KEY_INFO, OpensslFree<PKCS8_PRIV_KEY_INFO_free>>;

// Our own failures must not leave entries in the thread's OpenSSL error queue.
std::string TakeOpensslError() {
  unsigned long e = ERR_peek_last_error();
  std::string text = e == 0                       ? "unknown OpenSSL error"
                     : ERR_reason_error_string(e) ? ERR_reason_error_string(e)
                                                  : "OpenSSL error";
  ERR_clear_error();
  return text;
}

// Never prompts for a passphrase (the default callback would read the tty).
int NoPassphrase(char*, int, int, void*) { return -1; }

// One ECDSA P-256 key pair as an EVP_PKEY.
class EcdsaP256Key final : public support::PemKey {
 public:
  static constexpr support::PemSignerNames kNames{"signer-ecdsa-p256",
                                                  "Signs with an ECDSA P-256 key (OpenSSL, SHA-256, DER "
                                                  "signatures) kept as PKCS#8 PEM in a key directory.",
                                                  "ECDSA-P256-SHA256",
                                                  "ECDSA P-256",
                                                  "ecdsa-p256",
                                                  "-algorithm EC -pkeyopt ec_paramgen_curve:P-256",
                                                  "signals-ecdsa-p256"};

  void Generate(std::string* private_pem) override {
    Pkey key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
    Bio pem(BIO_new(BIO_s_secmem()));  // cleansed when freed
    if (!key || !pem ||
        PEM_write_bio_PrivateKey(pem.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
      throw sdk::Error(SIGNALS_ERROR, "cannot create signing key '" + key_id() +
                                          "': key generation failed: " + TakeOpensslError());
    }
    char* data = nullptr;
    long len = BIO_get_mem_data(pem.get(), &data);
    private_pem->assign(data, static_cast<size_t>(len));
    UseKey(std::move(key));
  }

  Decoded Use(const std::string& pem, std::string* problem) override {
    Pkey key = DecodePrivateKey(pem, problem);
    if (!key) return Decoded::kNotThisKind;
    PkeyCtx check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
    if (!check || EVP_PKEY_pairwise_check(check.get()) != 1) {
      ERR_clear_error();
      return Decoded::kMismatchedPublicKey;
    }
    UseKey(std::move(key));
    return Decoded::kOk;
  }

  bool HasPublicKey(const std::string& text) const override {
    Bio in(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
    Pkey stored(in ? PEM_read_bio_PUBKEY(in.get(), nullptr, &NoPassphrase, nullptr) : nullptr);
    ERR_clear_error();
    bool same = stored && EVP_PKEY_eq(stored.get(), key_.get()) == 1;
    ERR_clear_error();
    return same;
  }

  std::string Sign(const uint8_t* message, size_t len) const {
    static const uint8_t kEmpty = 0;  // the ABI allows a null pointer with length 0
    MdCtx ctx(EVP_MD_CTX_new());
    size_t size = 0;
    std::string signature;
    bool ok = ctx && EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_.get()) == 1 &&
              EVP_DigestSign(ctx.get(), nullptr, &size, nullptr, 0) == 1;
    if (ok) {
      signature.resize(size);
      ok = EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &size,
                          len == 0 ? &kEmpty : message, len) == 1;
    }
    if (!ok) {
      throw sdk::Error(SIGNALS_ERROR,
                       "ECDSA P-256 signing failed for key '" + key_id() + "': " + TakeOpensslError());
    }
    signature.resize(size);
    return signature;
  }

 private:
  // Decodes the first PEM block of `text` as an unencrypted PKCS#8 P-256 key;
  // on failure returns null and says what was found in *problem.
  static Pkey DecodePrivateKey(const std::string& text, std::string* problem) {
    Bio in(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
    char* label = nullptr;
    char* header = nullptr;
    unsigned char* der = nullptr;
    long der_len = 0;
    // PEM_FLAG_SECURE: the decoded DER lives on the secure heap (cleansed when freed).
    if (!in || PEM_read_bio_ex(in.get(), &label, &header, &der, &der_len, PEM_FLAG_SECURE) != 1) {
      bool no_pem = ERR_GET_REASON(ERR_peek_last_error()) == PEM_R_NO_START_LINE;
      std::string why = TakeOpensslError();
      *problem = no_pem ? "not a PEM file (no BEGIN line)" : "malformed PEM: " + why;
      return nullptr;
    }
    const std::string found = label;
    OPENSSL_secure_free(label);
    OPENSSL_secure_free(header);
    std::unique_ptr<unsigned char, void (*)(unsigned char*)> der_owner(
        der, [](unsigned char* p) { OPENSSL_secure_free(p); });
    Pkey key;
    if (found != "PRIVATE KEY") {
      OPENSSL_cleanse(der, static_cast<size_t>(der_len));
      *problem = "found a '" + found + "' PEM block; expected an unencrypted PKCS#8 'PRIVATE KEY' (" +
                 (found == "ENCRYPTED PRIVATE KEY" ? "decrypt" : "convert") +
                 " it with `openssl pkey -in <file> -out <new file>`)";
      return nullptr;
    }
    const unsigned char* p = der;
    Pkcs8 p8(d2i_PKCS8_PRIV_KEY_INFO(nullptr, &p, der_len));
    OPENSSL_cleanse(der, static_cast<size_t>(der_len));
    if (!p8) {
      ERR_clear_error();
      *problem = "malformed PKCS#8 DER";
      return nullptr;
    }
    const ASN1_OBJECT* oid = nullptr;
    PKCS8_pkey_get0(&oid, nullptr, nullptr, nullptr, p8.get());
    if (OBJ_obj2nid(oid) != NID_X9_62_id_ecPublicKey) {
      char dotted[128] = "?";
      OBJ_obj2txt(dotted, sizeof(dotted), oid, 1);
      const char* name = OBJ_nid2sn(OBJ_obj2nid(oid));
      *problem = std::string("the key is ") + (name ? name : "an unknown algorithm") + " (" + dotted +
                 "), not EC P-256 (id-ecPublicKey 1.2.840.10045.2.1 on prime256v1)";
      return nullptr;
    }
    key.reset(EVP_PKCS82PKEY(p8.get()));
    if (!key) {
      *problem = "cannot decode the EC key: " + TakeOpensslError();
      return nullptr;
    }
    char curve[80] = {0};
    size_t curve_len = 0;
    if (EVP_PKEY_get_utf8_string_param(key.get(), OSSL_PKEY_PARAM_GROUP_NAME, curve, sizeof(curve),
                                       &curve_len) != 1) {
      ERR_clear_error();
      *problem =
          "the key is an EC key with explicit curve parameters, not the named curve P-256 (prime256v1)";
      return nullptr;
    }
    if (OBJ_txt2nid(curve) != NID_X9_62_prime256v1) {
      *problem = std::string("the key is an EC key on curve ") + curve + ", not P-256 (prime256v1)";
      return nullptr;
    }
    return key;
  }

  // Takes `key` as the signing key and derives the public key PEM from it.
  void UseKey(Pkey key) {
    Bio out(BIO_new(BIO_s_mem()));
    char* data = nullptr;
    if (!out || PEM_write_bio_PUBKEY(out.get(), key.get()) != 1) {
      throw sdk::Error(SIGNALS_ERROR,
                       "cannot encode the public key of '" + key_id() + "': " + TakeOpensslError());
    }
    long len = BIO_get_mem_data(out.get(), &data);
    set_public_key_pem(std::string(data, static_cast<size_t>(len)));
    key_ = std::move(key);
  }

  Pkey key_;
};

using EcdsaP256Signer = support::PemKeySigner<EcdsaP256Key>;

}  // namespace
}  // namespace signals::signer_ecdsa_p256

SIGNALS_PLUGIN("signer-ecdsa-p256", "1.0.0", "ECDSA P-256 signer for Signals (OpenSSL)",
               signals::signer_ecdsa_p256::EcdsaP256Signer)
