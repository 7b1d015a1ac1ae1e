// The dispatcher's protocol behaviour, in-process and without privileges:
// nothing here reaches a verb that changes the system.

#include "cni/bridge/plugin.h"

#include <gtest/gtest.h>

#include "common/file.h"
#include "common/testing/testkit.h"

namespace berth::cni::bridge {
namespace {

namespace bj = boost::json;

CniEnv Env(const std::string& command) {
  return CniEnv{command, "c1", "/run/netns/none", "eth0", "", "/usr/lib/cni"};
}

std::string Conf(const std::string& version, const std::string& data_dir = "/nonexistent") {
  return R"({"cniVersion":")" + version + R"(","name":"unit","type":"berth-cni-bridge",
             "ipam":{"subnet":"10.99.0.0/24","dataDir":")" +
         data_dir + R"("}})";
}

// Runs the plugin, expects a failure and returns the error document.
bj::object ErrorOf(const CniEnv& env, const std::string& input) {
  PluginOutput out = RunPlugin(env, input);
  EXPECT_NE(out.exit_code, 0);
  auto v = bj::parse(out.out);
  return v.as_object();
}

TEST(PluginTest, VersionEchoesKnownVersions) {
  PluginOutput out = RunPlugin(Env("VERSION"), R"({"cniVersion":"0.4.0"})");
  EXPECT_EQ(out.exit_code, 0);
  bj::value v = bj::parse(out.out);
  EXPECT_EQ(v.at("cniVersion").as_string(), "0.4.0");
  out = RunPlugin(Env("VERSION"), "");
  EXPECT_EQ(bj::parse(out.out).at("cniVersion").as_string(), "1.1.0");
}

TEST(PluginTest, MissingCommand) {
  bj::object e = ErrorOf(Env(""), Conf("1.0.0"));
  EXPECT_EQ(e.at("code").as_int64(), 4);
  EXPECT_NE(e.at("details").as_string().find("CNI_COMMAND"), std::string::npos);
}

TEST(PluginTest, UnknownCommand) {
  bj::object e = ErrorOf(Env("FROB"), Conf("1.0.0"));
  EXPECT_EQ(e.at("code").as_int64(), 4);
  EXPECT_EQ(e.at("cniVersion").as_string(), "1.0.0");
}

TEST(PluginTest, UndecodableConfig) {
  bj::object e = ErrorOf(Env("ADD"), "{not json");
  EXPECT_EQ(e.at("code").as_int64(), 6);
}

TEST(PluginTest, UnsupportedVersion) {
  bj::object e = ErrorOf(Env("ADD"), Conf("0.2.0"));
  EXPECT_EQ(e.at("code").as_int64(), 1);
  EXPECT_NE(e.at("details").as_string().find("0.2.0"), std::string::npos);
}

TEST(PluginTest, MissingEnvironmentIsNamed) {
  CniEnv env = Env("ADD");
  env.netns.clear();
  bj::object e = ErrorOf(env, Conf("1.0.0"));
  EXPECT_EQ(e.at("code").as_int64(), 4);
  EXPECT_NE(e.at("details").as_string().find("CNI_NETNS"), std::string::npos);

  env = Env("DEL");
  env.container_id = "-bad";
  e = ErrorOf(env, Conf("1.0.0"));
  EXPECT_EQ(e.at("code").as_int64(), 4);
  EXPECT_NE(e.at("details").as_string().find("CNI_CONTAINERID"), std::string::npos);

  env = Env("ADD");
  env.ifname = "this-is-far-too-long";
  e = ErrorOf(env, Conf("1.0.0"));
  EXPECT_EQ(e.at("code").as_int64(), 4);
  EXPECT_NE(e.at("details").as_string().find("CNI_IFNAME"), std::string::npos);
}

TEST(PluginTest, InvalidConfigNamesTheField) {
  bj::object e = ErrorOf(Env("ADD"), R"({"cniVersion":"1.0.0","name":"n","ipam":{"subnet":"x"}})");
  EXPECT_EQ(e.at("code").as_int64(), 7);
  EXPECT_EQ(e.at("msg").as_string(), "invalid network configuration");
  EXPECT_NE(e.at("details").as_string().find("ipam.subnet"), std::string::npos);
}

TEST(PluginTest, VerbsNeedTheirVersion) {
  EXPECT_EQ(ErrorOf(Env("CHECK"), Conf("0.3.1")).at("code").as_int64(), 1);
  EXPECT_EQ(ErrorOf(Env("STATUS"), Conf("1.0.0")).at("code").as_int64(), 1);
  EXPECT_EQ(ErrorOf(Env("GC"), Conf("1.0.0")).at("code").as_int64(), 1);
}

TEST(PluginTest, CheckNeedsPrevResult) {
  bj::object e = ErrorOf(Env("CHECK"), Conf("1.0.0"));
  EXPECT_EQ(e.at("code").as_int64(), 7);
  EXPECT_NE(e.at("details").as_string().find("prevResult"), std::string::npos);
}

TEST(PluginTest, Status) {
  testing::TempDir dir("berth-cni-status");
  PluginOutput out = RunPlugin(Env("STATUS"), Conf("1.1.0", dir.path()));
  EXPECT_EQ(out.exit_code, 0) << out.out;
  EXPECT_EQ(out.out, "");
  ASSERT_TRUE(WriteFile(dir / "file", "").ok());
  bj::object e = ErrorOf(Env("STATUS"), Conf("1.1.0", dir / "file"));
  EXPECT_EQ(e.at("code").as_int64(), 50);
}

TEST(PluginTest, EnvFromLookup) {
  CniEnv env = EnvFromLookup({{"CNI_COMMAND", "DEL"}, {"CNI_IFNAME", "eth1"}});
  EXPECT_EQ(env.command, "DEL");
  EXPECT_EQ(env.ifname, "eth1");
  EXPECT_EQ(env.netns, "");
}

}  // namespace
}  // namespace berth::cni::bridge
