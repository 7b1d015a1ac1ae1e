#pragma once
// The conformance runner. A Case is a config mutation, a process, a flow
// (the runtime commands to issue and what to look at) and the values
// expected; RunCase executes it on one runtime in fresh state (root, bundle,
// cgroup tree, scratch dir) and returns an Observation: named facets,
// normalized so that two correct runtimes produce equal ones (bundle and
// scratch paths, the cgroup tree's name and netns names are replaced by
// placeholders; flows drop timestamps, mount ids and device numbers).
//
// A test asserts the runtime's observation meets the case's expectations
// (so both runtimes cannot pass by being equally wrong) and equals the one
// runc gives for the same case, except for facets listed in `differences`
// with the reason (OCI spec or host) they may differ.

#include <gmock/gmock.h>

#include <boost/json.hpp>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "integration/priv/harness/host.h"
#include "integration/priv/harness/runtime.h"

namespace berth::priv {

using Observation = std::map<std::string, std::string>;

struct CaseContext {
  const Session& session;
  const CgroupTree& cgroups;
  std::string scratch;  // host directory private to this run
  std::string bundle;
  std::string rootfs;  // the bundle's private rootfs copy
  // Network namespaces made for this run; removed after the container.
  std::vector<std::unique_ptr<NamedNetns>> netns;
  // A fresh `ip netns` name ("berth-conf-<pid>-<n>"), replaced by
  // "<netns>" in observations.
  NamedNetns& MakeNetns();
};

using Configure = std::function<void(boost::json::object& config, CaseContext& ctx)>;
using Flow = std::function<void(Container& c, CaseContext& ctx, Observation& obs)>;
using Expectation = std::pair<std::string, ::testing::Matcher<const std::string&>>;

struct Case {
  std::string name;
  std::vector<std::string> args;  // process.args
  Configure configure;            // optional
  Flow flow;                      // default: RunToExit()
  std::vector<Expectation> expect;
  // Expectations for one runtime only (by Runtime::name), where the
  // runtimes differ for a documented reason.
  std::vector<std::pair<std::string, Expectation>> expect_on;
  // facet -> why runc and berth legitimately differ there.
  std::map<std::string, std::string> differences;
};

// create, start, wait for the init's exit; facets "exit", "stdout",
// "stderr" (the container's), "state" (after exit), "delete".
Flow RunToExit();
// create, start, then `inspect` while the init runs; then kill -9, wait,
// delete. The process should run until killed.
Flow WhileRunning(Flow inspect);

Observation RunCase(const Runtime& runtime, const Case& c);
// The case's expectations, on one runtime's observation.
void CheckExpectations(const Case& c, const std::string& runtime, const Observation& obs);
// Facet-by-facet comparison with runc's observation of the same case.
void CheckSameAs(const Case& c, const Observation& got, const Observation& reference);
// runc's observation, computed once per case per process.
const Observation& ReferenceObservation(const Case& c);
void RememberReference(const Case& c, const Observation& obs);

// The whole protocol for one parameter: skips (fails in CI) without root or
// fixtures, runs, checks, compares.
void RunConformanceCase(const Runtime& runtime, const Case& c);

// A value-parameterized suite `Suite` running every case of `cases_fn()`
// (a function returning const std::vector<Case>&) on every runtime; test
// names are <Suite>.Case/<runtime>_<case>.
#define BERTH_CONFORMANCE_SUITE(Suite, cases_fn)                                                \
  class Suite : public ::testing::TestWithParam<std::tuple<::berth::priv::Runtime, size_t>> {}; \
  TEST_P(Suite, Case) {                                                                         \
    ::berth::priv::RunConformanceCase(std::get<0>(GetParam()),                                  \
                                      cases_fn()[std::get<1>(GetParam())]);                     \
  }                                                                                             \
  INSTANTIATE_TEST_SUITE_P(                                                                     \
      Runtimes, Suite,                                                                          \
      ::testing::Combine(::testing::ValuesIn(::berth::priv::AllRuntimes()),                     \
                         ::testing::ValuesIn(::berth::priv::Indexes(cases_fn().size()))),       \
      [](const auto& info) {                                                                    \
        return ::berth::priv::RuntimeParamName(std::get<0>(info.param)) + "_" +                 \
               cases_fn()[std::get<1>(info.param)].name;                                        \
      })

std::vector<size_t> Indexes(size_t n);

// "ok" or "exit <code>: <error message>".
std::string Outcome(const RunResult& r);

// Normalizers.
std::string StripCr(std::string text);
// Per line: root, mount point, options, propagation kind (numbers dropped),
// fs type, source, super options; ids and device numbers dropped.
std::string NormalizeMountinfo(const std::string& text);
std::string ReplaceAll(std::string text, const std::string& from, const std::string& to);
// Lines of `text` that contain `needle`.
std::string GrepLines(const std::string& text, const std::string& needle);

// Config helpers.
boost::json::array JsonStrings(const std::vector<std::string>& items);
void AddMount(boost::json::object& config, const std::string& destination, const std::string& type,
              const std::string& source, const std::vector<std::string>& options);
void SetNamespaces(boost::json::object& config, const std::vector<std::string>& types);
// The probe inside the container: {"/bin/berth-probe", args...}.
std::vector<std::string> Probe(const std::vector<std::string>& args);

}  // namespace berth::priv
