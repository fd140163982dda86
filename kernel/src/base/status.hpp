// Status and Result: how errors cross module boundaries inside the kernel.
//
// A Status is a value: a code saying what kind of failure it is (it maps to an
// HTTP status and an exit code), the rule that was broken, the field it concerns
// and a human-readable message. Exceptions stay inside a module; every function
// a module exports returns a Status or a Result<T>.
#pragma once

#include <cassert>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace signals {

enum class Code {
  kOk,
  kInvalid,           // 400: input broke a validation rule
  kUnauthenticated,   // 401
  kForbidden,         // 403
  kNotFound,          // 404
  kConflict,          // 409
  kGone,              // 410: expired by retention
  kTooLarge,          // 413
  kUnsupportedMedia,  // 415
  kHashMismatch,      // 422
  kUnavailable,       // 503: a plugin or peer is down; may be retried
  kNoSpace,           // 507
  kConfig,            // bad configuration or usage
  kInternal,          // a bug or an unexpected failure of a dependency
};

const char* CodeName(Code code);

class Status {
 public:
  Status() = default;
  Status(Code code, std::string message, std::string field = {}, std::string rule = {})
      : code_(code), message_(std::move(message)), field_(std::move(field)), rule_(std::move(rule)) {}

  static Status Ok() { return {}; }
  static Status Invalid(std::string rule, std::string field, std::string message) {
    return {Code::kInvalid, std::move(message), std::move(field), std::move(rule)};
  }
  static Status Internal(std::string message) { return {Code::kInternal, std::move(message)}; }
  static Status NotFound(std::string message) { return {Code::kNotFound, std::move(message)}; }
  static Status Config(std::string message) { return {Code::kConfig, std::move(message)}; }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  const std::string& field() const { return field_; }
  const std::string& rule() const { return rule_; }

  // "rule 'x' violated at field 'y': message" style text for people.
  std::string ToString() const;

  // Returns a copy whose message is prefixed with `context` ("line 3: ...").
  Status WithContext(const std::string& context) const;
  Status WithField(std::string field) const;
  // Returns a copy that names the 1-based line of the input where the rule
  // was broken (the problem document's "line" member); the message is
  // unchanged, so it still says "line N: ..." for people.
  Status AtLine(uint64_t line) const;
  // 0 when the failure is not about one line of the input.
  uint64_t line() const { return line_; }

  // Extra string members of the problem document (RFC 9457 extension
  // members), e.g. where a client finds what remains of an expired object.
  // Returns a copy with (name, value) appended.
  Status WithDetail(std::string name, std::string value) const;
  const std::vector<std::pair<std::string, std::string>>& details() const { return details_; }

 private:
  Code code_ = Code::kOk;
  std::string message_;
  std::string field_;
  std::string rule_;
  uint64_t line_ = 0;
  std::vector<std::pair<std::string, std::string>> details_;
};

// Holds either a value or a non-OK Status.
template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    assert(!std::get<Status>(v_).ok());
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace signals

// Propagates a non-OK Status from an expression returning Status.
#define SIGNALS_RETURN_IF_ERROR(expr)                  \
  do {                                                 \
    ::signals::Status signals_status_ = (expr);        \
    if (!signals_status_.ok()) return signals_status_; \
  } while (0)
