#include "common/error.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace berth {

void ResultMisuse(const std::string& what) {
  std::fprintf(stderr, "berth: value of a failed Result read: %s\n", what.c_str());
  std::abort();
}

const char* ErrcName(Errc code) {
  switch (code) {
    case Errc::kCancelled:
      return "Cancelled";
    case Errc::kUnknown:
      return "Unknown";
    case Errc::kInvalidArgument:
      return "InvalidArgument";
    case Errc::kDeadlineExceeded:
      return "DeadlineExceeded";
    case Errc::kNotFound:
      return "NotFound";
    case Errc::kAlreadyExists:
      return "AlreadyExists";
    case Errc::kPermissionDenied:
      return "PermissionDenied";
    case Errc::kResourceExhausted:
      return "ResourceExhausted";
    case Errc::kFailedPrecondition:
      return "FailedPrecondition";
    case Errc::kAborted:
      return "Aborted";
    case Errc::kOutOfRange:
      return "OutOfRange";
    case Errc::kUnimplemented:
      return "Unimplemented";
    case Errc::kInternal:
      return "Internal";
    case Errc::kUnavailable:
      return "Unavailable";
    case Errc::kDataLoss:
      return "DataLoss";
    case Errc::kUnauthenticated:
      return "Unauthenticated";
  }
  return "Unknown";
}

Errc ErrcFromErrno(int err) {
  switch (err) {
    case ENOENT:
    case ESRCH:
      return Errc::kNotFound;
    case EEXIST:
      return Errc::kAlreadyExists;
    case EPERM:
    case EACCES:
      return Errc::kPermissionDenied;
    case EINVAL:
    case ENAMETOOLONG:
    case ENOTDIR:
    case EISDIR:
      return Errc::kInvalidArgument;
    case ENOSPC:
    case ENOMEM:
    case EMFILE:
    case ENFILE:
    case EAGAIN:
      return Errc::kResourceExhausted;
    case EBUSY:
    case ENOTEMPTY:
      return Errc::kFailedPrecondition;
    case ENOSYS:
    case EOPNOTSUPP:
      return Errc::kUnimplemented;
    case ETIMEDOUT:
      return Errc::kDeadlineExceeded;
    case EINTR:
      return Errc::kAborted;
    default:
      return Errc::kInternal;
  }
}

Error Error::Sys(std::string op, std::string object, int err) {
  Error e;
  e.code_ = ErrcFromErrno(err);
  e.errno_ = err;
  e.op_ = std::move(op);
  e.object_ = std::move(object);
  return e;
}

Error& Error::Wrap(std::string context) & {
  if (context_.empty()) {
    context_ = std::move(context);
  } else {
    context_ = std::move(context) + ": " + context_;
  }
  return *this;
}

Error&& Error::Wrap(std::string context) && {
  return std::move(Wrap(std::move(context)));
}

std::string Error::str() const {
  std::string out = context_;
  auto append = [&out](const std::string& part) {
    if (part.empty()) return;
    if (!out.empty()) out += ": ";
    out += part;
  };
  append(message_);
  if (!op_.empty()) {
    std::string call = op_;
    if (!object_.empty()) call += " `" + object_ + "`";
    append(call);
  }
  if (errno_ != 0) append(std::strerror(errno_));
  return out;
}

}  // namespace berth
