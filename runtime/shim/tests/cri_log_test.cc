#include "runtime/shim/cri_log.h"

#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <vector>

#include "common/file.h"
#include "common/strings.h"
#include "common/testing/testkit.h"

namespace berth::shim {
namespace {

struct Line {
  std::string stream;
  std::string tag;
  std::string content;
};

// Parses the log the way kubelet's CRI log reader does.
std::vector<Line> ReadLog(const std::string& path) {
  std::string text = ReadFile(path).value();
  std::vector<Line> out;
  static const std::regex kLine(
      R"(^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z) (stdout|stderr) ([FP]) (.*)$)");
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    EXPECT_NE(nl, std::string::npos) << "log does not end with a newline";
    if (nl == std::string::npos) break;
    std::string line = text.substr(start, nl - start);
    std::smatch m;
    EXPECT_TRUE(std::regex_match(line, m, kLine)) << "not a CRI log line: " << line;
    if (m.size() == 6) out.push_back({m[3], m[4], m[5]});
    start = nl + 1;
  }
  return out;
}

TEST(CriLogTest, FullLinesPerStream) {
  testing::TempDir dir;
  auto log = CriLog::Open(dir / "0.log");
  ASSERT_TRUE(log.ok()) << log.error().str();
  ASSERT_TRUE(log->Write(Stream::kStdout, "hello\nwor").ok());
  ASSERT_TRUE(log->Write(Stream::kStderr, "oops\n").ok());
  ASSERT_TRUE(log->Write(Stream::kStdout, "ld\n\n").ok());
  auto lines = ReadLog(dir / "0.log");
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0].stream, "stdout");
  EXPECT_EQ(lines[0].content, "hello");
  EXPECT_EQ(lines[1].stream, "stderr");
  EXPECT_EQ(lines[1].content, "oops");
  EXPECT_EQ(lines[2].content, "world");
  EXPECT_EQ(lines[2].tag, "F");
  EXPECT_EQ(lines[3].content, "");
}

TEST(CriLogTest, LongAndUnterminatedLinesArePartial) {
  testing::TempDir dir;
  auto log = CriLog::Open(dir / "0.log");
  ASSERT_TRUE(log.ok());
  std::string big(CriLog::kMaxLine + 10, 'x');
  ASSERT_TRUE(log->Write(Stream::kStdout, big + "\n").ok());
  ASSERT_TRUE(log->Write(Stream::kStdout, "tail without newline").ok());
  ASSERT_TRUE(log->Close(Stream::kStdout).ok());
  auto lines = ReadLog(dir / "0.log");
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0].tag, "P");
  EXPECT_EQ(lines[0].content.size(), CriLog::kMaxLine);
  EXPECT_EQ(lines[1].tag, "F");
  EXPECT_EQ(lines[1].content, std::string(10, 'x'));
  EXPECT_EQ(lines[2].tag, "P");
  EXPECT_EQ(lines[2].content, "tail without newline");
}

TEST(CriLogTest, ReopenFollowsRotation) {
  testing::TempDir dir;
  auto log = CriLog::Open(dir / "0.log");
  ASSERT_TRUE(log.ok());
  ASSERT_TRUE(log->Write(Stream::kStdout, "before\n").ok());
  ASSERT_EQ(::rename((dir / "0.log").c_str(), (dir / "0.log.1").c_str()), 0);
  ASSERT_TRUE(log->Reopen().ok());
  ASSERT_TRUE(log->Write(Stream::kStdout, "after\n").ok());
  EXPECT_EQ(ReadLog(dir / "0.log.1")[0].content, "before");
  auto now = ReadLog(dir / "0.log");
  ASSERT_EQ(now.size(), 1u);
  EXPECT_EQ(now[0].content, "after");
}

TEST(CriLogTest, OpenNamesThePath) {
  auto log = CriLog::Open("/nonexistent-dir/x/0.log");
  ASSERT_FALSE(log.ok());
  EXPECT_NE(log.error().str().find("/nonexistent-dir/x/0.log"), std::string::npos);
}

}  // namespace
}  // namespace berth::shim
