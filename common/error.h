#pragma once
// berth::Error and Result<T>: how every fallible call in berth reports failure.
//
// An Error carries a category (numerically equal to the gRPC status code, so
// the CRI edge maps it 1:1), the errno captured at the failing call (0 for
// validation errors), the operation (syscall name as in its man page), the
// object it acted on (path, pid, field), and a chain of outer context added
// at layer boundaries. It renders as
//     <context>: <op> `<object>`: <strerror>
// e.g. "create container `web`: mount `/proc` to `/run/x/rootfs/proc`:
// Permission denied".

#include <cerrno>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace berth {

enum class Errc : int {
  kCancelled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
  kUnauthenticated = 16,
};

const char* ErrcName(Errc code);
// Aborts the process: a Result was read the wrong way (see Result::value).
[[noreturn]] void ResultMisuse(const std::string& what);
Errc ErrcFromErrno(int err);

class Error {
 public:
  // A validation or logic error: no errno.
  Error(Errc code, std::string message) : code_(code), message_(std::move(message)) {}

  // A failed system call: `op` is the syscall or operation, `object` the path,
  // fd or pid it acted on. `err` defaults to the live errno, so construct the
  // Error before any cleanup that could overwrite it.
  static Error Sys(std::string op, std::string object = {}, int err = errno);

  Errc code() const { return code_; }
  int sys_errno() const { return errno_; }
  const std::string& op() const { return op_; }
  const std::string& object() const { return object_; }
  const std::string& message() const { return message_; }

  // Prepends outer context ("create container `x`").
  Error& Wrap(std::string context) &;
  Error&& Wrap(std::string context) &&;

  std::string str() const;

 private:
  Error() = default;
  Errc code_ = Errc::kUnknown;
  int errno_ = 0;
  std::string op_;
  std::string object_;
  std::string message_;
  std::string context_;  // "outer: inner" already joined
};

// Result<T>: a T or an Error. Result<void> (alias Status) carries only an
// optional Error.
template <class T>
class [[nodiscard]] Result {
 public:
  using value_type = T;
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  // Reading the value of a failed Result (or the error of a good one) is a
  // broken invariant: it aborts with the error's text instead of throwing.
  T& value() & { return *Checked(); }
  const T& value() const& { return *Checked(); }
  T value() && { return std::move(*Checked()); }
  T* operator->() { return Checked(); }
  const T* operator->() const { return Checked(); }
  T& operator*() & { return *Checked(); }
  const T& operator*() const& { return *Checked(); }

  const Error& error() const& { return *CheckedError(); }
  Error error() && { return std::move(*CheckedError()); }

  T value_or(T fallback) && { return ok() ? std::move(*Checked()) : std::move(fallback); }

 private:
  T* Checked() {
    if (T* v = std::get_if<0>(&v_)) return v;
    ResultMisuse(std::get_if<1>(&v_)->str());
  }
  const T* Checked() const { return const_cast<Result*>(this)->Checked(); }
  Error* CheckedError() {
    if (Error* e = std::get_if<1>(&v_)) return e;
    ResultMisuse("error() of a successful Result");
  }
  const Error* CheckedError() const { return const_cast<Result*>(this)->CheckedError(); }

  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return !error_.has_value(); }
  explicit operator bool() const { return ok(); }
  void value() const {}
  const Error& error() const& {
    if (!error_) ResultMisuse("error() of a successful Status");
    return *error_;
  }
  Error error() && {
    if (!error_) ResultMisuse("error() of a successful Status");
    return std::move(*error_);
  }

 private:
  std::optional<Error> error_;
};

using Status = Result<void>;
inline Status Ok() {
  return {};
}

}  // namespace berth

// BERTH_TRY(expr): evaluates a Result; on error returns it from the enclosing
// function, otherwise yields the value.
#define BERTH_TRY(expr)                            \
  ({                                               \
    auto&& berth_try_result_ = (expr);             \
    if (!berth_try_result_.ok()) {                 \
      return std::move(berth_try_result_).error(); \
    }                                              \
    std::move(berth_try_result_).value();          \
  })

// BERTH_TRY_CTX(expr, context): as BERTH_TRY, wrapping the error in context.
#define BERTH_TRY_CTX(expr, context)                             \
  ({                                                             \
    auto&& berth_try_result_ = (expr);                           \
    if (!berth_try_result_.ok()) {                               \
      return std::move(berth_try_result_).error().Wrap(context); \
    }                                                            \
    std::move(berth_try_result_).value();                        \
  })
