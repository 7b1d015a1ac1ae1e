// A pod worker's thread comes and goes: it leaves once the worker has been
// idle for worker_idle, and a Poke, an update or a timer that came due
// (through the manager's WakeIfDue) brings one back. The pod here has
// finished (phase Succeeded), so a sync only inspects the fake runtime and
// each sync shows up as two list calls there.

#include <gtest/gtest.h>

#include <thread>

#include "agent/pods/pod_worker.h"
#include "agent/pods/tests/fake_cri.h"
#include "agent/pods/tests/pod_json.h"

namespace berth::agent {
namespace {

namespace bj = boost::json;
using namespace std::chrono_literals;

bool Eventually(const std::function<bool()>& done, std::chrono::milliseconds limit = 5s) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

class PodWorkerThreadTest : public ::testing::Test {
 protected:
  PodWorkerThreadTest() {
    options_.sync_frequency = 1s;
    options_.worker_idle = 100ms;
    deps_.options = &options_;
    deps_.cri = &cri_.client();
    pod_ = testing::PodWithSpec(R"({"containers": [{"name": "app", "image": "busybox"}]})");
    pod_["status"] = bj::object{{"phase", "Succeeded"}};
  }

  size_t Syncs() { return cri_.runtime().selectors().size() / 2; }

  testing::FakeCri cri_;
  PodOptions options_;
  PodDeps deps_;
  bj::object pod_;
};

TEST_F(PodWorkerThreadTest, IdleWorkerLetsItsThreadGoAndComesBack) {
  PodWorker worker(deps_, pod_);
  ASSERT_TRUE(Eventually([&] { return Syncs() >= 1; }));
  // Nothing more to do: the thread goes well before the resync is due.
  ASSERT_TRUE(Eventually([&] { return !worker.Busy(); }, 900ms));
  size_t synced = Syncs();
  worker.WakeIfDue();  // the resync is not due yet
  EXPECT_FALSE(worker.Busy());
  EXPECT_EQ(Syncs(), synced);

  // A poke syncs at once, on a new thread, which goes again afterwards.
  worker.Poke();
  ASSERT_TRUE(Eventually([&] { return Syncs() == synced + 1; }, 500ms));
  ASSERT_TRUE(Eventually([&] { return !worker.Busy(); }));

  // The resync timer fires through WakeIfDue once it is due.
  synced = Syncs();
  std::this_thread::sleep_for(options_.sync_frequency);
  EXPECT_EQ(Syncs(), synced);  // nobody woke it
  worker.WakeIfDue();
  EXPECT_TRUE(Eventually([&] { return Syncs() == synced + 1; }, 500ms));
}

TEST_F(PodWorkerThreadTest, StatusEchoDoesNotWakeButASpecChangeDoes) {
  PodWorker worker(deps_, pod_);
  ASSERT_TRUE(Eventually([&] { return Syncs() >= 1 && !worker.Busy(); }));
  size_t synced = Syncs();
  // The same object at a newer revision (what a write of the object's
  // other parts by the agent comes back as): no sync.
  bj::object same = pod_;
  same["metadata"].as_object()["resourceVersion"] = "7";
  worker.Update(same);
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(Syncs(), synced);
  EXPECT_FALSE(worker.Busy());
  // An older revision is dropped.
  bj::object older = pod_;
  older["metadata"].as_object()["resourceVersion"] = "6";
  older["metadata"].as_object()["labels"] = bj::object{{"a", "b"}};
  worker.Update(older);
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(Syncs(), synced);
  EXPECT_EQ(worker.Pod(), same);
  // A label change syncs.
  bj::object labelled = same;
  labelled["metadata"].as_object()["resourceVersion"] = "8";
  labelled["metadata"].as_object()["labels"] = bj::object{{"a", "b"}};
  worker.Update(labelled);
  EXPECT_TRUE(Eventually([&] { return Syncs() == synced + 1; }, 500ms));
}

TEST_F(PodWorkerThreadTest, DestroyingAnIdleOrBusyWorkerStops) {
  { PodWorker busy(deps_, pod_); }  // its first sync may be running
  PodWorker idle(deps_, pod_);
  ASSERT_TRUE(Eventually([&] { return Syncs() >= 1 && !idle.Busy(); }));
}

}  // namespace
}  // namespace berth::agent
