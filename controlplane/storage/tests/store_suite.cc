#include "controlplane/storage/tests/store_suite.h"

#include <atomic>
#include <map>
#include <set>
#include <thread>
#include <vector>

namespace berth::controlplane::storage::testing {
namespace {

using std::chrono::milliseconds;

#define ASSERT_OK_AND_ASSIGN(lhs, expr)                         \
  auto lhs##_result = (expr);                                   \
  ASSERT_TRUE(lhs##_result.ok()) << lhs##_result.error().str(); \
  auto lhs = std::move(lhs##_result).value()

// Reads events until `n` have arrived or 5 s pass.
std::vector<Event> Collect(WatchStream& w, size_t n) {
  std::vector<Event> out;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (out.size() < n && std::chrono::steady_clock::now() < deadline) {
    Result<std::vector<Event>> got = w.Next(milliseconds(100));
    if (!got.ok()) {
      ADD_FAILURE() << got.error().str();
      break;
    }
    for (Event& e : *got)
      out.push_back(std::move(e));
  }
  return out;
}

}  // namespace

void StoreSuite::SetUp() {
  Result<std::unique_ptr<Store>> store = GetParam().open(dir_.path());
  ASSERT_TRUE(store.ok()) << store.error().str();
  store_ = std::move(*store);
}

void StoreSuite::Reopen() {
  store_.reset();
  Result<std::unique_ptr<Store>> store = GetParam().open(dir_.path());
  ASSERT_TRUE(store.ok()) << store.error().str();
  store_ = std::move(*store);
}

TEST_P(StoreSuite, CreateUpdateDeleteGuardedByRevision) {
  ASSERT_OK_AND_ASSIGN(created, store_->Create("/pods/ns/a", "v1"));
  EXPECT_GT(created.mod_revision, 0);
  EXPECT_EQ(created.create_revision, created.mod_revision);
  Result<KeyValue> again = store_->Create("/pods/ns/a", "v1b");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code(), Errc::kAlreadyExists) << again.error().str();

  Result<KeyValue> stale = store_->Update("/pods/ns/a", "v2", created.mod_revision + 100);
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code(), Errc::kAborted) << stale.error().str();
  ASSERT_OK_AND_ASSIGN(updated, store_->Update("/pods/ns/a", "v2", created.mod_revision));
  EXPECT_GT(updated.mod_revision, created.mod_revision);
  EXPECT_EQ(updated.create_revision, created.create_revision);
  ASSERT_OK_AND_ASSIGN(unguarded, store_->Update("/pods/ns/a", "v3", 0));
  EXPECT_GT(unguarded.mod_revision, updated.mod_revision);

  ASSERT_OK_AND_ASSIGN(got, store_->Get("/pods/ns/a"));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->value, "v3");
  EXPECT_EQ(got->mod_revision, unguarded.mod_revision);

  Result<KeyValue> wrong_delete = store_->Delete("/pods/ns/a", updated.mod_revision);
  ASSERT_FALSE(wrong_delete.ok());
  EXPECT_EQ(wrong_delete.error().code(), Errc::kAborted);
  ASSERT_OK_AND_ASSIGN(deleted, store_->Delete("/pods/ns/a", unguarded.mod_revision));
  EXPECT_EQ(deleted.value, "v3");
  EXPECT_GT(deleted.mod_revision, unguarded.mod_revision);
  ASSERT_OK_AND_ASSIGN(gone, store_->Get("/pods/ns/a"));
  EXPECT_FALSE(gone.has_value());
  for (Result<KeyValue> r : {store_->Delete("/pods/ns/a"), store_->Update("/pods/ns/a", "x", 0)}) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), Errc::kNotFound) << r.error().str();
  }
  ASSERT_OK_AND_ASSIGN(recreated, store_->Create("/pods/ns/a", "v4"));
  EXPECT_EQ(recreated.create_revision, recreated.mod_revision);
  EXPECT_GT(recreated.create_revision, deleted.mod_revision);
  ASSERT_OK_AND_ASSIGN(now, store_->CurrentRevision());
  EXPECT_EQ(now, recreated.mod_revision);
}

TEST_P(StoreSuite, ValuesAreBytes) {
  std::string binary("\0\x01\xff{\"a\":1}\n", 11);
  ASSERT_TRUE(store_->Create("/k/binary", binary).ok());
  ASSERT_TRUE(store_->Create("/k/empty", "").ok());
  ASSERT_OK_AND_ASSIGN(b, store_->Get("/k/binary"));
  ASSERT_OK_AND_ASSIGN(e, store_->Get("/k/empty"));
  ASSERT_TRUE(b && e);
  EXPECT_EQ(b->value, binary);
  EXPECT_EQ(e->value, "");
  Result<KeyValue> empty_key = store_->Create("", "x");
  ASSERT_FALSE(empty_key.ok());
  EXPECT_EQ(empty_key.error().code(), Errc::kInvalidArgument);
}

TEST_P(StoreSuite, ListIsPrefixedOrderedAndPagedAtOneRevision) {
  for (const char* k : {"/pods/b/2", "/pods/a/1", "/pods/b/1", "/pods/a/3", "/podsx/1", "/pod"})
    ASSERT_TRUE(store_->Create(k, std::string("v") + k).ok());
  ListOptions all;
  all.prefix = "/pods/";
  ASSERT_OK_AND_ASSIGN(list, store_->List(all));
  std::vector<std::string> keys;
  for (const KeyValue& kv : list.items)
    keys.push_back(kv.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"/pods/a/1", "/pods/a/3", "/pods/b/1", "/pods/b/2"}));
  EXPECT_FALSE(list.more);

  ListOptions page;
  page.prefix = "/pods/";
  page.limit = 3;
  ASSERT_OK_AND_ASSIGN(first, store_->List(page));
  ASSERT_EQ(first.items.size(), 3u);
  EXPECT_TRUE(first.more);
  // Writes between the pages do not show in the second: it is read at
  // the first page's revision.
  ASSERT_TRUE(store_->Create("/pods/c/1", "late").ok());
  ASSERT_TRUE(store_->Delete("/pods/b/2").ok());
  page.start_after = first.items.back().key;
  page.revision = first.revision;
  ASSERT_OK_AND_ASSIGN(second, store_->List(page));
  ASSERT_EQ(second.items.size(), 1u);
  EXPECT_EQ(second.items[0].key, "/pods/b/2");
  EXPECT_FALSE(second.more);
  EXPECT_EQ(second.revision, first.revision);

  ListOptions everything;
  ASSERT_OK_AND_ASSIGN(now, store_->List(everything));
  EXPECT_EQ(now.items.size(), 6u);  // 6 created, 1 more, 1 deleted
}

TEST_P(StoreSuite, ReadsAtAnOlderRevisionSeeTheStoreThen) {
  ASSERT_OK_AND_ASSIGN(a1, store_->Create("/k/a", "1"));
  ASSERT_OK_AND_ASSIGN(b1, store_->Create("/k/b", "1"));
  ASSERT_OK_AND_ASSIGN(a2, store_->Update("/k/a", "2", 0));
  ASSERT_TRUE(store_->Delete("/k/b").ok());
  ASSERT_OK_AND_ASSIGN(old_a, store_->Get("/k/a", b1.mod_revision));
  ASSERT_TRUE(old_a.has_value());
  EXPECT_EQ(old_a->value, "1");
  ASSERT_OK_AND_ASSIGN(old_b, store_->Get("/k/b", a2.mod_revision));
  ASSERT_TRUE(old_b.has_value());
  ASSERT_OK_AND_ASSIGN(before, store_->Get("/k/b", a1.mod_revision));
  EXPECT_FALSE(before.has_value());
  ListOptions then;
  then.prefix = "/k/";
  then.revision = b1.mod_revision;
  ASSERT_OK_AND_ASSIGN(list, store_->List(then));
  ASSERT_EQ(list.items.size(), 2u);
  EXPECT_EQ(list.items[0].value, "1");
  ASSERT_OK_AND_ASSIGN(now, store_->CurrentRevision());
  Result<std::optional<KeyValue>> future = store_->Get("/k/a", now + 10);
  ASSERT_FALSE(future.ok());
  EXPECT_EQ(future.error().code(), Errc::kInvalidArgument);
}

TEST_P(StoreSuite, WatchReplaysHistoryThenFollowsInOrder) {
  // (after = 0 means "from now", so the watch starts after a first write.)
  ASSERT_OK_AND_ASSIGN(first, store_->Create("/first", "1"));
  int64_t start = first.mod_revision;
  ASSERT_OK_AND_ASSIGN(c, store_->Create("/w/x", "1"));
  ASSERT_TRUE(store_->Create("/other/y", "1").ok());
  ASSERT_OK_AND_ASSIGN(u, store_->Update("/w/x", "2", c.mod_revision));
  ASSERT_OK_AND_ASSIGN(w, store_->Watch("/w/", start));
  ASSERT_OK_AND_ASSIGN(d, store_->Delete("/w/x"));
  ASSERT_TRUE(store_->Create("/w/z", "9").ok());

  std::vector<Event> events = Collect(*w, 4);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].type, EventType::kCreated);
  EXPECT_EQ(events[0].kv.mod_revision, c.mod_revision);
  EXPECT_FALSE(events[0].prev.has_value());
  EXPECT_EQ(events[1].type, EventType::kModified);
  EXPECT_EQ(events[1].kv.value, "2");
  ASSERT_TRUE(events[1].prev.has_value());
  EXPECT_EQ(events[1].prev->value, "1");
  EXPECT_EQ(events[1].kv.mod_revision, u.mod_revision);
  EXPECT_EQ(events[2].type, EventType::kDeleted);
  EXPECT_EQ(events[2].kv.key, "/w/x");
  EXPECT_EQ(events[2].kv.value, "2");
  EXPECT_EQ(events[2].kv.mod_revision, d.mod_revision);
  ASSERT_TRUE(events[2].prev.has_value());
  EXPECT_EQ(events[3].kv.key, "/w/z");
  for (size_t i = 1; i < events.size(); ++i)
    EXPECT_GT(events[i].kv.mod_revision, events[i - 1].kv.mod_revision);
  // Nothing more: /other/ is not watched.
  ASSERT_OK_AND_ASSIGN(rest, w->Next(milliseconds(50)));
  EXPECT_TRUE(rest.empty());
}

TEST_P(StoreSuite, WatchFromNowSeesOnlyNewEvents) {
  ASSERT_TRUE(store_->Create("/n/old", "1").ok());
  ASSERT_OK_AND_ASSIGN(w, store_->Watch("/n/", 0));
  ASSERT_OK_AND_ASSIGN(fresh, store_->Create("/n/new", "1"));
  std::vector<Event> events = Collect(*w, 1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kv.key, "/n/new");
  EXPECT_EQ(events[0].kv.mod_revision, fresh.mod_revision);
}

TEST_P(StoreSuite, CompactionForgetsHistoryButKeepsTheNewestValues) {
  ASSERT_OK_AND_ASSIGN(a, store_->Create("/c/a", "1"));
  ASSERT_TRUE(store_->Update("/c/a", "2", 0).ok());
  ASSERT_TRUE(store_->Create("/c/gone", "1").ok());
  ASSERT_TRUE(store_->Delete("/c/gone").ok());
  ASSERT_OK_AND_ASSIGN(b, store_->Create("/c/b", "1"));
  ASSERT_TRUE(store_->Compact(b.mod_revision).ok());
  ASSERT_OK_AND_ASSIGN(compacted, store_->CompactedRevision());
  EXPECT_EQ(compacted, b.mod_revision);

  Result<std::optional<KeyValue>> old = store_->Get("/c/a", a.mod_revision);
  ASSERT_FALSE(old.ok());
  EXPECT_EQ(old.error().code(), Errc::kOutOfRange) << old.error().str();
  Result<std::unique_ptr<WatchStream>> old_watch = store_->Watch("/c/", a.mod_revision);
  ASSERT_FALSE(old_watch.ok());
  EXPECT_EQ(old_watch.error().code(), Errc::kOutOfRange);

  ListOptions all;
  all.prefix = "/c/";
  ASSERT_OK_AND_ASSIGN(list, store_->List(all));
  ASSERT_EQ(list.items.size(), 2u);
  EXPECT_EQ(list.items[0].key, "/c/a");
  EXPECT_EQ(list.items[0].value, "2");
  EXPECT_EQ(list.items[0].create_revision, a.mod_revision);
  EXPECT_EQ(list.items[1].key, "/c/b");
  ListOptions at;
  at.prefix = "/c/";
  at.revision = b.mod_revision;
  ASSERT_OK_AND_ASSIGN(at_compacted, store_->List(at));
  EXPECT_EQ(at_compacted.items.size(), 2u);

  // A watch from the compacted revision itself still works.
  ASSERT_OK_AND_ASSIGN(w, store_->Watch("/c/", b.mod_revision));
  ASSERT_OK_AND_ASSIGN(u, store_->Update("/c/b", "2", b.mod_revision));
  std::vector<Event> events = Collect(*w, 1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kv.mod_revision, u.mod_revision);
  ASSERT_TRUE(events[0].prev.has_value());
  EXPECT_EQ(events[0].prev->value, "1");
}

TEST_P(StoreSuite, ReopenKeepsDataRevisionsAndCompaction) {
  ASSERT_TRUE(store_->Create("/r/a", "1").ok());
  ASSERT_OK_AND_ASSIGN(b, store_->Create("/r/b", "1"));
  ASSERT_OK_AND_ASSIGN(del, store_->Delete("/r/b"));
  ASSERT_TRUE(store_->Compact(del.mod_revision).ok());
  Reopen();
  // Not reset (a store may spend a revision on recording the compaction).
  ASSERT_OK_AND_ASSIGN(now, store_->CurrentRevision());
  EXPECT_GE(now, del.mod_revision);
  ASSERT_OK_AND_ASSIGN(compacted, store_->CompactedRevision());
  EXPECT_EQ(compacted, del.mod_revision);
  ASSERT_OK_AND_ASSIGN(a, store_->Get("/r/a"));
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->value, "1");
  // The deletion at the top was compacted away; its revision is not reused.
  ASSERT_OK_AND_ASSIGN(c, store_->Create("/r/c", "1"));
  EXPECT_GT(c.mod_revision, del.mod_revision);
  EXPECT_GT(del.mod_revision, b.mod_revision);
}

TEST_P(StoreSuite, ConcurrentWritersGetDistinctRevisionsAndWatchersSeeEachOnce) {
  constexpr int kWriters = 8, kPerWriter = 50, kWatchers = 10;
  std::vector<std::unique_ptr<WatchStream>> watchers;
  for (int i = 0; i < kWatchers; ++i) {
    ASSERT_OK_AND_ASSIGN(w, store_->Watch("/cc/", 0));
    watchers.push_back(std::move(w));
  }
  std::vector<std::vector<int64_t>> revisions(kWriters);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kWriters; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerWriter; ++i) {
        Result<KeyValue> kv =
            store_->Create("/cc/" + std::to_string(t) + "-" + std::to_string(i), "v");
        if (!kv.ok()) {
          ++failures;
          continue;
        }
        revisions[t].push_back(kv->mod_revision);
      }
    });
  }
  for (std::thread& t : threads)
    t.join();
  ASSERT_EQ(failures.load(), 0);
  std::set<int64_t> all;
  for (const auto& r : revisions)
    all.insert(r.begin(), r.end());
  EXPECT_EQ(all.size(), static_cast<size_t>(kWriters * kPerWriter));
  for (auto& w : watchers) {
    std::vector<Event> events = Collect(*w, kWriters * kPerWriter);
    ASSERT_EQ(events.size(), static_cast<size_t>(kWriters * kPerWriter));
    std::vector<int64_t> seen;
    for (const Event& e : events)
      seen.push_back(e.kv.mod_revision);
    EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
    EXPECT_EQ(std::set<int64_t>(seen.begin(), seen.end()), all);
  }
}

}  // namespace berth::controlplane::storage::testing
