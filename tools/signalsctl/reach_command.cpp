// signalsctl reach <graphId> --targets <file|-> [--format json|table] [--unconfirmed-as-not-affected]
// signalsctl drift --base <graphId> --head <graphId> --sinks <file|-> [--format json|table]
// signalsctl vex <graphId> --vulnerability CVE-… --symbols <file|-> [--unconfirmed-as-not-affected]
// Reachability, drift and OpenVEX (README.md#reachability-drift-and-vex), run in process against the
// local store as the operator (like `callgraphs list`). JSON on stdout.
#include <iostream>
#include <sstream>

#include "analysis/drift.hpp"
#include "analysis/reachability.hpp"
#include "analysis/vex.hpp"
#include "cli.hpp"

namespace signalsctl {
namespace {

signals::Result<std::string> ReadWhole(const std::string& path) {
  std::string out;
  signals::Status s = StreamInput(path, [&](std::string_view chunk) {
    out.append(chunk);
    return signals::Status::Ok();
  });
  if (!s.ok()) return s;
  return out;
}

// One id a line; blank lines and '#' comments skipped.
signals::Result<std::vector<std::string>> ReadIdList(const std::string& path) {
  auto text = ReadWhole(path);
  if (!text.ok()) return text.status();
  std::vector<std::string> out;
  std::istringstream in(*text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    out.push_back(line);
  }
  return out;
}

}  // namespace

int RunReach(Context& ctx, const std::vector<std::string>& tokens) {
  auto args = Args::Parse(tokens, {"targets", "format"}, {"unconfirmed-as-not-affected"});
  if (!args.ok()) return Usage("reach: " + args.status().message());
  if (args->positional().size() != 1 || !args->Flag("targets")) {
    return Usage("reach: expected `reach <graphId> --targets <file>`");
  }
  const std::string format = args->Flag("format").value_or("json");
  if (format != "table" && format != "json") return Usage("reach: --format is json or table");
  auto targets = ReadIdList(*args->Flag("targets"));
  if (!targets.ok()) return Fail(targets.status());
  auto kernel = ctx.OpenKernel();
  if (!kernel.ok()) return Fail(kernel.status());
  signals::ReachOptions options;
  options.unconfirmed_as_not_affected = args->Has("unconfirmed-as-not-affected");
  auto result = signals::QueryReachability(**kernel, args->positional()[0], *targets, options);
  if (!result.ok()) return Fail(result.status());
  if (format == "json") {
    std::cout << result->dump(2) << "\n";
    return kExitOk;
  }
  std::cout << "TARGET\tNODE\tSTATE\tVEX\tHITS\tPATH\n";
  for (const auto& r : (*result)["results"]) {
    std::string path;
    for (const auto& p : r["path"]) path += (path.empty() ? "" : " -> ") + p.get<std::string>();
    std::cout << r.value("target", "") << "\t" << (r["node"].is_string() ? r["node"].get<std::string>() : "-")
              << "\t" << r.value("state", "") << "\t" << r["vex"].value("status", "") << "\t"
              << r.value("runtimeHits", 0) << "\t" << path << "\n";
  }
  return kExitOk;
}

int RunDrift(Context& ctx, const std::vector<std::string>& tokens) {
  auto args = Args::Parse(tokens, {"base", "head", "sinks", "format"});
  if (!args.ok()) return Usage("drift: " + args.status().message());
  if (!args->positional().empty() || !args->Flag("base") || !args->Flag("head") || !args->Flag("sinks")) {
    return Usage("drift: expected `drift --base <graphId> --head <graphId> --sinks <file>`");
  }
  const std::string format = args->Flag("format").value_or("json");
  if (format != "table" && format != "json") return Usage("drift: --format is json or table");
  auto text = ReadWhole(*args->Flag("sinks"));
  if (!text.ok()) return Fail(text.status());
  auto sinks = signals::ParseSinkList(*text);
  if (!sinks.ok()) return Fail(sinks.status());
  auto kernel = ctx.OpenKernel();
  if (!kernel.ok()) return Fail(kernel.status());
  auto result = signals::QueryDrift(**kernel, *args->Flag("base"), *args->Flag("head"), *sinks);
  if (!result.ok()) return Fail(result.status());
  if (format == "json") {
    std::cout << result->dump(2) << "\n";
  } else {
    std::cout << signals::DriftTable(*result);
  }
  return kExitOk;
}

int RunVex(Context& ctx, const std::vector<std::string>& tokens) {
  auto args = Args::Parse(tokens, {"vulnerability", "symbols"}, {"unconfirmed-as-not-affected", "evidence"});
  if (!args.ok()) return Usage("vex: " + args.status().message());
  if (args->positional().size() != 1 || !args->Flag("vulnerability") || !args->Flag("symbols")) {
    return Usage("vex: expected `vex <graphId> --vulnerability CVE-… --symbols <file>`");
  }
  auto symbols = ReadIdList(*args->Flag("symbols"));
  if (!symbols.ok()) return Fail(symbols.status());
  auto kernel = ctx.OpenKernel();
  if (!kernel.ok()) return Fail(kernel.status());
  signals::ReachOptions options;
  options.unconfirmed_as_not_affected = args->Has("unconfirmed-as-not-affected");
  auto result =
      signals::BuildVex(**kernel, args->positional()[0], *args->Flag("vulnerability"), *symbols, options);
  if (!result.ok()) return Fail(result.status());
  // The document alone (what validates against the OpenVEX schema); --evidence
  // prints {"document", "evidence"}.
  std::cout << (args->Has("evidence") ? *result : (*result)["document"]).dump(2) << "\n";
  return kExitOk;
}

}  // namespace signalsctl
