#pragma once
// Images for containers per imagePullPolicy (Always, IfNotPresent, Never),
// pulled through the CRI ImageService with the credentials of the pod's
// imagePullSecrets (kubernetes.io/dockerconfigjson and dockercfg), one pull
// at a time when serializeImagePulls is set, with the events kubelet
// records (Pulling, Pulled, Failed). A pull is abandoned when its pod starts
// terminating (PullCancellation).

#include <atomic>
#include <boost/json.hpp>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "agent/cri/cri_client.h"
#include "common/error.h"
#include "controlplane/client/event_recorder.h"

namespace berth::agent {

// Upstream cancels a pod worker's context when its pod starts terminating,
// and that context reaches the CRI PullImage call. This is that signal for
// one pod worker: Cancel() aborts the PullImage call in flight
// (grpc::ClientContext::TryCancel: the call returns at once and the runtime
// sees it cancelled) and a pull still waiting for its turn
// (serializeImagePulls); every later pull fails at once. It stays
// cancelled: a terminating pod pulls nothing more.
class PullCancellation {
 public:
  PullCancellation() = default;
  PullCancellation(const PullCancellation&) = delete;
  PullCancellation& operator=(const PullCancellation&) = delete;

  void Cancel();
  bool cancelled() const { return cancelled_.load(); }

  // While a Hook lives, Cancel() calls its function (at once when already
  // cancelled). The function runs under the cancellation's lock, so it
  // never runs after the Hook is gone: keep it short and do not call back
  // into this object from it.
  class Hook {
   public:
    Hook() = default;
    Hook(Hook&& other) noexcept;
    Hook& operator=(Hook&&) = delete;
    ~Hook();

   private:
    friend class PullCancellation;
    Hook(PullCancellation* owner, uint64_t id) : owner_(owner), id_(id) {}
    PullCancellation* owner_ = nullptr;
    uint64_t id_ = 0;
  };
  [[nodiscard]] Hook OnCancel(std::function<void()> fn);

 private:
  std::mutex mu_;
  std::atomic<bool> cancelled_{false};
  uint64_t next_id_ = 1;
  std::map<uint64_t, std::function<void()>> hooks_;
};

class ImagePuller {
 public:
  using SecretGetter =
      std::function<Result<boost::json::object>(const std::string& ns, const std::string& name)>;
  ImagePuller(CriClient& cri, controlplane::client::EventRecorder* events, SecretGetter secrets,
              bool serialize);

  // The image reference to create the container with (the runtime's image
  // id). Errors: kFailedPrecondition for policy Never and a missing image
  // (ErrImageNeverPull), kCancelled when `cancel` (optional) cancelled the
  // pull, anything else a failed pull (ErrImagePull).
  Result<std::string> EnsureImage(const boost::json::object& pod,
                                  const boost::json::object& container,
                                  PullCancellation* cancel = nullptr);

 private:
  Result<std::string> Present(const std::string& image);
  Result<std::string> Pull(const boost::json::object& pod, const std::string& image,
                           PullCancellation* cancel);
  // serializeImagePulls: waits for the pull slot; false when `cancel` was
  // cancelled first.
  bool TakeTurn(PullCancellation* cancel);
  void EndTurn();
  Status CallPullImage(const v1::PullImageRequest& req, v1::PullImageResponse* resp,
                       PullCancellation* cancel);

  CriClient& cri_;
  controlplane::client::EventRecorder* events_;
  SecretGetter secrets_;
  bool serialize_;
  std::mutex turn_mu_;
  std::condition_variable turn_cv_;
  bool pulling_ = false;  // a serialized pull holds the slot
};

// The registry host of an image reference ("docker.io" when it has none).
std::string RegistryHost(const std::string& image);
// Upstream defaulting: Always for :latest or no tag, else IfNotPresent.
std::string DefaultPullPolicy(const std::string& image);

}  // namespace berth::agent
