#include "gg/status.h"

#include <cstring>

namespace gg {

Status Status::FromErrno(const std::string& what, int err) {
  return Io(what + ": " + std::strerror(err));
}

std::string Status::ToString() const {
  const char* kind = "";
  switch (code_) {
    case Code::kOk: return "ok";
    case Code::kNotFound: kind = "not found"; break;
    case Code::kCorrupt: kind = "corrupt"; break;
    case Code::kInvalid: kind = "invalid"; break;
    case Code::kIo: kind = "i/o error"; break;
    case Code::kUnavailable: kind = "unavailable"; break;
    case Code::kFailed: kind = "failed"; break;
    case Code::kTimeout: kind = "timed out"; break;
  }
  return std::string(kind) + ": " + message_;
}

Status Status::Prefix(const std::string& context) const {
  if (ok()) return *this;
  return Status(code_, context + ": " + message_);
}

}  // namespace gg
