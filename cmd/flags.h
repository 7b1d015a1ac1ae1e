#pragma once
// Command-line flags with the rules of Go's flag package, which runc's CLI
// (urfave/cli) uses and go-runc relies on: "-name" and "--name" are the
// same, values come as "--name=value" or "--name value", booleans as
// "--name" or "--name=false", and parsing stops at the first positional
// argument or at "--".

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "common/error.h"

namespace berth::cli {

class FlagSet {
 public:
  explicit FlagSet(std::string command) : command_(std::move(command)) {}

  // `names` is "root" or "detach,d" (aliases comma separated).
  void String(const std::string& names, std::string* out, const std::string& help);
  void Bool(const std::string& names, bool* out, const std::string& help);
  void Int(const std::string& names, int* out, const std::string& help);
  // Go's duration syntax, whole seconds: "5m0s", "1h", "90s", "0".
  void Duration(const std::string& names, std::chrono::seconds* out, const std::string& help);
  void StringList(const std::string& names, std::vector<std::string>* out, const std::string& help);

  // Returns the positional arguments (everything from the first one on).
  Result<std::vector<std::string>> Parse(const std::vector<std::string>& args);
  std::string Usage() const;

 private:
  struct Flag {
    std::vector<std::string> names;
    bool is_bool = false;
    std::function<Status(const std::string&)> set;
    std::string help;
  };
  void Add(const std::string& names, bool is_bool, std::function<Status(const std::string&)> set,
           const std::string& help);
  const Flag* Find(const std::string& name) const;

  std::string command_;
  std::vector<Flag> flags_;
};

}  // namespace berth::cli
