// CRI log files read as kubelet reads them: the line format, tail, since,
// timestamps, limitBytes, follow across a rotation.

#include "agent/server/cri_log.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "common/file.h"
#include "common/testing/testkit.h"

namespace berth::agent::kubelet {
namespace {

using namespace std::chrono_literals;

class StringSink : public LogSink {
 public:
  bool Write(std::string_view data) override {
    std::lock_guard lock(mu_);
    out_ += data;
    return !gone_;
  }
  int wait_fd() const override { return -1; }
  bool Gone() const override { return gone_; }
  std::string out() {
    std::lock_guard lock(mu_);
    return out_;
  }
  std::atomic<bool> gone_{false};

 private:
  std::mutex mu_;
  std::string out_;
};

constexpr const char* kLog =
    "2024-01-02T03:04:05.000000001Z stdout F one\n"
    "2024-01-02T03:04:06.5Z stderr F two\n"
    "2024-01-02T03:04:07Z stdout P thr\n"
    "2024-01-02T03:04:07.25Z stdout F ee\n"
    "2024-01-02T03:04:08+01:00 stdout F four\n";  // 02:04:08Z: the oldest

class CriLogTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& content, const std::string& name = "0.log") {
    std::string path = dir_ / name;
    EXPECT_TRUE(WriteFile(path, content).ok());
    return path;
  }
  std::string Read(const std::string& path, const LogOptions& o) {
    Result<CriLogFile> f = CriLogFile::Open(path);
    EXPECT_TRUE(f.ok()) << f.error().str();
    if (!f.ok()) return "<open failed>";
    StringSink sink;
    Status s = f->Stream(o, sink);
    EXPECT_TRUE(s.ok()) << s.error().str();
    return sink.out();
  }

  testing::TempDir dir_{"berth-cri-log-test"};
};

TEST(LogTimeTest, ParsesAndPrintsRfc3339LikeGo) {
  Result<LogTime> t = ParseRfc3339("2016-10-06T00:17:09.669794202Z");
  ASSERT_TRUE(t.ok()) << t.error().str();
  EXPECT_EQ(t->unix_nanos, 1475713029669794202LL);
  EXPECT_EQ(FormatRfc3339NanoFixed(*t), "2016-10-06T00:17:09.669794202Z");
  Result<LogTime> local = ParseRfc3339("2016-10-06T02:17:09.5+02:00");
  ASSERT_TRUE(local.ok());
  EXPECT_EQ(local->unix_nanos, 1475713029500000000LL);
  // Printed back in the offset it was written in, nine digits.
  EXPECT_EQ(FormatRfc3339NanoFixed(*local), "2016-10-06T02:17:09.500000000+02:00");
  EXPECT_EQ(FormatRfc3339NanoFixed(*ParseRfc3339("2016-10-06T00:17:09-07:30")),
            "2016-10-06T00:17:09.000000000-07:30");
  for (const char* bad : {"", "2016-10-06 00:17:09Z", "2016-10-06T00:17:09", "2016-13-06T00:17:09Z",
                          "2016-10-06T00:17:09.Z", "2016-10-06T00:17:09.1234567890Z"}) {
    EXPECT_FALSE(ParseRfc3339(bad).ok()) << bad;
  }
}

TEST(LogLineTest, CriFormat) {
  Result<LogEntry> full =
      ParseCriLogLine("2016-10-06T00:17:09.669794202Z stdout F log content 1\n");
  ASSERT_TRUE(full.ok()) << full.error().str();
  EXPECT_FALSE(full->stderr);
  EXPECT_EQ(full->text, "log content 1\n");
  Result<LogEntry> partial = ParseCriLogLine("2016-10-06T00:17:09.669794203Z stderr P part\n");
  ASSERT_TRUE(partial.ok());
  EXPECT_TRUE(partial->stderr);
  EXPECT_EQ(partial->text, "part");  // its newline is the file's, not the program's
  EXPECT_EQ(ParseCriLogLine("2016-10-06T00:17:09Z stdout F:x \n")->text, "\n");  // tags may grow
  EXPECT_FALSE(ParseCriLogLine("2016-10-06T00:17:09Z stdin F x\n").ok());
  EXPECT_FALSE(ParseCriLogLine("2016-10-06T00:17:09Z stdout\n").ok());
  EXPECT_FALSE(ParseCriLogLine("yesterday stdout F x\n").ok());

  Result<LogEntry> json = ParseDockerJsonLogLine(
      R"({"log":"content 1\n","stream":"stderr","time":"2016-10-20T18:39:20.57606443Z"})");
  ASSERT_TRUE(json.ok()) << json.error().str();
  EXPECT_TRUE(json->stderr);
  EXPECT_EQ(json->text, "content 1\n");
}

TEST_F(CriLogTest, FindsWhereTheLastLinesStart) {
  std::string path = Write("a\nbb\nccc\n");
  UniqueFd fd = Open(path, O_RDONLY).value();
  EXPECT_EQ(*FindTailStart(fd.get(), -1), 0);
  EXPECT_EQ(*FindTailStart(fd.get(), 0), 9);
  EXPECT_EQ(*FindTailStart(fd.get(), 1), 5);
  EXPECT_EQ(*FindTailStart(fd.get(), 2), 2);
  EXPECT_EQ(*FindTailStart(fd.get(), 3), 0);
  EXPECT_EQ(*FindTailStart(fd.get(), 10), 0);
  // An unfinished last line is not counted.
  UniqueFd open = Open(Write("a\nbb\ncc", "1.log"), O_RDONLY).value();
  EXPECT_EQ(*FindTailStart(open.get(), 1), 2);
  // Across many blocks.
  std::string big;
  for (int i = 0; i < 3000; ++i)
    big += "line " + std::to_string(i) + "\n";
  UniqueFd many = Open(Write(big, "2.log"), O_RDONLY).value();
  int64_t start = *FindTailStart(many.get(), 1000);
  EXPECT_EQ(big.substr(static_cast<size_t>(start), 10), "line 2000\n");
}

TEST_F(CriLogTest, WholeLogJoinsPartialLines) {
  EXPECT_EQ(Read(Write(kLog), {}), "one\ntwo\nthree\nfour\n");
}

TEST_F(CriLogTest, TailCountsLinesOfTheFile) {
  std::string path = Write(kLog);
  LogOptions o;
  o.tail_lines = 2;  // the file's last two lines: the second half of "three", "four"
  EXPECT_EQ(Read(path, o), "ee\nfour\n");
  o.tail_lines = 0;
  EXPECT_EQ(Read(path, o), "");
  o.tail_lines = 100;
  EXPECT_EQ(Read(path, o), "one\ntwo\nthree\nfour\n");
}

TEST_F(CriLogTest, TimestampsPrefixEveryEntry) {
  LogOptions o;
  o.timestamps = true;
  o.tail_lines = 4;
  EXPECT_EQ(Read(Write(kLog), o),
            "2024-01-02T03:04:06.500000000Z two\n"
            "2024-01-02T03:04:07.000000000Z thr"
            "2024-01-02T03:04:07.250000000Z ee\n"
            "2024-01-02T03:04:08.000000000+01:00 four\n");
}

TEST_F(CriLogTest, SinceSkipsOlderEntries) {
  LogOptions o;
  o.since_unix_nanos = ParseRfc3339("2024-01-02T03:04:06Z")->unix_nanos;
  EXPECT_EQ(Read(Write(kLog), o), "two\nthree\n");  // "four" was written at 02:04:08Z
}

TEST_F(CriLogTest, LimitBytesCutsTheOutput) {
  LogOptions o;
  o.limit_bytes = 6;
  EXPECT_EQ(Read(Write(kLog), o), "one\ntw");
  o.limit_bytes = 1000;
  EXPECT_EQ(Read(Write(kLog), o), "one\ntwo\nthree\nfour\n");
}

TEST_F(CriLogTest, UnfinishedLastLineAndBadLines) {
  std::string log = std::string(kLog) + "garbage\n2024-01-02T03:04:09Z stdout F five";
  EXPECT_EQ(Read(Write(log), {}), "one\ntwo\nthree\nfour\nfive");
  EXPECT_EQ(Read(Write(R"({"log":"a\n","stream":"stdout","time":"2016-10-20T18:39:20Z"})"
                       "\n",
                       "d.log"),
                 {}),
            "a\n");
  Result<CriLogFile> unsupported = CriLogFile::Open(Write("plain text\n", "x.log"));
  ASSERT_TRUE(unsupported.ok());
  StringSink sink;
  EXPECT_FALSE(unsupported->Stream({}, sink).ok());
  EXPECT_FALSE(CriLogFile::Open(dir_ / "missing.log").ok());
}

TEST_F(CriLogTest, FollowTailsUntilTheContainerExitsAcrossARotation) {
  std::string path = Write("2024-01-02T03:04:05Z stdout F first\n");
  Result<CriLogFile> f = CriLogFile::Open(path);
  ASSERT_TRUE(f.ok());
  StringSink sink;
  std::atomic<bool> running{true};
  LogOptions o;
  o.follow = true;
  std::thread reader([&] {
    Status s = f->Stream(o, sink, [&] { return running.load(); });
    EXPECT_TRUE(s.ok()) << s.error().str();
  });
  auto wait_for = [&](const std::string& want) {
    for (auto deadline = std::chrono::steady_clock::now() + 10s;
         std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(10ms)) {
      if (sink.out() == want) return true;
    }
    return false;
  };
  EXPECT_TRUE(wait_for("first\n")) << sink.out();
  // An unfinished line waits for the rest of it.
  {
    UniqueFd fd = Open(path, O_WRONLY | O_APPEND).value();
    ASSERT_TRUE(WriteAll(fd.get(), "2024-01-02T03:04:06Z stdout F sec", "log").ok());
    std::this_thread::sleep_for(50ms);
    ASSERT_TRUE(WriteAll(fd.get(), "ond\n", "log").ok());
  }
  EXPECT_TRUE(wait_for("first\nsecond\n")) << sink.out();
  // Rotation: the file moves away; a late write reaches the old file, then
  // the runtime reopens the path.
  {
    UniqueFd old = Open(path, O_WRONLY | O_APPEND).value();
    ASSERT_EQ(::rename(path.c_str(), (path + ".20240102-030407").c_str()), 0);
    ASSERT_TRUE(WriteAll(old.get(), "2024-01-02T03:04:07Z stdout F late\n", "log").ok());
    Write("2024-01-02T03:04:08Z stdout F rotated\n");
  }
  EXPECT_TRUE(wait_for("first\nsecond\nlate\nrotated\n")) << sink.out();
  running = false;
  {
    UniqueFd fd = Open(path, O_WRONLY | O_APPEND).value();
    ASSERT_TRUE(WriteAll(fd.get(), "2024-01-02T03:04:09Z stdout F last words\n", "log").ok());
  }
  reader.join();  // returns once the container is not running and the file is read
  EXPECT_EQ(sink.out(), "first\nsecond\nlate\nrotated\nlast words\n");
}

TEST_F(CriLogTest, FollowEndsWhenTheClientGoes) {
  Result<CriLogFile> f = CriLogFile::Open(Write("2024-01-02T03:04:05Z stdout F x\n"));
  ASSERT_TRUE(f.ok());
  StringSink sink;
  LogOptions o;
  o.follow = true;
  std::thread reader([&] { (void)f->Stream(o, sink, [] { return true; }); });
  std::this_thread::sleep_for(100ms);
  sink.gone_ = true;
  reader.join();  // within the 1 s re-check period
  EXPECT_EQ(sink.out(), "x\n");
}

}  // namespace
}  // namespace berth::agent::kubelet
