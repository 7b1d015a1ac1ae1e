// The scheduling queue's states and timing, with backoffs short enough to
// wait for.

#include "controlplane/scheduler/scheduling_queue.h"

#include <gtest/gtest.h>

#include <thread>

namespace berth::controlplane::scheduler {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

QueueTiming Fast() {
  return QueueTiming{milliseconds(100), milliseconds(400), milliseconds(2000)};
}

TEST(SchedulingQueueTest, PopsInArrivalOrderOnce) {
  SchedulingQueue q(Fast());
  q.Add("ns/a");
  q.Add("ns/b");
  q.Add("ns/a");  // an update of a queued pod does not queue it twice
  EXPECT_EQ(q.Pop(), "ns/a");
  EXPECT_EQ(q.Pop(), "ns/b");
  EXPECT_EQ(q.counts().in_flight, 2u);
  EXPECT_EQ(q.counts().active, 0u);
}

TEST(SchedulingQueueTest, DeletedPodsAreNotPopped) {
  SchedulingQueue q(Fast());
  q.Add("ns/a");
  q.Add("ns/b");
  q.Delete("ns/a");
  EXPECT_EQ(q.Pop(), "ns/b");
}

TEST(SchedulingQueueTest, UnschedulableWaitsForAClusterChange) {
  SchedulingQueue q(Fast());
  q.Add("ns/a");
  ASSERT_EQ(q.Pop(), "ns/a");
  q.Unschedulable("ns/a");
  EXPECT_EQ(q.counts().unschedulable, 1u);
  std::this_thread::sleep_for(milliseconds(150));  // past its backoff
  EXPECT_EQ(q.counts().unschedulable, 1u) << "no change: stays parked";
  q.ClusterChanged();
  Clock::time_point t0 = Clock::now();
  EXPECT_EQ(q.Pop(), "ns/a");
  EXPECT_LT(Clock::now() - t0, milliseconds(50)) << "backoff already served";
}

TEST(SchedulingQueueTest, BackoffDoublesUpToTheMaximum) {
  SchedulingQueue q(Fast());
  q.Add("ns/a");
  std::vector<milliseconds> waits;
  for (int i = 0; i < 4; ++i) {
    ASSERT_EQ(q.Pop(), "ns/a");
    Clock::time_point failed = Clock::now();
    q.Backoff("ns/a");
    ASSERT_EQ(q.Pop(), "ns/a");
    waits.push_back(std::chrono::duration_cast<milliseconds>(Clock::now() - failed));
    q.Backoff("ns/a");
  }
  // attempts 1,3,5,7 -> 100, 400 (capped), ...
  EXPECT_GE(waits[0].count(), 90);
  EXPECT_LT(waits[0].count(), 250);
  EXPECT_GE(waits[1].count(), 390);
  EXPECT_LT(waits[3].count(), 600) << "capped at max_backoff";
}

TEST(SchedulingQueueTest, AChangeDuringTheAttemptMeansBackoffNotParking) {
  SchedulingQueue q(Fast());
  q.Add("ns/a");
  ASSERT_EQ(q.Pop(), "ns/a");
  q.ClusterChanged();  // a node appeared while the filters ran
  q.Unschedulable("ns/a");
  EXPECT_EQ(q.counts().backoff, 1u);
  EXPECT_EQ(q.Pop(), "ns/a");
}

TEST(SchedulingQueueTest, ParkedPodsAreRetriedAfterTheFlushInterval) {
  SchedulingQueue q(QueueTiming{milliseconds(10), milliseconds(10), milliseconds(300)});
  q.Add("ns/a");
  ASSERT_EQ(q.Pop(), "ns/a");
  q.Unschedulable("ns/a");
  Clock::time_point t0 = Clock::now();
  EXPECT_EQ(q.Pop(), "ns/a");
  EXPECT_GE(Clock::now() - t0, milliseconds(290));
}

TEST(SchedulingQueueTest, CloseWakesAWaitingPop) {
  SchedulingQueue q(Fast());
  std::thread closer([&] {
    std::this_thread::sleep_for(milliseconds(50));
    q.Close();
  });
  EXPECT_EQ(q.Pop(), std::nullopt);
  closer.join();
}

}  // namespace
}  // namespace berth::controlplane::scheduler
