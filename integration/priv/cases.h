#pragma once
// The conformance cases, grouped by what they exercise; each group's
// cases live in cases_<group>.cc.

#include <vector>

#include "integration/priv/harness/suite.h"

namespace berth::priv {

std::vector<Case> ProcessCases();  // exit codes, output, ids, env, cwd, rlimits, caps...
std::vector<Case>
LifecycleCases();  // state, ps, pause, exec, kill, delete, list, errors, hooks, tty
std::vector<Case> IsolationCases();  // namespaces, mounts, /dev, cgroups, userns, netns, sysctl

}  // namespace berth::priv
