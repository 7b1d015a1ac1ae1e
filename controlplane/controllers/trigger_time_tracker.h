#pragma once
// The value of the endpoints.kubernetes.io/last-change-trigger-time
// annotation, as upstream's TriggerTimeTracker computes it: the first
// sync of a Service gives its creation time; later ones give the
// earliest of the trigger times that changed since the Service's last
// sync (a pod's Ready condition lastTransitionTime, the Service's
// creation), or none. Safe for concurrent use on different Services
// (a controller's queue never syncs one Service twice at once).

#include <boost/json.hpp>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace berth::controlplane::controllers {

// An RFC 3339 time as (seconds, nanoseconds) since the epoch; nullopt
// when `text` is not one.
std::optional<std::pair<int64_t, int64_t>> ParseRfc3339Time(std::string_view text);

class TriggerTimeTracker {
 public:
  // The annotation's value (RFC 3339 in UTC, with nanoseconds when any);
  // "" when it should be cleared. Records what it saw for the next call.
  std::string Compute(const boost::json::object& service,
                      const std::vector<boost::json::object>& pods);
  // Forgets a deleted Service (namespace/name).
  void DeleteService(const std::string& key);

 private:
  using Time = std::pair<int64_t, int64_t>;  // zero: none
  struct State {
    Time service{};
    std::map<std::string, Time> pods;  // pod name -> trigger time
  };
  std::mutex mu_;
  std::map<std::string, State> states_;  // by Service key
};

}  // namespace berth::controlplane::controllers
