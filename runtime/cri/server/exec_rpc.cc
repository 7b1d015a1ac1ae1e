// ExecSync: a process in a running container through its pod's shim, with
// stdout and stderr collected (at most kMaxExecOutput each, as containerd
// caps them) and the command killed when the timeout passes.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>

#include "common/file.h"
#include "common/json.h"
#include "common/pipe.h"
#include "runtime/cri/server/grpc_status.h"
#include "runtime/cri/server/helpers.h"
#include "runtime/cri/server/runtime_service.h"
#include "runtime/cri/server/stream_backend.h"
#include "runtime/shim/client.h"

namespace berth::cri {

namespace {

constexpr size_t kMaxExecOutput = size_t{16} * 1024 * 1024;

}  // namespace

// The container's own process settings with `cmd` as the args (what runc
// exec does), written for the shim to read.
Result<std::string> WriteExecProcess(const ContainerRecord& r,
                                     const google::protobuf::RepeatedPtrField<std::string>& cmd,
                                     bool tty) {
  if (cmd.empty()) return Error(Errc::kInvalidArgument, "cmd: required");
  std::string config_path = r.bundle() + "/config.json";
  std::string text = BERTH_TRY(ReadFile(config_path));
  boost::json::value doc = BERTH_TRY(json::Parse(text, config_path));
  boost::json::object* spec = doc.if_object();
  if (spec == nullptr || !spec->contains("process")) {
    return Error(Errc::kInternal, config_path + " has no process");
  }
  boost::json::object process = spec->at("process").as_object();
  boost::json::array args;
  for (const std::string& a : cmd)
    args.emplace_back(a);
  process["args"] = std::move(args);
  process["terminal"] = tty;
  std::string path = r.bundle() + "/exec-" + RandomId().substr(0, 16) + ".json";
  BERTH_TRY(
      WriteFileAtomic(path, boost::json::serialize(process), 0600, Durability::kProcessCrash));
  return path;
}

Result<v1::ExecSyncResponse> RuntimeService::DoExecSync(const v1::ExecSyncRequest& req) {
  std::string id = BERTH_TRY(store_->ResolveContainerId(req.container_id()));
  std::optional<ContainerRecord> r = store_->Container(id);
  if (!r) return Error(Errc::kNotFound, "container `" + id + "` not found");
  if (r->state() != v1::CONTAINER_RUNNING) {
    return Error(Errc::kFailedPrecondition, "container `" + id + "` is not running");
  }
  std::optional<SandboxRecord> s = store_->Sandbox(r->sandbox_id());
  if (!s) return Error(Errc::kNotFound, "pod sandbox of container `" + id + "` not found");
  std::string process = BERTH_TRY(WriteExecProcess(*r, req.cmd(), false));
  struct Remove {
    std::string path;
    ~Remove() { ::unlink(path.c_str()); }
  } remove{process};

  auto [out_r, out_w] = BERTH_TRY(MakePipe("exec output"));
  auto [err_r, err_w] = BERTH_TRY(MakePipe("exec output"));
  std::array<int, 2> fds = {out_w.get(), err_w.get()};
  shim::ExecStarted exec = BERTH_TRY(shim::Exec(s->shim_dir(), id, process, false, false, fds));
  out_w.reset();
  err_w.reset();

  auto start = std::chrono::steady_clock::now();
  auto left_ms = [&]() -> int {
    if (req.timeout() <= 0) return -1;
    auto used = std::chrono::steady_clock::now() - start;
    auto left = std::chrono::seconds(req.timeout()) - used;
    return static_cast<int>(
        std::max<int64_t>(0, std::chrono::duration_cast<std::chrono::milliseconds>(left).count()));
  };
  v1::ExecSyncResponse resp;
  std::string* sinks[2] = {resp.mutable_stdout(), resp.mutable_stderr()};
  int open[2] = {out_r.get(), err_r.get()};
  bool timed_out = false;
  while (open[0] >= 0 || open[1] >= 0) {
    pollfd p[2] = {{open[0], POLLIN, 0}, {open[1], POLLIN, 0}};
    int n = ::poll(p, 2, left_ms());
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) {
      timed_out = true;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (open[i] < 0 || p[i].revents == 0) continue;
      char buf[16384];
      ssize_t got = ::read(open[i], buf, sizeof buf);
      if (got <= 0) {
        open[i] = -1;
        continue;
      }
      if (sinks[i]->size() < kMaxExecOutput) {
        sinks[i]->append(buf,
                         std::min(static_cast<size_t>(got), kMaxExecOutput - sinks[i]->size()));
      }
    }
  }
  Result<int> status = timed_out ? Result<int>(Error(Errc::kDeadlineExceeded, ""))
                                 : shim::WaitExec(exec.conn.get(), left_ms());
  if (!status.ok()) {
    ::kill(exec.pid, SIGKILL);
    return Error(Errc::kDeadlineExceeded,
                 "command timed out after " + std::to_string(req.timeout()) + " s");
  }
  int ws = *status;
  resp.set_exit_code(WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws));
  return resp;
}

grpc::Status RuntimeService::ExecSync(grpc::ServerContext*, const v1::ExecSyncRequest* req,
                                      v1::ExecSyncResponse* resp) {
  Result<v1::ExecSyncResponse> done = DoExecSync(*req);
  if (!done.ok())
    return ToGrpc(std::move(done).error().Wrap("exec in container " + req->container_id()));
  *resp = std::move(*done);
  return grpc::Status::OK;
}

}  // namespace berth::cri
