#pragma once
// The shim's event loop: one epoll over the control socket, SIGCHLD (as a
// signalfd), client connections and the containers' output. It creates
// containers and exec processes through fork_ops, reaps them (it is a child
// subreaper), writes their CRI logs, serves attach and reports exits. See
// protocol.h for the requests.
//
// Exit records live in <dir>/exits/<id> ("<wait status> <unix ns>") so that
// a restarted `berth cri` learns of exits it missed.

#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/fd.h"
#include "runtime/shim/cri_log.h"
#include "runtime/shim/fork_ops.h"
#include "runtime/shim/protocol.h"

namespace berth::shim {

struct SupervisorOptions {
  std::string dir;  // shim.sock, exits/
  RuntimeCommand runtime;
};

class Supervisor {
 public:
  // Takes the already bound and listening control socket.
  static Result<std::unique_ptr<Supervisor>> Create(SupervisorOptions options, UniqueFd listener);
  ~Supervisor();

  // Serves until a `shutdown` request.
  Status Run();

 private:
  struct Container;
  struct PendingOp;
  using Handler = std::function<void(uint32_t events)>;

  Supervisor(SupervisorOptions options, UniqueFd listener);

  void Watch(int fd, Handler handler, uint32_t events = 0x001 /* EPOLLIN */);
  void Unwatch(int fd);

  void Accept();
  void OnRequest(int conn);
  void CloseConnection(int conn);
  void Dispatch(int conn, Message& msg);

  void HandleCreate(int conn, const Message& msg);
  void HandleExec(int conn, Message& msg);
  void HandleAttach(int conn, const Message& msg);
  void HandleList(int conn);
  void HandleForget(int conn, const Message& msg);

  void ReapChildren();
  void FinishOp(pid_t pid, int status);
  void ContainerExited(Container& c, int status);
  void OnOutput(Container& c, int stream, uint32_t events);
  void DrainOutput(Container& c);
  void Broadcast(Container& c, int stream, std::string_view bytes);
  void Reply(int conn, const Result<Message>& result);

  Container* Find(const std::string& id);

  SupervisorOptions options_;
  UniqueFd listener_;
  UniqueFd epoll_;
  UniqueFd signals_;
  bool stopping_ = false;
  std::map<int, Handler> handlers_;
  std::map<int, UniqueFd> connections_;
  std::set<int> subscribers_;
  std::map<std::string, std::unique_ptr<Container>> containers_;
  std::map<pid_t, std::unique_ptr<PendingOp>> ops_;  // by the forked child's pid
  std::map<pid_t, int> exec_waiters_;                // exec pid -> connection
  std::map<pid_t, int> unclaimed_exits_;             // reaped before their pid was known
};

}  // namespace berth::shim
