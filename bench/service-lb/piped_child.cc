#include "bench/service-lb/piped_child.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "common/pipe.h"

namespace berth::bench {

Result<PipedChild> SpawnPiped(const std::vector<std::string>& argv, const std::string& netns,
                              const std::string& cgroup) {
  // Everything the child touches is made before fork: it only calls
  // async-signal-safe functions.
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const std::string& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::string procs = cgroup.empty() ? "" : cgroup + "/cgroup.procs";
  Pipe out = BERTH_TRY(MakePipe("stdout of " + argv.front()));
  pid_t pid = ::fork();
  if (pid < 0) return Error::Sys("fork", argv.front());
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (!netns.empty()) {
      int fd = ::open(netns.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0 || ::setns(fd, CLONE_NEWNET) != 0) ::_exit(kChildNoNetns);
    }
    if (!procs.empty()) {
      // "0": the writing process itself.
      int fd = ::open(procs.c_str(), O_WRONLY | O_CLOEXEC);
      if (fd < 0 || ::write(fd, "0", 1) != 1) ::_exit(kChildNoCgroup);
    }
    ::dup2(out.write.get(), STDOUT_FILENO);
    ::execv(args[0], args.data());
    ::_exit(kChildNoExec);
  }
  return PipedChild{pid, std::move(out.read)};
}

}  // namespace berth::bench
