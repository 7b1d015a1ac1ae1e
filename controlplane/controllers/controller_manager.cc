#include "controlplane/controllers/controller_manager.h"

#include "common/log.h"
#include "controlplane/controllers/namespace_controller.h"
#include "controlplane/controllers/root_ca_controller.h"
#include "controlplane/controllers/serviceaccount_controller.h"

namespace berth::controlplane::controllers {

const std::set<std::string>& KnownControllers() {
  static const std::set<std::string> known = {"namespace", "serviceaccount",
                                              "root-ca-cert-publisher"};
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
