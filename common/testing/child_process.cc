#include "common/testing/child_process.h"

#include <signal.h>
#include <sys/wait.h>

#include <thread>

#include "common/file.h"

namespace berth::testing {

Status TerminateChild(ChildGuard& child, const std::string& what, std::chrono::seconds grace) {
  pid_t pid = child.get();
  if (pid <= 0) return Ok();
  ::kill(pid, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + grace;
  do {
    Result<int> status = WaitPid(pid, WNOHANG);
    if (!status.ok() || *status != -1) {
      child.release();
      return Ok();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  } while (std::chrono::steady_clock::now() < deadline);
  child.KillAndReap();
  return Error(Errc::kDeadlineExceeded, what + " (pid " + std::to_string(pid) +
                                            ") did not exit within " +
                                            std::to_string(grace.count()) + " s of SIGTERM");
}

std::optional<Error> ChildExited(ChildGuard& child, const std::string& what) {
  Result<int> status = WaitPid(child.get(), WNOHANG);
  if (status.ok() && *status == -1) return std::nullopt;
  int code = status.ok() ? ExitCodeFromWaitStatus(*status) : -1;
  child.release();
  return Error(Errc::kUnavailable, what + " exited (" + std::to_string(code) + ")");
}

std::string FileTail(const std::string& path, size_t bytes) {
  Result<std::string> text = ReadFile(path);
  if (!text.ok()) return "(" + text.error().str() + ")";
  return text->size() <= bytes ? *text : "..." + text->substr(text->size() - bytes);
}

}  // namespace berth::testing
