#include "common/process.h"

#include <gtest/gtest.h>

namespace berth {
namespace {

TEST(Process, CapturesOutputAndStatus) {
  Command cmd;
  cmd.argv = {"/bin/sh", "-c", "read x; echo out:$x; echo err >&2; exit 3"};
  cmd.stdin_data = "hello\n";
  auto r = RunCommand(cmd);
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_EQ(r->out, "out:hello\n");
  EXPECT_EQ(r->err, "err\n");
}

TEST(Process, TimeoutKills) {
  Command cmd;
  cmd.argv = {"/bin/sleep", "10"};
  cmd.timeout = std::chrono::milliseconds(100);
  auto r = RunCommand(cmd);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->timed_out);
  EXPECT_FALSE(r->success());
}

TEST(Process, MissingBinaryIsExit127) {
  Command cmd;
  cmd.argv = {"/nonexistent/hook"};
  auto r = RunCommand(cmd);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 127);
}

}  // namespace
}  // namespace berth
