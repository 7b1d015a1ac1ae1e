#include "cni/client/tests/fake_plugin.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "common/file.h"
#include "common/strings.h"

namespace berth::cni::testing {

std::string Print(const std::string& json) {
  return "cat <<'CNI_EOF'\n" + json + "\nCNI_EOF\nexit 0\n";
}

std::string Fail(int code, const std::string& msg, const std::string& details) {
  boost::json::object err{{"cniVersion", "1.0.0"}, {"code", code}, {"msg", msg}};
  if (!details.empty()) err["details"] = details;
  return "cat <<'CNI_EOF'\n" + boost::json::serialize(err) + "\nCNI_EOF\nexit 1\n";
}

FakePlugins::FakePlugins() : dir_("berth-cni-test") {
  for (const char* sub : {"bin", "conf", "log"})
    EXPECT_TRUE(MkdirAll(dir_ / sub).ok());
}

void FakePlugins::Write(const std::string& type,
                        const std::map<std::string, std::string>& behaviour) const {
  std::string log = log_dir();
  std::string script = "#!/bin/sh\n";
  script += "log='" + log + "'\n";
  script += "echo \"" + type + " $CNI_COMMAND\" >> \"$log/calls\"\n";
  script += "env > \"$log/" + type + ".$CNI_COMMAND.env\"\n";
  script += "cat > \"$log/" + type + ".$CNI_COMMAND.stdin\"\n";
  script += "case \"$CNI_COMMAND\" in\n";
  std::map<std::string, std::string> all = behaviour;
  all.emplace("VERSION",
              Print(R"({"cniVersion":"1.0.0","supportedVersions":["0.3.1","0.4.0","1.0.0"]})"));
  for (const auto& [command, snippet] : all)
    script += command + ")\n" + snippet + "\n;;\n";
  script += "esac\nexit 0\n";
  // Written under a temporary name and renamed, so no writable fd to the
  // final path exists when it runs (ETXTBSY).
  std::string path = PathJoin(bin_dir(), type);
  ASSERT_TRUE(WriteFileAtomic(path, script, 0755, Durability::kProcessCrash).ok());
}

void FakePlugins::WriteConf(const std::string& name, const std::string& text) const {
  ASSERT_TRUE(WriteFile(PathJoin(conf_dir(), name), text).ok());
}

std::vector<std::string> FakePlugins::Calls() const {
  auto text = ReadFile(PathJoin(log_dir(), "calls"));
  if (!text.ok()) return {};
  return SplitNonEmpty(*text, '\n');
}

void FakePlugins::ClearCalls() const {
  (void)RemoveAll(PathJoin(log_dir(), "calls"));
}

bool FakePlugins::Called(const std::string& type, const std::string& command) const {
  return PathExists(PathJoin(log_dir(), type + "." + command + ".stdin"));
}

std::map<std::string, std::string> FakePlugins::Env(const std::string& type,
                                                    const std::string& command) const {
  std::map<std::string, std::string> env;
  auto text = ReadFile(PathJoin(log_dir(), type + "." + command + ".env"));
  EXPECT_TRUE(text.ok()) << type << " " << command << " was not run";
  if (!text.ok()) return env;
  for (const std::string& line : Split(*text, '\n')) {
    size_t eq = line.find('=');
    if (eq != std::string::npos) env[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return env;
}

boost::json::object FakePlugins::Stdin(const std::string& type, const std::string& command) const {
  auto text = ReadFile(PathJoin(log_dir(), type + "." + command + ".stdin"));
  EXPECT_TRUE(text.ok()) << type << " " << command << " was not run";
  if (!text.ok()) return {};
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(*text, ec);
  EXPECT_FALSE(ec) << "stdin of " << type << " " << command << ": " << *text;
  return v.is_object() ? v.get_object() : boost::json::object();
}

}  // namespace berth::cni::testing
