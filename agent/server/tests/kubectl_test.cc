// The real clients: kubectl 1.27 (SPDY) and 1.33 (WebSocket; SPDY for
// port-forward after its WebSocket attempt is refused) through berth's
// apiserver and its kubelet proxy to the kubelet API of the test bed.

#include <sys/wait.h>

#include <thread>

#include "agent/server/tests/kubelet_fixture.h"

namespace berth::agent::testing {
namespace {

class KubectlTest : public KubeletServerTest, public ::testing::WithParamInterface<std::string> {
 protected:
  std::string kubectl() {
    std::string k = Kubectl(GetParam());
    return k;
  }
};

TEST_P(KubectlTest, Logs) {
  std::string k = kubectl();
  BERTH_REQUIRE(!k.empty(), "kubectl." + GetParam() + " in " + kKubectlDir);
  CommandResult r = RunKubectl(k, {"logs", "p", "-c", "c"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "new 1\nnew 2\nnew 3\n");
  r = RunKubectl(k, {"logs", "p", "-c", "c", "--previous"});
  EXPECT_EQ(r.out, "old line 1\nold line 2\n") << r.err;
  r = RunKubectl(k, {"logs", "p", "-c", "c", "--tail=1", "--timestamps"});
  EXPECT_EQ(r.out, "2023-11-14T22:14:03.500000000Z new 3\n") << r.err;
  // The kubelet's 400 reaches kubectl as an error (berth's apiserver relays
  // the kubelet's text as is, so kubectl cannot show the message itself).
  r = RunKubectl(k, {"logs", "p", "-c", "e"});
  EXPECT_NE(r.exit_code, 0);
}

TEST_P(KubectlTest, LogsFollowUntilTheContainerExits) {
  std::string k = kubectl();
  BERTH_REQUIRE(!k.empty(), "kubectl." + GetParam() + " in " + kKubectlDir);
  std::string out = root_dir_ / "follow.out";
  Result<ChildGuard> child = berth::testing::SpawnLogged(
      {k, "--kubeconfig", server_->admin_kubeconfig(), "logs", "-f", "p", "-c", "c", "--tail=1"},
      out);
  ASSERT_TRUE(child.ok()) << child.error().str();
  auto wait_for = [&](const std::string& want) {
    for (auto deadline = std::chrono::steady_clock::now() + 20s;
         std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(20ms)) {
      if (ReadFile(out).value_or("") == want) return true;
    }
    return false;
  };
  EXPECT_TRUE(wait_for("new 3\n")) << ReadFile(out).value_or("");
  std::string log = logs_dir_.path() + "/default_p_" + uid_ + "/c/1.log";
  {
    UniqueFd fd = Open(log, O_WRONLY | O_APPEND).value();
    ASSERT_TRUE(WriteAll(fd.get(), "2023-11-14T22:15:00Z stdout F more\n", "log").ok());
  }
  EXPECT_TRUE(wait_for("new 3\nmore\n")) << ReadFile(out).value_or("");
  runtime_->SetState("c-new", v1::CONTAINER_EXITED, 0);
  int status = 0;
  pid_t done = 0;
  for (auto deadline = std::chrono::steady_clock::now() + 20s;
       done == 0 && std::chrono::steady_clock::now() < deadline;
       std::this_thread::sleep_for(20ms)) {
    done = ::waitpid(child->get(), &status, WNOHANG);
  }
  ASSERT_EQ(done, child->get()) << "kubectl logs -f did not end after the container exited";
  child->release();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << ReadFile(out).value_or("");
}

// Through berth's apiserver: its kubelet proxy must also drain the TLS
// records Asio has already read (BIO_ctrl_pending on the read BIO, not only
// SSL_pending) or SPDY sessions stall once the kubelet sends a burst.
TEST_P(KubectlTest, ExecAttachAndPortForward) {
  std::string k = kubectl();
  BERTH_REQUIRE(!k.empty(), "kubectl." + GetParam() + " in " + kKubectlDir);
  CommandResult r = RunKubectl(
      k, {"exec", "p", "-c", "c", "--", "/bin/sh", "-c", "echo out; echo err >&2; exit 3"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_EQ(r.out, "out\n");
  EXPECT_NE(r.err.find("err\n"), std::string::npos) << r.err;
  r = RunKubectl(k, {"exec", "-i", "p", "-c", "c", "--", "/bin/cat"}, "through stdin\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "through stdin\n");

  ASSERT_TRUE(backend_->StartContainer("c-new", {"/bin/cat"}, false).ok());
  r = RunKubectl(k, {"attach", "-i", "p", "-c", "c"}, "to the main process\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "to the main process\n");

  cri::streaming::testing::EchoServer echo;
  uint16_t local = berth::testing::UnusedPort();
  std::string out = root_dir_ / "forward.out";
  Result<ChildGuard> child = berth::testing::SpawnLogged(
      {k, "--kubeconfig", server_->admin_kubeconfig(), "port-forward", "--address", "127.0.0.1",
       "pod/p", std::to_string(local) + ":" + std::to_string(echo.port())},
      out);
  ASSERT_TRUE(child.ok());
  bool listening = false;
  for (auto deadline = std::chrono::steady_clock::now() + 20s;
       !listening && std::chrono::steady_clock::now() < deadline;
       std::this_thread::sleep_for(20ms)) {
    listening = ReadFile(out).value_or("").find("Forwarding from") != std::string::npos;
  }
  ASSERT_TRUE(listening) << ReadFile(out).value_or("");
  Result<UniqueFd> conn = berth::testing::ConnectLoopback(local);
  ASSERT_TRUE(conn.ok());
  ASSERT_TRUE(berth::testing::SendAll(conn->get(), "ping"));
  std::string got;
  char buf[64];
  timeval tv{10, 0};
  ::setsockopt(conn->get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  while (got.size() < 4) {
    ssize_t n = ::recv(conn->get(), buf, sizeof buf, 0);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  EXPECT_EQ(got, "ping") << ReadFile(out).value_or("");
  ASSERT_FALSE(backend_->forwards().empty());
  EXPECT_EQ(backend_->forwards().back(), std::make_pair(std::string("s1"), int32_t{echo.port()}));
}

INSTANTIATE_TEST_SUITE_P(Versions, KubectlTest, ::testing::Values("1.27", "1.33"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n)
                             if (c == '.') c = '_';
                           return "kubectl_" + n;
                         });

}  // namespace
}  // namespace berth::agent::testing
