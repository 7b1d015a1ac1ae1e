// The runtime conformance suite: every case of cases_*.cc on every runtime
// (runc first: its observations are the reference berth-runc's are
// compared with). Test names: Runtimes/Conformance.Case/<runtime>_<case>.

#include <gtest/gtest.h>

#include "integration/priv/cases.h"

namespace berth::priv {
namespace {

const std::vector<Case>& AllCases() {
  static const std::vector<Case> cases = [] {
    std::vector<Case> all;
    for (auto group : {ProcessCases, LifecycleCases, IsolationCases}) {
      for (Case& c : group())
        all.push_back(std::move(c));
    }
    return all;
  }();
  return cases;
}

BERTH_CONFORMANCE_SUITE(Conformance, AllCases);

}  // namespace
}  // namespace berth::priv
