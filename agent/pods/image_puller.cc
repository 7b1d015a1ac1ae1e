#include "agent/pods/image_puller.h"

#include <chrono>
#include <optional>
#include <utility>

#include "agent/pods/pod_spec.h"
#include "common/base64.h"
#include "common/json.h"
#include "controlplane/client/api_util.h"

namespace berth::agent {

using controlplane::client::StringAt;
using controlplane::client::ValueAt;

namespace {

std::string Seconds(std::chrono::steady_clock::duration d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3fs", std::chrono::duration<double>(d).count());
  return buf;
}

// Registry keys in docker config files: "host", "https://host/v1/", ...
std::string KeyHost(std::string key) {
  for (std::string_view scheme : {"https://", "http://"}) {
    if (key.starts_with(scheme)) key = key.substr(scheme.size());
  }
  key = key.substr(0, key.find('/'));
  if (key == "index.docker.io" || key == "registry-1.docker.io") key = "docker.io";
  return key;
}

// Credentials in one pull secret for `host`.
std::vector<v1::AuthConfig> AuthsFor(const bj::object& secret, const std::string& host) {
  std::vector<v1::AuthConfig> out;
  std::string type = StringAt(secret, {"type"});
  std::string key = type == "kubernetes.io/dockercfg" ? ".dockercfg" : ".dockerconfigjson";
  std::optional<std::string> text = Base64Decode(StringAt(secret, {"data", key}));
  if (!text) return out;
  Result<bj::value> doc =
      json::Parse(*text, "pull secret " + StringAt(secret, {"metadata", "name"}));
  if (!doc.ok() || !doc->is_object()) return out;
  const bj::value* auths = key == ".dockercfg" ? &*doc : doc->get_object().if_contains("auths");
  if (auths == nullptr || !auths->is_object()) return out;
  for (const auto& [registry, entry] : auths->get_object()) {
    if (KeyHost(std::string(registry)) != host || !entry.is_object()) continue;
    v1::AuthConfig auth;
    auth.set_username(StringAt(entry.get_object(), {"username"}));
    auth.set_password(StringAt(entry.get_object(), {"password"}));
    auth.set_auth(StringAt(entry.get_object(), {"auth"}));
    auth.set_server_address(host);
    out.push_back(std::move(auth));
  }
  return out;
}

// The reason upstream's event gives: the gRPC status of a call whose
// context was cancelled, as Go prints it.
constexpr char kPullCancelled[] = "rpc error: code = Canceled desc = context canceled";

}  // namespace

void PullCancellation::Cancel() {
  std::lock_guard lock(mu_);
  if (cancelled_.exchange(true)) return;
  for (auto& [id, fn] : hooks_)
    fn();
}

PullCancellation::Hook PullCancellation::OnCancel(std::function<void()> fn) {
  std::lock_guard lock(mu_);
  if (cancelled_) {
    fn();
    return {};
  }
  uint64_t id = next_id_++;
  hooks_.emplace(id, std::move(fn));
  return {this, id};
}

PullCancellation::Hook::Hook(Hook&& other) noexcept
    : owner_(std::exchange(other.owner_, nullptr)), id_(other.id_) {}

PullCancellation::Hook::~Hook() {
  if (owner_ == nullptr) return;
  std::lock_guard lock(owner_->mu_);
  owner_->hooks_.erase(id_);
}

std::string RegistryHost(const std::string& image) {
  size_t slash = image.find('/');
  if (slash == std::string::npos) return "docker.io";
  std::string first = image.substr(0, slash);
  if (first == "index.docker.io" || first == "registry-1.docker.io") return "docker.io";
  if (first.find('.') != std::string::npos || first.find(':') != std::string::npos ||
      first == "localhost") {
    return first;
  }
  return "docker.io";
}

std::string DefaultPullPolicy(const std::string& image) {
  std::string ref = image.substr(0, image.find('@'));
  bool digest = ref.size() != image.size();
  size_t slash = ref.rfind('/');
  size_t colon = ref.rfind(':');
  bool tagged = colon != std::string::npos && (slash == std::string::npos || colon > slash);
  // An explicit :latest wins over a digest; a digest alone pins the image.
  if (tagged) return ref.substr(colon + 1) == "latest" ? "Always" : "IfNotPresent";
  return digest ? "IfNotPresent" : "Always";
}

ImagePuller::ImagePuller(CriClient& cri, controlplane::client::EventRecorder* events,
                         SecretGetter secrets, bool serialize)
    : cri_(cri), events_(events), secrets_(std::move(secrets)), serialize_(serialize) {}

Result<std::string> ImagePuller::Present(const std::string& image) {
  v1::ImageStatusRequest req;
  req.mutable_image()->set_image(image);
  v1::ImageStatusResponse resp;
  BERTH_TRY(cri_.Call(&v1::ImageService::Stub::ImageStatus, req, &resp, "ImageStatus " + image));
  return resp.has_image() ? resp.image().id() : std::string();
}

Result<std::string> ImagePuller::EnsureImage(const bj::object& pod, const bj::object& container,
                                             PullCancellation* cancel) {
  std::string image = StringAt(container, {"image"});
  std::string name = StringAt(container, {"name"});
  if (image.empty()) {
    return Error(Errc::kInvalidArgument, "container \"" + name + "\": image is empty");
  }
  std::string policy = StringAt(container, {"imagePullPolicy"});
  if (policy.empty()) policy = DefaultPullPolicy(image);
  auto record = [&](const std::string& type, const std::string& reason, const std::string& msg) {
    if (events_ != nullptr) events_->Record(ContainerRef(pod, name), type, reason, msg);
  };
  if (policy != "Always") {
    std::string id = BERTH_TRY(Present(image));
    if (!id.empty()) {
      record("Normal", "Pulled", "Container image \"" + image + "\" already present on machine");
      return id;
    }
    if (policy == "Never") {
      std::string msg =
          "Container image \"" + image + "\" is not present with pull policy of Never";
      record("Warning", "ErrImageNeverPull", msg);
      return Error(Errc::kFailedPrecondition, msg);
    }
  }
  return Pull(pod, image, cancel);
}

bool ImagePuller::TakeTurn(PullCancellation* cancel) {
  // Declared before the lock: released after it, so a Cancel() running the
  // hook never waits for turn_mu_ while this thread holds it and waits for
  // the hook's lock.
  std::optional<PullCancellation::Hook> wake;
  if (cancel != nullptr) {
    wake.emplace(cancel->OnCancel([this] {
      std::lock_guard lock(turn_mu_);
      turn_cv_.notify_all();
    }));
  }
  std::unique_lock lock(turn_mu_);
  turn_cv_.wait(lock, [&] { return !pulling_ || (cancel != nullptr && cancel->cancelled()); });
  if (cancel != nullptr && cancel->cancelled()) return false;
  pulling_ = true;
  return true;
}

void ImagePuller::EndTurn() {
  {
    std::lock_guard lock(turn_mu_);
    pulling_ = false;
  }
  turn_cv_.notify_all();
}

Status ImagePuller::CallPullImage(const v1::PullImageRequest& req, v1::PullImageResponse* resp,
                                  PullCancellation* cancel) {
  std::string what = "PullImage " + req.image().image();
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(10));
  // After ctx: the hook goes first, so TryCancel never sees a dead context.
  std::optional<PullCancellation::Hook> abort;
  if (cancel != nullptr) {
    abort.emplace(cancel->OnCancel([&ctx] { ctx.TryCancel(); }));
    if (cancel->cancelled()) return Error(Errc::kCancelled, what + ": context canceled");
  }
  grpc::Status s = cri_.images().PullImage(&ctx, req, resp);
  if (s.ok()) return Ok();
  if (cancel != nullptr && cancel->cancelled()) {
    return Error(Errc::kCancelled, what + ": context canceled");
  }
  return CriClient::FromGrpc(s, what);
}

Result<std::string> ImagePuller::Pull(const bj::object& pod, const std::string& image,
                                      PullCancellation* cancel) {
  auto waited_from = std::chrono::steady_clock::now();
  auto record = [&](const std::string& type, const std::string& reason, const std::string& msg) {
    if (events_ == nullptr) return;
    for (const bj::value& c : Containers(pod)) {
      if (c.is_object() && StringAt(c.get_object(), {"image"}) == image) {
        events_->Record(ContainerRef(pod, StringAt(c.get_object(), {"name"})), type, reason, msg);
        return;
      }
    }
    events_->Record(PodRef(pod), type, reason, msg);
  };
  // As upstream: Pulling before waiting for the turn; a cancelled pull
  // fails once, with the reason a cancelled context gives.
  record("Normal", "Pulling", "Pulling image \"" + image + "\"");
  auto cancelled = [&] {
    record("Warning", "Failed", "Failed to pull image \"" + image + "\": " + kPullCancelled);
    return Error(Errc::kCancelled, "PullImage " + image + ": context canceled");
  };
  if (serialize_ && !TakeTurn(cancel)) return cancelled();
  auto started = std::chrono::steady_clock::now();
  std::vector<v1::AuthConfig> auths;
  std::string host = RegistryHost(image);
  if (const bj::value* secrets = ValueAt(pod, {"spec", "imagePullSecrets"});
      secrets != nullptr && secrets->is_array() && secrets_) {
    for (const bj::value& s : secrets->get_array()) {
      std::string secret_name = s.is_object() ? StringAt(s.get_object(), {"name"}) : "";
      if (secret_name.empty()) continue;
      Result<bj::object> secret = secrets_(IdOf(pod).namespace_, secret_name);
      // A missing pull secret is not fatal upstream either: the pull is
      // tried with what there is.
      if (!secret.ok()) continue;
      for (v1::AuthConfig& a : AuthsFor(*secret, host))
        auths.push_back(std::move(a));
    }
  }
  if (auths.empty()) auths.emplace_back();  // anonymous
  Error last(Errc::kUnknown, "no pull attempted");
  for (const v1::AuthConfig& auth : auths) {
    v1::PullImageRequest req;
    req.mutable_image()->set_image(image);
    if (!auth.username().empty() || !auth.auth().empty()) *req.mutable_auth() = auth;
    v1::PullImageResponse resp;
    Status pulled = CallPullImage(req, &resp, cancel);
    if (pulled.ok()) {
      if (serialize_) EndTurn();
      auto now = std::chrono::steady_clock::now();
      record("Normal", "Pulled",
             "Successfully pulled image \"" + image + "\" in " + Seconds(now - started) + " (" +
                 Seconds(now - waited_from) + " including waiting)");
      return resp.image_ref();
    }
    last = pulled.error();
    if (cancel != nullptr && cancel->cancelled()) break;
  }
  if (serialize_) EndTurn();
  if (last.code() == Errc::kCancelled && cancel != nullptr && cancel->cancelled()) {
    return cancelled();
  }
  record("Warning", "Failed", "Failed to pull image \"" + image + "\": " + last.str());
  return last;
}

}  // namespace berth::agent
