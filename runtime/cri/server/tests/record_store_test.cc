// RecordStore's filtered reads and the CRI list filters (FilterMatches):
// ids and sandbox ids by prefix, state, every selector label; only the
// matching records come back.

#include "runtime/cri/server/record_store.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "common/testing/testkit.h"

namespace berth::cri {
namespace {

namespace v1 = ::runtime::v1;

SandboxRecord Sandbox(const std::string& id, const std::string& uid, bool ready) {
  SandboxRecord r;
  r.set_id(id);
  r.set_ready(ready);
  r.mutable_config()->mutable_metadata()->set_name("pod-" + uid);
  r.mutable_config()->mutable_metadata()->set_uid(uid);
  (*r.mutable_config()->mutable_labels())["io.kubernetes.pod.uid"] = uid;
  (*r.mutable_config()->mutable_labels())["tier"] = "web";
  return r;
}

ContainerRecord Container(const std::string& id, const std::string& sandbox, const std::string& uid,
                          v1::ContainerState state) {
  ContainerRecord r;
  r.set_id(id);
  r.set_sandbox_id(sandbox);
  r.set_state(state);
  r.mutable_config()->mutable_metadata()->set_name("app");
  (*r.mutable_config()->mutable_labels())["io.kubernetes.pod.uid"] = uid;
  return r;
}

template <class Records>
std::vector<std::string> Ids(const Records& records) {
  std::vector<std::string> out;
  out.reserve(records.size());
  for (const auto& r : records)
    out.push_back(r.id());
  std::sort(out.begin(), out.end());
  return out;
}

class RecordStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = RecordStore::Open(dir_.path() + "/cri");
    ASSERT_TRUE(store.ok()) << store.error().str();
    store_ = std::move(*store);
    ASSERT_TRUE(store_->Put(Sandbox("aa11", "u1", true)).ok());
    ASSERT_TRUE(store_->Put(Sandbox("aa22", "u2", false)).ok());
    ASSERT_TRUE(store_->Put(Sandbox("bb33", "u3", true)).ok());
    ASSERT_TRUE(store_->Put(Container("c1", "aa11", "u1", v1::CONTAINER_RUNNING)).ok());
    ASSERT_TRUE(store_->Put(Container("c2", "aa11", "u1", v1::CONTAINER_EXITED)).ok());
    ASSERT_TRUE(store_->Put(Container("d3", "aa22", "u2", v1::CONTAINER_CREATED)).ok());
    ASSERT_TRUE(store_->Put(Container("d4", "bb33", "u3", v1::CONTAINER_RUNNING)).ok());
  }

  std::vector<std::string> Sandboxes(const v1::PodSandboxFilter& f) const {
    return Ids(store_->Sandboxes([&](const SandboxRecord& r) { return FilterMatches(r, f); }));
  }
  std::vector<std::string> Containers(const v1::ContainerFilter& f) const {
    return Ids(store_->Containers([&](const ContainerRecord& r) { return FilterMatches(r, f); }));
  }

  berth::testing::TempDir dir_{"berth-record-store"};
  std::unique_ptr<RecordStore> store_;
};

using Ids_ = std::vector<std::string>;

TEST_F(RecordStoreTest, SandboxFilters) {
  v1::PodSandboxFilter f;
  EXPECT_EQ(Sandboxes(f), (Ids_{"aa11", "aa22", "bb33"}));
  f.set_id("aa");
  EXPECT_EQ(Sandboxes(f), (Ids_{"aa11", "aa22"}));
  f.mutable_state()->set_state(v1::SANDBOX_READY);
  EXPECT_EQ(Sandboxes(f), (Ids_{"aa11"}));
  f.mutable_state()->set_state(v1::SANDBOX_NOTREADY);
  EXPECT_EQ(Sandboxes(f), (Ids_{"aa22"}));

  v1::PodSandboxFilter by_label;
  (*by_label.mutable_label_selector())["io.kubernetes.pod.uid"] = "u3";
  EXPECT_EQ(Sandboxes(by_label), (Ids_{"bb33"}));
  (*by_label.mutable_label_selector())["tier"] = "db";
  EXPECT_TRUE(Sandboxes(by_label).empty());
}

TEST_F(RecordStoreTest, ContainerFilters) {
  v1::ContainerFilter f;
  EXPECT_EQ(Containers(f), (Ids_{"c1", "c2", "d3", "d4"}));
  f.set_pod_sandbox_id("aa");
  EXPECT_EQ(Containers(f), (Ids_{"c1", "c2", "d3"}));
  f.mutable_state()->set_state(v1::CONTAINER_RUNNING);
  EXPECT_EQ(Containers(f), (Ids_{"c1"}));

  v1::ContainerFilter by_id;
  by_id.set_id("d");
  EXPECT_EQ(Containers(by_id), (Ids_{"d3", "d4"}));

  v1::ContainerFilter by_label;
  (*by_label.mutable_label_selector())["io.kubernetes.pod.uid"] = "u1";
  EXPECT_EQ(Containers(by_label), (Ids_{"c1", "c2"}));
  (*by_label.mutable_label_selector())["io.kubernetes.pod.uid"] = "nobody";
  EXPECT_TRUE(Containers(by_label).empty());
}

TEST_F(RecordStoreTest, FilteredReadsCopyOnlyWhatTheyKeep) {
  int asked = 0;
  auto kept = store_->Containers([&](const ContainerRecord& r) {
    ++asked;
    return r.sandbox_id() == "bb33";
  });
  EXPECT_EQ(asked, 4);  // each record looked at once
  EXPECT_EQ(Ids(kept), (Ids_{"d4"}));
  EXPECT_EQ(Ids(store_->Sandboxes([](const SandboxRecord& r) { return !r.ready(); })),
            (Ids_{"aa22"}));
  // The unfiltered reads still give everything.
  EXPECT_EQ(Ids(store_->Containers()).size(), 4u);
  EXPECT_EQ(Ids(store_->Sandboxes()).size(), 3u);
}

}  // namespace
}  // namespace berth::cri
