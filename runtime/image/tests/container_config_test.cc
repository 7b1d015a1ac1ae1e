#include "runtime/image/container_config.h"

#include <gtest/gtest.h>

namespace berth::image {
namespace {

using Args = std::vector<std::string>;

ImageConfig Config() {
  ImageConfig c;
  c.entrypoint = {"/entry"};
  c.cmd = {"default-arg"};
  c.env = {"PATH=/image/bin", "A=image"};
  c.working_dir = "/work";
  c.user = "app";
  c.stop_signal = "SIGQUIT";
  return c;
}

Args ArgsFor(const ImageConfig& c, Args command, Args args) {
  ContainerOverrides o;
  o.command = std::move(command);
  o.args = std::move(args);
  return MergeImageConfig(c, o, "img")->args;
}

TEST(ContainerConfigTest, KubernetesCommandAndArgsRules) {
  ImageConfig c = Config();
  EXPECT_EQ(ArgsFor(c, {}, {}), (Args{"/entry", "default-arg"}));
  EXPECT_EQ(ArgsFor(c, {"/cmd"}, {}), (Args{"/cmd"}));
  EXPECT_EQ(ArgsFor(c, {}, {"x", "y"}), (Args{"/entry", "x", "y"}));
  EXPECT_EQ(ArgsFor(c, {"/cmd"}, {"x"}), (Args{"/cmd", "x"}));
  c.entrypoint.clear();
  EXPECT_EQ(ArgsFor(c, {}, {"/bin/sh"}), (Args{"/bin/sh"}));
  c.cmd.clear();
  auto none = MergeImageConfig(c, {}, "docker.io/library/empty:latest");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(
      none.error().str(),
      "image docker.io/library/empty:latest has no Entrypoint or Cmd and no command was given");
}

TEST(ContainerConfigTest, EnvCwdUserAndDefaults) {
  ContainerOverrides o;
  o.env = {{"A", "mine"}, {"B", "b"}};
  auto p = MergeImageConfig(Config(), o, "img");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->env, (Args{"PATH=/image/bin", "A=mine", "B=b"}));
  EXPECT_EQ(p->cwd, "/work");
  EXPECT_EQ(p->user, "app");
  EXPECT_EQ(p->stop_signal, "SIGQUIT");

  ImageConfig bare;
  bare.cmd = {"sh"};
  o = {};
  o.working_dir = "/override";
  o.user = "1000:1000";
  p = MergeImageConfig(bare, o, "img");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->env, Args{kDefaultPath});
  EXPECT_EQ(p->cwd, "/override");
  EXPECT_EQ(p->user, "1000:1000");
  EXPECT_EQ(MergeImageConfig(bare, {}, "img")->cwd, "/");
}

}  // namespace
}  // namespace berth::image
