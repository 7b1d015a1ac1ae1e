// The work queue's client-go semantics: deduplication, a key held by one
// worker at a time, AddAfter, per-key exponential backoff, shutdown.

#include "controlplane/controllers/work_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace berth::controlplane::controllers {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

milliseconds Since(Clock::time_point start) {
  return std::chrono::duration_cast<milliseconds>(Clock::now() - start);
}

TEST(WorkQueueTest, AddsOfAQueuedKeyAreOne) {
  WorkQueue q;
  q.Add("a");
  q.Add("b");
  q.Add("a");
  EXPECT_EQ(q.Len(), 2u);
  EXPECT_EQ(q.Get(), "a");
  EXPECT_EQ(q.Get(), "b");
  EXPECT_EQ(q.Len(), 0u);
}

TEST(WorkQueueTest, AKeyAddedWhileProcessedComesBackAfterDone) {
  WorkQueue q;
  q.Add("a");
  ASSERT_EQ(q.Get(), "a");
  q.Add("a");
  q.Add("a");
  EXPECT_EQ(q.Len(), 0u) << "handed out twice while being processed";
  q.Done("a");
  EXPECT_EQ(q.Len(), 1u);
  ASSERT_EQ(q.Get(), "a");
  q.Done("a");
  EXPECT_EQ(q.Len(), 0u) << "processed once more than it was added";
}

TEST(WorkQueueTest, WorkersNeverHoldTheSameKeyAtOnce) {
  WorkQueue q;
  std::mutex mu;
  std::set<std::string> held;
  std::atomic<bool> overlap{false};
  std::atomic<int> processed{0};
  std::vector<std::thread> workers;
  workers.reserve(4);
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&] {
      while (std::optional<std::string> key = q.Get()) {
        {
          std::lock_guard lock(mu);
          if (!held.insert(*key).second) overlap = true;
        }
        std::this_thread::sleep_for(std::chrono::microseconds(200));
        {
          std::lock_guard lock(mu);
          held.erase(*key);
        }
        ++processed;
        q.Done(*key);
      }
    });
  }
  for (int i = 0; i < 2000; ++i)
    q.Add("k" + std::to_string(i % 3));
  // Every key is processed after its last add.
  for (int i = 0; i < 500 && q.Len() > 0; ++i)
    std::this_thread::sleep_for(milliseconds(2));
  std::this_thread::sleep_for(milliseconds(20));
  q.ShutDown();
  for (std::thread& t : workers)
    t.join();
  EXPECT_FALSE(overlap);
  EXPECT_GE(processed, 3);
  EXPECT_LT(processed, 2000) << "adds of a queued key were not merged";
}

TEST(WorkQueueTest, AddAfterHoldsAKeyBackAndTheEarliestTimeWins) {
  WorkQueue q;
  auto start = Clock::now();
  q.AddAfter("a", milliseconds(60));
  EXPECT_EQ(q.Len(), 0u);
  EXPECT_EQ(q.Get(), "a");
  EXPECT_GE(Since(start), milliseconds(60));
  q.Done("a");

  start = Clock::now();
  q.AddAfter("b", std::chrono::seconds(30));
  q.AddAfter("b", milliseconds(40));
  EXPECT_EQ(q.Get(), "b");  // a Get waiting for the 30 s one would hang here
  EXPECT_GE(Since(start), milliseconds(40));
  EXPECT_LT(Since(start), milliseconds(10000));
  q.Done("b");

  q.AddAfter("c", milliseconds(0));  // not positive: at once
  EXPECT_EQ(q.Len(), 1u);
}

TEST(WorkQueueTest, AGetWaitingForALaterKeyWakesForAnEarlierOne) {
  WorkQueue q;
  q.AddAfter("late", std::chrono::seconds(30));
  std::optional<std::string> got;
  std::thread worker([&] { got = q.Get(); });
  std::this_thread::sleep_for(milliseconds(30));  // the worker waits for "late"
  auto start = Clock::now();
  q.AddAfter("soon", milliseconds(30));
  worker.join();
  EXPECT_EQ(got, "soon");
  EXPECT_LT(Since(start), milliseconds(5000));
}

TEST(WorkQueueTest, RateLimitedAddsBackOffPerKeyDoubling) {
  WorkQueue q(RateLimit{milliseconds(20), std::chrono::seconds(10)});
  std::vector<milliseconds> waits;
  for (int i = 0; i < 3; ++i) {
    auto start = Clock::now();
    q.AddRateLimited("a");
    ASSERT_EQ(q.Get(), "a");
    waits.push_back(Since(start));
    q.Done("a");
  }
  EXPECT_GE(waits[0], milliseconds(20));
  EXPECT_GE(waits[1], milliseconds(40));
  EXPECT_GE(waits[2], milliseconds(80));
  EXPECT_EQ(q.NumRequeues("a"), 3);
  EXPECT_EQ(q.NumRequeues("other"), 0);
}

// Failures counted without waiting: a held-back key keeps its earliest
// time, so only the first of these adds is waited for.
void Fail(WorkQueue& q, const std::string& key, int times) {
  for (int i = 0; i < times; ++i)
    q.AddRateLimited(key);
  ASSERT_EQ(q.Get(), key);
  q.Done(key);
}

TEST(WorkQueueTest, TheBackoffIsCapped) {
  WorkQueue q(RateLimit{milliseconds(1), milliseconds(30)});
  Fail(q, "a", 12);
  EXPECT_EQ(q.NumRequeues("a"), 12);
  auto start = Clock::now();
  q.AddRateLimited("a");  // uncapped: 4 s
  ASSERT_EQ(q.Get(), "a");
  EXPECT_GE(Since(start), milliseconds(30));
  EXPECT_LT(Since(start), milliseconds(2000)) << "the backoff is not capped";
}

TEST(WorkQueueTest, ForgetStartsTheBackoffOver) {
  WorkQueue q(RateLimit{milliseconds(10), std::chrono::seconds(60)});
  Fail(q, "a", 12);
  q.Forget("a");
  EXPECT_EQ(q.NumRequeues("a"), 0);
  auto start = Clock::now();
  q.AddRateLimited("a");  // not forgotten: 40 s
  ASSERT_EQ(q.Get(), "a");
  EXPECT_LT(Since(start), milliseconds(2000)) << "Forget did not reset the backoff";
}

TEST(WorkQueueTest, ShutDownWakesWaitingWorkersAndEndsGets) {
  WorkQueue q;
  std::optional<std::string> got = "unset";
  std::thread worker([&] { got = q.Get(); });
  std::this_thread::sleep_for(milliseconds(30));
  q.ShutDown();
  worker.join();
  EXPECT_EQ(got, std::nullopt);
  EXPECT_TRUE(q.ShuttingDown());
  q.Add("a");
  q.AddAfter("b", milliseconds(1));
  EXPECT_EQ(q.Len(), 0u);
  EXPECT_EQ(q.Get(), std::nullopt);
}

TEST(WorkQueueTest, GetEndsAfterShutDownEvenWithKeysQueued) {
  WorkQueue q;
  q.Add("a");
  q.ShutDown();
  EXPECT_EQ(q.Get(), std::nullopt);
}

}  // namespace
}  // namespace berth::controlplane::controllers
