// The commands of signalsctl as one table: what main() dispatches on and
// what `signalsctl --help` lists, so the two cannot disagree.
#pragma once

#include <string>
#include <vector>

#include "cli.hpp"

namespace signalsctl {

struct Command {
  std::string name;               // "verify"
  std::string subcommand;         // "callgraph"; "" when the command has none
  std::string arguments;          // the rest of the synopsis, for the usage text
  std::vector<std::string> help;  // description lines; empty: not listed on its own
  int (*run)(Context& ctx, const std::vector<std::string>& args);
};

// The row for `command` whose subcommand is args[0], else the command's
// first row (its handler reports an unknown subcommand); nullptr for an
// unknown command.
const Command* FindCommand(const std::string& command, const std::vector<std::string>& args);

// The "commands:" block of the usage text, one synopsis per row with its
// description from column 40.
std::string CommandUsage();

}  // namespace signalsctl
