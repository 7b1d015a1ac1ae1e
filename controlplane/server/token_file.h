#pragma once
// kube-apiserver's --token-auth-file: static bearer tokens, one per CSV
// line: token,user,uid[,"group1,group2"]. Loaded once at start; a bad line
// is an error naming the file and line.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"

namespace berth::controlplane {

struct TokenUser {
  std::string name;
  std::string uid;
  std::vector<std::string> groups;
};

class TokenFile {
 public:
  static Result<TokenFile> Load(const std::string& path);
  static Result<TokenFile> Parse(const std::string& text, const std::string& path);
  std::optional<TokenUser> Lookup(const std::string& token) const;
  size_t size() const { return tokens_.size(); }

 private:
  std::map<std::string, TokenUser> tokens_;
};

}  // namespace berth::controlplane
