#include "cmd/flags.h"

#include <gtest/gtest.h>

namespace berth::cli {
namespace {

TEST(Flags, GoFlagRules) {
  std::string root, pid;
  bool detach = false;
  int fds = 0;
  FlagSet f("create");
  f.String("root", &root, "");
  f.String("pid-file", &pid, "");
  f.Bool("detach,d", &detach, "");
  f.Int("preserve-fds", &fds, "");
  auto rest =
      f.Parse({"-root", "/r", "--pid-file=/p", "-d", "--preserve-fds", "2", "id", "--not-a-flag"});
  ASSERT_TRUE(rest.ok()) << rest.error().str();
  EXPECT_EQ(root, "/r");
  EXPECT_EQ(pid, "/p");
  EXPECT_TRUE(detach);
  EXPECT_EQ(fds, 2);
  EXPECT_EQ(*rest, (std::vector<std::string>{"id", "--not-a-flag"}));
}

TEST(Flags, BoolWithValueAndDoubleDash) {
  bool force = true;
  FlagSet f("delete");
  f.Bool("force,f", &force, "");
  auto rest = f.Parse({"--force=false", "--", "-x"});
  ASSERT_TRUE(rest.ok());
  EXPECT_FALSE(force);
  EXPECT_EQ(*rest, std::vector<std::string>{"-x"});
}

TEST(Flags, UnknownAndMissingValueAreErrors) {
  std::string root;
  FlagSet f("kill");
  f.String("root", &root, "");
  EXPECT_EQ(f.Parse({"--nope"}).error().str(), "kill: flag provided but not defined: -nope");
  EXPECT_EQ(f.Parse({"--root"}).error().str(), "kill: flag needs an argument: -root");
}

TEST(Flags, DurationsInGoSyntax) {
  std::chrono::seconds d{0};
  FlagSet f("server");
  f.Duration("etcd-compaction-interval", &d, "");
  ASSERT_TRUE(f.Parse({"--etcd-compaction-interval=5m0s"}).ok());
  EXPECT_EQ(d.count(), 300);
  ASSERT_TRUE(f.Parse({"--etcd-compaction-interval", "1h30s"}).ok());
  EXPECT_EQ(d.count(), 3630);
  ASSERT_TRUE(f.Parse({"--etcd-compaction-interval=0"}).ok());
  EXPECT_EQ(d.count(), 0);
  for (const char* bad : {"5", "m", "5x", ""}) {
    auto r = f.Parse({std::string("--etcd-compaction-interval=") + bad});
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.error().str().find("-etcd-compaction-interval"), std::string::npos);
  }
}

}  // namespace
}  // namespace berth::cli
