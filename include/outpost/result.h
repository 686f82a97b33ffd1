// Error and Result<T>: the value-or-error vocabulary of outpost.
//
// Failures we expect (bad input, a missing order, a database outage) travel as values;
// exceptions are for bugs and are caught at library edges. Callers branch on the kind,
// never on the message. Plain values: safe to copy between threads.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace outpost {

enum class ErrorKind {
  kInvalidArgument,  // the caller's input is wrong; retrying the same input cannot help
  kNotFound,
  kConflict,       // the request contradicts the current state (duplicate, in flight)
  kUnprocessable,  // well-formed, but not acceptable (idempotency key reused)
  kUnavailable,    // a dependency is down; retry later
  kInternal,       // a bug or an unclassified failure
};

const char* toString(ErrorKind kind);

// One rejected input field, e.g. {"items[0].quantity", "must be between 1 and 10000"}.
struct FieldError {
  std::string field;
  std::string detail;
};

struct Error {
  ErrorKind kind = ErrorKind::kInternal;
  std::string message;
  std::vector<FieldError> fields;  // for kInvalidArgument: every bad field, not just the first

  Error() = default;
  Error(ErrorKind k, std::string m, std::vector<FieldError> f = {})
      : kind(k), message(std::move(m)), fields(std::move(f)) {}

  static Error invalidArgument(std::string m) {
    return {ErrorKind::kInvalidArgument, std::move(m)};
  }
  // kInvalidArgument naming every bad field; the message is the one field ("items: is
  // required") or how many there are.
  static Error invalidFields(std::vector<FieldError> f) {
    std::string m = f.size() == 1 ? f.front().field + ": " + f.front().detail
                                  : std::to_string(f.size()) + " fields are invalid";
    return {ErrorKind::kInvalidArgument, std::move(m), std::move(f)};
  }
  static Error notFound(std::string m) { return {ErrorKind::kNotFound, std::move(m)}; }
  static Error conflict(std::string m) { return {ErrorKind::kConflict, std::move(m)}; }
  static Error unprocessable(std::string m) { return {ErrorKind::kUnprocessable, std::move(m)}; }
  static Error unavailable(std::string m) { return {ErrorKind::kUnavailable, std::move(m)}; }
  static Error internal(std::string m) { return {ErrorKind::kInternal, std::move(m)}; }
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}      // NOLINT: implicit by design
  Result(Error error) : state_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return std::holds_alternative<T>(state_); }
  explicit operator bool() const { return ok(); }

  const T& value() const& {
    assert(ok());
    return std::get<T>(state_);
  }
  T& value() & {
    assert(ok());
    return std::get<T>(state_);
  }
  T&& value() && {
    assert(ok());
    return std::get<T>(std::move(state_));
  }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

  const Error& error() const {
    assert(!ok());
    return std::get<Error>(state_);
  }

 private:
  std::variant<T, Error> state_;
};

struct Unit {};
using Status = Result<Unit>;
inline Status okStatus() { return Unit{}; }

}  // namespace outpost
