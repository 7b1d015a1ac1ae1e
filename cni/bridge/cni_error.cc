#include "cni/bridge/cni_error.h"

#include <boost/json.hpp>

namespace berth::cni::bridge {
namespace {

std::string_view Summary(CniCode code) {
  switch (code) {
    case CniCode::kIncompatibleVersion:
      return "incompatible CNI version";
    case CniCode::kUnsupportedField:
      return "unsupported field in network configuration";
    case CniCode::kUnknownContainer:
      return "container unknown or does not exist";
    case CniCode::kInvalidEnvironment:
      return "invalid environment variables";
    case CniCode::kIoFailure:
      return "I/O failure";
    case CniCode::kDecodingFailure:
      return "failed to decode content";
    case CniCode::kInvalidNetworkConfig:
      return "invalid network configuration";
    case CniCode::kTryAgainLater:
      return "try again later";
    case CniCode::kPluginNotAvailable:
      return "plugin not available";
    case CniCode::kInternal:
      return "berth-cni-bridge failed";
    case CniCode::kNoFreeAddress:
      return "no free IP address";
    case CniCode::kAlreadyExists:
      return "already exists";
    case CniCode::kCheckFailed:
      return "check failed";
  }
  return "error";
}

}  // namespace

CniError MakeCniError(CniCode code, std::string msg, std::string details) {
  if (msg.empty()) msg = std::string(Summary(code));
  return CniError{code, std::move(msg), std::move(details)};
}

CniError ToCniError(const Error& error, CniCode fallback) {
  CniCode code = fallback;
  switch (error.code()) {
    case Errc::kInvalidArgument:
      code = CniCode::kInvalidNetworkConfig;
      break;
    case Errc::kUnimplemented:
      code = CniCode::kUnsupportedField;
      break;
    case Errc::kResourceExhausted:
      // Only the IPAM's own verdict; ENOMEM, EMFILE... stay internal.
      if (error.sys_errno() == 0) code = CniCode::kNoFreeAddress;
      break;
    case Errc::kAlreadyExists:
      code = CniCode::kAlreadyExists;
      break;
    case Errc::kUnavailable:
      code = CniCode::kTryAgainLater;
      break;
    default:
      break;
  }
  return MakeCniError(code, "", error.str());
}

std::string RenderCniError(const CniError& error, std::string_view cni_version) {
  boost::json::object o;
  o["cniVersion"] = cni_version;
  o["code"] = static_cast<uint32_t>(error.code);
  o["msg"] = error.msg;
  if (!error.details.empty()) o["details"] = error.details;
  return boost::json::serialize(o);
}

}  // namespace berth::cni::bridge
