#pragma once
// Fake CNI plugins for unit tests: shell scripts written into a TempDir.
// Every invocation appends "<type> <CNI_COMMAND>" to log/calls and saves its
// environment and stdin to log/<type>.<COMMAND>.{env,stdin} (the last call
// of that command wins); what it prints and how it exits is per command.

#include <boost/json.hpp>
#include <map>
#include <string>
#include <vector>

#include "common/testing/testkit.h"

namespace berth::cni::testing {

// Shell snippets for one command.
std::string Print(const std::string& json);  // prints json, exits 0
std::string Fail(int code, const std::string& msg, const std::string& details = "");

class FakePlugins {
 public:
  FakePlugins();

  // Writes plugin `type`; commands not in `behaviour` exit 0 silently
  // (VERSION prints a 1.x version answer).
  void Write(const std::string& type, const std::map<std::string, std::string>& behaviour) const;
  // Writes a conf file into conf/.
  void WriteConf(const std::string& name, const std::string& text) const;

  std::string bin_dir() const { return dir_ / "bin"; }
  std::string conf_dir() const { return dir_ / "conf"; }
  std::string cache_dir() const { return dir_ / "cache"; }
  std::string log_dir() const { return dir_ / "log"; }
  std::string path(const std::string& name) const { return dir_ / name; }

  // "<type> <COMMAND>" lines in call order.
  std::vector<std::string> Calls() const;
  void ClearCalls() const;
  std::map<std::string, std::string> Env(const std::string& type, const std::string& command) const;
  boost::json::object Stdin(const std::string& type, const std::string& command) const;
  bool Called(const std::string& type, const std::string& command) const;

 private:
  berth::testing::TempDir dir_;
};

}  // namespace berth::cni::testing
