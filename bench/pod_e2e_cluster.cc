#include "bench/pod_e2e_cluster.h"

#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <optional>
#include <thread>

#include "agent/config/kubeconfig.h"
#include "common/file.h"
#include "common/pki/pki.h"
#include "common/strings.h"
#include "common/testing/child_process.h"
#include "integration/fixtures/image_layout.h"

namespace berth::bench::pod_e2e {

namespace bj = boost::json;
namespace v1 = ::runtime::v1;
namespace client = controlplane::client;
using namespace std::chrono_literals;

namespace {

constexpr char kRunc[] = "/usr/sbin/runc";
constexpr char kCniBinDir[] = "/usr/lib/cni";
constexpr char kPauseImage[] = "berth.local/pause:latest";

std::string Berth() {
  return testing::BuiltBinary("cmd/berth");
}

// Polls `done` every 50 ms until it holds or `timeout` passes.
bool Eventually(std::chrono::milliseconds timeout, const std::function<bool()>& done) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(50ms);
  }
}

Status Run(const std::vector<std::string>& argv, const std::string& what) {
  Command cmd;
  cmd.argv = argv;
  cmd.timeout = 120s;
  CommandResult r = BERTH_TRY(RunCommand(cmd));
  if (r.success()) return Ok();
  return Error(Errc::kInternal, what + ": " + r.Describe() + ": " + r.err + r.out);
}

Status MountTmpfs(const std::string& dir) {
  BERTH_TRY(MkdirAll(dir, 0711));
  if (::mount("tmpfs", dir.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=0711") != 0) {
    return Error::Sys("mount tmpfs", dir);
  }
  return Ok();
}

const bj::value* At(const bj::value& v, std::string_view pointer) {
  boost::system::error_code ec;
  const bj::value* found = v.find_pointer(pointer, ec);
  return ec ? nullptr : found;
}

bool NodeReady(const bj::value& node) {
  const bj::value* conditions = At(node, "/status/conditions");
  if (conditions == nullptr || !conditions->is_array()) return false;
  for (const bj::value& c : conditions->as_array()) {
    if (c.at("type") == "Ready") return c.at("status") == "True";
  }
  return false;
}

// berth's network as `berth up` writes it (berth-cni-bridge), on a bridge
// and subnet of the bench's; no masquerade (nothing leaves the namespace).
std::string BerthConflist(const std::string& ipam_dir) {
  bj::object plugin{{"type", "berth-cni-bridge"},
                    {"bridge", "pe2e-b0"},
                    {"isGateway", true},
                    {"isDefaultGateway", true},
                    {"ipMasq", false},
                    {"hairpinMode", true},
                    {"ipam", bj::object{{"subnet", "10.88.40.0/24"}, {"dataDir", ipam_dir}}},
                    {"capabilities", bj::object{{"portMappings", true}}}};
  return bj::serialize(
      bj::object{{"cniVersion", "1.0.0"}, {"name", "pod-e2e"}, {"plugins", bj::array{plugin}}});
}

// The same network with Debian's plugins for containerd (which adds the
// loopback network itself).
std::string ContainerdConflist(const std::string& ipam_dir) {
  bj::object bridge{
      {"type", "bridge"},
      {"bridge", "pe2e-c0"},
      {"isGateway", true},
      {"isDefaultGateway", true},
      {"ipMasq", false},
      {"hairpinMode", true},
      {"ipam", bj::object{{"type", "host-local"},
                          {"ranges", bj::array{bj::array{bj::object{{"subnet", "10.88.41.0/24"}}}}},
                          {"dataDir", ipam_dir}}}};
  bj::object portmap{{"type", "portmap"}, {"capabilities", bj::object{{"portMappings", true}}}};
  return bj::serialize(bj::object{
      {"cniVersion", "1.0.0"}, {"name", "pod-e2e"}, {"plugins", bj::array{bridge, portmap}}});
}

Status WaitCri(agent::CriClient& cri, const std::string& what) {
  std::string last = "no answer";
  bool ready = Eventually(30s, [&] {
    v1::StatusRequest req;
    v1::StatusResponse resp;
    Status s = cri.Call(&v1::RuntimeService::Stub::Status, req, &resp, "CRI Status", 2s);
    if (!s.ok()) {
      last = s.error().str();
      return false;
    }
    for (const v1::RuntimeCondition& c : resp.status().conditions()) {
      if (c.type() == "NetworkReady" && c.status()) return true;
    }
    last = resp.DebugString();
    return false;
  });
  if (ready) return Ok();
  return Error(Errc::kDeadlineExceeded, what + " CRI not ready within 30 s: " + last);
}

// `e` with the end of the log at `path`, for a daemon that failed.
Error WithLog(const Error& e, const std::string& path) {
  return Error(e.code(), e.str() + "\n--- " + path + " (tail):\n" + testing::FileTail(path, 3000));
}

}  // namespace

std::string MissingPrerequisites() {
  std::vector<std::string> missing;
  auto need = [&](const std::string& path, const std::string& from) {
    if (::access(path.c_str(), X_OK) != 0) missing.push_back(path + " (" + from + ")");
  };
  need("/usr/bin/containerd", "package containerd");
  need("/usr/bin/ctr", "package containerd");
  need("/usr/bin/containerd-shim-runc-v2", "package containerd");
  need(kRunc, "package runc");
  for (const char* plugin : {"bridge", "host-local", "portmap", "loopback"})
    need(std::string(kCniBinDir) + "/" + plugin, "package containernetworking-plugins");
  need("/usr/bin/umoci", "package umoci");
  need("/bin/busybox", "package busybox-static, for the demo image");
  need(Berth(), "target berth");
  need(testing::BuiltBinary("runtime/shim/berth-shim"), "target berth-shim");
  need(testing::BuiltBinary("pause/berth-pause"), "target berth-pause");
  need(testing::BuiltBinary("cni/bridge/berth-cni-bridge"), "target berth-cni-bridge");
  need(testing::SourceDir() + "/examples/build-demo-image", "the source tree");
  return Join(missing, ", ");
}

// ---------------------------------------------------------------------------
// Node

Node::Node(std::string runtime, std::string dir)
    : runtime_(std::move(runtime)), dir_(std::move(dir)) {}

Node::~Node() {
  (void)Stop();
}

pid_t Node::runtime_pid() const {
  return containerd_ ? containerd_->pid() : -1;
}

ShimMatcher Node::shims() const {
  return containerd_ ? ContainerdShims(containerd_->socket()) : BerthShims(berth_run_root());
}

Status Node::StartContainerd() {
  BERTH_TRY(MkdirAll(dir_ + "/net.d"));
  BERTH_TRY(MkdirAll(dir_ + "/certs.d"));
  BERTH_TRY(WriteFile(dir_ + "/net.d/10-pod-e2e.conflist", ContainerdConflist(dir_ + "/ipam")));
  std::string kit = dir_ + "/containerd";
  // Volatile state on tmpfs, as /run is on a node (berth's run root is too).
  BERTH_TRY(MountTmpfs(kit + "/state"));
  BERTH_TRY(MountTmpfs(kit + "/runc"));
  integration::ContainerdOptions o;
  o.dir = kit;
  o.ns = "k8s.io";  // the CRI plugin's namespace: ctr imports land there
  o.log_level = "info";
  integration::ContainerdCri& cri = o.cri.emplace();
  cri.sandbox_image = kPauseImage;
  cri.runc_binary = kRunc;
  cri.cni_bin_dir = kCniBinDir;
  cri.cni_conf_dir = dir_ + "/net.d";
  cri.registry_config_path = dir_ + "/certs.d";
  containerd_ = BERTH_TRY(integration::Containerd::Start(o));
  std::string images = Dirname(dir_) + "/images";
  for (const auto& [archive, name] : {std::pair{images + "/demo.tar", "berth.local/demo"},
                                      std::pair{images + "/pause.tar", "berth.local/pause"}}) {
    CommandResult r =
        BERTH_TRY(containerd_->Ctr({"images", "import", "--base-name", name, archive}));
    if (!r.success()) {
      return Error(Errc::kInternal,
                   "ctr images import " + archive + ": " + r.Describe() + ": " + r.err);
    }
  }
  BERTH_TRY(DialCri("unix://" + containerd_->socket()));
  BERTH_TRY(WaitCri(*cri_, "containerd"));
  // The CRI plugin learns of imported images from containerd's events.
  std::string missing;
  bool present = Eventually(10s, [&] {
    for (const char* image : {kDemoImage, kPauseImage}) {
      v1::ImageStatusRequest req;
      req.mutable_image()->set_image(image);
      v1::ImageStatusResponse resp;
      Status s = cri_->Call(&v1::ImageService::Stub::ImageStatus, req, &resp, "ImageStatus");
      if (!s.ok() || !resp.has_image()) {
        missing = image;
        return false;
      }
    }
    return true;
  });
  if (!present) return Error(Errc::kNotFound, "containerd's CRI does not list " + missing);
  return Ok();
}

Status Node::DialCri(const std::string& endpoint) {
  cri_ = BERTH_TRY(agent::CriClient::Dial(endpoint));
  return Ok();
}

Status Node::StartAgent(const std::string& kubeconfig, const std::string& kubelet_config) {
  std::vector<std::string> argv = {Berth(),
                                   "agent",
                                   "--kubeconfig",
                                   kubeconfig,
                                   "--config",
                                   kubelet_config,
                                   "--root-dir",
                                   dir_ + "/agent",
                                   "--pod-logs-dir",
                                   dir_ + "/logs",
                                   "--node-ip",
                                   "127.0.0.1",
                                   "--kubelet-port",
                                   std::to_string(testing::UnusedPort()),
                                   "--hostname-override",
                                   name()};
  if (containerd_) {
    argv.insert(argv.end(), {"--container-runtime-endpoint", "unix://" + containerd_->socket()});
  } else {
    BERTH_TRY(MkdirAll(dir_ + "/net.d"));
    BERTH_TRY(MkdirAll(dir_ + "/certs.d"));
    BERTH_TRY(WriteFile(dir_ + "/net.d/10-pod-e2e.conflist", BerthConflist(dir_ + "/ipam")));
    BERTH_TRY(MountTmpfs(berth_run_root()));
    argv.insert(argv.end(),
                {"--runtime-root", berth_data(), "--run-root", berth_run_root(), "--cni-conf-dir",
                 dir_ + "/net.d", "--registry-config-dir", dir_ + "/certs.d", "--cri-listen",
                 "unix://" + berth_run_root() + "/cri.sock"});
  }
  agent_ = BERTH_TRY(testing::SpawnLogged(argv, agent_log()));
  if (!containerd_) {
    std::string socket = berth_run_root() + "/cri.sock";
    std::optional<Error> exited;
    bool listening = Eventually(30s, [&] {
      exited = testing::ChildExited(agent_, "berth agent (" + runtime_ + ")");
      return exited || PathExists(socket);
    });
    if (exited) return WithLog(*exited, agent_log());
    if (!listening) return Error(Errc::kDeadlineExceeded, "no " + socket + " within 30 s");
    BERTH_TRY(DialCri("unix://" + socket));
    BERTH_TRY(WaitCri(*cri_, "berth"));
  }
  return Ok();
}

Result<int> Node::ReadySandboxes() {
  v1::ListPodSandboxRequest req;
  req.mutable_filter()->mutable_state()->set_state(v1::SANDBOX_READY);
  v1::ListPodSandboxResponse resp;
  BERTH_TRY(cri_->Call(&v1::RuntimeService::Stub::ListPodSandbox, req, &resp, "ListPodSandbox"));
  return resp.items_size();
}

Status Node::Stop() {
  if (stopped_) return Ok();
  stopped_ = true;
  Status first = Ok();
  auto keep = [&](Status s) {
    if (first.ok() && !s.ok()) first = std::move(s);
  };
  keep(testing::TerminateChild(agent_, "berth agent (" + runtime_ + ")", 15s));
  if (containerd_) {
    if (cri_) {
      v1::ListPodSandboxRequest req;
      v1::ListPodSandboxResponse resp;
      Status listed =
          cri_->Call(&v1::RuntimeService::Stub::ListPodSandbox, req, &resp, "ListPodSandbox");
      keep(listed);
      for (const v1::PodSandbox& sandbox : resp.items()) {
        v1::StopPodSandboxRequest stop;
        stop.set_pod_sandbox_id(sandbox.id());
        v1::StopPodSandboxResponse stopped;
        keep(cri_->Call(&v1::RuntimeService::Stub::StopPodSandbox, stop, &stopped,
                        "StopPodSandbox " + sandbox.id()));
        v1::RemovePodSandboxRequest remove;
        remove.set_pod_sandbox_id(sandbox.id());
        v1::RemovePodSandboxResponse removed;
        keep(cri_->Call(&v1::RuntimeService::Stub::RemovePodSandbox, remove, &removed,
                        "RemovePodSandbox " + sandbox.id()));
      }
    }
    cri_.reset();
    keep(containerd_->Stop());
    integration::KillShims(containerd_->dir());
    containerd_.reset();
  } else {
    cri_.reset();
    // berth reset: every pod through berth's runtime (shims, netns, CNI,
    // cgroups), then every mount and the state below its directories.
    Command reset;
    reset.argv = {Berth(),          "reset",          "--data-dir",     berth_data(),
                  "--run-root",     berth_run_root(), "--pod-logs-dir", dir_ + "/logs",
                  "--cni-conf-dir", dir_ + "/net.d",  "--bridge",       "pe2e-b0"};
    reset.timeout = 120s;
    Result<CommandResult> r = RunCommand(reset);
    if (!r.ok()) {
      keep(r.error());
    } else if (!r->success()) {
      keep(Error(Errc::kInternal, "berth reset: " + r->Describe() + ": " + r->err));
    }
  }
  keep(integration::UnmountUnder(dir_));
  cgroups_.Cleanup();
  return first;
}

// ---------------------------------------------------------------------------
// Cluster

Cluster::Cluster() : dir_("berth-bench-pod-e2e") {}

Cluster::~Cluster() {
  (void)Shutdown();
}

Result<std::unique_ptr<Cluster>> Cluster::Start() {
  std::unique_ptr<Cluster> c(new Cluster());
  BERTH_TRY(c->BuildImages());
  BERTH_TRY(c->StartServer());
  BERTH_TRY(c->PrepareNamespace());
  return c;
}

// examples/build-demo-image as README command (1) runs it, into berth's
// node's image store, with a wrapper as its <berth>: the wrapper keeps a
// copy of the OCI archive the script imports, for containerd. The sandbox
// image for containerd: berth-pause alone, as /pause.
Status Cluster::BuildImages() {
  std::string images = dir_ / "images";
  BERTH_TRY(MkdirAll(images));
  std::string wrapper = images + "/berth-keeping-archive";
  BERTH_TRY(WriteFile(wrapper,
                      "#!/bin/sh\n"
                      "for last; do :; done\n"
                      "cp \"$last\" " +
                          images + "/demo.tar\n" + "exec " + Berth() + " \"$@\"\n",
                      0755));
  BERTH_TRY(Run({testing::SourceDir() + "/examples/build-demo-image", wrapper, dir_ / "berth/data"},
                "examples/build-demo-image"));
  if (!PathExists(images + "/demo.tar")) {
    return Error(Errc::kNotFound, "examples/build-demo-image imported no archive");
  }
  std::string rootfs = images + "/pause-rootfs";
  BERTH_TRY(MkdirAll(rootfs));
  BERTH_TRY(WriteFile(rootfs + "/pause",
                      BERTH_TRY(ReadFile(testing::BuiltBinary("pause/berth-pause"))), 0755));
  std::string layout =
      BERTH_TRY(integration::BuildOciLayout(rootfs, images + "/pause", {"/pause"}));
  return Run({"tar", "-C", layout, "-cf", images + "/pause.tar", "."}, "tar the pause image");
}

Status Cluster::StartServer() {
  port_ = testing::UnusedPort();
  if (port_ == 0) return Error(Errc::kUnavailable, "no free port for the apiserver");
  std::string data = dir_ / "server";
  server_ = BERTH_TRY(testing::SpawnLogged({Berth(), "server", "--data-dir", data, "--bind-address",
                                            "127.0.0.1", "--secure-port", std::to_string(port_)},
                                           dir_ / "server.log"));
  std::string kubeconfig = data + "/admin.kubeconfig";
  std::optional<Error> exited;
  bool serving = Eventually(30s, [&] {
    if ((exited = testing::ChildExited(server_, "berth server"))) return true;
    if (!PathExists(kubeconfig)) return false;
    if (!api_) {
      Result<client::ClientConfig> config = agent::LoadKubeconfig(kubeconfig);
      if (!config.ok()) return false;
      admin_ = *config;
      api_ = std::make_unique<client::ApiClient>(admin_);
    }
    Result<client::ApiResponse> r = api_->Do("GET", "/readyz");
    return r.ok() && r->status == 200;
  });
  if (exited) return WithLog(*exited, dir_ / "server.log");
  if (!serving) return Error(Errc::kDeadlineExceeded, "berth server not ready within 30 s");
  return Ok();
}

Status Cluster::PrepareNamespace() {
  bj::object ns{
      {"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", bj::object{{"name", kNamespace}}}};
  client::ApiResponse made = BERTH_TRY(api_->Do("POST", "/api/v1/namespaces", bj::serialize(ns)));
  if (made.status != 201) {
    return Error(Errc::kInternal,
                 "creating namespace: HTTP " + std::to_string(made.status) + " " + made.body);
  }
  // Pods are admitted once the namespace has its default service account;
  // their token volume needs the root CA ConfigMap.
  std::string base = std::string("/api/v1/namespaces/") + kNamespace;
  bool ready = Eventually(30s, [&] {
    for (const std::string& path :
         {base + "/serviceaccounts/default", base + "/configmaps/kube-root-ca.crt"}) {
      Result<client::ApiResponse> r = api_->Do("GET", path);
      if (!r.ok() || r->status != 200) return false;
    }
    return true;
  });
  if (!ready) {
    return Error(Errc::kDeadlineExceeded,
                 "namespace " + std::string(kNamespace) +
                     " has no default service account or kube-root-ca.crt after 30 s");
  }
  return Ok();
}

Result<std::string> Cluster::NodeKubeconfig(const std::string& node_name) {
  std::string pki_dir = dir_ / "server/pki";
  pki::Credential ca{BERTH_TRY(ReadFile(pki_dir + "/ca.crt")),
                     BERTH_TRY(ReadFile(pki_dir + "/ca.key"))};
  pki::CertSpec spec;
  spec.common_name = "system:node:" + node_name;
  spec.organizations = {"system:nodes"};
  spec.client_auth = true;
  client::ClientConfig node = admin_;
  node.certificate = BERTH_TRY(pki::Issue(ca, spec));
  std::string path = dir_ / (node_name + ".kubeconfig");
  BERTH_TRY(agent::WriteKubeconfig(path, node, "https://127.0.0.1:" + std::to_string(port_)));
  return path;
}

Result<Node*> Cluster::StartNode(const std::string& runtime) {
  auto node = std::make_unique<Node>(runtime, dir_ / runtime);
  Node& n = *node;
  nodes_.push_back(std::move(node));
  BERTH_TRY(MkdirAll(n.dir() + "/logs"));
  std::string kubeconfig = BERTH_TRY(NodeKubeconfig(n.name()));
  // Pods' cgroups below this process's cgroup: runc (containerd's shims)
  // and berth's runtime both resolve a relative parent against their own.
  std::string config = n.dir() + "/kubelet-config.yaml";
  BERTH_TRY(WriteFile(config,
                      "apiVersion: kubelet.config.k8s.io/v1beta1\n"
                      "kind: KubeletConfiguration\n"
                      "cgroupRoot: " +
                          n.cgroups_.name() + "\n"));
  if (runtime == "containerd") BERTH_TRY(n.StartContainerd());
  BERTH_TRY(n.StartAgent(kubeconfig, config));
  BERTH_TRY(WaitNodeReady(n));
  return &n;
}

Status Cluster::WaitNodeReady(Node& node) {
  std::optional<Error> exited;
  bool ready = Eventually(60s, [&] {
    if ((exited = testing::ChildExited(node.agent_, "berth agent (" + node.runtime() + ")")))
      return true;
    Result<client::ApiResponse> r = api_->Do("GET", "/api/v1/nodes/" + node.name());
    return r.ok() && r->status == 200 && NodeReady(r->Json());
  });
  if (exited) return WithLog(*exited, node.agent_log());
  if (!ready) {
    return WithLog(Error(Errc::kDeadlineExceeded, "node " + node.name() + " not Ready within 60 s"),
                   node.agent_log());
  }
  return Ok();
}

Status Cluster::DeleteAllPods() {
  std::string base = std::string("/api/v1/namespaces/") + kNamespace + "/pods";
  client::ApiResponse list = BERTH_TRY(api_->Do("GET", base));
  if (list.status != 200) {
    return Error(Errc::kInternal, "listing pods: HTTP " + std::to_string(list.status));
  }
  bj::value v = list.Json();
  const bj::value* items = At(v, "/items");
  if (items == nullptr || !items->is_array()) return Ok();
  for (const bj::value& pod : items->as_array()) {
    std::string name(pod.at("metadata").at("name").as_string());
    Result<client::ApiResponse> r = api_->Do("DELETE", base + "/" + name);
    if (!r.ok()) return r.error();
  }
  bool gone = Eventually(60s, [&] {
    Result<client::ApiResponse> r = api_->Do("GET", base);
    if (!r.ok() || r->status != 200) return false;
    bj::value now = r->Json();
    const bj::value* left = At(now, "/items");
    return left != nullptr && left->is_array() && left->as_array().empty();
  });
  if (!gone) return Error(Errc::kDeadlineExceeded, "pods still in the API 60 s after deletion");
  return Ok();
}

void Cluster::KeepLogs(const std::string& log_dir) const {
  if (log_dir.empty()) return;
  (void)MkdirAll(log_dir);
  // source -> name in log_dir
  std::vector<std::pair<std::string, std::string>> files = {{dir_ / "server.log", "server.log"}};
  for (const auto& node : nodes_) {
    files.emplace_back(node->agent_log(), "agent-" + node->runtime() + ".log");
    if (node->runtime() == "containerd") {
      files.emplace_back(node->dir() + "/containerd/containerd.log", "containerd.log");
    }
  }
  for (const auto& [from, name] : files) {
    Result<std::string> text = ReadFile(from);
    if (text.ok()) (void)WriteFile(log_dir + "/" + name, *text);
  }
}

Status Cluster::Shutdown() {
  if (shut_down_) return Ok();
  shut_down_ = true;
  Status first = Ok();
  auto keep = [&](Status s) {
    if (first.ok() && !s.ok()) first = std::move(s);
  };
  if (api_) keep(DeleteAllPods());
  for (auto& node : nodes_)
    keep(node->Stop());
  keep(testing::TerminateChild(server_, "berth server", 15s));
  api_.reset();
  keep(integration::UnmountUnder(dir_.path()));
  return first;
}

}  // namespace berth::bench::pod_e2e
