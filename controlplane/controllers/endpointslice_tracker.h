#pragma once
// What the EndpointSlice controller wrote, so it can tell its own
// writes from others' and a lagging informer cache from the truth, as
// upstream's EndpointSliceTracker: per Service, the version of each
// slice it created or updated, and the slices it deleted.
//
// Upstream compares metadata.generation, which its apiserver bumps on
// every change to a slice; berth's apiserver keeps no generation for
// EndpointSlices, so the version is the resourceVersion read as a
// number (etcd revisions, as both apiservers use, only grow).

#include <boost/json.hpp>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace berth::controlplane::controllers {

class EndpointSliceTracker {
 public:
  // The tracker has a version for the slice.
  bool Has(const boost::json::object& slice) const;
  // The slice changed since the controller last wrote it (or it never
  // did): a change by someone else, worth a sync.
  bool ShouldSync(const boost::json::object& slice) const;
  // The cached `slices` of `service` are behind the controller's writes:
  // one is older than written or was deleted, or one written is missing.
  // A Service of another uid than last time (deleted and made again)
  // starts afresh.
  bool StaleSlices(const boost::json::object& service,
                   const std::vector<boost::json::object>& slices);
  // Records a slice as the server answered a create or update.
  void Update(const boost::json::object& slice);
  // Records a slice the controller deleted.
  void ExpectDeletion(const boost::json::object& slice);
  // A slice was deleted: false when the controller did not expect it.
  bool HandleDeletion(const boost::json::object& slice);
  // Forgets a Service (namespace/name).
  void DeleteService(const std::string& key);

 private:
  static constexpr int64_t kDeletionExpected = -1;
  using Versions = std::map<std::string, int64_t>;  // slice uid -> version

  mutable std::mutex mu_;
  std::map<std::string, Versions> by_service_;
  std::map<std::string, std::string> service_uids_;
};

// The version a slice is tracked by (see above); 0 when it has none.
int64_t SliceVersion(const boost::json::object& slice);
// The key (namespace/name) of the Service a slice's
// kubernetes.io/service-name label names; "" without the label.
std::string SliceServiceKey(const boost::json::object& slice);

}  // namespace berth::controlplane::controllers
