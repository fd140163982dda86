// signalsctl: the local command line of Signals. It runs the same kernel and
// plugins as signalsd, in process, against the same data directory.
#include <cstdio>
#include <iostream>

#include "cli.hpp"
#include "logging.hpp"
#include "problem.hpp"

extern char** environ;

namespace signalsctl {
namespace {

constexpr const char* kUsage =
    R"(usage: signalsctl [--config FILE] [--data-dir DIR] [--section.key=value ...] <command>

commands:
  plugins list                          loaded plugins: name, kind, version, ABI, path
  plugins describe <name|file.so>       a plugin's components and options
  keygen --alg ed25519 --key-id ID      create a signing key in the key store
  keys list                             keys in the key registry
  keys export <keyId>                   the PEM public key of a key
  keys rotate --alg ALG --key-id NEW    new active key, others retired (then set signing.key_id = NEW)
  tenant add <tenant>                   register a tenant
  tenant list                           registered tenants
  ingest facts <file|-> --tenant T --callgraph-id ID [--source S]
                                        ingest runtime facts (NDJSON); prints the provenance record
  ingest callgraph <file|-> --tenant T --purl P --language L [--source S] [--format auto|json|ndjson]
                                        ingest a callgraph; prints the manifest
  callgraphs list [--tenant T] [--purl P] [--limit N] [--format table|json]
                                        stored callgraphs, newest first
  reach <graphId> --targets <file> [--format json|table] [--unconfirmed-as-not-affected]
                                        reachability, lattice state and VEX status per target
  drift --base <graphId> --head <graphId> --sinks <file> [--format json|table]
                                        sinks that became reachable / unreachable
  vex <graphId> --vulnerability CVE-… --symbols <file> [--unconfirmed-as-not-affected] [--evidence]
                                        an OpenVEX v0.2.0 document
  verify batch <batchId> [--rekor-key <pem>]
                                        re-hash, check provenance and the DSSE signature, and the
                                        stored transparency-log entry when the batch was logged
  verify callgraph <graphId> [--deep] [--rekor-key <pem>]
                                        re-hash, manifest signature, envelope, subject digest, and
                                        the stored transparency-log entry when it was logged
  verify dsse <envelope.json> --key <public.pem>
                                        verify any DSSE envelope
  verify bundle <bundle.json> [--key <public.pem>] [--rekor-key <pem>]
                                        verify a Sigstore bundle v0.1-v0.3 offline: the DSSE or
                                        message signature with --key (else with the key of the
                                        bundle's certificate, not chained to a Fulcio root), and
                                        per tlog entry: body, log ID, SET, inclusion proof and
                                        signed checkpoint with --rekor-key (the log's key)
  export bundle <batchId> [--out FILE]  the batch attestation as a Sigstore bundle v0.3 (public-key
                                        hint, DSSE envelope, the log entry when logged)
  token create --principal P --tenant T [--tenant T2]
                                        create an API token (printed once)
  token list | token revoke <tokenId>   tokens (never their secrets)
  policy show                           the effective access matrix

The log key of verify batch/callgraph is --rekor-key, else the [tlog] plugin's
public_key_file option.

exit codes: 0 ok, 1 rejected or invalid, 2 usage or configuration error
)";

}  // namespace

signals::Result<Args> Args::Parse(const std::vector<std::string>& tokens,
                                  const std::vector<std::string>& flags_with_values,
                                  const std::vector<std::string>& switches) {
  Args out;
  auto is = [](const std::vector<std::string>& list, const std::string& name) {
    for (const auto& l : list) {
      if (l == name) return true;
    }
    return false;
  };
  for (size_t i = 0; i < tokens.size(); ++i) {
    const std::string& t = tokens[i];
    if (t.size() > 2 && t.rfind("--", 0) == 0) {
      std::string name = t.substr(2);
      std::string value;
      size_t eq = name.find('=');
      bool inline_value = eq != std::string::npos;
      if (inline_value) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
      }
      if (is(switches, name)) {
        out.flags_.emplace(name, "true");
      } else if (is(flags_with_values, name)) {
        if (!inline_value) {
          if (i + 1 >= tokens.size()) return signals::Status::Config("--" + name + " needs a value");
          value = tokens[++i];
        }
        out.flags_.emplace(name, value);
      } else {
        return signals::Status::Config("unknown flag --" + name);
      }
    } else {
      out.positional_.push_back(t);
    }
  }
  return out;
}

std::optional<std::string> Args::Flag(const std::string& name) const {
  auto it = flags_.find(name);
  if (it == flags_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> Args::FlagAll(const std::string& name) const {
  std::vector<std::string> out;
  auto range = flags_.equal_range(name);
  for (auto it = range.first; it != range.second; ++it) out.push_back(it->second);
  return out;
}

bool Args::Has(const std::string& name) const { return flags_.count(name) != 0; }

signals::Result<signals::KernelConfig> Context::Config() {
  return signals::ResolveConfig(boot.settings, *boot.registry);
}

signals::Result<std::unique_ptr<signals::Kernel>> Context::OpenKernel() {
  auto config = Config();
  if (!config.ok()) return config.status();
  return signals::Kernel::Open(std::move(*config));
}

int Fail(const signals::Status& status) {
  std::cerr << "signalsctl: " << status.ToString() << "\n";
  return signals::ExitCodeOf(status);
}

signals::Status StreamInput(const std::string& path,
                            const std::function<signals::Status(std::string_view)>& consume) {
  FILE* in = path == "-" ? stdin : std::fopen(path.c_str(), "rb");
  if (in == nullptr) return signals::Status::Config("cannot open " + path);
  std::string buffer(1 << 20, '\0');
  signals::Status status;
  while (status.ok()) {
    size_t n = std::fread(buffer.data(), 1, buffer.size(), in);
    if (n > 0) status = consume(std::string_view(buffer.data(), n));
    if (n < buffer.size()) {
      if (std::ferror(in)) status = signals::Status::Internal("read error on " + path);
      break;
    }
  }
  if (in != stdin) std::fclose(in);
  return status;
}

int Usage(const std::string& message) {
  std::cerr << "signalsctl: " << message << "\n\n" << kUsage;
  return kExitUsage;
}

}  // namespace signalsctl

int main(int argc, char** argv) {
  using namespace signalsctl;
  try {
    auto command_line = signals::ParseCommandLine(argc, argv);
    if (!command_line.ok()) return Usage(command_line.status().message());
    const auto& rest = command_line->rest;
    if (rest.empty() || rest[0] == "--help" || rest[0] == "-h" || rest[0] == "help") {
      std::cout << kUsage;
      return rest.empty() ? kExitUsage : kExitOk;
    }
    signals::ConfigureLogging("info", "human");
    auto boot = signals::LoadBootstrap(*command_line, environ);
    if (!boot.ok()) return Fail(boot.status());
    Context ctx{std::move(*command_line), std::move(*boot), environ};
    for (const auto& problem : ctx.boot.plugin_problems) std::cerr << "signalsctl: warning: " << problem << "\n";
    const std::string command = ctx.command_line.rest[0];
    std::vector<std::string> args(ctx.command_line.rest.begin() + 1, ctx.command_line.rest.end());
    if (command == "plugins") return RunPlugins(ctx, args);
    if (command == "keygen") return RunKeygen(ctx, args);
    if (command == "keys" && !args.empty() && args[0] == "rotate") return RunKeysRotate(ctx, args);
    if (command == "keys") return RunKeys(ctx, args);
    if (command == "tenant") return RunTenant(ctx, args);
    if (command == "ingest" && !args.empty() && args[0] == "callgraph") return RunIngestCallgraph(ctx, args);
    if (command == "ingest") return RunIngest(ctx, args);
    if (command == "verify" && !args.empty() && args[0] == "callgraph") return RunVerifyCallgraph(ctx, args);
    if (command == "verify") return RunVerify(ctx, args);
    if (command == "export") return RunExport(ctx, args);
    if (command == "callgraphs") return RunCallgraphs(ctx, args);
    if (command == "reach") return RunReach(ctx, args);
    if (command == "drift") return RunDrift(ctx, args);
    if (command == "vex") return RunVex(ctx, args);
    if (command == "token") return RunToken(ctx, args);
    if (command == "policy") return RunPolicy(ctx, args);
    return Usage("unknown command '" + command + "'");
  } catch (const std::exception& e) {
    std::cerr << "signalsctl: internal error: " << e.what() << "\n";
    return 1;
  }
}
