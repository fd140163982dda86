// signals/support/pem_key_store.hpp — header-only key store for signer
// plugins: where a signer keeps its private key, how it loads it, and how it
// creates one on first start without ever replacing an existing key
// (replacing a signing key would orphan every signature made with it).
//
// Layout (the kernel and signalsctl rely on it):
//   {key_dir}/{key_id}.key.pem   PKCS#8 "PRIVATE KEY", mode 0600
//   {key_dir}/{key_id}.pub.pem   SubjectPublicKeyInfo "PUBLIC KEY", mode 0644
// the files `openssl genpkey` / `openssl pkey -pubout` write; the option
// `key_file` names an explicit private key instead. The store does the files,
// the options, the checks and the messages; the algorithm-specific part —
// generating a key, decoding its PEM, deriving the public key PEM — is a
// PemKey the signer implements (with libsodium, OpenSSL, …).
//
// Used by signer-ed25519 and signer-ecdsa-p256. Builds on posix_file.hpp.
//
// Thread-safety: PemKeyStore::Open runs once, from a component's constructor
// (the kernel's control thread); it keeps no state. Processes that start at
// once and share a key directory are safe: exactly one of them creates the
// key, the others load it. Key material never reaches a log line or an error
// message, and the store wipes every buffer of it that it owns.
#ifndef SIGNALS_SUPPORT_PEM_KEY_STORE_HPP
#define SIGNALS_SUPPORT_PEM_KEY_STORE_HPP

#include <string.h>  // explicit_bzero
#include <signals/plugin.hpp>
#include <signals/support/posix_file.hpp>

#include <array>
#include <cstddef>
#include <cstdio>
#include <string>
#include <utility>

namespace signals {
namespace support {

// Overwrites `len` bytes at `data` with zeros in a way the compiler may not
// optimise away, for buffers that held key material.
inline void WipeSecret(void* data, size_t len) {
  if (len > 0) ::explicit_bzero(data, len);
}

// Wipes a buffer (anything with data() and size(): std::string,
// std::vector, std::array) when it goes out of scope. Does not own it.
// REQUIRES: `buffer` outlives this object.
template <typename Buffer>
class Wiped {
 public:
  explicit Wiped(Buffer& buffer) : buffer_(buffer) {}
  Wiped(const Wiped&) = delete;
  Wiped& operator=(const Wiped&) = delete;
  ~Wiped() { WipeSecret(const_cast<void*>(static_cast<const void*>(buffer_.data())), buffer_.size()); }

 private:
  Buffer& buffer_;
};

// True when `id` is a valid key id: [A-Za-z0-9._-]{1,128}. Key ids name
// files, so this also keeps them from leaving the key directory.
inline bool IsValidKeyId(const std::string& id) {
  static constexpr char kAllowed[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-";
  return !id.empty() && id.size() <= 128 && id.find_first_not_of(kAllowed) == std::string::npos;
}

// What a key store signer is called, to the kernel and to operators: its
// component, its algorithm and how to make such a key. Static strings.
struct PemSignerNames {
  const char* component;             // the component name: "signer-ed25519"
  const char* description;           // the component's one-sentence description
  const char* signature_algorithm;   // recorded in signatures: "Ed25519", "ECDSA-P256-SHA256"
  const char* key_kind;              // in messages: "Ed25519", "ECDSA P-256"
  const char* keygen_alg;            // the `signalsctl keygen --alg` value: "ed25519"
  const char* openssl_genpkey_args;  // makes such a key: "-algorithm ed25519"
  const char* default_key_id;        // the key_id option's default: "signals-ed25519"
};

class PemKeyStore;

// The algorithm-specific half of a key store: one key pair in memory, which
// PemKeyStore fills by generating a key or decoding a private key file. The
// signer owns it and signs with it; after PemKeyStore::Open it is not
// modified, so signing with it may run on many threads when the
// implementation allows.
class PemKey {
 public:
  // What Use() made of a private key file.
  enum class Decoded {
    kOk,                   // the key is in use
    kNotThisKind,          // not a PKCS#8 PEM private key of this algorithm
    kMismatchedPublicKey,  // the file's public key is not that of its private key
  };

  PemKey() = default;
  PemKey(const PemKey&) = delete;
  PemKey& operator=(const PemKey&) = delete;
  virtual ~PemKey() = default;

  // The key id, set by PemKeyStore::Open before it generates or loads the
  // key (so messages of the methods below may name it).
  const std::string& key_id() const { return key_id_; }

  // Generates a new key pair, takes it into use and writes its private key
  // as unencrypted PKCS#8 PEM to *private_pem (the store wipes it). Throws
  // sdk::Error when that fails.
  virtual void Generate(std::string* private_pem) = 0;

  // Decodes `pem`, the text of a private key file (the caller owns and wipes
  // it), and on kOk takes the key into use. On kNotThisKind, *problem says
  // what was found instead ("found a 'PUBLIC KEY' PEM block; …"); it must
  // not quote key material. Throws sdk::Error only for failures that are not
  // the file's fault.
  virtual Decoded Use(const std::string& pem, std::string* problem) = 0;

  // The SubjectPublicKeyInfo "PUBLIC KEY" PEM of the key in use ("" before
  // there is one).
  const std::string& PublicKeyPem() const { return public_key_pem_; }

  // True when `text` (a public key file) holds the public key of the key in
  // use; false for another key and for anything that is not such a PEM.
  virtual bool HasPublicKey(const std::string& text) const = 0;

 protected:
  // Records the public key PEM of the key taken into use; Generate() and
  // Use() call it.
  void set_public_key_pem(std::string pem) { public_key_pem_ = std::move(pem); }

 private:
  friend class PemKeyStore;
  std::string key_id_;
  std::string public_key_pem_;
};

// Loads a signer's key from its key store, creating it on first start.
// Only static members are public.
class PemKeyStore {
 public:
  static constexpr mode_t kPrivateKeyMode = 0600;
  static constexpr mode_t kPublicKeyMode = 0644;
  static constexpr mode_t kKeyDirMode = 0700;
  static constexpr size_t kMaxKeyFileBytes = 64 * 1024;

  // The option rows of a key store signer: key_dir, key_id (defaulting to
  // `default_key_id`, a static string), key_file, create_if_missing. Keep
  // the result in a static constexpr member (the kernel keeps pointers into
  // it) and return sdk::OptionList{rows.data(), rows.size()} from Options().
  static constexpr std::array<signals_option, 4> Options(const char* default_key_id) {
    return {{
        sdk::Option("key_dir", SIGNALS_OPT_PATH, "keys",
                    "Directory of the key store: {key_id}.key.pem (private, 0600) and "
                    "{key_id}.pub.pem."),
        sdk::Option("key_id", SIGNALS_OPT_STRING, default_key_id,
                    "Name of the key, [A-Za-z0-9._-]{1,128}; names the files and is recorded as "
                    "keyid in signatures."),
        sdk::Option("key_file", SIGNALS_OPT_PATH, nullptr,
                    "Explicit PKCS#8 PEM private key file; when set, key_dir is not used and no "
                    "key is created."),
        sdk::Option("create_if_missing", SIGNALS_OPT_BOOL, "false",
                    "Generate the key in key_dir when it does not exist (first start, tests)."),
    }};
  }

  // Loads the key that `config` (the Options() rows) names into *key and
  // sets key->key_id():
  //  * `key_file` set: that file must exist; create_if_missing does not
  //    apply to it.
  //  * otherwise {key_dir}/{key_id}.key.pem; when it is missing and
  //    create_if_missing is true, a new key is generated and written (0600,
  //    in a 0700 key_dir made as needed) without replacing anything: when
  //    another process creates the same key meanwhile, its key is loaded
  //    instead. A key is not generated when its .pub.pem exists (verifiers
  //    may trust it). The .pub.pem is derived data: written (0644) when
  //    missing; a .pub.pem of another key is refused.
  // Relative paths resolve against the data directory. Warns when a private
  // key file is readable by group or others, and when it generated a key.
  // Throws sdk::Error: SIGNALS_INVALID_CONFIG for what the operator must fix
  // (bad key id, missing or malformed key, mismatched files),
  // SIGNALS_ERROR for I/O failures; the message names the key id and paths.
  // REQUIRES: `host` and `names` outlive the call; `key` is not null.
  static void Open(const sdk::Host& host, const sdk::Config& config, const PemSignerNames& names,
                   PemKey* key) {
    key->key_id_ = config.Get("key_id");
    PemKeyStore store(host, names, key);
    if (!IsValidKeyId(store.key_id_)) {
      throw sdk::Error(SIGNALS_INVALID_CONFIG,
                       "key_id '" + store.key_id_ + "' must match [A-Za-z0-9._-]{1,128}");
    }
    const std::string key_file = Resolve(config.GetOr("key_file", ""), config);
    if (!key_file.empty()) {
      store.LoadExplicitKeyFile(key_file);
    } else {
      const std::string key_dir = Resolve(config.Get("key_dir"), config);
      if (key_dir.empty()) throw sdk::Error(SIGNALS_INVALID_CONFIG, "key_dir must not be empty");
      store.LoadOrCreateInKeyDir(key_dir, config.GetBool("create_if_missing"));
    }
  }

 private:
  PemKeyStore(const sdk::Host& host, const PemSignerNames& names, PemKey* key)
      : host_(host), names_(names), key_(*key), key_id_(key->key_id()) {}

  static std::string Resolve(const std::string& path, const sdk::Config& config) {
    if (path.empty() || path.front() == '/' || config.data_dir().empty()) return path;
    return config.data_dir() + "/" + path;
  }

  void LoadExplicitKeyFile(const std::string& path) {
    if (!Exists(path)) {
      throw sdk::Error(SIGNALS_INVALID_CONFIG,
                       "signing key '" + key_id_ + "' not found at " + path +
                           " (key_file; create_if_missing does not apply to it); create one with "
                           "`openssl genpkey " +
                           names_.openssl_genpkey_args + " -out " + path + "`");
    }
    LoadPrivateKey(path);
  }

  void LoadOrCreateInKeyDir(const std::string& key_dir, bool create_if_missing) {
    const std::string private_path = key_dir + "/" + key_id_ + ".key.pem";
    const std::string public_path = key_dir + "/" + key_id_ + ".pub.pem";
    if (!Exists(private_path)) {
      if (!create_if_missing) {
        throw sdk::Error(SIGNALS_INVALID_CONFIG, "signing key '" + key_id_ + "' not found at " +
                                                     private_path +
                                                     "; create one with `signalsctl keygen --alg " +
                                                     names_.keygen_alg + " --key-id " + key_id_ + "`");
      }
      if (Generate(key_dir, private_path, public_path)) return;
      // Lost a race with another process creating the same key: use theirs.
    }
    LoadPrivateKey(private_path);
    SyncPublicKeyFile(public_path, private_path);
  }

  // Creates a fresh key. Returns false when `private_path` appeared meanwhile.
  bool Generate(const std::string& key_dir, const std::string& private_path, const std::string& public_path) {
    auto fail = [&](const std::string& why) {
      return sdk::Error(SIGNALS_ERROR,
                        "cannot create signing key '" + key_id_ + "' in " + key_dir + ": " + why);
    };
    if (FileStatus s = MakeDirectories(key_dir, kKeyDirMode, /*durable=*/true); !s.ok())
      throw fail(s.message());
    bool public_exists = false;
    if (int err = PathExists(public_path, &public_exists); err != 0) {
      throw fail("cannot stat " + public_path + ": " + ErrnoText(err));
    }
    if (public_exists) {
      // Verifiers may already trust that public key; a new private key
      // under the same id would make every new signature look forged.
      throw sdk::Error(SIGNALS_INVALID_CONFIG,
                       "signing key '" + key_id_ + "': " + public_path + " exists but its private key " +
                           private_path + " does not; restore the private key or choose another key_id");
    }
    std::string pem;
    Wiped<std::string> wipe_pem(pem);
    key_.Generate(&pem);
    FileStatus written = WriteKeyFile(private_path, pem, kPrivateKeyMode);
    if (written.already_exists()) return false;
    if (!written.ok()) throw fail(written.message());
    written = WriteKeyFile(public_path, key_.PublicKeyPem(), kPublicKeyMode);
    if (written.already_exists()) {
      SyncPublicKeyFile(public_path, private_path);
    } else if (!written.ok()) {
      throw fail(written.message());
    }
    host_.Warn(std::string("generated new ") + names_.key_kind + " signing key '" + key_id_ + "' in " +
               key_dir);
    return true;
  }

  void LoadPrivateKey(const std::string& path) {
    FileContents file;
    Wiped<std::string> wipe_text(file.bytes);
    if (FileStatus s = ReadKeyFile(path, &file); !s.ok()) {
      throw sdk::Error(SIGNALS_INVALID_CONFIG, "signing key '" + key_id_ + "': " + s.message());
    }
    if ((file.mode & 077) != 0) {
      char mode[16];
      std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(file.mode));
      host_.Warn("private key file " + path + " is accessible by group or others (mode " + mode +
                 "); run chmod 600 " + path);
    }
    std::string problem;
    switch (key_.Use(file.bytes, &problem)) {
      case PemKey::Decoded::kOk:
        break;
      case PemKey::Decoded::kNotThisKind:
        throw sdk::Error(SIGNALS_INVALID_CONFIG, "signing key '" + key_id_ + "': " + path + " is not an " +
                                                     names_.key_kind + " PKCS#8 PEM private key: " + problem);
      case PemKey::Decoded::kMismatchedPublicKey:
        throw sdk::Error(SIGNALS_INVALID_CONFIG, "signing key '" + key_id_ + "': " + path +
                                                     " holds a public key that does not belong to "
                                                     "its private key");
    }
    host_.Log(SIGNALS_LOG_DEBUG,
              std::string("loaded ") + names_.key_kind + " signing key '" + key_id_ + "' from " + path);
  }

  // The public key file is derived data: write it when missing, refuse to
  // start when it names another key (verifiers read it).
  void SyncPublicKeyFile(const std::string& public_path, const std::string& private_path) {
    auto fail = [&](const std::string& why) {
      return sdk::Error(SIGNALS_ERROR, "signing key '" + key_id_ + "': " + why);
    };
    if (!Exists(public_path)) {
      FileStatus written = WriteKeyFile(public_path, key_.PublicKeyPem(), kPublicKeyMode);
      if (written.ok()) {
        host_.Info("wrote missing public key file " + public_path);
        return;
      }
      if (!written.already_exists()) throw fail(written.message());
    }
    FileContents file;
    if (FileStatus s = ReadKeyFile(public_path, &file); !s.ok()) throw fail(s.message());
    if (key_.HasPublicKey(file.bytes)) return;
    throw sdk::Error(SIGNALS_INVALID_CONFIG, "signing key '" + key_id_ + "': public key file " + public_path +
                                                 " does not match the private key " + private_path +
                                                 "; remove it to have it rewritten, or fix the key store");
  }

  // True when `path` exists (as anything); throws when that cannot be told.
  bool Exists(const std::string& path) const {
    bool exists = false;
    if (int err = PathExists(path, &exists); err != 0) {
      throw sdk::Error(SIGNALS_ERROR,
                       "signing key '" + key_id_ + "': cannot stat " + path + ": " + ErrnoText(err));
    }
    return exists;
  }

  // Reads a key file; refuses anything but a regular file of at most 64 KiB.
  static FileStatus ReadKeyFile(const std::string& path, FileContents* out) {
    FileStatus status = ReadRegularFile(path, kMaxKeyFileBytes, out);
    if (status.err() == EFBIG) {
      return FileStatus::Failure(EFBIG, path, path + " is larger than 64 KiB; not a key file");
    }
    return status;
  }

  // Publishes a new key file with exactly `mode`, never replacing one.
  static FileStatus WriteKeyFile(const std::string& path, const std::string& text, mode_t mode) {
    AtomicWriteOptions options;
    options.mode = mode;
    return WriteFileAtomically(path, text.data(), text.size(), options);
  }

  const sdk::Host& host_;
  const PemSignerNames& names_;
  PemKey& key_;
  const std::string& key_id_;
};

// A signer component whose key lives in a PemKeyStore: the whole of an
// sdk::SignerComponent, named by Key::kNames. `Key` is the PemKey
// implementation; it is default-constructible and has
//   static constexpr PemSignerNames kNames;
//   std::string Sign(const uint8_t* message, size_t len) const;
// (Sign: len may be 0 with message null; thread-safe; throws sdk::Error). A
// plugin then exports
//   using MySigner = signals::support::PemKeySigner<MyKey>;
//   SIGNALS_PLUGIN("signer-mine", "1.0.0", "…", MySigner)
// Thread-safety: immutable after construction, and Key::Sign is
// thread-safe, so it declares SIGNALS_CAP_CONCURRENT.
template <typename Key>
class PemKeySigner final : public sdk::SignerComponent {
 public:
  static constexpr const char* kName = Key::kNames.component;
  static constexpr const char* kDescription = Key::kNames.description;
  static constexpr uint64_t kCapabilities = SIGNALS_CAP_CONCURRENT;

  // The PemKeyStore::Options rows, with Key's default key id.
  static sdk::OptionList Options() { return sdk::OptionList{kOptions.data(), kOptions.size()}; }

  // Loads the key `config` names (PemKeyStore::Open). Throws sdk::Error.
  PemKeySigner(const sdk::Host& host, const sdk::Config& config)
      : algorithm_(Key::kNames.signature_algorithm) {
    PemKeyStore::Open(host, config, Key::kNames, &key_);
  }
  PemKeySigner(const PemKeySigner&) = delete;
  PemKeySigner& operator=(const PemKeySigner&) = delete;

  const std::string& Algorithm() const override { return algorithm_; }
  const std::string& KeyId() const override { return key_.key_id(); }
  std::string PublicKeyPem() const override { return key_.PublicKeyPem(); }
  std::string Sign(const uint8_t* message, size_t len) override { return key_.Sign(message, len); }

 private:
  // Static: the kernel keeps pointers into the options table.
  static constexpr std::array<signals_option, 4> kOptions = PemKeyStore::Options(Key::kNames.default_key_id);

  const std::string algorithm_;
  Key key_;
};

}  // namespace support
}  // namespace signals

#endif  // SIGNALS_SUPPORT_PEM_KEY_STORE_HPP
