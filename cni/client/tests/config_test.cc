#include "cni/client/config.h"

#include <gtest/gtest.h>

#include "cni/client/tests/fake_plugin.h"
#include "common/file.h"

namespace berth::cni {
namespace {

using testing::FakePlugins;

constexpr const char* kList = R"({
  "cniVersion": "1.0.0", "name": "pods", "disableCheck": "true",
  "plugins": [
    {"type": "bridge", "bridge": "cni0", "ipam": {"type": "host-local"}, "custom": {"x": [1, 2]}},
    {"type": "portmap", "capabilities": {"portMappings": true, "dns": false}}
  ]})";

TEST(Config, ParsesListKeepingRawPlugins) {
  auto list = ParseConfList(kList, "10-pods.conflist");
  ASSERT_TRUE(list.ok()) << list.error().str();
  EXPECT_EQ(list->name, "pods");
  EXPECT_EQ(list->cni_version, "1.0.0");
  EXPECT_TRUE(list->disable_check);
  ASSERT_EQ(list->plugins.size(), 2u);
  EXPECT_EQ(list->plugins[0].type, "bridge");
  EXPECT_EQ(boost::json::serialize(list->plugins[0].raw.at("custom")), R"({"x":[1,2]})");
  EXPECT_EQ(list->plugins[1].capabilities, std::vector<std::string>{"portMappings"});
  EXPECT_TRUE(list->plugins[1].HasCapability("portMappings"));
  EXPECT_FALSE(list->plugins[1].HasCapability("dns"));
  // ToJson round-trips through the parser.
  auto again = ParseConfList(list->ToJson(), "cache");
  ASSERT_TRUE(again.ok()) << again.error().str();
  EXPECT_EQ(again->plugins[0].raw, list->plugins[0].raw);
}

TEST(Config, SingleConfIsWrapped) {
  auto list = ParseConf(
      R"({"cniVersion":"0.4.0","name":"single","type":"bridge","isGateway":true})", "a.conf");
  ASSERT_TRUE(list.ok()) << list.error().str();
  EXPECT_EQ(list->name, "single");
  ASSERT_EQ(list->plugins.size(), 1u);
  EXPECT_EQ(list->plugins[0].type, "bridge");
  EXPECT_TRUE(list->plugins[0].raw.at("isGateway").as_bool());
  EXPECT_EQ(list->raw.at("plugins").as_array().size(), 1u);
  EXPECT_EQ(list->raw.at("name").as_string(), "single");
}

struct BadCase {
  const char* text;
  bool conflist;
  const char* want;  // substring of the error
};

TEST(Config, ErrorsNameFileAndField) {
  const BadCase cases[] = {
      {R"({"cniVersion":"1.0.0","plugins":[{"type":"x"}]})", true, "name: required field missing"},
      {R"({"cniVersion":"1.0.0","name":"bad name","plugins":[{"type":"x"}]})", true, "name: "},
      {R"({"name":"n","plugins":[{"type":"x"}]})", true, "cniVersion: required field missing"},
      {R"({"cniVersion":"9.9.9","name":"n","plugins":[{"type":"x"}]})", true,
       "cniVersion: unsupported version \"9.9.9\""},
      {R"({"cniVersion":"1.0.0","name":"n","plugins":[{"type":"x"},{"foo":1}]})", true,
       "plugins[1].type: required field missing"},
      {R"({"cniVersion":"1.0.0","name":"n","plugins":[{"type":"../x"}]})", true,
       "plugins[0].type: \"../x\" is not a plugin name"},
      {R"({"cniVersion":"1.0.0","name":"n","plugins":[]})", true, "plugins: no plugins in list"},
      {R"({"cniVersion":"1.0.0","name":"n"})", true, "plugins: required field missing"},
      {R"({"cniVersion":"1.0.0","name":"n","plugins":[{"type":"x","capabilities":{"a":1}}]})", true,
       "plugins[0].capabilities.a: expected boolean"},
      {R"({"cniVersion":"1.0.0","name":"n","disableCheck":"maybe","plugins":[{"type":"x"}]})", true,
       "disableCheck: invalid value"},
      {R"({"cniVersion":"1.0.0","name":"n"})", false, "type: required field missing"},
      {R"({"cniVersion":"1.0.0","name":"n","plugins":[{"type":"x"}]})", false,
       "belongs in a .conflist"},
      {R"({"cniVersion":"1.0.0",)", true, "invalid JSON"},
  };
  for (const BadCase& c : cases) {
    auto list = c.conflist ? ParseConfList(c.text, "/etc/cni/net.d/x")
                           : ParseConf(c.text, "/etc/cni/net.d/x");
    ASSERT_FALSE(list.ok()) << c.text;
    EXPECT_EQ(list.error().code(), Errc::kInvalidArgument) << c.text;
    EXPECT_NE(list.error().str().find("cni config `/etc/cni/net.d/x`"), std::string::npos)
        << list.error().str();
    EXPECT_NE(list.error().str().find(c.want), std::string::npos)
        << "want \"" << c.want << "\" in: " << list.error().str();
  }
}

TEST(Config, CniVersionsPicksNewestSupported) {
  auto list = ParseConfList(
      R"({"cniVersion":"0.4.0","cniVersions":["1.0.0","1.1.0","2.5.0"],"name":"n",
          "plugins":[{"type":"x"}]})",
      "x");
  ASSERT_TRUE(list.ok()) << list.error().str();
  EXPECT_EQ(list->cni_version, "1.1.0");
  auto none =
      ParseConfList(R"({"cniVersions":["2.0.0"],"name":"n","plugins":[{"type":"x"}]})", "x");
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().str().find("cniVersions: no supported version"), std::string::npos);
}

TEST(ConfDir, FirstFileInLexicalOrder) {
  FakePlugins f;
  f.WriteConf("20-b.conflist", R"({"cniVersion":"1.0.0","name":"b","plugins":[{"type":"x"}]})");
  f.WriteConf("10-a.conf", R"({"cniVersion":"1.0.0","name":"a","type":"bridge"})");
  f.WriteConf("05-notes.txt", "not a config");
  f.WriteConf("30-c.json", R"({"cniVersion":"1.0.0","name":"c","type":"x"})");
  ASSERT_TRUE(MkdirAll(f.conf_dir() + "/00-dir.conf").ok());
  auto files = ConfFiles(f.conf_dir());
  ASSERT_TRUE(files.ok());
  ASSERT_EQ(files->size(), 3u);
  EXPECT_EQ((*files)[0], f.conf_dir() + "/10-a.conf");
  EXPECT_EQ((*files)[2], f.conf_dir() + "/30-c.json");
  auto list = LoadFirstNetwork(f.conf_dir());
  ASSERT_TRUE(list.ok()) << list.error().str();
  EXPECT_EQ(list->name, "a");
  EXPECT_EQ(list->source, f.conf_dir() + "/10-a.conf");
  ASSERT_EQ(list->plugins.size(), 1u);
  EXPECT_EQ(list->plugins[0].type, "bridge");
}

TEST(ConfDir, InvalidFirstFileIsAnErrorUnlessSkipping) {
  FakePlugins f;
  f.WriteConf("10-bad.conflist",
              R"({"cniVersion":"1.0.0","name":"bad","plugins":[{"type":"x"},{}]})");
  f.WriteConf("20-good.conflist",
              R"({"cniVersion":"1.0.0","name":"good","plugins":[{"type":"x"}]})");
  auto strict = LoadFirstNetwork(f.conf_dir());
  ASSERT_FALSE(strict.ok());
  EXPECT_NE(strict.error().str().find("10-bad.conflist`: plugins[1].type"), std::string::npos)
      << strict.error().str();
  auto lenient = LoadFirstNetwork(f.conf_dir(), {.skip_invalid = true});
  ASSERT_TRUE(lenient.ok()) << lenient.error().str();
  EXPECT_EQ(lenient->name, "good");
}

TEST(ConfDir, EmptyOrMissingDirIsNotFound) {
  FakePlugins f;
  auto empty = LoadFirstNetwork(f.conf_dir());
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code(), Errc::kNotFound);
  EXPECT_NE(empty.error().str().find(f.conf_dir()), std::string::npos);
  auto missing = LoadFirstNetwork(f.path("nope"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code(), Errc::kNotFound);
}

}  // namespace
}  // namespace berth::cni
