#include "runtime/image/registry/toml.h"

#include <gtest/gtest.h>

namespace berth::image::registry {
namespace {

TEST(TomlTest, ParsesHostsTomlShapes) {
  auto t = toml::Parse(R"(# mirrors for docker.io
server = "https://registry-1.docker.io"   # upstream

[host."http://127.0.0.1:5000"]
  capabilities = ["pull", "resolve"]
  skip_verify = true
  ca = 'C:\certs\ca.pem'
  client = [["a.cert", "a.key"], ["b.pem", ""]]
  [host."http://127.0.0.1:5000".header]
    x-custom = ["a", "b",]

[host."https://mirror.example.com/us"]
  capabilities = [
    "pull",  # comment inside an array
  ]
  dial_timeout = "1s"
  port = 5_000
  inline = { a = "b", c = true }
)",
                       "hosts.toml");
  ASSERT_TRUE(t.ok()) << t.error().str();
  EXPECT_EQ(t->keys, (std::vector<std::string>{"server", "host"}));
  EXPECT_EQ(t->Find("server")->string, "https://registry-1.docker.io");
  const toml::Value* hosts = t->Find("host");
  ASSERT_NE(hosts, nullptr);
  EXPECT_EQ(hosts->table.keys,
            (std::vector<std::string>{"http://127.0.0.1:5000", "https://mirror.example.com/us"}));
  const toml::Table& first = hosts->table.values[0].table;
  EXPECT_EQ(first.Find("capabilities")->array.size(), 2u);
  EXPECT_TRUE(first.Find("skip_verify")->boolean);
  EXPECT_EQ(first.Find("ca")->string, "C:\\certs\\ca.pem");
  EXPECT_EQ(first.Find("client")->array[0].array[1].string, "a.key");
  EXPECT_EQ(first.Find("header")->table.Find("x-custom")->array[1].string, "b");
  EXPECT_EQ(first.Find("skip_verify")->line, 6);
  const toml::Table& second = hosts->table.values[1].table;
  EXPECT_EQ(second.Find("port")->integer, 5000);
  EXPECT_TRUE(second.Find("inline")->table.Find("c")->boolean);
}

TEST(TomlTest, StringEscapes) {
  auto t = toml::Parse("a = \"tab\\there \\\"q\\\" \\u00e9\"\nb = 'raw\\n'\n", "f");
  ASSERT_TRUE(t.ok()) << t.error().str();
  EXPECT_EQ(t->Find("a")->string, "tab\there \"q\" \xc3\xa9");
  EXPECT_EQ(t->Find("b")->string, "raw\\n");
}

TEST(TomlTest, DottedKeys) {
  auto t = toml::Parse("host.\"http://x\".capabilities = [\"pull\"]\n", "f");
  ASSERT_TRUE(t.ok()) << t.error().str();
  EXPECT_EQ(t->Find("host")->table.Find("http://x")->table.Find("capabilities")->array[0].string,
            "pull");
}

void ExpectError(std::string_view text, std::string_view want) {
  auto t = toml::Parse(text, "/etc/berth/certs.d/docker.io/hosts.toml");
  ASSERT_FALSE(t.ok()) << text;
  EXPECT_EQ(t.error().str(), want) << text;
}

TEST(TomlTest, ErrorsNameFileAndLine) {
  const std::string f = "/etc/berth/certs.d/docker.io/hosts.toml:";
  ExpectError("a = 1\nb = \"x\nc = 2", f + "2: unterminated string");
  ExpectError("\n\nserver \"x\"", f + "3: expected '=' after key \"server\"");
  ExpectError("a = 1\na = 2", f + "2: duplicate key \"a\" (first defined at line 1)");
  ExpectError("[h]\n[h]", f + "2: table [h] defined twice");
  ExpectError("[[h]]", f + "1: arrays of tables ([[...]]) are not supported in hosts.toml");
  ExpectError("a = [1,\n2\n", f + "1: unterminated array");
  ExpectError("a = 1.5",
              f + "1: only decimal integers are supported (no floats, dates or prefixes)");
  ExpectError("a = \"\"\"x\"\"\"", f + "1: multi-line strings are not supported in hosts.toml");
  ExpectError("a = \"x\" b", f + "1: unexpected 'b' after value");
  ExpectError("a = 1\n[a]", f + "2: key \"a\" is not a table (integer at line 1)");
  ExpectError("a = nope", f + "1: unsupported value starting with 'n'");
  ExpectError("a = \"\\q\"", f + "1: invalid escape '\\q' in string");
}

}  // namespace
}  // namespace berth::image::registry
