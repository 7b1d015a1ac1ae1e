#pragma once
// The CNI Error result (spec section 5): {cniVersion, code, msg, details}
// printed on stdout with a non-zero exit. Codes 1-99 are the spec's
// well-known ones; 100 and up are this plugin's (README.md lists them).

#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.h"

namespace berth::cni::bridge {

enum class CniCode : uint32_t {
  kIncompatibleVersion = 1,
  kUnsupportedField = 2,
  kUnknownContainer = 3,
  kInvalidEnvironment = 4,
  kIoFailure = 5,
  kDecodingFailure = 6,
  kInvalidNetworkConfig = 7,
  kTryAgainLater = 11,
  kPluginNotAvailable = 50,  // STATUS (1.1.0)
  // Plugin-specific.
  kInternal = 100,       // a kernel or file operation failed
  kNoFreeAddress = 101,  // the IPAM range is exhausted
  kAlreadyExists = 102,  // CNI_IFNAME exists in the pod, or the attachment holds an address
  kCheckFailed = 103,    // CHECK found the attachment not as ADD left it
};

struct CniError {
  CniCode code = CniCode::kInternal;
  std::string msg;      // short: what kind of failure
  std::string details;  // the full error text
};

CniError MakeCniError(CniCode code, std::string msg, std::string details = {});
// Maps a berth::Error from a verb by its category: InvalidArgument -> 7,
// Unimplemented -> 2, ResourceExhausted without errno -> 101, AlreadyExists -> 102,
// Unavailable -> 11, anything else -> `fallback`.
CniError ToCniError(const Error& error, CniCode fallback = CniCode::kInternal);
std::string RenderCniError(const CniError& error, std::string_view cni_version);

}  // namespace berth::cni::bridge
