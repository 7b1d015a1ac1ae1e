#pragma once
// Runs a command on a pseudo-terminal, as a user at a shell would (for
// `kubectl exec -ti`): waits for a piece of output, types a line, and so on.

#include <chrono>
#include <string>
#include <vector>

#include "common/error.h"

namespace berth::e2e {

struct PtyStep {
  std::string wait_for;  // output (since the previous step) to wait for; "" = none
  std::string send;      // typed once it appeared
};

struct PtyResult {
  int exit_code = -1;
  int term_signal = 0;
  bool timed_out = false;
  std::string output;  // everything the terminal showed
};

Result<PtyResult> RunInPty(const std::vector<std::string>& argv, const std::vector<PtyStep>& steps,
                           std::chrono::milliseconds timeout);

}  // namespace berth::e2e
