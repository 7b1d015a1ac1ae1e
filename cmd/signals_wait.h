#pragma once
// SIGINT/SIGTERM waited for, not handled asynchronously: blocked when this
// is made (before any thread starts, so that every thread inherits the
// mask), then Wait() returns the signal that came.

#include <pthread.h>
#include <signal.h>

namespace berth::cli {

class StopSignals {
 public:
  StopSignals() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    ::pthread_sigmask(SIG_BLOCK, &set_, nullptr);
  }
  int Wait() {
    int signal = 0;
    ::sigwait(&set_, &signal);
    return signal;
  }

 private:
  sigset_t set_;
};

}  // namespace berth::cli
