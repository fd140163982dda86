// key_file_writer.hpp — publishing key files for signer-ecdsa-p256: a new file
// appears complete and durable, or not at all, and never replaces an existing
// one (replacing a signing key would orphan every signature made with it).
// Thread-safe; no shared state. Failures throw KeyFileError (path + errno text).
#pragma once

#include <openssl/bio.h>
#include <sys/types.h>

#include <stdexcept>
#include <string>

namespace signals::signer_ecdsa_p256 {

class KeyFileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// "Permission denied" for EACCES.
std::string ErrnoText(int err);

// Creates `dir` and missing ancestors with `mode`, fsyncing the parent of each
// new directory.
void MakeKeyDir(const std::string& dir, mode_t mode);

// Publishes the bytes of memory BIO `contents` as the new file `path` with
// exactly `mode`: O_EXCL temp file in the same directory, write, fsync,
// no-replace rename, directory fsync. Returns false, leaving nothing behind,
// when `path` already exists.
bool PublishNewFile(const std::string& path, BIO* contents, mode_t mode);

}  // namespace signals::signer_ecdsa_p256
