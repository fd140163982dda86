// signalsctl plugins list | describe <name|file.so> [--format text|markdown]
#include <iomanip>
#include <iostream>

#include "cli.hpp"
#include "config/option_schema.hpp"

namespace signalsctl {
namespace {

std::string Abi(const signals_plugin_descriptor* d) {
  return std::to_string(d->abi_major) + "." + std::to_string(d->abi_minor);
}

// A duration option's bound in the unit it reads best in ("100ms", "30s", "1h").
std::string DurationText(int64_t ms) {
  if (ms == 0) return "0";
  static const std::pair<int64_t, const char*> kUnits[] = {
      {86400000, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}};
  for (const auto& [size, unit] : kUnits) {
    if (ms != 0 && ms % size == 0) return std::to_string(ms / size) + unit;
  }
  return std::to_string(ms) + "ms";
}

// A size option's bound in the largest binary unit that divides it ("16KiB").
std::string SizeText(int64_t bytes) {
  static const std::pair<int64_t, const char*> kUnits[] = {{int64_t{1} << 40, "TiB"},
                                                           {int64_t{1} << 30, "GiB"},
                                                           {int64_t{1} << 20, "MiB"},
                                                           {int64_t{1} << 10, "KiB"}};
  for (const auto& [size, unit] : kUnits) {
    if (bytes != 0 && bytes % size == 0) return std::to_string(bytes / size) + unit;
  }
  return std::to_string(bytes);
}

// Markdown table cells may not hold a bare '|'.
std::string Cell(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += '\\';
    out += c;
  }
  return out;
}

// The options of one component as the Markdown table of the plugin READMEs
// (tests/integration/plugin_readmes_test.sh keeps the READMEs equal to it).
std::string MarkdownOptionTable(const signals_component& c) {
  std::string out = "| name | type | default | description |\n|------|------|---------|-------------|\n";
  for (size_t i = 0; i < c.option_count; ++i) {
    const signals_option& o = c.options[i];
    std::string type = signals::OptionTypeName(o.type);
    if (o.type == SIGNALS_OPT_ENUM && o.enum_values) type += " `" + Cell(o.enum_values) + "`";
    const bool bounded =
        o.min_value < o.max_value &&
        (o.type == SIGNALS_OPT_INT || o.type == SIGNALS_OPT_DURATION || o.type == SIGNALS_OPT_SIZE);
    if (bounded) {
      auto bound = [&](int64_t v) {
        return o.type == SIGNALS_OPT_DURATION ? DurationText(v)
               : o.type == SIGNALS_OPT_SIZE   ? SizeText(v)
                                              : std::to_string(v);
      };
      type += " (" + bound(o.min_value) + " – " + bound(o.max_value) + ")";
    }
    std::string default_text = (o.flags & SIGNALS_OPTF_REQUIRED) ? "required"
                               : o.default_value == nullptr      ? "–"
                               : o.default_value[0] == '\0'      ? "empty"
                                                                 : "`" + Cell(o.default_value) + "`";
    std::string description = Cell(o.description ? o.description : "");
    if (o.flags & SIGNALS_OPTF_SECRET) description += " Secret: never logged or printed.";
    out += "| `" + std::string(o.name) + "` | " + type + " | " + default_text + " | " + description + " |\n";
  }
  return out;
}

void DescribeMarkdown(const signals::PluginRegistry::Library& lib) {
  const signals_plugin_descriptor* d = lib.descriptor;
  for (size_t i = 0; i < d->component_count; ++i) {
    if (d->component_count > 1)
      std::cout << (i > 0 ? "\n" : "") << "Component `" << d->components[i].name << "`:\n\n";
    std::cout << MarkdownOptionTable(d->components[i]);
  }
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
              << std::setw(6) << "ABI"
              << "PATH\n";
    for (const auto& c : registry.components()) {
      std::cout << std::left << std::setw(24) << c.component->name << std::setw(10)
                << signals::KindName(c.component->kind) << std::setw(10)
                << (c.plugin->version ? c.plugin->version : "?") << std::setw(6) << Abi(c.plugin) << c.origin
                << "\n";
    }
    return kExitOk;
  }
  if (args[0] == "describe") {
    auto parsed = Args::Parse(std::vector<std::string>(args.begin() + 1, args.end()), {"format"}, {});
    if (!parsed.ok()) return Usage("plugins describe: " + parsed.status().message());
    const std::string format = parsed->Flag("format").value_or("text");
    if (format != "text" && format != "markdown")
      return Usage("plugins describe: --format is text or markdown");
    if (parsed->positional().size() != 1) return Usage("plugins describe: expected <name|file.so>");
    const std::string& target = parsed->positional()[0];
    auto describe = format == "markdown" ? DescribeMarkdown : Describe;
    if (target.find('/') != std::string::npos ||
        (target.size() > 3 && target.substr(target.size() - 3) == ".so")) {
      signals::PluginRegistry single;
      signals::Status s = single.LoadFile(target);
      if (!s.ok()) return Fail(s);
      describe(single.libraries().front());
      return kExitOk;
    }
    for (const auto& lib : registry.libraries()) {
      bool match = target == lib.descriptor->name;
      for (size_t i = 0; i < lib.descriptor->component_count; ++i) {
        match = match || target == lib.descriptor->components[i].name;
      }
      if (match) {
        describe(lib);
        return kExitOk;
      }
    }
    return Fail(signals::Status::NotFound("no plugin named '" + target + "'"));
  }
  return Usage("plugins: unknown subcommand '" + args[0] + "'");
}

}  // namespace signalsctl
