#pragma once
// Unix domain sockets: connecting by path, and one message with at most one
// file descriptor attached (SCM_RIGHTS), the way runc's console socket and
// berth's init sync channel pass fds. `what` names the socket in errors.

#include <sys/socket.h>

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/fd.h"

namespace berth {

// A connection to the socket at `path`; `type` SOCK_STREAM or SOCK_SEQPACKET.
Result<UniqueFd> ConnectUnix(const std::string& path, std::string_view what,
                             int type = SOCK_STREAM);
// A listening socket bound at `path` (which must not exist).
Result<UniqueFd> ListenUnix(const std::string& path, std::string_view what, int backlog = 16,
                            int type = SOCK_STREAM);

// Sends `payload` (non-empty for stream sockets) with `fd` attached unless
// it is -1. Retries EINTR; never raises SIGPIPE.
Status SendMessage(int socket, std::string_view payload, int fd, std::string_view what);

struct ReceivedMessage {
  std::string payload;  // empty at end of stream
  UniqueFd fd;          // the attached fd (close-on-exec), if any
};
// Receives one message of at most `max_size` bytes.
Result<ReceivedMessage> ReceiveMessage(int socket, size_t max_size, std::string_view what);

// The same with up to kMaxMessageFds descriptors, in order.
inline constexpr size_t kMaxMessageFds = 8;
Status SendMessageFds(int socket, std::string_view payload, std::span<const int> fds,
                      std::string_view what);
struct ReceivedFds {
  std::string payload;  // empty at end of stream
  std::vector<UniqueFd> fds;
  bool truncated = false;  // MSG_TRUNC/MSG_CTRUNC: the message was cut
};
Result<ReceivedFds> ReceiveMessageFds(int socket, size_t max_size, std::string_view what);

}  // namespace berth
