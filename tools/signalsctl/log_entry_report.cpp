// The transparency-log line of `verify batch` / `verify callgraph`, and where
// the log's key comes from.
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli.hpp"
#include "tlog/stored_log_entry.hpp"

namespace signalsctl {

signals::Result<std::string> ReadFileText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return signals::Status::Config("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

signals::Result<std::string> LogPublicKey(const signals::Kernel& kernel, const Args& args) {
  if (auto flag = args.Flag("rekor-key")) return ReadFileText(*flag);
  const auto* tlog = kernel.config().Instance("tlog");
  if (tlog == nullptr) return std::string();
  auto it = tlog->options.find("public_key_file");
  if (it == tlog->options.end() || it->second.empty()) return std::string();
  return ReadFileText(it->second);
}

int ReportLogEntry(signals::Kernel& kernel, const Args& args, const std::string& what,
                   const LoggedObject& object) {
  auto key = LogPublicKey(kernel, args);
  if (!key.ok()) return Fail(key.status());
  auto entry =
      signals::VerifyStoredLogEntry(kernel, object.envelope_key, object.entry_key, object.rekor_uuid, *key);
  if (!entry.ok()) {
    std::cerr << what << ": INVALID: " << entry.status().message() << "\n";
    return entry.status().code() == signals::Code::kConfig ? kExitUsage : kExitInvalid;
  }
  if (!entry->logged) {
    std::cout << "log entry: not logged (skipReason "
              << (object.skip_reason.empty() ? "none" : object.skip_reason) << ")\n";
    return kExitOk;
  }
  const auto& v = entry->verification;
  std::cout << "log entry: verified (uuid " << v.uuid << ", logIndex " << v.log_index << ", integratedTime "
            << v.integrated_time << ", inclusion proof at " << v.proof_log_index << " in tree size "
            << v.tree_size << ", checkpoint and SET signed by the log key)\n";
  return kExitOk;
}

}  // namespace signalsctl
