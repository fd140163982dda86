// signalsctl gc [--dry-run] [--now <RFC3339>] [--format table|json]
// Retention GC on demand (retention_gc.hpp): prints one line per deleted
// object, sorted by kind, tenant and id, then a summary. --dry-run prints what
// would go and changes nothing; --now evaluates retention at another time.
#include <iostream>

#include "base/timestamp.hpp"
#include "cli.hpp"
#include "retention/retention_gc.hpp"

namespace signalsctl {

int RunGc(Context& ctx, const std::vector<std::string>& tokens) {
  auto args = Args::Parse(tokens, {"now", "format"}, {"dry-run"});
  if (!args.ok()) return Usage("gc: " + args.status().message());
  if (!args->positional().empty()) return Usage("gc: unexpected argument '" + args->positional()[0] + "'");
  const std::string format = args->Flag("format").value_or("table");
  if (format != "table" && format != "json") return Usage("gc: --format is table or json");
  auto kernel = ctx.OpenKernel();
  if (!kernel.ok()) return Fail(kernel.status());
  signals::GcOptions options;
  options.dry_run = args->Has("dry-run");
  options.now_ms = (*kernel)->NowMs();
  if (auto now = args->Flag("now")) {
    auto parsed = signals::ParseRfc3339(*now);
    if (!parsed.ok()) return Usage("gc: --now: " + parsed.status().message());
    options.now_ms = *parsed;
  }
  auto report = signals::RetentionGc(**kernel).Run(options);
  if (!report.ok()) return Fail(report.status());
  if (format == "json") {
    std::cout << report->ToJson().dump(2) << "\n";
  } else {
    size_t batches = 0, callgraphs = 0, objects = 0;
    for (const auto& item : report->deleted) {
      (item.kind == signals::kRuntimeFactsKind ? batches : callgraphs) += 1;
      objects += item.keys.size();
      std::string keys;
      for (const auto& key : item.keys) keys += (keys.empty() ? "" : " ") + key;
      std::cout << (report->dry_run ? "would delete " : "deleted ") << item.kind << " " << item.tenant << "/"
                << item.id << (item.resumed ? " (resumed)" : "") << ": " << keys << " (" << item.reason
                << ")\n";
    }
    std::cout << "gc at " << signals::FormatRfc3339Millis(report->now_ms) << ": "
              << (report->dry_run ? "would delete " : "deleted ") << batches << " runtime-fact batches and "
              << callgraphs << " orphan callgraphs (" << objects << " objects)"
              << (report->dry_run ? "; dry run, nothing changed" : "") << "\n";
  }
  for (const auto& error : report->errors) std::cerr << "signalsctl: gc: " << error << "\n";
  return report->errors.empty() ? kExitOk : kExitInvalid;
}

}  // namespace signalsctl
