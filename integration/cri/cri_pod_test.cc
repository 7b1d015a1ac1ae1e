// `berth cri` driven over its socket as kubelet drives a CRI runtime (label
// priv): pods of busybox containers pulled from a local docker-registry, on
// two CNI setups — Debian's plugins (bridge + host-local + portmap +
// loopback) and berth-cni-bridge. Everything runs in the namespaces
// cri_main.cc made for the test.

#include <arpa/inet.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "common/file.h"
#include "common/process.h"
#include "common/strings.h"
#include "common/testing/testkit.h"
#include "integration/cri/cri_fixture.h"

namespace berth::integration {
namespace {

TEST_P(CriPodTest, TwoContainersTalkOverLocalhostAndLogInCriFormat) {
  v1::PodSandboxConfig pod = PodConfig("talk");
  std::string sandbox = RunPod(pod);
  ASSERT_FALSE(sandbox.empty());
  std::string server = StartContainer(
      sandbox, pod,
      ContainerConfig("server", {"sh", "-c", "echo pong | nc -w 1 -l -p 7777; echo served"}));
  std::string client = StartContainer(
      sandbox, pod,
      ContainerConfig("client",
                      {"sh", "-c",
                       "for i in 1 2 3 4 5 6 7 8 9 10; do nc -w 1 127.0.0.1 7777 && exit 0; "
                       "sleep 0.3; done; echo no server >&2; exit 1"}));
  ASSERT_FALSE(server.empty());
  ASSERT_FALSE(client.empty());
  v1::ContainerStatus cs = WaitExited(client);
  EXPECT_EQ(cs.state(), v1::CONTAINER_EXITED);
  EXPECT_EQ(cs.exit_code(), 0);
  EXPECT_EQ(cs.reason(), "Completed");
  EXPECT_EQ(cs.image_ref(), image_id_);
  EXPECT_GT(cs.started_at(), 0);
  EXPECT_GE(cs.finished_at(), cs.started_at());
  std::vector<std::string> lines = LogLines(cs.log_path());
  ASSERT_FALSE(lines.empty()) << cs.log_path();
  EXPECT_EQ(lines[0], "stdout F pong");
  v1::ContainerStatus ss = WaitExited(server);
  EXPECT_EQ(ss.exit_code(), 0);
  EXPECT_EQ(LogLines(ss.log_path()), std::vector<std::string>{"stdout F served"});
}

TEST_P(CriPodTest, ExecSyncReturnsOutputAndExitCode) {
  v1::PodSandboxConfig pod = PodConfig("exec");
  std::string sandbox = RunPod(pod);
  std::string c = StartContainer(sandbox, pod, ContainerConfig("sleeper", {"sleep", "1000"}));
  ASSERT_FALSE(c.empty());
  grpc::ClientContext ctx;
  v1::ExecSyncRequest req;
  req.set_container_id(c);
  for (const char* a : {"sh", "-c", "echo out; echo err >&2; hostname; exit 3"})
    req.add_cmd(a);
  req.set_timeout(10);
  v1::ExecSyncResponse resp;
  grpc::Status s = cri_->runtime().ExecSync(Ctx(ctx), req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.exit_code(), 3);
  EXPECT_EQ(resp.stdout(), "out\nexec\n");
  EXPECT_EQ(resp.stderr(), "err\n");

  grpc::ClientContext slow_ctx;
  v1::ExecSyncRequest slow;
  slow.set_container_id(c);
  for (const char* a : {"sleep", "30"})
    slow.add_cmd(a);
  slow.set_timeout(1);
  auto start = std::chrono::steady_clock::now();
  s = cri_->runtime().ExecSync(Ctx(slow_ctx), slow, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << s.error_message();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
}

TEST_P(CriPodTest, StopContainerHonoursTheGracePeriod) {
  v1::PodSandboxConfig pod = PodConfig("stop");
  std::string sandbox = RunPod(pod);
  std::string polite =
      StartContainer(sandbox, pod,
                     ContainerConfig("polite", {"sh", "-c",
                                                "trap 'echo got TERM; exit 0' TERM; echo ready; "
                                                "while true; do sleep 0.1; done"}));
  std::string stubborn = StartContainer(
      sandbox, pod,
      ContainerConfig("stubborn", {"sh", "-c", "trap '' TERM; echo ready; sleep 1000"}));
  std::this_thread::sleep_for(500ms);  // both have installed their traps
  auto stop = [&](const std::string& id, int64_t timeout) {
    grpc::ClientContext ctx;
    v1::StopContainerRequest req;
    req.set_container_id(id);
    req.set_timeout(timeout);
    v1::StopContainerResponse resp;
    auto start = std::chrono::steady_clock::now();
    grpc::Status s = cri_->runtime().StopContainer(Ctx(ctx), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return std::chrono::steady_clock::now() - start;
  };
  EXPECT_LT(stop(polite, 10), 5s);
  v1::ContainerStatus p = Status(polite);
  EXPECT_EQ(p.state(), v1::CONTAINER_EXITED);
  EXPECT_EQ(p.exit_code(), 0);
  EXPECT_EQ(LogLines(p.log_path()).back(), "stdout F got TERM");

  auto waited = stop(stubborn, 2);
  EXPECT_GE(waited, 2s);
  EXPECT_LT(waited, 8s);
  v1::ContainerStatus s = Status(stubborn);
  EXPECT_EQ(s.state(), v1::CONTAINER_EXITED);
  EXPECT_EQ(s.exit_code(), 137);
  EXPECT_EQ(s.reason(), "Error");
}

// Connects from the test's netns to ip:port and reads what the pod says.
std::string ReadFromPod(const std::string& ip, int port) {
  for (int attempt = 0; attempt < 50; ++attempt) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    ::inet_pton(AF_INET, ip.c_str(), &addr.sin_addr);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
      std::string got;
      char buf[256];
      pollfd p{fd, POLLIN, 0};
      while (::poll(&p, 1, 2000) > 0) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) break;
        got.append(buf, static_cast<size_t>(n));
      }
      ::close(fd);
      if (!got.empty()) return got;
    } else {
      ::close(fd);
    }
    std::this_thread::sleep_for(100ms);
  }
  return "";
}

TEST_P(CriPodTest, PodIpIsReachableFromTheTestNetns) {
  v1::PodSandboxConfig pod = PodConfig("reach");
  std::string sandbox = RunPod(pod);
  std::string c = StartContainer(
      sandbox, pod,
      ContainerConfig("web",
                      {"sh", "-c", "while true; do echo hello-from-pod | nc -l -p 8080; done"}));
  ASSERT_FALSE(c.empty());
  v1::PodSandboxStatus st = PodStatus(sandbox);
  EXPECT_EQ(st.state(), v1::SANDBOX_READY);
  ASSERT_FALSE(st.network().ip().empty());
  EXPECT_EQ(ReadFromPod(st.network().ip(), 8080), "hello-from-pod\n");
}

TEST_P(CriPodTest, RemovePodSandboxLeavesNothing) {
  v1::PodSandboxConfig pod = PodConfig("leak");
  std::string sandbox = RunPod(pod);
  std::string c = StartContainer(sandbox, pod, ContainerConfig("sleeper", {"sleep", "1000"}));
  ASSERT_FALSE(c.empty());
  // This suite's tests share the test's netns: compare with what was there.
  auto veths = [] {
    auto links = RunCommand({{"ip", "-o", "link", "show", "type", "veth"}});
    return links.ok() ? links->out : std::string("ip link failed");
  };
  std::string veths_before_pod = veths_before_;
  std::string netns = cri_->run_root() + "/netns";
  std::string shims = cri_->run_root() + "/s";
  ASSERT_FALSE(ListDir(netns).value_or({}).empty());
  ASSERT_FALSE(ListDir(shims).value_or({}).empty());
  ASSERT_FALSE(ListDir(cri_->run_root() + "/sandboxes").value_or({}).empty());
  ASSERT_FALSE(ListDir(cri_->run_root() + "/containers").value_or({}).empty());
  Result<std::string> shim_pid_text = ReadFile(shims + "/" + sandbox.substr(0, 16) + "/shim.pid");
  ASSERT_TRUE(shim_pid_text.ok()) << shim_pid_text.error().str();
  pid_t shim_pid = std::stoi(*shim_pid_text);

  grpc::ClientContext ctx;
  v1::RemovePodSandboxRequest req;
  req.set_pod_sandbox_id(sandbox);
  v1::RemovePodSandboxResponse resp;
  grpc::Status s = cri_->runtime().RemovePodSandbox(Ctx(ctx), req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  sandboxes_.clear();

  // The shim is gone (a zombie at most: its parent is PID 1, which reaps lazily here).
  std::string stat = ReadFile("/proc/" + std::to_string(shim_pid) + "/stat").value_or("");
  EXPECT_TRUE(stat.empty() || stat.find(") Z ") != std::string::npos) << stat;
  EXPECT_TRUE(ListDir(netns).value_or({}).empty()) << "netns pins left";
  EXPECT_TRUE(ListDir(shims).value_or({}).empty()) << "shim state left";
  EXPECT_TRUE(ListDir(cri_->root() + "/cri/sandboxes").value_or({}).empty());
  EXPECT_TRUE(ListDir(cri_->root() + "/cri/containers").value_or({}).empty());
  EXPECT_TRUE(ListDir(cri_->run_root() + "/runc").value_or({}).empty()) << "runtime state left";
  EXPECT_TRUE(ListDir(cri_->run_root() + "/sandboxes").value_or({}).empty()) << "pod files left";
  EXPECT_TRUE(ListDir(cri_->run_root() + "/containers").value_or({}).empty()) << "bundles left";
  // No veth left on the host side, no address reserved.
  EXPECT_EQ(veths(), veths_before_pod);
  std::vector<std::string> reserved;
  for (const std::string& net : ListDir(dir_ / "ipam").value_or({})) {
    for (const std::string& f : ListDir(dir_ / ("ipam/" + net)).value_or({})) {
      if (f.find('.') != std::string::npos && f.find("last_reserved") == std::string::npos &&
          f != "lock") {
        reserved.push_back(f);
      }
    }
  }
  EXPECT_TRUE(reserved.empty()) << Join(reserved, ", ");
  // No mount under the test's directories.
  std::string mounts = ReadFile("/proc/self/mountinfo").value_or("");
  EXPECT_EQ(mounts.find(dir_.path()), std::string::npos) << mounts;
  // No cgroup named after the pod or the container.
  for (const std::string& id : {sandbox, c}) {
    auto found = RunCommand({{"find", "/sys/fs/cgroup", "-name", id}});
    ASSERT_TRUE(found.ok());
    EXPECT_EQ(found->out, "") << "cgroup left for " << id;
  }
  EXPECT_TRUE(cgroups_.Contents().empty()) << "cgroups left below the pods' parent";
  // The removal is idempotent.
  grpc::ClientContext again;
  EXPECT_TRUE(cri_->runtime().RemovePodSandbox(Ctx(again), req, &resp).ok());
}

TEST_P(CriPodTest, BadInputIsRefusedWithoutPartialState) {
  v1::PodSandboxConfig pod = PodConfig("bad");
  std::string sandbox = RunPod(pod);
  std::string id;
  grpc::Status s = Create("0123456789abcdef-unknown", pod, ContainerConfig("x", {"true"}), &id);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << s.error_message();
  EXPECT_NE(s.error_message().find("0123456789abcdef-unknown"), std::string::npos);

  v1::ContainerConfig bad_image = ContainerConfig("badimage", {"true"});
  bad_image.mutable_image()->set_image("Invalid//Reference::");
  s = Create(sandbox, pod, bad_image, &id);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_NE(s.error_message().find("Invalid//Reference::"), std::string::npos);

  v1::ContainerConfig seccomp = ContainerConfig("seccomp", {"true"});
  auto* profile = seccomp.mutable_linux()->mutable_security_context()->mutable_seccomp();
  profile->set_profile_type(v1::SecurityProfile::Localhost);
  profile->set_localhost_ref(dir_ / "missing-profile.json");
  s = Create(sandbox, pod, seccomp, &id);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << s.error_message();
  EXPECT_NE(s.error_message().find("missing-profile.json"), std::string::npos);

  grpc::ClientContext ctx;
  v1::ListContainersRequest list;
  v1::ListContainersResponse listed;
  ASSERT_TRUE(cri_->runtime().ListContainers(Ctx(ctx), list, &listed).ok());
  EXPECT_EQ(listed.containers_size(), 0);
  EXPECT_TRUE(ListDir(cri_->root() + "/cri/containers").value_or({}).empty());
}

TEST_P(CriPodTest, RestartKeepsContainersAndReportsMissedExits) {
  v1::PodSandboxConfig pod = PodConfig("restart");
  std::string sandbox = RunPod(pod);
  std::string ticker =
      StartContainer(sandbox, pod,
                     ContainerConfig("ticker", {"sh", "-c",
                                                "i=0; while true; do echo tick $i; i=$((i+1)); "
                                                "sleep 0.2; done"}));
  std::string brief = StartContainer(
      sandbox, pod, ContainerConfig("brief", {"sh", "-c", "read x < /dev/null; sleep 2; exit 7"}));
  ASSERT_FALSE(ticker.empty());
  ASSERT_FALSE(brief.empty());
  auto list = [&] {
    grpc::ClientContext ctx;
    v1::ListContainersRequest req;
    v1::ListContainersResponse resp;
    EXPECT_TRUE(cri_->runtime().ListContainers(Ctx(ctx), req, &resp).ok());
    std::vector<std::string> ids;
    for (const auto& c : resp.containers())
      ids.push_back(c.id());
    std::sort(ids.begin(), ids.end());
    grpc::ClientContext pctx;
    v1::ListPodSandboxRequest preq;
    v1::ListPodSandboxResponse presp;
    EXPECT_TRUE(cri_->runtime().ListPodSandbox(Ctx(pctx), preq, &presp).ok());
    for (const auto& p : presp.items())
      ids.push_back("pod:" + p.id());
    return ids;
  };
  std::vector<std::string> before = list();
  std::string pid_before =
      ReadFile(cri_->run_root() + "/runc/" + ticker + "/state.json").value_or("");
  cri_->Kill();
  // `brief` exits while berth cri is down; the shim records it.
  std::this_thread::sleep_for(2500ms);
  ASSERT_TRUE(cri_->Restart().ok());
  EXPECT_EQ(list(), before);
  // Same process: the runtime's state (with the init pid) is untouched.
  EXPECT_EQ(ReadFile(cri_->run_root() + "/runc/" + ticker + "/state.json").value_or(""),
            pid_before);
  EXPECT_EQ(Status(ticker).state(), v1::CONTAINER_RUNNING);
  v1::ContainerStatus b = WaitExited(brief);
  EXPECT_EQ(b.exit_code(), 7);
  // Logs continue across the restart.
  std::string log = Status(ticker).log_path();
  size_t lines = LogLines(log).size();
  std::this_thread::sleep_for(1s);
  EXPECT_GT(LogLines(log).size(), lines);
}

TEST_P(CriPodTest, StatsCountTheContainersUsage) {
  v1::PodSandboxConfig pod = PodConfig("stats");
  std::string sandbox = RunPod(pod);
  std::string c =
      StartContainer(sandbox, pod,
                     ContainerConfig("busy", {"sh", "-c",
                                              "dd if=/dev/zero of=/tmp/f bs=1k count=512; "
                                              "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; "
                                              "sleep 1000"}));
  ASSERT_FALSE(c.empty());
  std::this_thread::sleep_for(1500ms);
  grpc::ClientContext ctx;
  v1::ContainerStatsRequest req;
  req.set_container_id(c);
  v1::ContainerStatsResponse resp;
  grpc::Status s = cri_->runtime().ContainerStats(Ctx(ctx), req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.stats().attributes().id(), c);
  EXPECT_GT(resp.stats().cpu().usage_core_nano_seconds().value(), 0u);
  EXPECT_GT(resp.stats().memory().working_set_bytes().value(), 0u);
  EXPECT_GE(resp.stats().writable_layer().used_bytes().value(), 512u * 1024);

  grpc::ClientContext lctx;
  v1::ListPodSandboxStatsRequest lreq;
  v1::ListPodSandboxStatsResponse lresp;
  ASSERT_TRUE(cri_->runtime().ListPodSandboxStats(Ctx(lctx), lreq, &lresp).ok());
  ASSERT_EQ(lresp.stats_size(), 1);
  EXPECT_EQ(lresp.stats(0).attributes().id(), sandbox);
  EXPECT_EQ(lresp.stats(0).linux().containers_size(), 1);
  EXPECT_GT(lresp.stats(0).linux().cpu().usage_core_nano_seconds().value(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Cni, CriPodTest, ::testing::Values(Cni::kDebianPlugins, Cni::kBerthBridge),
                         CniName);

}  // namespace
}  // namespace berth::integration
