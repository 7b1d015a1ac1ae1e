#pragma once
// Emptying a terminating namespace, one pass, as upstream's namespaced
// resources deleter does it: discover the namespaced types, delete each
// type's objects (one deletecollection where the type offers it, else
// list and delete object by object, background propagation), then list
// what is left: pods still in their grace period, objects that
// finalizers hold.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "controlplane/client/api_client.h"

namespace berth::controlplane::controllers {

struct ContentReport {
  std::vector<std::string> discovery_failures;  // groups (or all) not discovered, with why
  std::vector<std::string> errors;              // failed deletes and lists, each naming its request
  std::map<std::string, int64_t> remaining;     // ApiResource::Display() -> objects left
  std::map<std::string, int64_t> finalizers;    // finalizer -> objects left that carry it

  // Nothing failed and nothing is left: the namespace may be finalized.
  bool Empty() const { return discovery_failures.empty() && errors.empty() && remaining.empty(); }
};

ContentReport DeleteNamespaceContent(client::ApiClient& api, const std::string& ns);

}  // namespace berth::controlplane::controllers
