#pragma once
// Unix domain sockets: connecting by path, and one message with at most one
// file descriptor attached (SCM_RIGHTS), the way runc's console socket and
// berth's init sync channel pass fds. `what` names the socket in errors.

#include <cstddef>
#include <string>
#include <string_view>

#include "common/error.h"
#include "common/fd.h"

namespace berth {

// A SOCK_STREAM connection to the socket at `path`.
Result<UniqueFd> ConnectUnix(const std::string& path, std::string_view what);
// A listening SOCK_STREAM socket bound at `path` (which must not exist).
Result<UniqueFd> ListenUnix(const std::string& path, std::string_view what, int backlog = 16);

// Sends `payload` (non-empty for stream sockets) with `fd` attached unless
// it is -1. Retries EINTR; never raises SIGPIPE.
Status SendMessage(int socket, std::string_view payload, int fd, std::string_view what);

struct ReceivedMessage {
  std::string payload;  // empty at end of stream
  UniqueFd fd;          // the attached fd (close-on-exec), if any
};
// Receives one message of at most `max_size` bytes.
Result<ReceivedMessage> ReceiveMessage(int socket, size_t max_size, std::string_view what);

}  // namespace berth
