#include "controlplane/server/api/selectors.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "common/strings.h"
#include "controlplane/server/api/validation.h"

namespace berth::controlplane::api {
namespace {

using Op = LabelRequirement::Op;

Error Bad(std::string_view text, const std::string& why) {
  return Error(Errc::kInvalidArgument,
               "unable to parse requirement: " + why + " in `" + std::string(text) + "`");
}

// A small lexer over a label selector string.
class Lexer {
 public:
  explicit Lexer(std::string_view s) : s_(s) {}
  void SkipSpace() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_])))
      ++i_;
  }
  bool Done() {
    SkipSpace();
    return i_ >= s_.size();
  }
  char Peek() {
    SkipSpace();
    return i_ < s_.size() ? s_[i_] : '\0';
  }
  bool Consume(std::string_view token) {
    SkipSpace();
    if (s_.substr(i_, token.size()) != token) return false;
    i_ += token.size();
    return true;
  }
  // An identifier: up to a space, ',', '=', '!', '(', ')', '<', '>'.
  std::string Word() {
    SkipSpace();
    size_t start = i_;
    while (i_ < s_.size() && !std::isspace(static_cast<unsigned char>(s_[i_])) &&
           std::string_view(",=!()<>").find(s_[i_]) == std::string_view::npos)
      ++i_;
    return std::string(s_.substr(start, i_ - start));
  }

 private:
  std::string_view s_;
  size_t i_ = 0;
};

Result<std::vector<std::string>> ValueSet(Lexer& lex, std::string_view text) {
  if (!lex.Consume("(")) return Bad(text, "expected '('");
  std::vector<std::string> values;
  while (true) {
    std::string v = lex.Word();
    values.push_back(v);
    if (lex.Consume(")")) break;
    if (!lex.Consume(",")) return Bad(text, "expected ',' or ')'");
  }
  return values;
}

Status CheckRequirement(const LabelRequirement& r, std::string_view text) {
  if (std::string e = QualifiedNameError(r.key); !e.empty()) {
    return Bad(text, "key `" + r.key + "`: " + e);
  }
  for (const std::string& v : r.values) {
    if (r.op == Op::kGreater || r.op == Op::kLess) {
      char* end = nullptr;
      std::strtoll(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0') return Bad(text, "value `" + v + "` is not an integer");
    } else if (std::string e = LabelValueError(v); !e.empty()) {
      return Bad(text, "value `" + v + "`: " + e);
    }
  }
  return Ok();
}

bool MatchOne(const LabelRequirement& r, const boost::json::object* labels) {
  const boost::json::value* v = labels != nullptr ? labels->if_contains(r.key) : nullptr;
  std::string value = v != nullptr && v->is_string() ? std::string(v->as_string()) : "";
  bool has = v != nullptr;
  auto in = [&] { return std::find(r.values.begin(), r.values.end(), value) != r.values.end(); };
  switch (r.op) {
    case Op::kEquals:
    case Op::kIn:
      return has && in();
    case Op::kNotEquals:
    case Op::kNotIn:
      return !has || !in();
    case Op::kExists:
      return has;
    case Op::kDoesNotExist:
      return !has;
    case Op::kGreater:
    case Op::kLess: {
      if (!has || r.values.size() != 1) return false;
      char* end = nullptr;
      long long n = std::strtoll(value.c_str(), &end, 10);
      if (value.empty() || *end != '\0') return false;
      long long bound = std::strtoll(r.values[0].c_str(), nullptr, 10);
      return r.op == Op::kGreater ? n > bound : n < bound;
    }
  }
  return false;
}

}  // namespace

Result<LabelSelector> LabelSelector::Parse(std::string_view text) {
  LabelSelector out;
  Lexer lex(text);
  if (lex.Done()) return out;
  while (true) {
    LabelRequirement r;
    if (lex.Consume("!")) {
      r.key = lex.Word();
      r.op = Op::kDoesNotExist;
    } else {
      r.key = lex.Word();
      if (r.key.empty()) return Bad(text, "expected a key");
      if (lex.Done() || lex.Peek() == ',') {
        r.op = Op::kExists;
      } else if (lex.Consume("==") || lex.Consume("=")) {
        r.op = Op::kEquals;
        r.values.push_back(lex.Word());
      } else if (lex.Consume("!=")) {
        r.op = Op::kNotEquals;
        r.values.push_back(lex.Word());
      } else if (lex.Consume(">")) {
        r.op = Op::kGreater;
        r.values.push_back(lex.Word());
      } else if (lex.Consume("<")) {
        r.op = Op::kLess;
        r.values.push_back(lex.Word());
      } else {
        std::string word = lex.Word();
        if (word == "in") {
          r.op = Op::kIn;
        } else if (word == "notin") {
          r.op = Op::kNotIn;
        } else {
          return Bad(text, "found '" + word + "', expected: in, notin, =, ==, !=, gt, lt");
        }
        r.values = BERTH_TRY(ValueSet(lex, text));
      }
    }
    BERTH_TRY(CheckRequirement(r, text));
    out.requirements_.push_back(std::move(r));
    if (lex.Done()) break;
    if (!lex.Consume(",")) return Bad(text, "expected ','");
  }
  return out;
}

Result<LabelSelector> LabelSelector::FromJson(const boost::json::value& selector,
                                              const std::string& path) {
  LabelSelector out;
  if (selector.is_null()) return out;
  if (!selector.is_object()) return Error(Errc::kInvalidArgument, path + ": must be an object");
  const boost::json::object& o = selector.as_object();
  if (const boost::json::value* ml = o.if_contains("matchLabels"); ml && ml->is_object()) {
    for (const auto& [key, value] : ml->as_object()) {
      if (!value.is_string()) {
        return Error(Errc::kInvalidArgument,
                     path + ".matchLabels." + std::string(key) + ": must be a string");
      }
      out.requirements_.push_back(
          {std::string(key), Op::kEquals, {std::string(value.as_string())}});
    }
  }
  if (const boost::json::value* me = o.if_contains("matchExpressions"); me && me->is_array()) {
    size_t i = 0;
    for (const boost::json::value& e : me->as_array()) {
      std::string at = path + ".matchExpressions[" + std::to_string(i++) + "]";
      if (!e.is_object()) return Error(Errc::kInvalidArgument, at + ": must be an object");
      const boost::json::object& eo = e.as_object();
      LabelRequirement r;
      const boost::json::value* key = eo.if_contains("key");
      const boost::json::value* op = eo.if_contains("operator");
      if (key == nullptr || !key->is_string()) {
        return Error(Errc::kInvalidArgument, at + ".key: Required value");
      }
      r.key = std::string(key->as_string());
      std::string ops = op != nullptr && op->is_string() ? std::string(op->as_string()) : "";
      if (ops == "In")
        r.op = Op::kIn;
      else if (ops == "NotIn")
        r.op = Op::kNotIn;
      else if (ops == "Exists")
        r.op = Op::kExists;
      else if (ops == "DoesNotExist")
        r.op = Op::kDoesNotExist;
      else {
        return Error(Errc::kInvalidArgument,
                     at + ".operator: Unsupported value: \"" + ops +
                         "\": supported values: \"In\", \"NotIn\", \"Exists\", \"DoesNotExist\"");
      }
      if (const boost::json::value* values = eo.if_contains("values");
          values && values->is_array()) {
        for (const boost::json::value& v : values->as_array())
          if (v.is_string()) r.values.emplace_back(v.as_string());
      }
      bool needs_values = r.op == Op::kIn || r.op == Op::kNotIn;
      if (needs_values && r.values.empty()) {
        return Error(Errc::kInvalidArgument,
                     at + ".values: Required value: must be specified when `operator` is 'In' "
                          "or 'NotIn'");
      }
      if (!needs_values && !r.values.empty()) {
        return Error(Errc::kInvalidArgument,
                     at + ".values: Forbidden: may not be specified when `operator` is 'Exists' "
                          "or 'DoesNotExist'");
      }
      out.requirements_.push_back(std::move(r));
    }
  }
  return out;
}

bool LabelSelector::Matches(const boost::json::object* labels) const {
  for (const LabelRequirement& r : requirements_)
    if (!MatchOne(r, labels)) return false;
  return true;
}

Result<FieldSelector> FieldSelector::Parse(std::string_view text) {
  FieldSelector out;
  // Terms split on unescaped ','; `\,` `\=` `\\` escape.
  std::vector<std::string> terms(1);
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size()) {
      terms.back() += text[i];
      terms.back() += text[++i];
    } else if (text[i] == ',') {
      terms.emplace_back();
    } else {
      terms.back() += text[i];
    }
  }
  auto unescape = [](std::string_view s) {
    std::string u;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '\\' && i + 1 < s.size()) ++i;
      u += s[i];
    }
    return u;
  };
  for (const std::string& term : terms) {
    if (term.empty()) continue;
    FieldRequirement r;
    size_t pos = std::string::npos;
    size_t op_len = 0;
    for (size_t i = 0; i < term.size(); ++i) {
      if (term[i] == '\\') {
        ++i;
        continue;
      }
      if (term.compare(i, 2, "!=") == 0) {
        pos = i, op_len = 2, r.equals = false;
      } else if (term.compare(i, 2, "==") == 0) {
        pos = i, op_len = 2;
      } else if (term[i] == '=') {
        pos = i, op_len = 1;
      }
      if (pos != std::string::npos) break;
    }
    if (pos == std::string::npos) {
      return Error(Errc::kInvalidArgument, "invalid selector: '" + std::string(text) +
                                               "'; can't understand '" + term + "'");
    }
    r.field = std::string(Trim(term.substr(0, pos)));
    r.value = unescape(term.substr(pos + op_len));
    out.requirements_.push_back(std::move(r));
  }
  return out;
}

Result<bool> FieldSelector::Matches(
    const std::function<std::optional<std::string>(std::string_view)>& lookup) const {
  for (const FieldRequirement& r : requirements_) {
    std::optional<std::string> v = lookup(r.field);
    if (!v) {
      return Error(Errc::kInvalidArgument, "field label not supported: " + r.field);
    }
    if ((*v == r.value) != r.equals) return false;
  }
  return true;
}

std::optional<std::string> FieldSelector::Exact(std::string_view field) const {
  for (const FieldRequirement& r : requirements_)
    if (r.field == field && r.equals) return r.value;
  return std::nullopt;
}

}  // namespace berth::controlplane::api
