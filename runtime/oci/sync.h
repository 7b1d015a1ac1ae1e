#pragma once
// The parent <-> container-init handshake over a SOCK_SEQPACKET socketpair.
// One message per packet: a type, an integer, and a text payload. A child
// that fails sends kError with the rendered error and its category, so the
// runtime reports it as its own failure.
//
//   parent                           init
//   (writes id maps, cgroup.procs
//    unless cloned into the cgroup)
//   kGo ------------------------------>
//                                    (joins v1 cgroups, namespaces, mounts)
//       <------------------------------ kMountsReady
//   (createRuntime + prestart hooks)
//   kHooksDone ----------------------->
//                                    (createContainer hooks, pivot_root, ...)
//       <------------------------------ kReady     (blocked on exec.fifo)
//
// A stage-1 helper (needed to join a pid or user namespace) reports the
// init's pid with kChildPid.

#include <cstdint>
#include <string>
#include <utility>

#include "common/error.h"
#include "common/fd.h"

namespace berth::runtime::oci {

enum class SyncType : uint32_t {
  kGo = 1,
  kMountsReady,
  kHooksDone,
  kReady,
  kChildPid,
  kSeccompFd,  // the seccomp notify listener, attached with SCM_RIGHTS
  kError,
};

struct SyncMessage {
  SyncType type = SyncType::kError;
  int64_t value = 0;
  std::string text;
  UniqueFd fd;  // set when the peer attached one
};

class SyncChannel {
 public:
  SyncChannel() = default;
  explicit SyncChannel(UniqueFd fd) : fd_(std::move(fd)) {}
  // A connected pair: first for the parent, second for the child.
  static Result<std::pair<SyncChannel, SyncChannel>> Pair();

  int fd() const { return fd_.get(); }
  void Close() { fd_.reset(); }

  Status Send(SyncType type, int64_t value = 0, std::string_view text = {}) const;
  // Sends `fd` along with the message (SCM_RIGHTS).
  Status SendWithFd(SyncType type, int fd) const;
  // Reports `error` to the peer (category in value, rendered text).
  void SendError(const Error& error) const;
  Result<SyncMessage> Receive() const;
  // Receives one message of `type`; a kError from the peer becomes this
  // call's error; EOF or another type is an Internal error naming `step`.
  Result<SyncMessage> Expect(SyncType type, std::string_view step) const;

 private:
  UniqueFd fd_;
};

}  // namespace berth::runtime::oci
