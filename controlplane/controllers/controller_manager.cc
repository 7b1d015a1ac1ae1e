#include "controlplane/controllers/controller_manager.h"

#include "common/log.h"
#include "controlplane/controllers/csr_approving_controller.h"
#include "controlplane/controllers/csr_signing_controller.h"
#include "controlplane/controllers/daemonset_controller.h"
#include "controlplane/controllers/deployment_controller.h"
#include "controlplane/controllers/endpoints_controller.h"
#include "controlplane/controllers/endpointslice_controller.h"
#include "controlplane/controllers/garbage_collector.h"
#include "controlplane/controllers/namespace_controller.h"
#include "controlplane/controllers/node_lifecycle_controller.h"
#include "controlplane/controllers/pod_gc_controller.h"
#include "controlplane/controllers/replicaset_controller.h"
#include "controlplane/controllers/root_ca_controller.h"
#include "controlplane/controllers/serviceaccount_controller.h"
#include "controlplane/controllers/statefulset_controller.h"
#include "controlplane/controllers/taint_eviction_controller.h"
#include "controlplane/controllers/ttl_after_finished_controller.h"

namespace berth::controlplane::controllers {

const std::set<std::string>& KnownControllers() {
  static const std::set<std::string> known = {"namespace",
                                              "serviceaccount",
                                              "root-ca-cert-publisher",
                                              "csrapproving",
                                              "csrsigning",
                                              "garbagecollector",
                                              "nodelifecycle",
                                              "taint-eviction-controller",
                                              "podgc",
                                              "endpointslice",
                                              "endpoint",
                                              "replicaset",
                                              "deployment",
                                              "daemonset",
                                              "job",
                                              "ttl-after-finished",
                                              "statefulset"};
  return known;
}

ControllerManager::ControllerManager(client::ClientConfig config, ControllerManagerOptions options)
    : config_(std::move(config)), options_(std::move(options)) {}

ControllerManager::~ControllerManager() {
  Stop();
}

Status ControllerManager::Start() {
  if (informers_) return Error(Errc::kFailedPrecondition, "the controller manager was started");
  for (const std::string& name : options_.controllers) {
    if (!KnownControllers().contains(name)) {
      return Error(Errc::kInvalidArgument, "unknown controller \"" + name + "\"");
    }
  }
  auto enabled = [&](const char* name) { return options_.controllers.contains(name); };
  if (enabled("root-ca-cert-publisher") && options_.root_ca_pem.empty()) {
    return Error(Errc::kInvalidArgument, "root-ca-cert-publisher: no cluster CA to publish");
  }
  if (enabled("csrsigning") && options_.signing_ca.key_pem.empty()) {
    return Error(Errc::kInvalidArgument, "csrsigning: no CA to sign with");
  }
  informers_ = std::make_unique<SharedInformers>(config_, options_.watch_timeout);
  if (enabled("namespace")) {
    controllers_.push_back(
        std::make_unique<NamespaceController>(config_, *informers_, options_.namespace_workers));
  }
  if (enabled("serviceaccount")) {
    controllers_.push_back(std::make_unique<ServiceAccountController>(
        config_, *informers_, options_.serviceaccount_workers));
  }
  if (enabled("root-ca-cert-publisher")) {
    controllers_.push_back(std::make_unique<RootCaController>(
        config_, *informers_, options_.root_ca_pem, options_.root_ca_workers));
  }
  if (enabled("csrapproving")) {
    controllers_.push_back(
        std::make_unique<CsrApprovingController>(config_, *informers_, options_.csr_workers));
  }
  if (enabled("csrsigning")) {
    controllers_.push_back(std::make_unique<CsrSigningController>(
        config_, *informers_, options_.csr_workers, options_.signing_ca,
        options_.cluster_signing_duration));
  }
  if (enabled("garbagecollector")) {
    controllers_.push_back(std::make_unique<GarbageCollector>(config_, *informers_,
                                                              options_.garbage_collector_workers));
  }
  if (enabled("nodelifecycle")) {
    controllers_.push_back(
        std::make_unique<NodeLifecycleController>(config_, *informers_, options_.node_lifecycle));
  }
  if (enabled("taint-eviction-controller")) {
    controllers_.push_back(std::make_unique<TaintEvictionController>(
        config_, *informers_, options_.taint_eviction_workers));
  }
  if (enabled("podgc")) {
    controllers_.push_back(
        std::make_unique<PodGcController>(config_, *informers_, options_.pod_gc));
  }
  if (enabled("endpointslice")) {
    controllers_.push_back(std::make_unique<EndpointSliceController>(
        config_, *informers_, options_.endpointslice_workers, options_.max_endpoints_per_slice));
  }
  if (enabled("endpoint")) {
    controllers_.push_back(
        std::make_unique<EndpointsController>(config_, *informers_, options_.endpoint_workers));
  }
  if (enabled("replicaset")) {
    controllers_.push_back(
        std::make_unique<ReplicaSetController>(config_, *informers_, options_.replicaset_workers));
  }
  if (enabled("deployment")) {
    controllers_.push_back(
        std::make_unique<DeploymentController>(config_, *informers_, options_.deployment_workers));
  }
  if (enabled("daemonset")) {
    controllers_.push_back(
        std::make_unique<DaemonSetController>(config_, *informers_, options_.daemonset_workers));
  }
  if (enabled("job")) {
    controllers_.push_back(std::make_unique<JobController>(config_, *informers_, options_.job));
  }
  if (enabled("ttl-after-finished")) {
    controllers_.push_back(std::make_unique<TtlAfterFinishedController>(
        config_, *informers_, options_.ttl_after_finished_workers));
  }
  if (enabled("statefulset")) {
    controllers_.push_back(std::make_unique<StatefulSetController>(config_, *informers_,
                                                                   options_.statefulset_workers));
  }
  informers_->Start();
  for (const auto& c : controllers_) {
    c->Start();
    BLOG(kInfo) << "controller manager: started the " << c->name() << " controller";
  }
  return Ok();
}

void ControllerManager::Stop() {
  for (const auto& c : controllers_)
    c->Stop();
  if (informers_) informers_->Stop();
}

bool ControllerManager::Synced() const {
  return informers_ != nullptr && informers_->Synced();
}

}  // namespace berth::controlplane::controllers
