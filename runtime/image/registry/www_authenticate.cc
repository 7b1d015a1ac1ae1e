#include "runtime/image/registry/www_authenticate.h"

#include <cctype>
#include <cstring>

namespace berth::image::registry {
namespace {

bool IsTchar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         (c != '\0' && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr);
}

bool IsToken68Char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         (c != '\0' && std::strchr("-._~+/", c) != nullptr);
}

std::string Lower(std::string_view s) {
  std::string out;
  for (char c : s)
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  Status Run(std::vector<Challenge>& out) {
    while (true) {
      SkipSpacesAndCommas();
      if (AtEnd()) return Ok();
      Challenge c;
      c.scheme = Lower(Token());
      if (c.scheme.empty()) return Fail("expected an authentication scheme");
      SkipSpaces();
      if (!TryToken68(c)) BERTH_TRY(Params(c));
      out.push_back(std::move(c));
    }
  }

 private:
  bool AtEnd() const { return pos_ >= s_.size(); }
  char Peek() const { return AtEnd() ? '\0' : s_[pos_]; }
  void SkipSpaces() {
    while (Peek() == ' ' || Peek() == '\t')
      ++pos_;
  }
  void SkipSpacesAndCommas() {
    while (Peek() == ' ' || Peek() == '\t' || Peek() == ',')
      ++pos_;
  }
  std::string Token() {
    size_t start = pos_;
    while (IsTchar(Peek()))
      ++pos_;
    return std::string(s_.substr(start, pos_ - start));
  }
  Error Fail(std::string_view why) const {
    return Error(Errc::kInvalidArgument, "WWW-Authenticate \"" + std::string(s_) +
                                             "\": " + std::string(why) + " at offset " +
                                             std::to_string(pos_));
  }

  // token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
  // followed by the end or a comma: otherwise these are parameters.
  bool TryToken68(Challenge& c) {
    size_t start = pos_;
    size_t p = pos_;
    while (p < s_.size() && IsToken68Char(s_[p]))
      ++p;
    if (p == start) return false;
    size_t end = p;
    while (end < s_.size() && s_[end] == '=')
      ++end;
    size_t after = end;
    while (after < s_.size() && (s_[after] == ' ' || s_[after] == '\t'))
      ++after;
    // "realm=x" continues after the '='; "abc==" and "abc" end there.
    if (after != s_.size() && s_[after] != ',') return false;
    c.token68 = std::string(s_.substr(start, end - start));
    pos_ = after;
    return true;
  }

  Result<std::string> Quoted() {
    ++pos_;  // '"'
    std::string out;
    while (!AtEnd()) {
      char ch = s_[pos_++];
      if (ch == '"') return out;
      if (ch == '\\') {
        if (AtEnd()) break;
        ch = s_[pos_++];
      }
      out += ch;
    }
    return Fail("unterminated quoted string");
  }

  Status Params(Challenge& c) {
    while (true) {
      SkipSpaces();
      size_t param_start = pos_;
      std::string name = Lower(Token());
      if (name.empty()) return Ok();
      SkipSpaces();
      if (Peek() != '=') {
        // The next challenge's scheme.
        pos_ = param_start;
        return Ok();
      }
      ++pos_;
      SkipSpaces();
      std::string value;
      if (Peek() == '"') {
        value = BERTH_TRY(Quoted());
      } else {
        value = Token();
      }
      c.params.emplace_back(std::move(name), std::move(value));
      SkipSpaces();
      if (AtEnd()) return Ok();
      if (Peek() != ',') return Fail("expected ',' between parameters");
      ++pos_;
      SkipSpacesAndCommas();
    }
  }

  std::string_view s_;
  size_t pos_ = 0;
};

}  // namespace

std::string Challenge::Param(std::string_view name) const {
  for (const auto& [k, v] : params) {
    if (k == name) return v;
  }
  return "";
}

Result<std::vector<Challenge>> ParseWwwAuthenticate(const std::vector<std::string>& headers) {
  std::vector<Challenge> out;
  for (const std::string& h : headers)
    BERTH_TRY(Parser(h).Run(out));
  return out;
}

}  // namespace berth::image::registry
