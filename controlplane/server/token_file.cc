#include "controlplane/server/token_file.h"

#include "common/file.h"
#include "common/log.h"
#include "common/strings.h"

namespace berth::controlplane {
namespace {

// One CSV record (RFC 4180 quoting: "a,b" and "" for a quote).
Result<std::vector<std::string>> SplitCsv(std::string_view line, const std::string& where) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        fields.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        fields.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else {
      fields.back() += c;
    }
  }
  if (quoted) return Error(Errc::kInvalidArgument, where + ": unterminated quote");
  return fields;
}

}  // namespace

Result<TokenFile> TokenFile::Load(const std::string& path) {
  std::string text = BERTH_TRY_CTX(ReadFile(path), "--token-auth-file");
  return Parse(text, path);
}

Result<TokenFile> TokenFile::Parse(const std::string& text, const std::string& path) {
  TokenFile out;
  int number = 0;
  for (const std::string& raw : Split(text, '\n')) {
    ++number;
    std::string_view line = raw;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    std::string where = path + " line " + std::to_string(number);
    std::vector<std::string> f = BERTH_TRY(SplitCsv(line, where));
    if (f.size() < 3) {
      return Error(Errc::kInvalidArgument,
                   where + ": want at least 3 columns (token, user name, user uid), found " +
                       std::to_string(f.size()));
    }
    if (f[0].empty()) return Error(Errc::kInvalidArgument, where + ": the token is empty");
    if (f[1].empty()) return Error(Errc::kInvalidArgument, where + ": the user name is empty");
    TokenUser user{f[1], f[2], {}};
    if (f.size() > 3) {
      for (const std::string& g : SplitNonEmpty(f[3], ','))
        user.groups.push_back(g);
    }
    if (out.tokens_.count(f[0]) != 0) {
      BLOG(kWarn) << where << ": duplicate token; the later line wins";
    }
    out.tokens_[f[0]] = std::move(user);
  }
  return out;
}

std::optional<TokenUser> TokenFile::Lookup(const std::string& token) const {
  auto it = tokens_.find(token);
  if (it == tokens_.end()) return std::nullopt;
  return it->second;
}

}  // namespace berth::controlplane
