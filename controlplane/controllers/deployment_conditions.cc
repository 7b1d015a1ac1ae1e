#include "controlplane/controllers/deployment_conditions.h"

#include <algorithm>

#include "common/time.h"
#include "controlplane/controllers/api_util.h"

namespace berth::controlplane::controllers {
namespace {

namespace bj = boost::json;

bool IsType(const bj::value& c, std::string_view type) {
  return c.is_object() && StringAt(c.as_object(), {"type"}) == type;
}

}  // namespace

const bj::object* GetCondition(const bj::object& status, std::string_view type) {
  const bj::value* conditions = status.if_contains("conditions");
  if (conditions == nullptr || !conditions->is_array()) return nullptr;
  for (const bj::value& c : conditions->as_array())
    if (IsType(c, type)) return &c.as_object();
  return nullptr;
}

bj::object NewCondition(std::string_view type, std::string_view status, std::string_view reason,
                        const std::string& message, time_t now) {
  std::string at = FormatRfc3339(now);
  return bj::object{{"type", type},         {"status", status},
                    {"lastUpdateTime", at}, {"lastTransitionTime", at},
                    {"reason", reason},     {"message", message}};
}

void SetCondition(bj::object& status, bj::object condition) {
  std::string type = StringAt(condition, {"type"});
  if (const bj::object* current = GetCondition(status, type)) {
    std::string now_status = StringAt(condition, {"status"});
    if (StringAt(*current, {"status"}) == now_status &&
        StringAt(*current, {"reason"}) == StringAt(condition, {"reason"})) {
      return;
    }
    if (StringAt(*current, {"status"}) == now_status) {
      condition["lastTransitionTime"] = StringAt(*current, {"lastTransitionTime"});
    }
  }
  RemoveCondition(status, type);
  bj::value& conditions = status["conditions"];
  if (!conditions.is_array()) conditions = bj::array();
  conditions.as_array().push_back(std::move(condition));
}

void RemoveCondition(bj::object& status, std::string_view type) {
  bj::value* conditions = status.if_contains("conditions");
  if (conditions == nullptr || !conditions->is_array()) return;
  bj::array& list = conditions->as_array();
  list.erase(
      std::remove_if(list.begin(), list.end(), [&](const bj::value& c) { return IsType(c, type); }),
      list.end());
  if (list.empty()) status.erase("conditions");
}

}  // namespace berth::controlplane::controllers
