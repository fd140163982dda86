// Shared plumbing of signalsctl's commands: argument access, the kernel
// context, and exit codes (0 ok, 1 rejected/invalid, 2 usage or configuration).
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.hpp"
#include "config/bootstrap.hpp"
#include "core/kernel.hpp"

namespace signalsctl {

inline constexpr int kExitOk = 0;
inline constexpr int kExitInvalid = 1;
inline constexpr int kExitUsage = 2;
// `verify batch` of a batch whose facts retention deleted: its attestation
// verified, but there is nothing else left to check.
inline constexpr int kExitExpired = 3;

// Positional arguments and --flags of one command. Flags may repeat.
class Args {
 public:
  // `flags_with_values`: flags that take a value; `switches`: flags that don't.
  static signals::Result<Args> Parse(const std::vector<std::string>& tokens,
                                     const std::vector<std::string>& flags_with_values,
                                     const std::vector<std::string>& switches = {});
  const std::vector<std::string>& positional() const { return positional_; }
  std::optional<std::string> Flag(const std::string& name) const;
  std::vector<std::string> FlagAll(const std::string& name) const;
  bool Has(const std::string& name) const;

 private:
  std::vector<std::string> positional_;
  std::multimap<std::string, std::string> flags_;
};

struct Context {
  signals::CommandLine command_line;
  signals::Bootstrap boot;
  char** envp = nullptr;

  // Validates the configuration and opens the kernel.
  // Opens the kernel, sharing the data directory with signalsd and other
  // commands unless `access` says otherwise (core/data_dir_lock.hpp).
  signals::Result<std::unique_ptr<signals::Kernel>> OpenKernel(
      signals::DataDirAccess access = signals::DataDirAccess::kShared);
  signals::Result<signals::KernelConfig> Config();
};

// Prints "signalsctl: <message>" on stderr and returns the exit code of `status`.
int Fail(const signals::Status& status);
int Usage(const std::string& message);

int RunPlugins(Context& ctx, const std::vector<std::string>& args);
int RunKeygen(Context& ctx, const std::vector<std::string>& args);
int RunKeys(Context& ctx, const std::vector<std::string>& args);
int RunTenant(Context& ctx, const std::vector<std::string>& args);
int RunIngest(Context& ctx, const std::vector<std::string>& args);
int RunVerify(Context& ctx, const std::vector<std::string>& args);
int RunIngestCallgraph(Context& ctx, const std::vector<std::string>& args);
int RunVerifyCallgraph(Context& ctx, const std::vector<std::string>& args);
int RunCallgraphs(Context& ctx, const std::vector<std::string>& args);
int RunBatches(Context& ctx, const std::vector<std::string>& args);
int RunKeysRotate(Context& ctx, const std::vector<std::string>& args);
int RunReach(Context& ctx, const std::vector<std::string>& args);
int RunDrift(Context& ctx, const std::vector<std::string>& args);
int RunVex(Context& ctx, const std::vector<std::string>& args);
int RunGc(Context& ctx, const std::vector<std::string>& args);

// The size of `in` when it is a regular file (for progress), else 0.
uint64_t InputSize(std::FILE* in);

// Reads `path` ("-" = stdin) in 1 MiB chunks and hands each to `consume`;
// stops at the first failure.
signals::Status StreamInput(const std::string& path,
                            const std::function<signals::Status(std::string_view)>& consume);
int RunExport(Context& ctx, const std::vector<std::string>& args);

// Reads a whole file; Status::Config "cannot read PATH" when it cannot.
signals::Result<std::string> ReadFileText(const std::string& path);

// The transparency log's public key (PEM) for checking stored log entries:
// the file of --rekor-key, else the [tlog] plugin's public_key_file option,
// else "" (then a stored entry cannot be checked).
signals::Result<std::string> LogPublicKey(const signals::Kernel& kernel, const Args& args);

// An envelope that may have been logged, as its index row describes it.
struct LoggedObject {
  std::string envelope_key;  // attestations/{batchId}.dsse, manifests/{graphId}.json.dsse
  std::string entry_key;     // the .rekor.json next to it
  std::string rekor_uuid;    // the row's rekorUuid, "" when null
  std::string skip_reason;   // the row's skipReason, "" when null
};

// Verifies the stored log entry of `object` (when there is one) and prints
// "log entry: verified (uuid …, logIndex …)" or "log entry: not logged
// (skipReason …)" on stdout, or "<what>: INVALID: log entry: …" on stderr.
// Returns the exit code.
int ReportLogEntry(signals::Kernel& kernel, const Args& args, const std::string& what,
                   const LoggedObject& object);

int RunToken(Context& ctx, const std::vector<std::string>& args);
int RunFsck(Context& ctx, const std::vector<std::string>& args);
int RunReindex(Context& ctx, const std::vector<std::string>& args);
int RunPolicy(Context& ctx, const std::vector<std::string>& args);

}  // namespace signalsctl
