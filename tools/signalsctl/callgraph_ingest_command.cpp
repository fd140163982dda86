// signalsctl ingest callgraph <file|-> --tenant T --purl P --language L
//                             [--source S] [--format auto|json|ndjson]
// Prints the manifest (one JSON line); says on stderr whether the graph is new
// or an identical one already existed.
#include <unistd.h>

#include <filesystem>
#include <iostream>

#include "cli.hpp"
#include "ingest/callgraph_ingest.hpp"
#include "progress_line.hpp"

namespace signalsctl {

int RunIngestCallgraph(Context& ctx, const std::vector<std::string>& tokens) {
  auto args = Args::Parse(tokens, {"tenant", "purl", "language", "source", "format"});
  if (!args.ok()) return Usage("ingest callgraph: " + args.status().message());
  const auto& pos = args->positional();
  if (pos.size() != 2 || pos[0] != "callgraph") return Usage("ingest: expected `ingest callgraph <file|->`");
  for (const char* required : {"tenant", "purl", "language"}) {
    if (!args->Flag(required)) return Usage(std::string("ingest callgraph: --") + required + " is required");
  }
  auto format = signals::ParseCallgraphInputFormat(args->Flag("format").value_or("auto"), "--format");
  if (!format.ok()) return Usage("ingest callgraph: " + format.status().message());

  // A missing input is a usage error found before anything (a key, say) is created.
  if (pos[1] != "-" && ::access(pos[1].c_str(), R_OK) != 0) {
    return Fail(signals::Status::Config("cannot open " + pos[1]));
  }
  auto kernel = ctx.OpenKernel();
  if (!kernel.ok()) return Fail(kernel.status());
  signals::CallgraphIngestRequest request;
  request.tenant = *args->Flag("tenant");
  request.component_purl = *args->Flag("purl");
  request.language = *args->Flag("language");
  request.source = args->Flag("source").value_or("signalsctl");
  request.principal = "signals-service";
  request.format = *format;
  auto ingest = (*kernel)->BeginCallgraphIngest(request);
  if (!ingest.ok()) return Fail(ingest.status());
  ProgressLine progress("ingest", "");
  signals::ProgressCounts counts;
  std::error_code size_error;
  if (pos[1] != "-") counts.total_bytes = std::filesystem::file_size(pos[1], size_error);
  if (size_error) counts.total_bytes = 0;
  signals::Status read = StreamInput(pos[1], [&](std::string_view chunk) {
    counts.bytes += chunk.size();
    progress.Update(counts);
    return (*ingest)->Write(chunk);
  });
  if (!read.ok()) {
    progress.Finish();  // the error goes on a line of its own
    return Fail(read);
  }
  auto result = (*ingest)->Finish();
  progress.Finish();
  if (!result.ok()) return Fail(result.status());
  std::cerr << (result->created ? "callgraph " + result->graph_id + " stored"
                                : "an identical callgraph exists: " + result->graph_id)
            << "\n";
  std::cout << result->manifest.dump() << "\n";
  return kExitOk;
}

}  // namespace signalsctl
