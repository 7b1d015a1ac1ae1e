#pragma once
// berth's controller manager: upstream's kube-controller-manager role,
// run inside `berth server` as an ordinary API client (its own
// certificate, RBAC role system:kube-controller-manager), so it would
// work against any apiserver. It owns the shared informers and the
// controllers; each controller runs its own worker threads over its own
// WorkQueue. Controllers, by upstream's --controllers names:
//
//   namespace               empties deleted namespaces, then finalizes them
//   serviceaccount          the "default" ServiceAccount in every namespace
//   root-ca-cert-publisher  the kube-root-ca.crt ConfigMap in every namespace
//   csrapproving            approves kubelet client (and own serving) CSRs
//   csrsigning              signs approved kubelet and apiserver-client CSRs
//   garbagecollector        deletes what lost its owners; foreground/orphan deletion
//   nodelifecycle           node health from Leases: Unknown conditions, node taints
//   taint-eviction-controller  evicts pods from nodes with NoExecute taints
//   podgc                   deletes pods of deleted nodes, and old terminated pods
//   endpointslice           EndpointSlices listing the pods each Service selects
//   endpoint                the (legacy) Endpoints object of each Service
//   replicaset              keeps each ReplicaSet's pods (replicaset_controller.h)
//   deployment              rolls Deployments out through ReplicaSets (deployment_controller.h)
//   daemonset               one pod of each DaemonSet per fitting node (daemonset_controller.h)
//   job                     runs Jobs' pods to completion (job_controller.h)
//   ttl-after-finished      deletes finished Jobs after ttlSecondsAfterFinished
//   statefulset             ordered, stably named pods and their claims (statefulset_controller.h)

#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/pki/pki.h"
#include "controlplane/client/api_client.h"
#include "controlplane/controllers/controller.h"
#include "controlplane/controllers/job_controller.h"
#include "controlplane/controllers/node_lifecycle_controller.h"
#include "controlplane/controllers/pod_gc_controller.h"
#include "controlplane/controllers/shared_informers.h"

namespace berth::controlplane::controllers {

// Every controller name ControllerManagerOptions::controllers accepts,
// by upstream's --controllers names.
const std::set<std::string>& KnownControllers();

struct ControllerManagerOptions {
  // Every controller unless narrowed (tests run only the ones they need).
  std::set<std::string> controllers = KnownControllers();
  // The cluster CA certificate(s), published by root-ca-cert-publisher.
  std::string root_ca_pem;
  // Worker threads per controller (upstream: --concurrent-namespace-syncs
  // 10; its service account controller and publisher run one each).
  int namespace_workers = 10;
  int serviceaccount_workers = 1;
  int root_ca_workers = 1;
  // The CA csrsigning signs with (--cluster-signing-cert-file/-key-file),
  // and the longest certificate it issues (--cluster-signing-duration).
  pki::Credential signing_ca;
  std::chrono::seconds cluster_signing_duration = std::chrono::hours(24 * 365);
  int csr_workers = 5;
  // Workers for each of the garbage collector's two queues
  // (--concurrent-gc-syncs).
  int garbage_collector_workers = 20;
  // nodelifecycle's periods, grace periods and eviction rates (upstream's
  // --node-monitor-period, --node-monitor-grace-period...), podgc's
  // threshold and timing; taint eviction's workers (UpdateWorkerSize).
  NodeLifecycleOptions node_lifecycle;
  PodGcOptions pod_gc;
  int taint_eviction_workers = 8;
  // The endpoint controllers' workers (--concurrent-service-endpoint-syncs,
  // --concurrent-endpoint-syncs) and --max-endpoints-per-slice.
  int endpointslice_workers = 5;
  int endpoint_workers = 5;
  size_t max_endpoints_per_slice = 100;
  // --concurrent-replicaset-syncs and --concurrent-deployment-syncs.
  int replicaset_workers = 5;
  int deployment_workers = 5;
  // --concurrent-daemonset-syncs, the Job controller's
  // (--concurrent-job-syncs and its timing), --concurrent-ttl-after-finished-syncs
  // and --concurrent-statefulset-syncs.
  int daemonset_workers = 2;
  JobControllerOptions job;
  int ttl_after_finished_workers = 5;
  int statefulset_workers = 5;
  // How long each informer watch lasts before it is resumed.
  std::chrono::seconds watch_timeout{300};
};

class ControllerManager {
 public:
  ControllerManager(client::ClientConfig config, ControllerManagerOptions options);
  ~ControllerManager();  // Stop()
  ControllerManager(const ControllerManager&) = delete;
  ControllerManager& operator=(const ControllerManager&) = delete;

  // Makes the chosen controllers and starts them and their informers;
  // kInvalidArgument for an unknown controller name, or the publisher
  // without a CA. Does not wait for the informers to list.
  Status Start();
  // Stops the controllers (a sync under way finishes), then the informers.
  void Stop();
  // Every informer has listed once.
  bool Synced() const;

 private:
  client::ClientConfig config_;
  ControllerManagerOptions options_;
  std::unique_ptr<SharedInformers> informers_;
  std::vector<std::unique_ptr<Controller>> controllers_;
};

}  // namespace berth::controlplane::controllers
