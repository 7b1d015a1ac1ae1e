#include "integration/agent-containerd/node_stack.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <random>
#include <thread>

#include "agent/config/kubeconfig.h"
#include "common/base64.h"
#include "common/file.h"
#include "common/strings.h"
#include "common/testing/child_process.h"
#include "integration/fixtures/image_layout.h"

namespace berth::integration {

namespace bj = boost::json;
namespace v1 = ::runtime::v1;
using image::registry::testing::PushLayout;
using image::registry::testing::RegistryProcess;
using namespace std::chrono_literals;

namespace {

constexpr char kRunc[] = "/usr/sbin/runc";
constexpr char kCniBinDir[] = "/usr/lib/cni";

std::string Berth() {
  return testing::BuiltBinary("cmd/berth");
}
std::string PauseBinary() {
  return testing::BuiltBinary("pause/berth-pause");
}
std::string BusyboxRootfs() {
  return testing::BuiltBinary("integration/fixtures/busybox-rootfs");
}

const bj::value* At(const bj::value& v, std::string_view pointer) {
  boost::system::error_code ec;
  const bj::value* found = v.find_pointer(pointer, ec);
  return ec ? nullptr : found;
}

// The registry over plain HTTP (containerd's hosts.toml for "host:port",
// under both names containerd versions look for).
Status WriteHostsToml(const std::string& certs_d, const std::string& host) {
  std::string toml = "server = \"http://" + host + "\"\n[host.\"http://" + host +
                     "\"]\n  capabilities = [\"pull\", \"resolve\"]\n";
  std::string underscored = host;
  std::replace(underscored.begin(), underscored.end(), ':', '_');
  for (const std::string& name : {host, underscored + "_"}) {
    BERTH_TRY(MkdirAll(certs_d + "/" + name));
    BERTH_TRY(WriteFile(certs_d + "/" + name + "/hosts.toml", toml));
  }
  return Ok();
}

// Debian's plugins: bridge with host-local IPAM (state in the test's dir)
// and portmap. containerd adds the loopback network itself.
std::string Conflist(const std::string& ipam_dir) {
  return R"({"cniVersion":"1.0.0","name":"berth-actrd","plugins":[
  {"type":"bridge","bridge":"cni-actrd0","isGateway":true,"ipMasq":false,"hairpinMode":true,
   "ipam":{"type":"host-local","ranges":[[{"subnet":"10.88.9.0/24"}]],
           "routes":[{"dst":"0.0.0.0/0"}],"dataDir":")" +
         ipam_dir + R"("}},
  {"type":"portmap","capabilities":{"portMappings":true}}]})";
}

// <id>.<secret>, [a-z0-9]{6} and {16}, as bootstrap tokens are.
std::pair<std::string, std::string> NewBootstrapToken() {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::random_device random;
  std::uniform_int_distribution<size_t> pick(0, sizeof(kAlphabet) - 2);
  auto make = [&](size_t n) {
    std::string s;
    for (size_t i = 0; i < n; ++i)
      s += kAlphabet[pick(random)];
    return s;
  };
  return {make(6), make(16)};
}

// The CRI plugin answers a moment after containerd answers ctr, and reports
// NetworkReady once it has loaded the CNI config.
Status WaitCriReady(agent::CriClient& cri) {
  std::string last = "no answer";
  for (int i = 0; i < 300; ++i) {  // 30 s
    v1::StatusRequest req;
    v1::StatusResponse resp;
    Status s = cri.Call(&v1::RuntimeService::Stub::Status, req, &resp, "CRI Status", 2s);
    if (s.ok()) {
      bool network = false;
      for (const v1::RuntimeCondition& c : resp.status().conditions())
        network |= c.type() == "NetworkReady" && c.status();
      if (network) return Ok();
      last = resp.DebugString();
    } else {
      last = s.error().str();
    }
    std::this_thread::sleep_for(100ms);
  }
  return Error(Errc::kDeadlineExceeded,
               "containerd's CRI not ready with its network within 30 s: " + last);
}

}  // namespace

bool Eventually(std::chrono::milliseconds timeout, const std::function<bool()>& done) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(100ms);
  }
}

std::string MissingPrerequisites() {
  std::vector<std::string> missing;
  auto need = [&](const std::string& path, const std::string& from) {
    if (::access(path.c_str(), X_OK) != 0) missing.push_back(path + " (" + from + ")");
  };
  need("/usr/bin/containerd", "package containerd");
  need("/usr/bin/ctr", "package containerd");
  need(kRunc, "package runc");
  for (const char* plugin : {"bridge", "host-local", "portmap", "loopback"})
    need(std::string(kCniBinDir) + "/" + plugin, "package containernetworking-plugins");
  need(image::registry::testing::kRegistryBinary, "package docker-registry");
  need("/usr/bin/umoci", "package umoci");
  need("/usr/bin/skopeo", "package skopeo");
  need(kKubectl, "google-cloud-cli-kubectl");
  need("/usr/sbin/iptables", "package iptables, for portmap");
  need(Berth(), "target berth");
  need(PauseBinary(), "target berth-pause");
  need(BusyboxRootfs() + "/bin/busybox", "target berth_fixture_rootfs");
  return Join(missing, ", ");
}

Result<std::unique_ptr<NodeStack>> NodeStack::Start() {
  std::unique_ptr<NodeStack> s(new NodeStack());
  Status started = s->StartAll();
  // The logs go with the error: the directory goes with the stack.
  if (!started.ok()) return Error(started.error().code(), started.error().str() + "\n" + s->Logs());
  return s;
}

Status NodeStack::StartAll() {
  BERTH_TRY(MkdirAll(pod_logs_dir(), 0755));
  BERTH_TRY(BuildAndPushImages());
  BERTH_TRY(StartContainerd());
  BERTH_TRY(StartServer());
  BERTH_TRY(StartAgent());
  BERTH_TRY(WaitNodeReady(60s));
  // Pods are admitted only once the namespace's default service account
  // exists, as upstream.
  if (!Eventually(20s, [&] {
        return !Get("/api/v1/namespaces/default/serviceaccounts/default").is_null();
      })) {
    return Error(Errc::kDeadlineExceeded, "no default service account in namespace default");
  }
  return Ok();
}

Status NodeStack::BuildAndPushImages() {
  BERTH_TRY(MkdirAll(dir_ / "registry"));
  registry_ = BERTH_TRY(RegistryProcess::Start(dir_ / "registry"));
  std::string busybox = BERTH_TRY(BuildOciLayout(BusyboxRootfs(), dir_ / "img-busybox"));
  image_ = registry_->host() + "/test/busybox:latest";
  BERTH_TRY(PushLayout(busybox, "latest", image_));
  // The sandbox image: berth-pause (static) alone.
  std::string rootfs = dir_ / "pause-rootfs";
  BERTH_TRY(MkdirAll(rootfs));
  BERTH_TRY(WriteFile(rootfs + "/pause", BERTH_TRY(ReadFile(PauseBinary())), 0755));
  std::string pause = BERTH_TRY(BuildOciLayout(rootfs, dir_ / "img-pause", {"/pause"}));
  pause_image_ = registry_->host() + "/test/pause:3.9";
  return PushLayout(pause, "latest", pause_image_);
}

Status NodeStack::StartContainerd() {
  ContainerdOptions options;
  options.dir = dir_ / "containerd";
  options.log_level = "info";
  ContainerdCri& cri = options.cri.emplace();
  cri.sandbox_image = pause_image_;
  cri.cni_bin_dir = kCniBinDir;
  cri.cni_conf_dir = dir_ / "net.d";
  cri.registry_config_path = dir_ / "certs.d";
  cri.runc_binary = kRunc;
  BERTH_TRY(MkdirAll(cri.cni_conf_dir));
  BERTH_TRY(WriteFile(cri.cni_conf_dir + "/10-actrd.conflist", Conflist(dir_ / "ipam")));
  BERTH_TRY(WriteHostsToml(cri.registry_config_path, registry_->host()));
  containerd_ = BERTH_TRY(Containerd::Start(options));
  cri_ = BERTH_TRY(agent::CriClient::Dial("unix://" + containerd_->socket()));
  return WaitCriReady(*cri_);
}

Status NodeStack::StartServer() {
  api_port_ = testing::UnusedPort();
  if (api_port_ == 0) return Error(Errc::kUnavailable, "no free port for the apiserver");
  std::string data = dir_ / "server";
  server_ =
      BERTH_TRY(testing::SpawnLogged({Berth(), "server", "--data-dir", data, "--bind-address",
                                      "127.0.0.1", "--secure-port", std::to_string(api_port_)},
                                     dir_ / "server.log"));
  std::string kubeconfig = data + "/admin.kubeconfig";
  std::optional<Error> exited;
  bool serving = Eventually(30s, [&] {
    if ((exited = testing::ChildExited(server_, "berth server"))) return true;
    if (!PathExists(kubeconfig)) return false;
    if (!admin_) {
      Result<controlplane::client::ClientConfig> config = agent::LoadKubeconfig(kubeconfig);
      if (!config.ok()) return false;
      admin_ = std::make_unique<controlplane::client::ApiClient>(*config);
    }
    Result<controlplane::client::ApiResponse> r = admin_->Do("GET", "/readyz");
    return r.ok() && r->status == 200;
  });
  if (exited) return *exited;
  if (!serving) return Error(Errc::kDeadlineExceeded, "berth server not ready within 30 s");
  return Ok();
}

Status NodeStack::StartAgent() {
  // A bootstrap token, as `kubeadm token create` makes it.
  auto [id, secret] = NewBootstrapToken();
  auto b64 = [](const std::string& s) { return bj::value(Base64Encode(s)); };
  bj::object token{
      {"apiVersion", "v1"},
      {"kind", "Secret"},
      {"metadata", bj::object{{"name", "bootstrap-token-" + id}, {"namespace", "kube-system"}}},
      {"type", "bootstrap.kubernetes.io/token"},
      {"data",
       bj::object{{"token-id", b64(id)},
                  {"token-secret", b64(secret)},
                  {"usage-bootstrap-authentication", b64("true")},
                  {"usage-bootstrap-signing", b64("true")},
                  {"auth-extra-groups", b64("system:bootstrappers:berth:default-node-token")}}}};
  controlplane::client::ApiResponse made =
      BERTH_TRY(admin_->Do("POST", "/api/v1/namespaces/kube-system/secrets", bj::serialize(token)));
  if (made.status != 201) {
    return Error(Errc::kInternal, "creating the bootstrap token secret: HTTP " +
                                      std::to_string(made.status) + " " + made.body);
  }
  agent::Kubeconfig admin = BERTH_TRY(agent::ReadKubeconfig(dir_ / "server/admin.kubeconfig"));
  controlplane::client::ClientConfig bootstrap;
  bootstrap.ca_pem = admin.client.ca_pem;
  bootstrap.bearer_token = id + "." + secret;
  BERTH_TRY(agent::WriteKubeconfig(dir_ / "bootstrap.kubeconfig", bootstrap, admin.server));

  // Pods' cgroups below the test's own cgroup tree: containerd's runc
  // resolves the relative cgroup parent against its own cgroup.
  BERTH_TRY(WriteFile(dir_ / "kubelet-config.yaml",
                      "apiVersion: kubelet.config.k8s.io/v1beta1\n"
                      "kind: KubeletConfiguration\n"
                      "cgroupRoot: " +
                          cgroups_.name() + "\n"));
  uint16_t kubelet_port = testing::UnusedPort();
  agent_ = BERTH_TRY(testing::SpawnLogged({Berth(),
                                           "agent",
                                           "--container-runtime-endpoint",
                                           "unix://" + containerd_->socket(),
                                           "--bootstrap-kubeconfig",
                                           dir_ / "bootstrap.kubeconfig",
                                           "--kubeconfig",
                                           agent_kubeconfig(),
                                           "--config",
                                           dir_ / "kubelet-config.yaml",
                                           "--root-dir",
                                           agent_root(),
                                           "--pod-logs-dir",
                                           pod_logs_dir(),
                                           "--hostname-override",
                                           kNodeName,
                                           "--node-ip",
                                           "127.0.0.1",
                                           "--kubelet-port",
                                           std::to_string(kubelet_port)},
                                          dir_ / "agent.log"));
  return Ok();
}

Status NodeStack::WaitNodeReady(std::chrono::seconds timeout) {
  std::optional<Error> exited;
  bool ready = Eventually(timeout, [&] {
    if ((exited = testing::ChildExited(agent_, "berth agent"))) return true;
    bj::value node = Get(std::string("/api/v1/nodes/") + kNodeName);
    const bj::value* conditions = At(node, "/status/conditions");
    if (conditions == nullptr || !conditions->is_array()) return false;
    for (const bj::value& c : conditions->as_array()) {
      if (c.at("type") == "Ready" && c.at("status") == "True") return true;
    }
    return false;
  });
  if (exited) return std::move(*exited).Wrap("waiting for node " + std::string(kNodeName));
  if (!ready) {
    return Error(Errc::kDeadlineExceeded, "node " + std::string(kNodeName) + " not Ready within " +
                                              std::to_string(timeout.count()) + " s");
  }
  return Ok();
}

NodeStack::~NodeStack() {
  (void)Shutdown();
}

Status NodeStack::RemoveSandboxes() {
  v1::ListPodSandboxRequest req;
  v1::ListPodSandboxResponse resp;
  BERTH_TRY(cri_->Call(&v1::RuntimeService::Stub::ListPodSandbox, req, &resp, "ListPodSandbox"));
  for (const v1::PodSandbox& sandbox : resp.items()) {
    v1::StopPodSandboxRequest stop;
    stop.set_pod_sandbox_id(sandbox.id());
    v1::StopPodSandboxResponse stopped;
    BERTH_TRY(cri_->Call(&v1::RuntimeService::Stub::StopPodSandbox, stop, &stopped,
                         "StopPodSandbox " + sandbox.id()));
    v1::RemovePodSandboxRequest remove;
    remove.set_pod_sandbox_id(sandbox.id());
    v1::RemovePodSandboxResponse removed;
    BERTH_TRY(cri_->Call(&v1::RuntimeService::Stub::RemovePodSandbox, remove, &removed,
                         "RemovePodSandbox " + sandbox.id()));
  }
  return Ok();
}

Status NodeStack::Shutdown() {
  if (shut_down_) return Ok();
  shut_down_ = true;
  Status first = Ok();
  auto keep = [&](Status s) {
    if (first.ok() && !s.ok()) first = std::move(s);
  };
  keep(testing::TerminateChild(agent_, "berth agent", 15s));
  if (cri_) keep(RemoveSandboxes());
  cri_.reset();
  if (containerd_) {
    keep(containerd_->Stop());
    containerd_.reset();
  }
  KillShims(dir_ / "containerd");
  keep(testing::TerminateChild(server_, "berth server", 15s));
  admin_.reset();
  registry_.reset();  // killed by pid
  keep(UnmountUnder(dir_.path()));
  return first;
}

Result<CommandResult> NodeStack::Kubectl(const std::vector<std::string>& args,
                                         const std::string& stdin_data) {
  Command cmd;
  cmd.argv = {kKubectl, "--kubeconfig=" + (dir_ / "server/admin.kubeconfig"),
              "--cache-dir=" + (dir_ / "kubectl-cache")};
  cmd.argv.insert(cmd.argv.end(), args.begin(), args.end());
  cmd.stdin_data = stdin_data;
  cmd.timeout = 60s;
  return RunCommand(cmd);
}

bj::value NodeStack::Get(const std::string& path) {
  Result<controlplane::client::ApiResponse> r = admin_->Do("GET", path);
  if (!r.ok() || r->status != 200) return nullptr;
  return r->Json();
}

std::string NodeStack::Logs() const {
  constexpr size_t kTail = 12000;
  return "--- berth agent log (tail):\n" + testing::FileTail(dir_ / "agent.log", kTail) +
         "\n--- berth server log (tail):\n" + testing::FileTail(dir_ / "server.log", kTail) +
         "\n--- containerd log (tail):\n" +
         testing::FileTail(dir_ / "containerd/containerd.log", kTail) + "\n";
}

}  // namespace berth::integration
