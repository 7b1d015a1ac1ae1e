#include "controlplane/server/admission/default_toleration_seconds.h"

#include <string>
#include <string_view>

namespace berth::controlplane::admission {
namespace {

namespace bj = boost::json;

constexpr std::string_view kNotReady = "node.kubernetes.io/not-ready";
constexpr std::string_view kUnreachable = "node.kubernetes.io/unreachable";

std::string_view Str(const bj::object& o, std::string_view key) {
  const bj::value* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string_view(v->as_string()) : std::string_view();
}

bool Tolerates(const bj::array& tolerations, std::string_view taint) {
  for (const bj::value& t : tolerations) {
    if (!t.is_object()) continue;
    std::string_view key = Str(t.as_object(), "key"), effect = Str(t.as_object(), "effect");
    if ((key == taint || key.empty()) && (effect == "NoExecute" || effect.empty())) return true;
  }
  return false;
}

}  // namespace

void DefaultTolerationSeconds(bj::object& pod, const TolerationDefaults& defaults) {
  bj::value* spec = pod.if_contains("spec");
  if (spec == nullptr || !spec->is_object()) return;  // validation refuses it
  bj::value& list = spec->as_object()["tolerations"];
  if (list.is_null()) list = bj::array();
  if (!list.is_array()) return;
  bj::array& tolerations = list.as_array();
  bool not_ready = Tolerates(tolerations, kNotReady);
  bool unreachable = Tolerates(tolerations, kUnreachable);
  auto add = [&](std::string_view key, int64_t seconds) {
    tolerations.push_back(bj::object{{"key", key},
                                     {"operator", "Exists"},
                                     {"effect", "NoExecute"},
                                     {"tolerationSeconds", seconds}});
  };
  if (!not_ready) add(kNotReady, defaults.not_ready_seconds);
  if (!unreachable) add(kUnreachable, defaults.unreachable_seconds);
}

}  // namespace berth::controlplane::admission
