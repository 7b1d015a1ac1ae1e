#include "controlplane/controllers/taints.h"

#include <algorithm>

#include "controlplane/controllers/api_util.h"

namespace berth::controlplane::controllers {
namespace {

namespace bj = boost::json;

std::string Str(const bj::object& o, std::string_view key) {
  return StringAt(o, {key});
}

// tolerationSeconds; nullopt when unset (forever).
std::optional<int64_t> TolerationSeconds(const bj::object& toleration) {
  const bj::value* v = toleration.if_contains("tolerationSeconds");
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64()) return static_cast<int64_t>(v->as_uint64());
  if (v->is_double()) return static_cast<int64_t>(v->as_double());
  return std::nullopt;
}

}  // namespace

bj::object MakeTaint(std::string_view key, std::string_view effect, std::optional<WallTime> added) {
  bj::object t{{"key", key}, {"effect", effect}};
  if (added) t["timeAdded"] = ApiTime(*added);
  return t;
}

bool MatchTaint(const bj::object& a, const bj::object& b) {
  return Str(a, "key") == Str(b, "key") && Str(a, "effect") == Str(b, "effect");
}

std::vector<bj::object> TaintsOf(const bj::object& node) {
  std::vector<bj::object> out;
  const bj::value* spec = node.if_contains("spec");
  const bj::value* taints =
      spec != nullptr && spec->is_object() ? spec->as_object().if_contains("taints") : nullptr;
  if (taints == nullptr || !taints->is_array()) return out;
  for (const bj::value& t : taints->as_array())
    if (t.is_object()) out.push_back(t.as_object());
  return out;
}

std::vector<bj::object> NoExecuteTaints(const bj::object& node) {
  std::vector<bj::object> out = TaintsOf(node);
  std::erase_if(out, [](const bj::object& t) { return Str(t, "effect") != kNoExecute; });
  return out;
}

bool HasTaint(const bj::object& node, const bj::object& taint) {
  std::vector<bj::object> taints = TaintsOf(node);
  return std::any_of(taints.begin(), taints.end(),
                     [&](const bj::object& t) { return MatchTaint(t, taint); });
}

bool HasTaintKey(const bj::object& node, std::string_view key) {
  std::vector<bj::object> taints = TaintsOf(node);
  return std::any_of(taints.begin(), taints.end(),
                     [&](const bj::object& t) { return Str(t, "key") == key; });
}

bool ToleratesTaint(const bj::object& toleration, const bj::object& taint) {
  std::string effect = Str(toleration, "effect");
  if (!effect.empty() && effect != Str(taint, "effect")) return false;
  std::string key = Str(toleration, "key");
  if (!key.empty() && key != Str(taint, "key")) return false;
  std::string op = Str(toleration, "operator");
  if (op == "Exists") return true;
  if (op.empty() || op == "Equal") return Str(toleration, "value") == Str(taint, "value");
  return false;
}

std::optional<WallTime> EvictionTime(const std::vector<TaintSince>& taints,
                                     const bj::array& tolerations, WallTime now) {
  std::optional<WallTime> earliest;
  for (const TaintSince& t : taints) {
    const bj::object* used = nullptr;
    for (const bj::value& tol : tolerations) {
      if (tol.is_object() && ToleratesTaint(tol.as_object(), t.taint)) {
        used = &tol.as_object();
        break;
      }
    }
    if (used == nullptr) return now;
    std::optional<int64_t> seconds = TolerationSeconds(*used);
    if (!seconds) continue;
    WallTime at = t.since + std::chrono::seconds(std::max<int64_t>(*seconds, 0));
    if (!earliest || at < *earliest) earliest = at;
  }
  return earliest;
}

const bj::object* FindCondition(const bj::object& obj, std::string_view type) {
  const bj::value* conditions = ValueAt(obj, {"status", "conditions"});
  if (conditions == nullptr || !conditions->is_array()) return nullptr;
  for (const bj::value& c : conditions->as_array()) {
    if (c.is_object() && Str(c.as_object(), "type") == type) return &c.as_object();
  }
  return nullptr;
}

bj::object* FindCondition(bj::object& obj, std::string_view type) {
  bj::value* status = obj.if_contains("status");
  if (status == nullptr || !status->is_object()) return nullptr;
  bj::value* conditions = status->as_object().if_contains("conditions");
  if (conditions == nullptr || !conditions->is_array()) return nullptr;
  for (bj::value& c : conditions->as_array()) {
    if (c.is_object() && Str(c.as_object(), "type") == type) return &c.as_object();
  }
  return nullptr;
}

std::string ConditionStatus(const bj::object& obj, std::string_view type) {
  const bj::object* c = FindCondition(obj, type);
  return c != nullptr ? Str(*c, "status") : "";
}

}  // namespace berth::controlplane::controllers
