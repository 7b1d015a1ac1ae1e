#pragma once
// The fixture of the CRI suite: a `berth cri` per test with the CNI setup
// under test (Debian's plugins or berth-cni-bridge) and the busybox image
// pulled from a docker-registry shared by the suite, plus the calls tests
// make through the gRPC stubs.

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/file.h"
#include "common/process.h"
#include "common/testing/testkit.h"
#include "integration/cri/cri_calls.h"
#include "integration/cri/cri_daemon.h"
#include "integration/priv/harness/host.h"
#include "runtime/image/registry/tests/registry_process.h"

namespace berth::integration {

using namespace std::chrono_literals;

enum class Cni { kDebianPlugins, kBerthBridge };

std::string CniName(const ::testing::TestParamInfo<Cni>& info);

// The registry and the image, shared by the whole suite.
struct SharedImage {
  testing::TempDir dir{"berth-cri-registry"};
  std::unique_ptr<image::registry::testing::RegistryProcess> registry;
  std::string image;  // 127.0.0.1:<port>/test/busybox:latest
  std::string error;
};
SharedImage& Image();

class CriPodTest : public ::testing::TestWithParam<Cni> {
 protected:
  void SetUp() override {
    BERTH_REQUIRE(testing::IsRoot(), "root");
    BERTH_REQUIRE(PathExists("/usr/bin/docker-registry") && PathExists("/usr/bin/umoci") &&
                      PathExists("/usr/bin/skopeo"),
                  "docker-registry, umoci and skopeo (run .ci/setup)");
    BERTH_REQUIRE(PathExists("/usr/lib/cni/bridge"), "containernetworking-plugins");
    ASSERT_TRUE(Image().error.empty()) << Image().error;
    ASSERT_TRUE(MkdirAll(dir_ / "net.d", 0755).ok());
    ASSERT_TRUE(WriteFileAtomic(dir_ / "net.d/10-test.conflist", Conflist()).ok());
    // The registry speaks plain HTTP: say so (containerd's hosts.toml), so
    // that pulls do not first wait for a TLS handshake to fail.
    std::string host = Image().registry->host();
    ASSERT_TRUE(MkdirAll(dir_ / ("certs.d/" + host), 0755).ok());
    ASSERT_TRUE(WriteFileAtomic(dir_ / ("certs.d/" + host + "/hosts.toml"),
                                "server = \"http://" + host + "\"\n")
                    .ok());
    auto links = RunCommand({{"ip", "-o", "link", "show", "type", "veth"}});
    veths_before_ = links.ok() ? links->out : std::string("ip link failed");
    CriDaemonOptions o;
    o.dir = dir_.path();
    o.cni_conf_dir = dir_ / "net.d";
    o.cni_bin_dirs = {testing::BuiltBinary("cni/bridge"), "/usr/lib/cni"};
    auto cri = CriDaemon::Start(o);
    ASSERT_TRUE(cri.ok()) << cri.error().str();
    cri_ = std::move(*cri);
    grpc::ClientContext ctx;
    v1::PullImageRequest pull;
    pull.mutable_image()->set_image(Image().image);
    v1::PullImageResponse pulled;
    grpc::Status s = cri_->images().PullImage(Ctx(ctx), pull, &pulled);
    ASSERT_TRUE(s.ok()) << s.error_message();
    image_id_ = pulled.image_ref();
  }

  void TearDown() override {
    if (!cri_) return;
    for (const std::string& id : sandboxes_) {
      grpc::Status s = Calls().RemovePod(id);
      EXPECT_TRUE(s.ok()) << "RemovePodSandbox " << id << ": " << s.error_message();
    }
    if (HasFailure()) std::fprintf(stderr, "berth cri log:\n%s\n", cri_->Log().c_str());
    cri_->Stop();
  }

  std::string Conflist() const {
    if (GetParam() == Cni::kDebianPlugins) {
      return R"({"cniVersion":"1.0.0","name":"berth-test","plugins":[
        {"type":"bridge","bridge":"cni-bt0","isGateway":true,"ipMasq":false,"hairpinMode":true,
         "ipam":{"type":"host-local","ranges":[[{"subnet":"10.88.7.0/24"}]],
                 "routes":[{"dst":"0.0.0.0/0"}],"dataDir":")" +
             dir_ / "ipam" + R"("}},
        {"type":"portmap","capabilities":{"portMappings":true}},
        {"type":"loopback"}]})";
    }
    return R"({"cniVersion":"1.0.0","name":"berth-test","plugins":[
      {"type":"berth-cni-bridge","bridge":"berth-bt0","isGateway":true,"isDefaultGateway":true,
       "hairpinMode":true,"ipam":{"subnet":"10.89.7.0/24","dataDir":")" +
           dir_ / "ipam" + R"("},"capabilities":{"portMappings":true}}]})";
  }

  v1::PodSandboxConfig PodConfig(const std::string& name) {
    v1::PodSandboxConfig c;
    c.mutable_metadata()->set_name(name);
    c.mutable_metadata()->set_namespace_("default");
    c.mutable_metadata()->set_uid("uid-" + name);
    c.set_hostname(name);
    c.set_log_directory(dir_ / ("logs/" + name));
    (*c.mutable_labels())["app"] = name;
    // Below the test's own cgroup (berth cri's cgroup root), in a tree the
    // test removes: never at a hierarchy's root.
    c.mutable_linux()->set_cgroup_parent("/" + cgroups_.name());
    return c;
  }

  std::string RunPod(const v1::PodSandboxConfig& config) {
    std::string id = Calls().RunPod(config);
    if (!id.empty()) sandboxes_.push_back(id);
    return id;
  }

  v1::ContainerConfig ContainerConfig(const std::string& name, std::vector<std::string> args) {
    v1::ContainerConfig c;
    c.mutable_metadata()->set_name(name);
    c.mutable_image()->set_image(Image().image);
    for (const std::string& a : args)
      c.add_args(a);
    c.set_log_path(name + "/0.log");
    return c;
  }

  grpc::Status Create(const std::string& pod, const v1::PodSandboxConfig& pod_config,
                      const v1::ContainerConfig& config, std::string* id) {
    return Calls().Create(pod, pod_config, config, id);
  }
  std::string StartContainer(const std::string& pod, const v1::PodSandboxConfig& pod_config,
                             const v1::ContainerConfig& config) {
    return Calls().CreateAndStart(pod, pod_config, config);
  }
  // A pod named `pod_name` running `cat` with stdin open: the container's id
  // ("" on failure).
  std::string StartStdinCat(const std::string& pod_name) {
    v1::PodSandboxConfig pod = PodConfig(pod_name);
    v1::ContainerConfig cat = ContainerConfig("cat", {"cat"});
    cat.set_stdin(true);
    return StartContainer(RunPod(pod), pod, cat);
  }
  v1::ContainerStatus Status(const std::string& id) { return Calls().ContainerStatus(id); }
  v1::ContainerStatus WaitExited(const std::string& id) {
    return Calls().WaitExited(id, 20s, 50ms);
  }
  v1::PodSandboxStatus PodStatus(const std::string& id) { return Calls().PodStatus(id); }
  CriCalls Calls() { return CriCalls(&cri_->runtime(), 60s); }

  testing::TempDir dir_{"berth-cri-test"};
  priv::CgroupTree cgroups_;  // pods' cgroup parent; removed on destruction
  std::unique_ptr<CriDaemon> cri_;
  std::string image_id_;
  std::vector<std::string> sandboxes_;
  std::string veths_before_;  // `ip -o link show type veth` before the test
};

}  // namespace berth::integration
