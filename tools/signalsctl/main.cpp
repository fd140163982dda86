// signalsctl: the local command line of Signals. It runs the same kernel and
// plugins as signalsd, in process, against the same data directory.
#include <sys/stat.h>

#include <cstdio>
#include <iostream>

#include "base/logging.hpp"
#include "cli.hpp"
#include "command_table.hpp"
#include "service/problem.hpp"

extern char** environ;

namespace signalsctl {
namespace {

constexpr const char* kUsageHead =
    "usage: signalsctl [--config FILE] [--data-dir DIR] [--section.key=value ...] <command>\n\ncommands:\n";

constexpr const char* kUsageTail = R"(
long commands (ingest, fsck, reindex, gc) draw a progress line on stderr when stdout and
stderr are terminals

The log key of verify batch/callgraph is --rekor-key, else the [tlog] plugin's
public_key_file option.

exit codes: 0 ok, 1 rejected or invalid, 2 usage or configuration error, 3 verify: expired by retention
)";

std::string UsageText() { return kUsageHead + CommandUsage() + kUsageTail; }

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

signals::Result<std::unique_ptr<signals::Kernel>> Context::OpenKernel(signals::DataDirAccess access) {
  auto config = Config();
  if (!config.ok()) return config.status();
  return signals::Kernel::Open(std::move(*config), access);
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

uint64_t InputSize(std::FILE* in) {
  struct stat st;
  if (::fstat(::fileno(in), &st) != 0 || !S_ISREG(st.st_mode)) return 0;
  return static_cast<uint64_t>(st.st_size);
}

int Usage(const std::string& message) {
  std::cerr << "signalsctl: " << message << "\n\n" << UsageText();
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
      std::cout << UsageText();
      return rest.empty() ? kExitUsage : kExitOk;
    }
    signals::ConfigureLogging("info", "human");
    auto boot = signals::LoadBootstrap(*command_line, environ);
    if (!boot.ok()) return Fail(boot.status());
    Context ctx{std::move(*command_line), std::move(*boot), environ};
    for (const auto& problem : ctx.boot.plugin_problems)
      std::cerr << "signalsctl: warning: " << problem << "\n";
    const std::string command = ctx.command_line.rest[0];
    std::vector<std::string> args(ctx.command_line.rest.begin() + 1, ctx.command_line.rest.end());
    if (const Command* found = FindCommand(command, args)) return found->run(ctx, args);
    return Usage("unknown command '" + command + "'");
  } catch (const std::exception& e) {
    std::cerr << "signalsctl: internal error: " << e.what() << "\n";
    return 1;
  }
}
