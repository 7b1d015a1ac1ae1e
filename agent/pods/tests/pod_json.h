#pragma once
// Pod objects for the pod worker's tests, written as JSON.

#include <boost/json.hpp>
#include <string_view>

namespace berth::agent::testing {

namespace bj = boost::json;

inline bj::object Obj(std::string_view json) {
  return bj::parse(json).as_object();
}

// A pod "web" in namespace "shop" with uid "uid-1" and the given spec
// (a JSON object's text).
inline bj::object PodWithSpec(std::string_view spec) {
  bj::object pod = Obj(R"({"apiVersion": "v1", "kind": "Pod",
      "metadata": {"name": "web", "namespace": "shop", "uid": "uid-1"}})");
  pod["spec"] = bj::parse(spec);
  return pod;
}

}  // namespace berth::agent::testing
