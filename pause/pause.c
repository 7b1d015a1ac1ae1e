/* berth-pause: the process that holds a pod sandbox's namespaces.
 *
 * It does nothing but wait: as PID 1 of a pod's shared pid namespace it
 * reaps every orphan that is reparented to it, and it exits 0 on SIGINT or
 * SIGTERM. Signals are blocked except inside sigsuspend(2), so a signal can
 * never slip in between checking the flags and going to sleep. Handlers are
 * installed for all three signals: PID 1 of a pid namespace never receives
 * a signal whose disposition is SIG_DFL (except SIGKILL/SIGSTOP from an
 * ancestor namespace), so default dispositions would make it unkillable.
 *
 * Plain C and static (see CMakeLists.txt) so that it runs in any rootfs and
 * costs one small page-cache copy for all pods.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "generated/version.h" /* BERTH_VERSION, BERTH_GIT_COMMIT */

static volatile sig_atomic_t got_signal;

static void on_signal(int sig) {
  if (sig != SIGCHLD) got_signal = sig;
}

/* write(2) of a string; stdio would add ~40 KiB to a static binary. */
static void put(int fd, const char* s) {
  size_t len = strlen(s);
  while (len > 0) {
    ssize_t n = write(fd, s, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    s += n;
    len -= (size_t)n;
  }
}

static void reap_all(void) {
  for (;;) {
    pid_t pid = waitpid(-1, NULL, WNOHANG);
    if (pid > 0) continue;
    if (pid < 0 && errno == EINTR) continue;
    return; /* 0: children left but none exited; -1/ECHILD: no children */
  }
}

static int install_handlers(sigset_t* waiting_mask) {
  static const int signals[] = {SIGINT, SIGTERM, SIGCHLD};
  sigset_t block;
  struct sigaction sa;

  sigemptyset(&block);
  for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
    sigaddset(&block, signals[i]);
  if (sigprocmask(SIG_BLOCK, &block, waiting_mask) != 0) return -1;
  for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++) {
    sigdelset(waiting_mask, signals[i]);
  }

  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = on_signal;
  sigfillset(&sa.sa_mask);
  for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++) {
    sa.sa_flags = signals[i] == SIGCHLD ? SA_NOCLDSTOP | SA_RESTART : SA_RESTART;
    if (sigaction(signals[i], &sa, NULL) != 0) return -1;
  }
  return 0;
}

int main(int argc, char** argv) {
  sigset_t waiting_mask;

  if (argc > 1) {
    if (strcmp(argv[1], "-v") == 0 || strcmp(argv[1], "--version") == 0) {
      put(1, "berth-pause " BERTH_VERSION " (" BERTH_GIT_COMMIT ")\n");
      return 0;
    }
    put(2, "usage: berth-pause [-v]\n");
    return strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ? 0 : 2;
  }
  if (getpid() != 1) put(2, "berth-pause: warning: not PID 1; orphans will not be reaped here\n");
  if (install_handlers(&waiting_mask) != 0) {
    put(2, "berth-pause: sigaction/sigprocmask failed\n");
    return 1;
  }

  /* Children may have been reparented before the handler existed. */
  reap_all();
  while (!got_signal) {
    sigsuspend(&waiting_mask); /* always returns -1/EINTR after a handler ran */
    reap_all();
  }
  put(2,
      got_signal == SIGINT ? "berth-pause: SIGINT, exiting\n" : "berth-pause: SIGTERM, exiting\n");
  return 0;
}
