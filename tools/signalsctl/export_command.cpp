// signalsctl export bundle <batchId> [--out FILE]
// The batch attestation as a Sigstore bundle v0.3 (the same document as
// GET /signals/runtime-facts/{batchId}/attestation?format=sigstore-bundle),
// with its transparency-log entry when it was logged.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>

#include "base/ulid.hpp"
#include "cli.hpp"
#include "model/cas_paths.hpp"
#include "tlog/bundle_export.hpp"

namespace signalsctl {
namespace {

// Writes `text` to `path` through a temporary file in the same directory and
// a rename, so a reader never sees half a bundle.
signals::Status WriteFileAtomically(const std::string& path, const std::string& text) {
  const std::string temp = path + ".tmp-" + std::to_string(getpid());
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return signals::Status::Config("cannot write " + path + ": " + std::strerror(errno));
  size_t written = 0;
  while (written < text.size()) {
    ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    written += static_cast<size_t>(n);
  }
  bool ok = written == text.size() && ::fsync(fd) == 0;
  ok = ::close(fd) == 0 && ok;
  if (!ok || std::rename(temp.c_str(), path.c_str()) != 0) {
    std::string reason = std::strerror(errno);
    std::remove(temp.c_str());
    return signals::Status::Internal("cannot write " + path + ": " + reason);
  }
  // The rename itself is durable only once the directory is synced.
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return signals::Status::Ok();
}

}  // namespace

int RunExport(Context& ctx, const std::vector<std::string>& tokens) {
  auto args = Args::Parse(tokens, {"out"});
  if (!args.ok()) return Usage("export: " + args.status().message());
  const auto& pos = args->positional();
  if (pos.size() != 2 || pos[0] != "bundle")
    return Usage("export: expected `export bundle <batchId> [--out FILE]`");
  const std::string& batch_id = pos[1];
  signals::Status valid = signals::ValidateUlid(batch_id, "batchId");
  if (!valid.ok()) return Usage("export bundle: " + valid.ToString());
  auto kernel = ctx.OpenKernel();
  if (!kernel.ok()) return Fail(kernel.status());
  auto row_text = (*kernel)->index().Get("batches", batch_id);
  if (!row_text.ok()) {
    if (row_text.status().code() == signals::Code::kNotFound) {
      return Fail(signals::Status::NotFound("batch " + batch_id + " not found"));
    }
    return Fail(row_text.status());
  }
  auto row = nlohmann::json::parse(*row_text, nullptr, false);
  auto key = row.is_object() ? row.find("attestationKey") : row.end();
  if (!row.is_object() || key == row.end() || !key->is_string()) {
    return Fail(signals::Status::Internal("index row of batch " + batch_id + " has no attestationKey"));
  }
  auto bundle = signals::ExportStoredBundle(**kernel, key->get<std::string>(),
                                            signals::cas_paths::BatchRekorEntry(batch_id));
  if (!bundle.ok()) return Fail(bundle.status());
  const std::string text = bundle->dump(2) + "\n";
  if (auto out = args->Flag("out"); out && *out != "-") {
    signals::Status s = WriteFileAtomically(*out, text);
    if (!s.ok()) return Fail(s);
    const bool logged = !(*bundle)["verificationMaterial"]["tlogEntries"].empty();
    std::cerr << "wrote " << *out << " (Sigstore bundle v0.3, "
              << (logged ? "with its log entry" : "not logged") << ")\n";
    return kExitOk;
  }
  std::cout << text;
  return kExitOk;
}

}  // namespace signalsctl
