#include "agent/container/expansion.h"

#include <map>
#include <set>

#include "common/strings.h"

namespace berth::agent {
namespace {

constexpr char kOperator = '$';
constexpr char kOpener = '(';
constexpr char kCloser = ')';

// What follows a `$` at the start of `rest`: the text to emit (or the
// variable name when *is_var) and how many bytes of `rest` it consumed.
std::string_view ReadReference(std::string_view rest, bool* is_var, size_t* consumed) {
  *is_var = false;
  *consumed = 1;
  if (rest[0] == kOperator) return rest.substr(0, 1);  // "$$" -> "$"
  if (rest[0] == kOpener) {
    size_t close = rest.find(kCloser, 1);
    if (close == std::string_view::npos) return "$(";  // unclosed: kept as is
    *is_var = true;
    *consumed = close + 1;
    return rest.substr(1, close - 1);
  }
  return {};  // a lone `$`: the caller keeps it and the next byte
}

std::map<std::string, std::string, std::less<>> EnvMap(const std::vector<EnvVar>& env) {
  std::map<std::string, std::string, std::less<>> out;
  for (const EnvVar& e : env)
    out[e.name] = e.value;
  return out;
}

}  // namespace

std::string ExpandVars(std::string_view input,
                       const std::function<std::optional<std::string>(std::string_view)>& lookup) {
  std::string out;
  out.reserve(input.size());
  size_t checkpoint = 0;
  for (size_t cursor = 0; cursor < input.size(); ++cursor) {
    if (input[cursor] != kOperator || cursor + 1 >= input.size()) continue;
    out.append(input.substr(checkpoint, cursor - checkpoint));
    bool is_var = false;
    size_t consumed = 1;
    std::string_view read = ReadReference(input.substr(cursor + 1), &is_var, &consumed);
    if (is_var) {
      std::optional<std::string> value = lookup(read);
      if (value) {
        out += *value;
      } else {
        out.append("$(").append(read).append(")");
      }
    } else if (read.empty()) {
      out += kOperator;
      out += input[cursor + 1];
    } else {
      out.append(read);
    }
    cursor += consumed;
    checkpoint = cursor + 1;
  }
  if (checkpoint < input.size()) out.append(input.substr(checkpoint));
  return out;
}

std::vector<std::string> ExpandAll(const boost::json::array& items,
                                   const std::vector<EnvVar>& env) {
  auto vars = EnvMap(env);
  auto lookup = [&vars](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
  std::vector<std::string> out;
  out.reserve(items.size());
  for (const boost::json::value& item : items) {
    if (item.is_string()) out.push_back(ExpandVars(item.get_string(), lookup));
  }
  return out;
}

Result<std::string> ExpandSubPathExpr(std::string_view expr, const std::vector<EnvVar>& env) {
  auto vars = EnvMap(env);
  std::set<std::string> missing;
  std::string expanded = ExpandVars(expr, [&](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end() || it->second.empty()) {
      missing.emplace(name);
      return std::string();
    }
    return it->second;
  });
  if (!missing.empty()) {
    return Error(Errc::kInvalidArgument,
                 "missing value for " +
                     Join(std::vector<std::string>(missing.begin(), missing.end()), ", "));
  }
  return expanded;
}

}  // namespace berth::agent
