#pragma once
// Label selectors (`app=web,tier in (a,b),!legacy`, and the
// metav1.LabelSelector of workload specs) and field selectors
// (`spec.nodeName=n1,status.phase!=Failed`), parsed and matched as
// apimachinery's labels and fields packages do.

#include <boost/json.hpp>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace berth::controlplane::api {

struct LabelRequirement {
  enum class Op { kEquals, kNotEquals, kIn, kNotIn, kExists, kDoesNotExist, kGreater, kLess };
  std::string key;
  Op op = Op::kEquals;
  std::vector<std::string> values;
};

class LabelSelector {
 public:
  // An empty selector matches everything.
  static Result<LabelSelector> Parse(std::string_view text);
  // A metav1.LabelSelector; `path` names it in errors ("spec.selector").
  static Result<LabelSelector> FromJson(const boost::json::value& selector,
                                        const std::string& path);

  bool Matches(const boost::json::object* labels) const;
  bool empty() const { return requirements_.empty(); }
  const std::vector<LabelRequirement>& requirements() const { return requirements_; }

 private:
  std::vector<LabelRequirement> requirements_;
};

struct FieldRequirement {
  std::string field;
  bool equals = true;  // false: !=
  std::string value;
};

class FieldSelector {
 public:
  static Result<FieldSelector> Parse(std::string_view text);
  // `lookup` gives a field's value, nullopt when the kind has no such field
  // label: that is an error ("field label not supported: x").
  Result<bool> Matches(
      const std::function<std::optional<std::string>(std::string_view)>& lookup) const;
  bool empty() const { return requirements_.empty(); }
  const std::vector<FieldRequirement>& requirements() const { return requirements_; }
  // The value required for `field` by an `=` term, if any (metadata.name
  // narrows a list to one key).
  std::optional<std::string> Exact(std::string_view field) const;
  // Adds `field`=`value` (a watch of one object by name).
  void Require(std::string field, std::string value) {
    requirements_.push_back({std::move(field), true, std::move(value)});
  }

 private:
  std::vector<FieldRequirement> requirements_;
};

}  // namespace berth::controlplane::api
