// Interop with the real client: kubectl (client-go: spdystream for SPDY,
// gorilla/websocket for v5) talks to a minimal fake apiserver on loopback
// which, like the apiserver + kubelet pair, turns pods/exec and
// pods/portforward requests into CRI requests (Server::GetExec ...) and
// proxies the upgraded connection to the streaming URL.
//
// kubectl 1.27 execs over SPDY; 1.33 over WebSocket v5 and port-forwards by
// trying a WebSocket tunnel first (which we refuse with 403, so it falls
// back to SPDY, as against a kubelet).

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <mutex>
#include <thread>

#include "common/process.h"
#include "common/strings.h"
#include "common/testing/testkit.h"
#include "runtime/cri/streaming/server.h"
#include "runtime/cri/streaming/tests/test_backend.h"

namespace berth::cri::streaming {
namespace {

using namespace std::chrono_literals;

const char* kKubectlDir = "/usr/lib/google-cloud-sdk/bin/";

std::string UrlDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else if (s[i] == '+') {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

// Copies bytes both ways until both directions reached EOF.
void Splice(int a, int b) {
  bool a_open = true, b_open = true;
  char buf[65536];
  while (a_open || b_open) {
    pollfd fds[2] = {{a, static_cast<short>(a_open ? POLLIN : 0), 0},
                     {b, static_cast<short>(b_open ? POLLIN : 0), 0}};
    if (::poll(fds, 2, 30000) <= 0) break;
    for (int i = 0; i < 2; ++i) {
      if (!fds[i].revents) continue;
      int from = i == 0 ? a : b;
      int to = i == 0 ? b : a;
      ssize_t n = ::recv(from, buf, sizeof buf, 0);
      if (n <= 0) {
        ::shutdown(to, SHUT_WR);
        (i == 0 ? a_open : b_open) = false;
        continue;
      }
      if (!berth::testing::SendAll(to, std::string_view(buf, static_cast<size_t>(n)))) {
        a_open = b_open = false;
      }
    }
  }
}

class FakeApiServer {
 public:
  explicit FakeApiServer(Server& streaming) : streaming_(streaming) {
    Result<UniqueFd> listener = berth::testing::ListenLoopback(&port_);
    listen_fd_ = listener.ok() ? listener->release() : -1;
    acceptor_ = std::thread([this] {
      while (true) {
        int c = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (c < 0) break;
        std::lock_guard lock(mu_);
        workers_.emplace_back([this, c] {
          Serve(c);
          ::close(c);
        });
      }
    });
  }
  ~FakeApiServer() {
    ::shutdown(listen_fd_, SHUT_RDWR);
    acceptor_.join();
    ::close(listen_fd_);
    std::vector<std::thread> workers;
    {
      std::lock_guard lock(mu_);
      workers.swap(workers_);
    }
    for (auto& w : workers)
      w.join();
  }
  uint16_t port() const { return port_; }
  std::vector<std::string> upgrades() {
    std::lock_guard lock(mu_);
    return upgrades_;
  }

 private:
  void Respond(int fd, int status, const std::string& body) {
    std::string head = "HTTP/1.1 " + std::to_string(status) + (status == 200 ? " OK" : " Error") +
                       "\r\nContent-Type: application/json\r\nConnection: close\r\n"
                       "Content-Length: " +
                       std::to_string(body.size()) + "\r\n\r\n";
    berth::testing::SendAll(fd, head + body);
  }

  void Serve(int fd) {
    std::string buf;
    char chunk[8192];
    size_t end;
    while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
      ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) return;
      buf.append(chunk, static_cast<size_t>(n));
    }
    std::string head = buf.substr(0, end + 2);
    std::string rest = buf.substr(end + 4);
    std::string line = head.substr(0, head.find("\r\n"));
    auto parts = Split(line, ' ');
    if (parts.size() < 2) return;
    std::string method = parts[0];
    std::string target = parts[1];
    std::string path = target.substr(0, target.find('?'));
    std::string query =
        target.find('?') == std::string::npos ? "" : target.substr(target.find('?') + 1);
    std::vector<std::string> header_lines = Split(head.substr(head.find("\r\n") + 2), '\n');

    const std::string pod_path = "/api/v1/namespaces/default/pods/p";
    if (path == "/api") {
      return Respond(fd, 200,
                     R"({"kind":"APIVersions","versions":["v1"],)"
                     R"("serverAddressByClientCIDRs":[]})");
    }
    if (path == "/apis") {
      return Respond(fd, 200, R"({"kind":"APIGroupList","apiVersion":"v1","groups":[]})");
    }
    if (path == "/api/v1") {
      return Respond(
          fd, 200,
          R"({"kind":"APIResourceList","groupVersion":"v1","resources":[)"
          R"({"name":"pods","singularName":"pod","namespaced":true,"kind":"Pod",)"
          R"("verbs":["get","list"],"shortNames":["po"]},)"
          R"({"name":"pods/exec","singularName":"","namespaced":true,"kind":"PodExecOptions","verbs":["create","get"]},)"
          R"({"name":"pods/portforward","singularName":"","namespaced":true,"kind":"PodPortForwardOptions","verbs":["create","get"]}]})");
    }
    if (path == pod_path && method == "GET") {
      return Respond(
          fd, 200,
          R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"default",)"
          R"("uid":"u1"},"spec":{"containers":[{"name":"c","image":"busybox"}]},)"
          R"("status":{"phase":"Running","containerStatuses":[{"name":"c","ready":true,)"
          R"("restartCount":0,"image":"busybox","imageID":"","state":{"running":{}}}]}})");
    }
    Result<std::string> url = Error(Errc::kNotFound, "no route");
    if (path == pod_path + "/exec") {
      ExecRequest req{"c1", {}, false, false, false, false};
      for (const auto& kv : Split(query, '&')) {
        auto eq = kv.find('=');
        std::string k = kv.substr(0, eq);
        std::string v = eq == std::string::npos ? "" : UrlDecode(kv.substr(eq + 1));
        bool on = v == "true" || v == "1";
        if (k == "command") req.cmd.push_back(v);
        if (k == "stdin") req.stdin = on;
        if (k == "stdout") req.stdout = on;
        if (k == "stderr") req.stderr = on;
        if (k == "tty") req.tty = on;
      }
      if (req.tty) req.stderr = false;  // kubelet: "bypassing stderr"
      url = streaming_.GetExec(req);
    } else if (path == pod_path + "/portforward") {
      url = streaming_.GetPortForward({"sb1", {}});
    }
    if (!url.ok()) return Respond(fd, 404, R"({"kind":"Status","status":"Failure","code":404})");

    // Proxy the (upgrade) request to the streaming URL, like the apiserver's
    // UpgradeAwareHandler does to kubelet's redirect.
    std::string rest_url = url->substr(std::string("http://").size());
    std::string hostport = rest_url.substr(0, rest_url.find('/'));
    std::string new_path = rest_url.substr(rest_url.find('/'));
    {
      std::lock_guard lock(mu_);
      for (const auto& h : header_lines) {
        if (h.rfind("Upgrade:", 0) == 0 || h.rfind("upgrade:", 0) == 0) {
          upgrades_.push_back(std::string(Trim(h.substr(8))));
        }
      }
    }
    Result<UniqueFd> upstream = berth::testing::ConnectLoopback(
        static_cast<uint16_t>(std::stoi(hostport.substr(hostport.rfind(':') + 1))));
    if (!upstream.ok()) return;
    int up = upstream->release();
    std::string forwarded = method + " " + new_path + " HTTP/1.1\r\n" +
                            head.substr(head.find("\r\n") + 2) + "\r\n" + rest;
    berth::testing::SendAll(up, forwarded);
    Splice(fd, up);
    ::close(up);
  }

  Server& streaming_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<std::thread> workers_;
  std::vector<std::string> upgrades_;
};

class KubectlInteropTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    kubectl_ = std::string(kKubectlDir) + "kubectl." + GetParam();
    BERTH_REQUIRE(::access(kubectl_.c_str(), X_OK) == 0, kubectl_ + " is not installed");
    backend_ = std::make_shared<testing::TestBackend>();
    server_ = std::make_unique<Server>(backend_);
    ASSERT_TRUE(server_->Start("127.0.0.1:0").ok());
    api_ = std::make_unique<FakeApiServer>(*server_);
    std::ofstream(tmp_ / "config")
        << "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: "
           "http://127.0.0.1:"
        << api_->port()
        << "\ncontexts:\n- name: x\n  context:\n    cluster: c\n    user: u\n    namespace: "
           "default\ncurrent-context: x\nusers:\n- name: u\n  user: {}\n";
  }

  Command Kubectl(std::vector<std::string> args) {
    Command cmd;
    cmd.argv = {kubectl_, "--kubeconfig=" + tmp_ / "config", "--cache-dir=" + tmp_ / "cache"};
    cmd.argv.insert(cmd.argv.end(), args.begin(), args.end());
    cmd.env = std::vector<std::string>{"HOME=" + tmp_.path(), "PATH=/usr/bin:/bin"};
    cmd.timeout = 60s;
    return cmd;
  }

  berth::testing::TempDir tmp_{"berth-kubectl"};
  std::string kubectl_;
  std::shared_ptr<testing::TestBackend> backend_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<FakeApiServer> api_;
};

TEST_P(KubectlInteropTest, ExecReportsOutputAndExitCode) {
  auto r =
      RunCommand(Kubectl({"exec", "p", "--", "/bin/sh", "-c", "echo out; echo err >&2; exit 3"}));
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(r->exit_code, 3) << r->err;
  EXPECT_EQ(r->out, "out\n");
  EXPECT_NE(r->err.find("err\n"), std::string::npos) << r->err;
  EXPECT_NE(r->err.find("command terminated with exit code 3"), std::string::npos) << r->err;
}

TEST_P(KubectlInteropTest, ExecForwardsStdinUntilEof) {
  Command cmd = Kubectl({"exec", "-i", "p", "--", "/bin/sh", "-c", "cat; echo end"});
  cmd.stdin_data = std::string(200000, 'z') + "\n";
  auto r = RunCommand(cmd);
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_EQ(r->exit_code, 0) << r->err;
  std::string want = std::string(200000, 'z') + "\nend\n";
  EXPECT_EQ(r->out.size(), want.size());
  auto diff = std::mismatch(want.begin(), want.end(), r->out.begin(), r->out.end());
  EXPECT_TRUE(r->out == want) << "first difference at byte " << (diff.first - want.begin())
                              << ": got \"" << r->out.substr(diff.first - want.begin(), 40)
                              << "\"; stderr: " << r->err;
}

TEST_P(KubectlInteropTest, PortForwardEchoes) {
  testing::EchoServer echo;
  int out[2];
  ASSERT_EQ(::pipe2(out, O_CLOEXEC), 0);
  Command c = Kubectl({"port-forward", "pod/p", ":" + std::to_string(echo.port())});
  std::vector<char*> argv;
  for (auto& a : c.argv)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env = *c.env;
  std::vector<char*> envp;
  for (auto& e : env)
    envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::dup2(out[1], 1);
    ::dup2(out[1], 2);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  ChildGuard guard(pid);
  ::close(out[1]);
  // "Forwarding from 127.0.0.1:NNNN -> PORT"
  std::string text;
  int local = 0;
  char buf[4096];
  for (int i = 0; i < 300 && local == 0; ++i) {
    pollfd p{out[0], POLLIN, 0};
    if (::poll(&p, 1, 100) > 0) {
      ssize_t n = ::read(out[0], buf, sizeof buf);
      if (n <= 0) break;
      text.append(buf, static_cast<size_t>(n));
    }
    auto at = text.find("Forwarding from 127.0.0.1:");
    if (at != std::string::npos) local = std::atoi(text.c_str() + at + 26);
  }
  ASSERT_NE(local, 0) << text;
  for (const std::string msg : {"hello", "again"}) {
    Result<UniqueFd> conn = berth::testing::ConnectLoopback(static_cast<uint16_t>(local));
    ASSERT_TRUE(conn.ok()) << conn.error().str();
    int s = conn->release();
    berth::testing::SendAll(s, msg);
    std::string got;
    while (got.size() < msg.size()) {
      pollfd p{s, POLLIN, 0};
      if (::poll(&p, 1, 10000) <= 0) break;
      ssize_t n = ::recv(s, buf, sizeof buf, 0);
      if (n <= 0) break;
      got.append(buf, static_cast<size_t>(n));
    }
    EXPECT_EQ(got, msg) << text;
    ::close(s);
  }
  ::kill(pid, SIGTERM);
  (void)WaitPid(guard.release());
  ::close(out[0]);
  auto fwd = backend_->forwards();
  EXPECT_EQ(fwd.size(), 2u);
}

INSTANTIATE_TEST_SUITE_P(Versions, KubectlInteropTest, ::testing::Values("1.27", "1.33"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (auto& c : n) {
                             if (c == '.') c = '_';
                           }
                           return "kubectl_" + n;
                         });

}  // namespace
}  // namespace berth::cri::streaming
