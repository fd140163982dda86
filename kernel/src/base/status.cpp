#include "base/status.hpp"

namespace signals {

const char* CodeName(Code code) {
  switch (code) {
    case Code::kOk:
      return "ok";
    case Code::kInvalid:
      return "invalid";
    case Code::kUnauthenticated:
      return "unauthenticated";
    case Code::kForbidden:
      return "forbidden";
    case Code::kNotFound:
      return "not-found";
    case Code::kConflict:
      return "conflict";
    case Code::kGone:
      return "gone";
    case Code::kTooLarge:
      return "too-large";
    case Code::kUnsupportedMedia:
      return "unsupported-media-type";
    case Code::kHashMismatch:
      return "hash-mismatch";
    case Code::kUnavailable:
      return "unavailable";
    case Code::kNoSpace:
      return "no-space";
    case Code::kConfig:
      return "config";
    case Code::kInternal:
      return "internal";
  }
  return "unknown";
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  std::string out = message_;
  if (!field_.empty() || !rule_.empty()) {
    out += " (";
    if (!field_.empty()) out += "field '" + field_ + "'";
    if (!field_.empty() && !rule_.empty()) out += ", ";
    if (!rule_.empty()) out += "rule '" + rule_ + "'";
    out += ")";
  }
  return out;
}

Status Status::WithContext(const std::string& context) const {
  if (ok()) return *this;
  Status out = *this;
  out.message_ = context + ": " + message_;
  return out;
}

Status Status::WithField(std::string field) const {
  if (ok()) return *this;
  Status out = *this;
  out.field_ = std::move(field);
  return out;
}

Status Status::AtLine(uint64_t line) const {
  if (ok()) return *this;
  Status out = *this;
  out.line_ = line;
  return out;
}

Status Status::WithDetail(std::string name, std::string value) const {
  if (ok()) return *this;
  Status out = *this;
  out.details_.emplace_back(std::move(name), std::move(value));
  return out;
}

}  // namespace signals
