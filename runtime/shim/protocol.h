#pragma once
// The wire between `berth cri` and a pod's `berth-shim`: one SOCK_SEQPACKET
// record per message, fields separated by NUL, the first field the verb, fds
// attached with SCM_RIGHTS. Requests and their replies (`ok ...` or
// `err <grpc code> <message>`) in docs order:
//
//   create <id> <bundle> <flags> <log path>   -> ok <pid>
//       flags: letters of "i" (stdin pipe), "o" (stdin once), "t" (tty).
//   exec <id> <process.json> <flags> + fds    -> ok <pid>, later exit <status>
//       process.json: a file holding an OCI process object (runc exec --process).
//       flags "t": one fd, the console socket; else the fds for stdin (when
//       flag "i"), stdout and stderr, in that order.
//   attach <id>                               -> ok <flags> + fds, then data
//       frames (`data <1|2> <bytes>`) and a final `exit <status>`; fds: the
//       stdin write end (flag "i"), the pty master (flag "t").
//   subscribe                                 -> `exit <id> <status> <ns>` per exit
//   reopen <id>                               -> ok (log file reopened)
//   list                                      -> ok, then `<id> <pid> <status|->` fields
//   forget <id>                               -> ok (the shim drops the container)
//   shutdown                                  -> ok, and the shim exits
//
// <status> is a waitpid(2) status in decimal; <ns> the wall-clock exit time.

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/fd.h"

namespace berth::shim {

inline constexpr size_t kMaxMessage = 64 * 1024;

struct Message {
  std::vector<std::string> fields;  // empty: the peer closed the connection
  std::vector<UniqueFd> fds;

  bool closed() const { return fields.empty(); }
  const std::string& verb() const { return fields.front(); }
  // Field `i`, or "" when absent.
  const std::string& field(size_t i) const;
};

std::string Encode(std::span<const std::string_view> fields);
// Splits at NUL into at most `max_fields` (the last keeps any NULs).
std::vector<std::string> Decode(std::string_view payload, size_t max_fields = SIZE_MAX);

Status Send(int socket, std::initializer_list<std::string_view> fields,
            std::span<const int> fds = {});
// Reads one message; a `data` frame keeps its bytes intact in field 2.
Result<Message> Receive(int socket);

// "ok" replies: `err <code> <message>` becomes an Error of that category.
Result<Message> ExpectOk(Message reply, std::string_view what);
Status SendError(int socket, const Error& error);

}  // namespace berth::shim
