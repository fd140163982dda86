#include "command_table.hpp"

namespace signalsctl {
namespace {

// One row per command line form, in the order `signalsctl --help` lists them.
// A row with a subcommand matches only when the first argument is that
// subcommand; a command's rows share one handler unless a subcommand has its
// own (keys rotate, ingest callgraph, verify callgraph).
const std::vector<Command>& Table() {
  static const std::vector<Command> kCommands = {
      {"plugins", "list", "", {"loaded plugins: name, kind, version, ABI, path"}, RunPlugins},
      {"plugins", "describe", "<name|file.so>", {"a plugin's components and options"}, RunPlugins},
      {"keygen", "", "--alg ed25519 --key-id ID", {"create a signing key in the key store"}, RunKeygen},
      {"keys", "list", "", {"keys in the key registry"}, RunKeys},
      {"keys", "export", "<keyId>", {"the PEM public key of a key"}, RunKeys},
      {"keys",
       "rotate",
       "--alg ALG --key-id NEW",
       {"new active key, others retired (then set signing.key_id = NEW)"},
       RunKeysRotate},
      {"tenant", "add", "<tenant>", {"register a tenant"}, RunTenant},
      {"tenant", "list", "", {"registered tenants"}, RunTenant},
      {"ingest",
       "facts",
       "<file|-> --tenant T --callgraph-id ID [--source S]",
       {"ingest runtime facts (NDJSON); prints the provenance record"},
       RunIngest},
      {"ingest",
       "callgraph",
       "<file|-> --tenant T --purl P --language L [--source S] [--format auto|json|ndjson]",
       {"ingest a callgraph; prints the manifest"},
       RunIngestCallgraph},
      {"callgraphs",
       "list",
       "[--tenant T] [--purl P] [--limit N] [--format table|json]",
       {"stored callgraphs, newest first"},
       RunCallgraphs},
      {"batches",
       "list",
       "[--tenant T] [--since <RFC3339>] [--callgraph-id ID] [--limit N] [--format table|json]",
       {"stored runtime-fact batches, newest received first, with",
        "the ids that verify batch and export bundle take"},
       RunBatches},
      {"reach",
       "",
       "<graphId> --targets <file> [--format json|table] [--unconfirmed-as-not-affected]",
       {"reachability, lattice state and VEX status per target"},
       RunReach},
      {"drift",
       "",
       "--base <graphId> --head <graphId> --sinks <file> [--format json|table]",
       {"sinks that became reachable / unreachable"},
       RunDrift},
      {"vex",
       "",
       "<graphId> --vulnerability CVE-… --symbols <file> [--unconfirmed-as-not-affected] [--evidence]",
       {"an OpenVEX v0.2.0 document"},
       RunVex},
      {"verify",
       "batch",
       "<batchId> [--rekor-key <pem>]",
       {"re-hash, check provenance and the DSSE signature, and the",
        "stored transparency-log entry when the batch was logged",
        "(exit 3: expired by retention, attestation valid)"},
       RunVerify},
      {"verify",
       "callgraph",
       "<graphId> [--deep] [--rekor-key <pem>]",
       {"re-hash, manifest signature, envelope, subject digest, and",
        "the stored transparency-log entry when it was logged",
        "(exit 3: orphan expired by retention, manifest valid)"},
       RunVerifyCallgraph},
      {"verify", "dsse", "<envelope.json> --key <public.pem>", {"verify any DSSE envelope"}, RunVerify},
      {"verify",
       "bundle",
       "<bundle.json> [--key <public.pem>] [--rekor-key <pem>]",
       {"verify a Sigstore bundle v0.1-v0.3 offline: the DSSE or",
        "message signature with --key (else with the key of the",
        "bundle's certificate, not chained to a Fulcio root), and",
        "per tlog entry: body, log ID, SET, inclusion proof and",
        "signed checkpoint with --rekor-key (the log's key)"},
       RunVerify},
      {"export",
       "bundle",
       "<batchId> [--out FILE]",
       {"the batch attestation as a Sigstore bundle v0.3 (public-key",
        "hint, DSSE envelope, the log entry when logged)"},
       RunExport},
      {"token",
       "create",
       "--principal P --tenant T [--tenant T2]",
       {"create an API token (printed once)"},
       RunToken},
      {"token", "list", "| token revoke <tokenId>", {"tokens (never their secrets)"}, RunToken},
      {"token", "revoke", "<tokenId>", {}, RunToken},
      {"policy", "show", "", {"the effective access matrix"}, RunPolicy},
      {"gc",
       "",
       "[--dry-run] [--now <RFC3339>] [--format table|json]",
       {"retention GC: delete expired runtime facts and orphan callgraphs"},
       RunGc},
      {"fsck",
       "",
       "[--repair]",
       {"re-hash every object, verify every signature, cross-check",
        "objects and index rows; what a crash leaves is listed as a",
        "leftover; --repair removes unlocked temp files (exit 0 clean",
        "or leftovers only, 1 damage, 2 error)"},
       RunFsck},
      {"reindex",
       "",
       "",
       {"rebuild the index collections that derive from the CAS",
        "(stop signalsd first; tokens and tenants are kept)"},
       RunReindex},
  };
  return kCommands;
}

constexpr size_t kHelpColumn = 40;  // where the description starts

}  // namespace

const Command* FindCommand(const std::string& command, const std::vector<std::string>& args) {
  const Command* any = nullptr;
  for (const Command& c : Table()) {
    if (command != c.name) continue;
    if (!c.subcommand.empty() && !args.empty() && args[0] == c.subcommand) return &c;
    if (any == nullptr) any = &c;
  }
  // The command exists but the subcommand does not (or is missing): its
  // general handler says what is wrong, as it always has.
  return any;
}

std::string CommandUsage() {
  std::string out;
  for (const Command& c : Table()) {
    if (c.help.empty()) continue;  // an alias listed on another row (token revoke)
    std::string form = "  " + c.name;
    if (!c.subcommand.empty()) form += " " + c.subcommand;
    if (!c.arguments.empty()) form += " " + c.arguments;
    const std::string indent(kHelpColumn, ' ');
    if (form.size() + 2 <= kHelpColumn) {
      out += form + std::string(kHelpColumn - form.size(), ' ') + c.help[0] + "\n";
    } else {
      out += form + "\n" + indent + c.help[0] + "\n";
    }
    for (size_t i = 1; i < c.help.size(); ++i) out += indent + c.help[i] + "\n";
  }
  return out;
}

}  // namespace signalsctl
