#pragma once
// Forked children for the priv tests: each scenario runs in a child so the
// test process keeps its own seccomp filter, capabilities and limits. The
// child is always reaped, and killed by pid on timeout.

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>

namespace berth::runtime::security::testing {

struct ChildOutcome {
  int exit_code = -1;  // when it exited
  int signal = 0;      // when a signal killed it
  bool timed_out = false;
  std::string output;  // what it wrote to its report fd
  bool ok() const { return exit_code == 0 && signal == 0 && !timed_out; }
  std::string Describe() const;
};

// Forks; the child runs body(report_fd) and _exits with its return value
// (report_fd is close-on-exec; dup2 it onto 1 to capture an exec'd program).
// `parent_side`, when given, runs in the parent (with the child's pid) while
// the child runs, before its report is read.
ChildOutcome RunInChild(const std::function<int(int report_fd)>& body,
                        std::chrono::milliseconds timeout = std::chrono::seconds(20),
                        const std::function<void(pid_t)>& parent_side = {});

// Child side: appends a line to the report.
void Report(int fd, const std::string& line);
// Child side: reports `what` failing with the current errno; returns 1.
int Fail(int fd, const std::string& what);
// Child side: reports `what` failing with `err`; returns 1.
int FailWith(int fd, int err, const std::string& what);
// Child side: reports a line; returns 1.
int Complain(int fd, const std::string& line);

}  // namespace berth::runtime::security::testing
