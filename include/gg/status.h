// Errors as values: every layer of gg returns a Status (or a Result<T>)
// instead of throwing, and the message is written for the person who has to
// act on it: what went wrong, where, and what to do.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace gg {

class Status {
 public:
  enum class Code {
    kOk = 0,
    kNotFound,     // an object, reduction, file or server that is not there
    kCorrupt,      // content that does not match its name, a malformed thunk
    kInvalid,      // bad arguments or input from the user
    kIo,           // the operating system refused (disk full, permissions)
    kUnavailable,  // infrastructure that may work on a retry (a crashed executor)
    kFailed,       // a thunk's own program failed; retrying will not help
    kTimeout,      // something ran past its time limit
  };

  Status() = default;
  static Status Ok() { return Status(); }
  static Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
  static Status Corrupt(std::string m) { return {Code::kCorrupt, std::move(m)}; }
  static Status Invalid(std::string m) { return {Code::kInvalid, std::move(m)}; }
  static Status Io(std::string m) { return {Code::kIo, std::move(m)}; }
  static Status Unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
  static Status Failed(std::string m) { return {Code::kFailed, std::move(m)}; }
  static Status Timeout(std::string m) { return {Code::kTimeout, std::move(m)}; }
  /// An Io status built from errno, naming what was being done.
  static Status FromErrno(const std::string& what, int err);

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  /// The message with a short prefix naming the kind of error.
  std::string ToString() const;

  /// The same status with `context: ` put in front of its message.
  Status Prefix(const std::string& context) const;

 private:
  Status(Code c, std::string m) : code_(c), message_(std::move(m)) {}
  Code code_ = Code::kOk;
  std::string message_;
};

/// Either a value or the Status saying why there is none.
template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit on purpose
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    assert(!std::get<Status>(v_).ok());
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace gg

/// Returns early from the enclosing function when `expr` is not ok.
#define GG_RETURN_IF_ERROR(expr)          \
  do {                                    \
    ::gg::Status gg_status_ = (expr);     \
    if (!gg_status_.ok()) return gg_status_; \
  } while (0)

#define GG_CONCAT_INNER_(a, b) a##b
#define GG_CONCAT_(a, b) GG_CONCAT_INNER_(a, b)
/// `GG_ASSIGN_OR_RETURN(auto x, F())`: x = F()'s value, or return its status.
#define GG_ASSIGN_OR_RETURN(lhs, expr) \
  GG_ASSIGN_OR_RETURN_IMPL_(GG_CONCAT_(gg_result_, __LINE__), lhs, expr)
#define GG_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()
