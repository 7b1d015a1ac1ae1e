#include "controlplane/controllers/namespace_content.h"

#include "controlplane/controllers/api_util.h"
#include "controlplane/controllers/discovery.h"

namespace berth::controlplane::controllers {
namespace {

namespace bj = boost::json;

const std::string kBackground =
    R"({"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":"Background"})";

// DELETE `target`; a 404 (already gone) is success.
Status Delete(client::ApiClient& api, const std::string& target) {
  client::ApiResponse r = BERTH_TRY(api.Do("DELETE", target, kBackground));
  if (r.status == 200 || r.status == 202 || r.status == 404) return Ok();
  return HttpError("DELETE", target, r);
}

// Deletes the objects of one type, one by one.
Status DeleteEach(client::ApiClient& api, const std::string& collection) {
  std::vector<bj::object> items = BERTH_TRY(ListAll(api, collection));
  for (const bj::object& item : items) {
    if (BeingDeleted(item)) continue;  // asked already; waiting on grace or finalizers
    BERTH_TRY(Delete(api, collection + "/" + StringAt(item, {"metadata", "name"})));
  }
  return Ok();
}

void DeleteType(client::ApiClient& api, const ApiResource& type, const std::string& ns,
                ContentReport& report) {
  std::string collection = type.Collection(ns);
  Status deleted =
      type.Can("deletecollection") ? Delete(api, collection) : DeleteEach(api, collection);
  if (!deleted.ok()) {
    report.errors.push_back(deleted.error().str());
    return;
  }
  Result<std::vector<bj::object>> left = ListAll(api, collection);
  if (!left.ok()) {
    report.errors.push_back(left.error().str());
    return;
  }
  if (left->empty()) return;
  report.remaining[type.Display()] += static_cast<int64_t>(left->size());
  for (const bj::object& item : *left) {
    for (const std::string& f : StringsAt(item, {"metadata", "finalizers"}))
      ++report.finalizers[f];
  }
}

}  // namespace

ContentReport DeleteNamespaceContent(client::ApiClient& api, const std::string& ns) {
  ContentReport report;
  Result<Discovery> discovered = DiscoverNamespacedResources(api);
  if (!discovered.ok()) {
    report.discovery_failures.push_back(discovered.error().str());
    return report;
  }
  report.discovery_failures = discovered->failed_groups;
  for (const ApiResource& type : discovered->resources)
    DeleteType(api, type, ns, report);
  return report;
}

}  // namespace berth::controlplane::controllers
