#pragma once
// The node's heartbeat Lease (coordination.k8s.io/v1, kube-node-lease/
// <node>), kept as upstream's node lease controller keeps it: holder the
// node, leaseDurationSeconds the configured duration, renewTime now, owned
// by the Node so that deleting the Node deletes it.

#include <boost/json.hpp>
#include <ctime>
#include <optional>
#include <string>

#include "common/error.h"
#include "controlplane/client/api_client.h"

namespace berth::agent {

// metav1.MicroTime: "2006-01-02T15:04:05.000000Z".
std::string FormatMicroTime(const timespec& ts);

class NodeLease {
 public:
  NodeLease(controlplane::client::ApiClient& api, std::string node_name, int duration_seconds);

  // Creates the Lease or renews it (renewTime `now`), retrying on update
  // conflicts up to five times; `node_uid` (when known) becomes its owner
  // reference if it has none.
  Status Renew(const std::string& node_uid, const timespec& now);

 private:
  // Reads the Lease, or creates it (*created).
  Status Ensure(const std::string& node_uid, const timespec& now, bool* created);

  controlplane::client::ApiClient& api_;
  std::string node_;
  int duration_seconds_;
  std::optional<boost::json::object> lease_;  // the last one read or written
};

}  // namespace berth::agent
