// Type-specific purl rules, derived from the purl-spec conformance suite
// (tests/types/*-test.json) and the type definitions it reflects.
#include <array>
#include <string>
#include <string_view>

#include "model/purl.hpp"

namespace signals::purl_detail {
namespace {

enum class Need { kOptional, kRequired, kProhibited };

using ExtraRule = Status (*)(Purl&);

struct TypeRule {
  std::string_view type = {};
  Need ns = Need::kOptional;
  bool lower_namespace = false;
  bool upper_namespace = false;
  bool lower_name = false;
  bool version_required = false;
  std::string_view required_qualifier = {};  // empty: none
  ExtraRule extra = nullptr;
};

void Lower(std::string& s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
}

void Upper(std::string& s) {
  for (char& c : s) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
}

// pypi: names are case-insensitive and '_' is equivalent to '-'.
Status PypiRule(Purl& p) {
  for (char& c : p.name) {
    if (c == '_') c = '-';
  }
  return Status::Ok();
}

// cpan: the name is a distribution name; a module name ("URI::PackageURL") is an error.
Status CpanRule(Purl& p) {
  if (p.name.find("::") != std::string::npos) {
    return Invalid(
        "name", "cpan name '" + p.name + "' looks like a module name; use the distribution name (no '::')");
  }
  return Status::Ok();
}

// chrome-extension: the id is 32 characters a-p; the version has 1 to 4 numeric parts.
Status ChromeExtensionRule(Purl& p) {
  bool id_ok = p.name.size() == 32;
  for (char c : p.name) id_ok = id_ok && c >= 'a' && c <= 'p';
  if (!id_ok) {
    return Invalid(
        "name", "chrome-extension name '" + p.name + "' must be a 32-character extension id of letters a-p");
  }
  if (p.version.empty()) return Status::Ok();
  int parts = 1;
  bool digits = false;
  for (char c : p.version) {
    if (c == '.') {
      if (!digits) break;
      ++parts;
      digits = false;
    } else if (c >= '0' && c <= '9') {
      digits = true;
    } else {
      digits = false;
      parts = 99;
      break;
    }
  }
  if (!digits || parts > 4) {
    return Invalid("version",
                   "chrome-extension version '" + p.version + "' must be 1 to 4 dot-separated numbers");
  }
  return Status::Ok();
}

// git: the namespace is the host; the name is the repository path on it.
Status GitRule(Purl& p) {
  size_t slash = p.namespace_.find('/');
  if (slash != std::string::npos) {
    p.name = p.namespace_.substr(slash + 1) + "/" + p.name;
    p.namespace_.resize(slash);
  }
  return Status::Ok();
}

// huggingface: the version is a commit hash, canonically lowercase.
Status HuggingfaceRule(Purl& p) {
  Lower(p.version);
  return Status::Ok();
}

// mlflow: model names are case-insensitive on Databricks, case-sensitive elsewhere.
Status MlflowRule(Purl& p) {
  const std::string* repo = p.Qualifier("repository_url");
  if (repo != nullptr) {
    std::string lowered = *repo;
    Lower(lowered);
    if (lowered.find("databricks") != std::string::npos) Lower(p.name);
  }
  return Status::Ok();
}

constexpr Need kReq = Need::kRequired;
constexpr Need kNo = Need::kProhibited;

constexpr std::array kRules = {
    TypeRule{.type = "alpm", .lower_namespace = true, .lower_name = true},
    TypeRule{.type = "apk", .lower_namespace = true, .lower_name = true},
    TypeRule{.type = "bazel", .ns = kNo},
    TypeRule{.type = "bitbucket", .ns = kReq, .lower_namespace = true, .lower_name = true},
    TypeRule{.type = "bitnami", .ns = kNo, .lower_name = true},
    TypeRule{.type = "brew", .lower_namespace = true, .lower_name = true},
    TypeRule{.type = "cargo", .ns = kNo},
    TypeRule{.type = "chrome-extension", .ns = kNo, .extra = ChromeExtensionRule},
    TypeRule{.type = "cocoapods", .ns = kNo},
    TypeRule{.type = "composer", .ns = kReq, .lower_namespace = true, .lower_name = true},
    TypeRule{.type = "conda", .ns = kNo},
    TypeRule{.type = "cpan", .upper_namespace = true, .extra = CpanRule},
    TypeRule{.type = "cran", .ns = kNo, .version_required = true},
    TypeRule{.type = "deb", .lower_namespace = true, .lower_name = true},
    TypeRule{.type = "gem", .ns = kNo},
    TypeRule{.type = "git", .lower_namespace = true, .lower_name = true, .extra = GitRule},
    TypeRule{.type = "github", .ns = kReq, .lower_namespace = true, .lower_name = true},
    TypeRule{.type = "hackage", .ns = kNo, .version_required = true},
    TypeRule{.type = "hex", .lower_namespace = true, .lower_name = true},
    TypeRule{.type = "huggingface", .extra = HuggingfaceRule},
    TypeRule{.type = "julia", .ns = kNo, .required_qualifier = "uuid"},
    TypeRule{.type = "maven", .ns = kReq},
    TypeRule{.type = "mlflow", .ns = kNo, .extra = MlflowRule},
    TypeRule{.type = "nuget", .ns = kNo},
    TypeRule{.type = "oci", .ns = kNo, .lower_name = true},
    TypeRule{.type = "opam", .ns = kNo},
    TypeRule{.type = "otp", .ns = kNo},
    TypeRule{.type = "pub", .ns = kNo, .lower_name = true},
    TypeRule{.type = "pypi", .ns = kNo, .lower_name = true, .extra = PypiRule},
    TypeRule{.type = "qpkg", .lower_namespace = true},
    TypeRule{.type = "rpm", .lower_namespace = true},
    TypeRule{.type = "swid", .required_qualifier = "tag_id"},
    TypeRule{.type = "swift", .ns = kReq, .version_required = true},
    TypeRule{.type = "vcpkg", .ns = kNo},
    TypeRule{.type = "vscode-extension", .ns = kReq},
};

const TypeRule* FindRule(std::string_view type) {
  for (const TypeRule& rule : kRules) {
    if (rule.type == type) return &rule;
  }
  return nullptr;
}

}  // namespace

Status ApplyTypeRules(Purl& p) {
  const TypeRule* rule = FindRule(p.type);
  if (rule == nullptr) return Status::Ok();  // unknown types get the generic rules only
  const std::string type(rule->type);
  if (rule->ns == Need::kRequired && p.namespace_.empty()) {
    return Invalid("namespace", "a " + type + " purl requires a namespace");
  }
  if (rule->ns == Need::kProhibited && !p.namespace_.empty()) {
    return Invalid("namespace", "a " + type + " purl must not have a namespace (got '" + p.namespace_ + "')");
  }
  if (rule->lower_namespace) Lower(p.namespace_);
  if (rule->upper_namespace) Upper(p.namespace_);
  if (rule->lower_name) Lower(p.name);
  if (rule->version_required && p.version.empty()) {
    return Invalid("version", "a " + type + " purl requires a version");
  }
  if (!rule->required_qualifier.empty() && p.Qualifier(rule->required_qualifier) == nullptr) {
    return Invalid("qualifiers", "a " + type + " purl requires the qualifier '" +
                                     std::string(rule->required_qualifier) + "'");
  }
  if (rule->extra != nullptr) return rule->extra(p);
  return Status::Ok();
}

}  // namespace signals::purl_detail
