// signer_ecdsa_p256.cpp — the signer-ecdsa-p256 plugin: holds one ECDSA P-256
// private key and signs with it through OpenSSL 3 EVP (SHA-256, DER
// signatures).
//
// Key store layout (the kernel and signalsctl rely on it; same as signer-ed25519):
//   {key_dir}/{key_id}.key.pem   PKCS#8 "PRIVATE KEY", mode 0600
//   {key_dir}/{key_id}.pub.pem   SubjectPublicKeyInfo "PUBLIC KEY", mode 0644
// Both are the files `openssl genpkey -algorithm EC -pkeyopt
// ec_paramgen_curve:P-256` / `openssl pkey -pubout` write. `key_file` points
// at an explicit private key instead.
//
// Thread-safety: after construction an instance is immutable; an EVP_PKEY may
// be used by many threads at once as long as none modifies it, and every
// Sign() uses its own EVP_MD_CTX, so the component declares
// SIGNALS_CAP_CONCURRENT. Key material never reaches a log line or an error
// message; buffers that held it are cleansed.
#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <signals/plugin.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <memory>
#include <string>

#include "key_file_writer.hpp"

namespace signals::signer_ecdsa_p256 {
namespace {

namespace sdk = signals::sdk;

constexpr mode_t kPrivateKeyMode = 0600;
constexpr mode_t kPublicKeyMode = 0644;
constexpr mode_t kKeyDirMode = 0700;
constexpr off_t kMaxKeyFileBytes = 64 * 1024;

struct PkeyFree { void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); } };
struct BioFree { void operator()(BIO* b) const { BIO_free(b); } };
struct MdCtxFree { void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); } };
struct PkeyCtxFree { void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); } };
struct P8Free { void operator()(PKCS8_PRIV_KEY_INFO* p) const { PKCS8_PRIV_KEY_INFO_free(p); } };
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using Bio = std::unique_ptr<BIO, BioFree>;

// A string holding secret bytes, cleansed when it goes out of scope.
struct SecretText {
  std::string text;
  ~SecretText() { OPENSSL_cleanse(text.data(), text.size()); }
};

// Our own failures must not leave entries in the thread's OpenSSL error queue.
std::string TakeOpensslError() {
  unsigned long e = ERR_peek_last_error();
  std::string text = e == 0 ? "unknown OpenSSL error" : ERR_reason_error_string(e) ? ERR_reason_error_string(e) : "OpenSSL error";
  ERR_clear_error();
  return text;
}

bool IsValidKeyId(const std::string& id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string Resolve(const std::string& path, const sdk::Config& config) {
  if (path.empty() || path.front() == '/' || config.data_dir().empty()) return path;
  return config.data_dir() + "/" + path;
}

// Never prompts for a passphrase (the default callback would read the tty).
int NoPassphrase(char*, int, int, void*) { return -1; }

class EcdsaP256Signer final : public sdk::SignerComponent {
 public:
  static constexpr const char* kName = "signer-ecdsa-p256";
  static constexpr const char* kDescription =
      "Signs with an ECDSA P-256 key (OpenSSL, SHA-256, DER signatures) kept as PKCS#8 PEM in a "
      "key directory.";
  static constexpr uint64_t kCapabilities = SIGNALS_CAP_CONCURRENT;

  static sdk::OptionList Options() { return sdk::MakeOptionList(kOptions); }

  EcdsaP256Signer(const sdk::Host& host, const sdk::Config& config) : host_(host) {
    key_id_ = config.Get("key_id");
    if (!IsValidKeyId(key_id_)) {
      throw sdk::Error(SIGNALS_INVALID_CONFIG,
                       "key_id '" + key_id_ + "' must match [A-Za-z0-9._-]{1,128}");
    }
    const std::string key_file = Resolve(config.GetOr("key_file", ""), config);
    if (!key_file.empty()) {
      LoadExplicitKeyFile(key_file);
    } else {
      const std::string key_dir = Resolve(config.Get("key_dir"), config);
      if (key_dir.empty()) throw sdk::Error(SIGNALS_INVALID_CONFIG, "key_dir must not be empty");
      LoadOrCreateInKeyDir(key_dir, config.GetBool("create_if_missing"));
    }
  }

  EcdsaP256Signer(const EcdsaP256Signer&) = delete;
  EcdsaP256Signer& operator=(const EcdsaP256Signer&) = delete;

  const std::string& Algorithm() const override { return algorithm_; }
  const std::string& KeyId() const override { return key_id_; }
  std::string PublicKeyPem() const override { return public_key_pem_; }

  std::string Sign(const uint8_t* message, size_t len) override {
    static const uint8_t kEmpty = 0;  // the ABI allows a null pointer with length 0
    std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
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
      throw sdk::Error(SIGNALS_ERROR, "ECDSA P-256 signing failed for key '" + key_id_ + "': " +
                                          TakeOpensslError());
    }
    signature.resize(size);
    return signature;
  }

 private:
  static constexpr signals_option kOptions[] = {
      sdk::Option("key_dir", SIGNALS_OPT_PATH, "keys",
                  "Directory of the key store: {key_id}.key.pem (private, 0600) and "
                  "{key_id}.pub.pem."),
      sdk::Option("key_id", SIGNALS_OPT_STRING, "signals-ecdsa-p256",
                  "Name of the key, [A-Za-z0-9._-]{1,128}; names the files and is recorded as "
                  "keyid in signatures."),
      sdk::Option("key_file", SIGNALS_OPT_PATH, nullptr,
                  "Explicit PKCS#8 PEM private key file; when set, key_dir is not used and no "
                  "key is created."),
      sdk::Option("create_if_missing", SIGNALS_OPT_BOOL, "false",
                  "Generate the key in key_dir when it does not exist (first start, tests)."),
  };

  void LoadExplicitKeyFile(const std::string& path) {
    if (!Exists(path)) {
      throw sdk::Error(SIGNALS_INVALID_CONFIG,
                       "signing key '" + key_id_ + "' not found at " + path +
                           " (key_file; create_if_missing does not apply to it); create one with "
                           "`openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out " +
                           path + "`");
    }
    LoadPrivateKey(path);
  }

  void LoadOrCreateInKeyDir(const std::string& key_dir, bool create_if_missing) {
    const std::string private_path = key_dir + "/" + key_id_ + ".key.pem";
    const std::string public_path = key_dir + "/" + key_id_ + ".pub.pem";
    if (!Exists(private_path)) {
      if (!create_if_missing) {
        throw sdk::Error(SIGNALS_INVALID_CONFIG,
                         "signing key '" + key_id_ + "' not found at " + private_path +
                             "; create one with `signalsctl keygen --alg ecdsa-p256 --key-id " +
                             key_id_ + "`");
      }
      if (Generate(key_dir, private_path, public_path)) return;
      // Lost a race with another process creating the same key: use theirs.
    }
    LoadPrivateKey(private_path);
    SyncPublicKeyFile(public_path, private_path);
  }

  // Creates a fresh key. Returns false when `private_path` appeared meanwhile.
  bool Generate(const std::string& key_dir, const std::string& private_path,
                const std::string& public_path) {
    try {
      MakeKeyDir(key_dir, kKeyDirMode);
      if (Exists(public_path)) {
        // Verifiers may already trust that public key; a new private key
        // under the same id would make every new signature look forged.
        throw sdk::Error(SIGNALS_INVALID_CONFIG,
                         "signing key '" + key_id_ + "': " + public_path +
                             " exists but its private key " + private_path +
                             " does not; restore the private key or choose another key_id");
      }
      Pkey key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
      Bio pem(BIO_new(BIO_s_secmem()));  // cleansed when freed
      if (!key || !pem ||
          PEM_write_bio_PrivateKey(pem.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
        throw sdk::Error(SIGNALS_ERROR, "cannot create signing key '" + key_id_ +
                                            "': key generation failed: " + TakeOpensslError());
      }
      if (!PublishNewFile(private_path, pem.get(), kPrivateKeyMode)) return false;
      UseKey(std::move(key));
      Bio pub(BIO_new_mem_buf(public_key_pem_.data(), static_cast<int>(public_key_pem_.size())));
      if (!pub || !PublishNewFile(public_path, pub.get(), kPublicKeyMode)) {
        SyncPublicKeyFile(public_path, private_path);
      }
    } catch (const KeyFileError& e) {
      throw sdk::Error(SIGNALS_ERROR,
                       "cannot create signing key '" + key_id_ + "' in " + key_dir + ": " + e.what());
    }
    host_.Warn("generated new ECDSA P-256 signing key '" + key_id_ + "' in " + key_dir);
    return true;
  }

  void LoadPrivateKey(const std::string& path) {
    SecretText file;
    mode_t mode = ReadKeyFile(path, &file.text);
    if ((mode & 077) != 0) {
      char text[16];
      std::snprintf(text, sizeof(text), "%04o", static_cast<unsigned>(mode));
      host_.Warn("private key file " + path + " is accessible by group or others (mode " + text +
                 "); run chmod 600 " + path);
    }
    std::string problem;
    Pkey key = DecodePrivateKey(file.text, &problem);
    if (!key) {
      throw sdk::Error(SIGNALS_INVALID_CONFIG, "signing key '" + key_id_ + "': " + path +
                                                   " is not an ECDSA P-256 PKCS#8 PEM private key: " +
                                                   problem);
    }
    std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree> check(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
    if (!check || EVP_PKEY_pairwise_check(check.get()) != 1) {
      ERR_clear_error();
      throw sdk::Error(SIGNALS_INVALID_CONFIG, "signing key '" + key_id_ + "': " + path +
                                                   " holds a public key that does not belong to "
                                                   "its private key");
    }
    UseKey(std::move(key));
    host_.Log(SIGNALS_LOG_DEBUG, "loaded ECDSA P-256 signing key '" + key_id_ + "' from " + path);
  }

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
    std::unique_ptr<PKCS8_PRIV_KEY_INFO, P8Free> p8(d2i_PKCS8_PRIV_KEY_INFO(nullptr, &p, der_len));
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
      *problem = "the key is an EC key with explicit curve parameters, not the named curve P-256 (prime256v1)";
      return nullptr;
    }
    if (OBJ_txt2nid(curve) != NID_X9_62_prime256v1) {
      *problem = std::string("the key is an EC key on curve ") + curve + ", not P-256 (prime256v1)";
      return nullptr;
    }
    return key;
  }

  // The public key file is derived data: write it when missing, refuse to
  // start when it names another key (verifiers read it).
  void SyncPublicKeyFile(const std::string& public_path, const std::string& private_path) {
    try {
      if (!Exists(public_path)) {
        Bio pub(BIO_new_mem_buf(public_key_pem_.data(), static_cast<int>(public_key_pem_.size())));
        if (pub && PublishNewFile(public_path, pub.get(), kPublicKeyMode)) {
          host_.Info("wrote missing public key file " + public_path);
          return;
        }
      }
    } catch (const KeyFileError& e) {
      throw sdk::Error(SIGNALS_ERROR, "signing key '" + key_id_ + "': " + e.what());
    }
    std::string text;
    ReadKeyFile(public_path, &text);
    Bio in(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
    Pkey stored(in ? PEM_read_bio_PUBKEY(in.get(), nullptr, &NoPassphrase, nullptr) : nullptr);
    ERR_clear_error();
    if (stored && EVP_PKEY_eq(stored.get(), key_.get()) == 1) return;
    ERR_clear_error();
    throw sdk::Error(SIGNALS_INVALID_CONFIG,
                     "signing key '" + key_id_ + "': public key file " + public_path +
                         " does not match the private key " + private_path +
                         "; remove it to have it rewritten, or fix the key store");
  }

  // Takes `key` as the signing key and derives the public key PEM from it.
  void UseKey(Pkey key) {
    Bio out(BIO_new(BIO_s_mem()));
    char* data = nullptr;
    if (!out || PEM_write_bio_PUBKEY(out.get(), key.get()) != 1) {
      throw sdk::Error(SIGNALS_ERROR, "cannot encode the public key of '" + key_id_ + "': " +
                                          TakeOpensslError());
    }
    long len = BIO_get_mem_data(out.get(), &data);
    public_key_pem_.assign(data, static_cast<size_t>(len));
    key_ = std::move(key);
  }

  // Reads a key file (following symlinks: mounted secrets are often links);
  // returns its permission bits. Refuses non-regular files and files over 64 KiB.
  mode_t ReadKeyFile(const std::string& path, std::string* out) {
    auto fail = [&](const std::string& what) {
      return sdk::Error(SIGNALS_INVALID_CONFIG, "signing key '" + key_id_ + "': " + what);
    };
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw fail("cannot open " + path + ": " + ErrnoText(errno));
    struct stat st;
    std::string problem;
    if (::fstat(fd, &st) != 0) problem = "cannot stat " + path + ": " + ErrnoText(errno);
    else if (!S_ISREG(st.st_mode)) problem = path + " is not a regular file";
    else if (st.st_size > kMaxKeyFileBytes) problem = path + " is larger than 64 KiB; not a key file";
    out->resize(problem.empty() ? static_cast<size_t>(st.st_size) : 0);
    size_t total = 0;
    while (problem.empty() && total < out->size()) {
      ssize_t n = ::read(fd, out->data() + total, out->size() - total);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) problem = "cannot read " + path + ": " + ErrnoText(errno);
      if (n <= 0) break;
      total += static_cast<size_t>(n);
    }
    ::close(fd);
    out->resize(total);
    if (!problem.empty()) throw fail(problem);
    return st.st_mode & 07777;
  }

  // True when `path` exists (as anything); fails when that cannot be told.
  bool Exists(const std::string& path) {
    struct stat st;
    if (::lstat(path.c_str(), &st) == 0) return true;
    if (errno == ENOENT) return false;
    throw sdk::Error(SIGNALS_ERROR, "signing key '" + key_id_ + "': cannot stat " + path + ": " +
                                        ErrnoText(errno));
  }

  sdk::Host host_;
  const std::string algorithm_ = "ECDSA-P256-SHA256";
  std::string key_id_;
  Pkey key_;
  std::string public_key_pem_;
};

}  // namespace
}  // namespace signals::signer_ecdsa_p256

SIGNALS_PLUGIN("signer-ecdsa-p256", "1.0.0", "ECDSA P-256 signer for Signals (OpenSSL)",
               signals::signer_ecdsa_p256::EcdsaP256Signer)
