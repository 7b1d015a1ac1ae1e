#pragma once
// Helpers shared by the cgroups tests: fixtures, fake cgroup trees, and a
// recorder of every knob write (a fake tree keeps only each file's last
// value).

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "cgroups/cgroupfs.h"
#include "common/file.h"
#include "common/testing/testkit.h"

namespace berth::cgroups::testing {

inline std::string Fixture(const std::string& name) {
  Result<std::string> text =
      ReadFile(berth::testing::SourceDir() + "/cgroups/tests/fixtures/" + name);
  EXPECT_TRUE(text.ok()) << (text.ok() ? "" : text.error().str());
  return text.ok() ? *text : "";
}

// Writes `files` (relative path -> content) under `root`, making parents.
inline void WriteTree(const std::string& root, const std::map<std::string, std::string>& files) {
  for (const auto& [rel, content] : files) {
    std::string path = PathJoin(root, rel);
    ASSERT_TRUE(MkdirAll(Dirname(path)).ok()) << path;
    Status s = WriteFile(path, content);
    ASSERT_TRUE(s.ok()) << s.error().str();
  }
}

inline std::string Read(const std::string& path) {
  Result<std::string> text = ReadFile(path);
  return text.ok() ? *text : "<missing " + path + ">";
}

// Records knob writes while alive; paths are relative to `base`.
class WriteRecorder {
 public:
  explicit WriteRecorder(std::string base) : base_(std::move(base)) {
    SetKnobWriteObserverForTest([this](const std::string& path, std::string_view value) {
      std::string rel = path.rfind(base_, 0) == 0 ? path.substr(base_.size()) : path;
      writes_.emplace_back(rel, std::string(value));
    });
  }
  ~WriteRecorder() { SetKnobWriteObserverForTest(nullptr); }
  WriteRecorder(const WriteRecorder&) = delete;
  WriteRecorder& operator=(const WriteRecorder&) = delete;

  const std::vector<std::pair<std::string, std::string>>& writes() const { return writes_; }
  // Writes to one file (by suffix), in order.
  std::vector<std::string> To(const std::string& suffix) const {
    std::vector<std::string> out;
    for (const auto& [path, value] : writes_) {
      if (path.size() >= suffix.size() &&
          path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0) {
        out.push_back(value);
      }
    }
    return out;
  }
  void Clear() { writes_.clear(); }

 private:
  std::string base_;
  std::vector<std::pair<std::string, std::string>> writes_;
};

#define ASSERT_OK(expr)                                                     \
  do {                                                                      \
    auto&& assert_ok_result_ = (expr);                                      \
    ASSERT_TRUE(assert_ok_result_.ok()) << assert_ok_result_.error().str(); \
  } while (0)
#define EXPECT_OK(expr)                                                     \
  do {                                                                      \
    auto&& expect_ok_result_ = (expr);                                      \
    EXPECT_TRUE(expect_ok_result_.ok()) << expect_ok_result_.error().str(); \
  } while (0)

}  // namespace berth::cgroups::testing
