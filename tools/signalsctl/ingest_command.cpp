// signalsctl ingest facts <file|-> --tenant T --callgraph-id ID [--source S]
#include <cstdio>
#include <iostream>

#include "cli.hpp"
#include "ingest/fact_ingest.hpp"
#include "progress_line.hpp"

namespace signalsctl {

int RunIngest(Context& ctx, const std::vector<std::string>& tokens) {
  auto args = Args::Parse(tokens, {"tenant", "callgraph-id", "source"});
  if (!args.ok()) return Usage("ingest: " + args.status().message());
  const auto& pos = args->positional();
  if (pos.size() != 2 || pos[0] != "facts") return Usage("ingest: expected `ingest facts <file|->`");
  if (!args->Flag("tenant")) return Usage("ingest facts: --tenant is required");
  if (!args->Flag("callgraph-id")) return Usage("ingest facts: --callgraph-id is required");

  FILE* in = pos[1] == "-" ? stdin : std::fopen(pos[1].c_str(), "rb");
  if (in == nullptr) return Fail(signals::Status::Config("cannot open " + pos[1]));
  auto kernel = ctx.OpenKernel();
  if (!kernel.ok()) return Fail(kernel.status());

  signals::FactIngestRequest request;
  request.tenant = *args->Flag("tenant");
  request.callgraph_id = *args->Flag("callgraph-id");
  request.source = args->Flag("source").value_or("signalsctl");
  request.principal = "signals-service";
  request.received_at_ms = (*kernel)->NowMs();
  auto ingest = (*kernel)->BeginFactIngest(request);
  if (!ingest.ok()) return Fail(ingest.status());

  ProgressLine progress("ingest", "facts");
  signals::ProgressCounts counts;
  counts.total_bytes = InputSize(in);
  std::string buffer(1 << 20, '\0');
  while (true) {
    size_t n = std::fread(buffer.data(), 1, buffer.size(), in);
    if (n > 0) {
      signals::Status s = (*ingest)->Write(std::string_view(buffer.data(), n));
      if (!s.ok()) {
        progress.Finish();  // the error goes on a line of its own
        return Fail(s);
      }
      counts.bytes += n;
      counts.items = (*ingest)->fact_count();
      progress.Update(counts);
    }
    if (n < buffer.size()) {
      if (std::ferror(in)) {
        progress.Finish();
        return Fail(signals::Status::Internal("read error on " + pos[1]));
      }
      break;
    }
  }
  if (in != stdin) std::fclose(in);
  auto record = (*ingest)->Finish();
  progress.Finish();
  if (!record.ok()) return Fail(record.status());
  std::cout << record->dump() << "\n";
  return kExitOk;
}

}  // namespace signalsctl
