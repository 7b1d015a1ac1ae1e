#pragma once
// Reading fields of Kubernetes objects (boost::json) in the tests: a JSON
// pointer ("/status/phase") to a value, or "" / -1 when it is missing.

#include <boost/json.hpp>
#include <cstdint>
#include <string>
#include <string_view>

namespace berth::e2e {

namespace bj = boost::json;

// nullptr when the path does not exist.
const bj::value* Field(const bj::value& v, std::string_view pointer);
std::string StringAt(const bj::value& v, std::string_view pointer);
int64_t IntAt(const bj::value& v, std::string_view pointer);  // -1 when missing
// status.conditions[type=<type>].status ("True", "False", "" when absent).
std::string Condition(const bj::value& object, std::string_view type);
// status.containerStatuses (or initContainerStatuses) entry for `name`.
const bj::value* ContainerStatus(const bj::value& pod, std::string_view name, bool init = false);
// A container status's state as one line: "running", "waiting <reason>" or
// "terminated <reason> <exitCode>" ("?" when it has none).
std::string StateOf(const bj::value& container_status);

}  // namespace berth::e2e
