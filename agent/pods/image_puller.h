#pragma once
// Images for containers per imagePullPolicy (Always, IfNotPresent, Never),
// pulled through the CRI ImageService with the credentials of the pod's
// imagePullSecrets (kubernetes.io/dockerconfigjson and dockercfg), one pull
// at a time when serializeImagePulls is set, with the events kubelet
// records (Pulling, Pulled, Failed).

#include <boost/json.hpp>
#include <functional>
#include <mutex>
#include <string>

#include "agent/cri/cri_client.h"
#include "common/error.h"
#include "controlplane/client/event_recorder.h"

namespace berth::agent {

class ImagePuller {
 public:
  using SecretGetter =
      std::function<Result<boost::json::object>(const std::string& ns, const std::string& name)>;
  ImagePuller(CriClient& cri, controlplane::client::EventRecorder* events, SecretGetter secrets,
              bool serialize);

  // The image reference to create the container with (the runtime's image
  // id). Errors: kFailedPrecondition for policy Never and a missing image
  // (ErrImageNeverPull), anything else a failed pull (ErrImagePull).
  Result<std::string> EnsureImage(const boost::json::object& pod,
                                  const boost::json::object& container);

 private:
  Result<std::string> Present(const std::string& image);
  Result<std::string> Pull(const boost::json::object& pod, const std::string& image);

  CriClient& cri_;
  controlplane::client::EventRecorder* events_;
  SecretGetter secrets_;
  bool serialize_;
  std::mutex pull_mu_;
};

// The registry host of an image reference ("docker.io" when it has none).
std::string RegistryHost(const std::string& image);
// Upstream defaulting: Always for :latest or no tag, else IfNotPresent.
std::string DefaultPullPolicy(const std::string& image);

}  // namespace berth::agent
