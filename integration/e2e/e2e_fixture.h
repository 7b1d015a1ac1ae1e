#pragma once
// The e2e tier's fixture: one `berth up` per test suite (SetUpTestSuite),
// a namespace per test, and helpers that observe the cluster through the
// API (polling with short sleeps, bounded) while the tests act through
// the real kubectl.

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "agent/cri/cri_client.h"
#include "integration/e2e/berth_up.h"
#include "integration/e2e/json_fields.h"

namespace berth::e2e {

class E2eTest : public ::testing::Test {
 public:
  // Fails (never skips) when kubectl or busybox-static is missing.
  static void SetUpTestSuite();
  static void TearDownTestSuite();

 protected:
  // Creates the test's namespace (e2e-<test name>) and waits for its
  // default service account.
  void SetUp() override;

  static BerthUp& up() { return *up_; }
  const std::string& ns() const { return ns_; }

  // kubectl --namespace=<ns> args...; a failure to run kubectl at all
  // fails the test (the result then has exit_code -1).
  CommandResult Kubectl(const std::vector<std::string>& args, const KubectlCall& call = {});
  // kubectl apply -f - with `manifest`; true when it succeeded.
  bool Apply(const std::string& manifest);

  // GET on the API (admin); null when absent or not 200.
  bj::value Get(const std::string& path);
  bj::value GetPod(const std::string& name);
  // Polls `pod` every 100 ms until `done` holds; the last pod seen (and a
  // failure naming `what` with the pod's status when time ran out).
  bj::value WaitPod(const std::string& name, const std::string& what,
                    std::chrono::milliseconds timeout,
                    const std::function<bool(const bj::value&)>& done);
  // Polls `done` every 100 ms; whether it held before the timeout.
  static bool Eventually(std::chrono::milliseconds timeout, const std::function<bool()>& done);

  // Reasons of the events about `pod` in the test's namespace, oldest first.
  std::vector<std::string> EventReasons(const std::string& pod);
  // How many times `pod` had an event with `reason` (the sum of the
  // events' counts: the recorder folds repeats into one event).
  int64_t EventCount(const std::string& pod, const std::string& reason);
  // Messages of `pod`'s events with `reason`.
  std::vector<std::string> EventMessages(const std::string& pod, const std::string& reason);

  // Whether the API answers 404 for the pod (deleted, not just missed).
  bool PodDeleted(const std::string& name);

  // The CRI of `berth up`'s runtime (its socket under the run root);
  // nullptr (and a failure) when it cannot be dialled.
  agent::CriClient* Cri();
  // What the runtime has of pod `uid`, "<sandbox|container> <name> <state>"
  // each; with `running_only`, only ready sandboxes and created or running
  // containers.
  std::vector<std::string> RuntimeObjectsOf(const std::string& uid, bool running_only = false);

 private:
  static std::unique_ptr<BerthUp> up_;
  static std::unique_ptr<agent::CriClient> cri_;
  std::string ns_;
};

// Pod JSON, shortened, for failure messages.
std::string Describe(const bj::value& pod);
bool IsReady(const bj::value& pod);

}  // namespace berth::e2e
