// signalsctl plugins list | describe <name|file.so>
#include <iomanip>
#include <iostream>

#include "cli.hpp"
#include "config/option_schema.hpp"

namespace signalsctl {
namespace {

std::string Abi(const signals_plugin_descriptor* d) {
  return std::to_string(d->abi_major) + "." + std::to_string(d->abi_minor);
}

void Describe(const signals::PluginRegistry::Library& lib) {
  const signals_plugin_descriptor* d = lib.descriptor;
  std::cout << "plugin:      " << d->name << "\n"
            << "version:     " << (d->version ? d->version : "?") << "\n"
            << "abi:         " << Abi(d) << " (sdk " << (d->sdk_version ? d->sdk_version : "?") << ")\n"
            << "path:        " << lib.origin << "\n"
            << "description: " << (d->description ? d->description : "") << "\n";
  for (size_t i = 0; i < d->component_count; ++i) {
    const signals_component& c = d->components[i];
    std::cout << "\ncomponent " << c.name << " (" << signals::KindName(c.kind) << ")"
              << ((c.capabilities & SIGNALS_CAP_CONCURRENT) ? ", concurrent" : "") << "\n  "
              << (c.description ? c.description : "") << "\n  options:\n"
              << signals::DescribeOptions(signals::OptionTable{c.options, c.option_count}, "<section>");
  }
}

}  // namespace

int RunPlugins(Context& ctx, const std::vector<std::string>& args) {
  if (args.empty()) return Usage("plugins: expected list or describe");
  const auto& registry = *ctx.boot.registry;
  if (args[0] == "list") {
    std::cout << std::left << std::setw(24) << "NAME" << std::setw(10) << "KIND" << std::setw(10) << "VERSION"
              << std::setw(6) << "ABI" << "PATH\n";
    for (const auto& c : registry.components()) {
      std::cout << std::left << std::setw(24) << c.component->name << std::setw(10)
                << signals::KindName(c.component->kind) << std::setw(10)
                << (c.plugin->version ? c.plugin->version : "?") << std::setw(6) << Abi(c.plugin) << c.origin
                << "\n";
    }
    return kExitOk;
  }
  if (args[0] == "describe") {
    if (args.size() != 2) return Usage("plugins describe: expected <name|file.so>");
    const std::string& target = args[1];
    if (target.find('/') != std::string::npos || (target.size() > 3 && target.substr(target.size() - 3) == ".so")) {
      signals::PluginRegistry single;
      signals::Status s = single.LoadFile(target);
      if (!s.ok()) return Fail(s);
      Describe(single.libraries().front());
      return kExitOk;
    }
    for (const auto& lib : registry.libraries()) {
      bool match = target == lib.descriptor->name;
      for (size_t i = 0; i < lib.descriptor->component_count; ++i) {
        match = match || target == lib.descriptor->components[i].name;
      }
      if (match) {
        Describe(lib);
        return kExitOk;
      }
    }
    return Fail(signals::Status::NotFound("no plugin named '" + target + "'"));
  }
  return Usage("plugins: unknown subcommand '" + args[0] + "'");
}

}  // namespace signalsctl
