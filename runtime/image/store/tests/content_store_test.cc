#include "runtime/image/store/content_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <thread>

#include "common/file.h"
#include "common/testing/testkit.h"

namespace berth::image {
namespace {

class ContentStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = ContentStore::Open(dir_ / "content");
    ASSERT_TRUE(s.ok()) << s.error().str();
    store_.emplace(std::move(s).value());
  }
  std::vector<std::string> Ingest() { return *ListDir(dir_ / "content/ingest"); }

  testing::TempDir dir_;
  std::optional<ContentStore> store_;
};

TEST_F(ContentStoreTest, PutReadAndList) {
  Digest d = Sha256Of("hello");
  ASSERT_TRUE(store_->Put(d, "hello").ok());
  EXPECT_TRUE(store_->Has(d));
  EXPECT_EQ(*store_->Read(d), "hello");
  EXPECT_EQ(*store_->Size(d), 5);
  EXPECT_EQ(*store_->List(), std::vector<Digest>{d});
  struct stat st {};
  ASSERT_EQ(::stat(store_->BlobPath(d).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0444u);
  EXPECT_TRUE(store_->Put(d, "hello").ok());  // idempotent
  EXPECT_TRUE(Ingest().empty());
  ASSERT_TRUE(store_->Delete(d).ok());
  EXPECT_FALSE(store_->Has(d));
  EXPECT_EQ(store_->Read(d).error().code(), Errc::kNotFound);
}

TEST_F(ContentStoreTest, MismatchIsRejectedAndLeavesNothing) {
  Digest d = Sha256Of("expected");
  Status s = store_->Put(d, "tampered");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().str(), "blob " + d.str() + ": content digest " + Sha256Of("tampered").str() +
                                 " does not match");
  EXPECT_FALSE(store_->Has(d));
  auto w = store_->Begin(d, 3);
  ASSERT_TRUE(w.ok() && *w);
  Status more = (*w)->Write("toolong");
  ASSERT_FALSE(more.ok());
  EXPECT_NE(more.error().str().find("more than the expected 3 bytes"), std::string::npos);
  w->reset();
  for (const std::string& f : Ingest())
    EXPECT_NE(f.find(".lock"), std::string::npos) << "left behind: " << f;
}

TEST_F(ContentStoreTest, ResetStartsOver) {
  Digest d = Sha256Of("abc");
  auto w = store_->Begin(d, -1);
  ASSERT_TRUE(w.ok() && *w);
  ASSERT_TRUE((*w)->Write("xyz").ok());
  ASSERT_TRUE((*w)->Reset().ok());
  ASSERT_TRUE((*w)->Write("abc").ok());
  ASSERT_TRUE((*w)->Commit().ok());
  EXPECT_EQ(*store_->Read(d), "abc");
}

TEST_F(ContentStoreTest, ConcurrentWritersOfOneDigestWriteItOnce) {
  std::string data(1 << 20, 'x');
  Digest d = Sha256Of(data);
  auto first = store_->Begin(d, static_cast<int64_t>(data.size()));
  ASSERT_TRUE(first.ok() && *first);
  std::atomic<bool> second_started{false}, second_got_null{false};
  std::thread other([&] {
    second_started = true;
    auto second = store_->Begin(d, static_cast<int64_t>(data.size()));  // blocks on the lock
    second_got_null = second.ok() && !*second;
  });
  while (!second_started)
    std::this_thread::yield();
  ASSERT_TRUE((*first)->Write(data).ok());
  ASSERT_TRUE((*first)->Commit().ok());
  other.join();
  EXPECT_TRUE(second_got_null);
  EXPECT_EQ(store_->Read(d, 2 << 20)->size(), data.size());
}

TEST_F(ContentStoreTest, PutFileVerifiesAndNamesThePath) {
  ASSERT_TRUE(WriteFile(dir_ / "layer", "layer-bytes").ok());
  ASSERT_TRUE(store_->PutFile(Sha256Of("layer-bytes"), dir_ / "layer").ok());
  Status bad = store_->PutFile(Sha256Of("other"), dir_ / "layer");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().str().find(dir_ / "layer"), std::string::npos);
}

TEST_F(ContentStoreTest, CleanIngestRemovesAbandonedData) {
  ASSERT_TRUE(WriteFile(dir_ / "content/ingest/deadbeef.123-1-0", "partial").ok());
  ASSERT_TRUE(store_->CleanIngest().ok());
  EXPECT_FALSE(PathExists(dir_ / "content/ingest/deadbeef.123-1-0"));
  // An active writer's data stays.
  Digest d = Sha256Of("live");
  auto w = store_->Begin(d, -1);
  ASSERT_TRUE(w.ok() && *w);
  ASSERT_TRUE((*w)->Write("li").ok());
  ASSERT_TRUE(store_->CleanIngest().ok());
  ASSERT_TRUE((*w)->Write("ve").ok());
  EXPECT_TRUE((*w)->Commit().ok());
}

}  // namespace
}  // namespace berth::image
