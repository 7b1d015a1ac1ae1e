#pragma once
// Thin wrappers for the system calls glibc 2.36 does not wrap. Each returns
// what the kernel returns (-1 with errno set on failure), as the man page
// documents.

#include <linux/sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstddef>

namespace berth::sys {

inline long Clone3(clone_args* args) {
  return ::syscall(SYS_clone3, args, sizeof(clone_args));
}
inline int PivotRoot(const char* new_root, const char* put_old) {
  return static_cast<int>(::syscall(SYS_pivot_root, new_root, put_old));
}
inline int PidfdOpen(pid_t pid, unsigned int flags = 0) {
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, flags));
}
inline int PidfdSendSignal(int pidfd, int sig) {
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0));
}
inline int CloseRange(unsigned int first, unsigned int last, unsigned int flags) {
  return static_cast<int>(::syscall(SYS_close_range, first, last, flags));
}

}  // namespace berth::sys
