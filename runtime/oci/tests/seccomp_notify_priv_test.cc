// linux.seccomp.listenerPath end to end: berth-runc hands the notify
// listener to an agent (this test), which answers the container's mkdir.

#include <gtest/gtest.h>
#include <seccomp.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cstring>
#include <thread>

#include "common/file.h"
#include "common/process.h"
#include "common/testing/testkit.h"

namespace berth {
namespace {

struct Received {
  std::string state;
  int listener = -1;
};

// Accepts one connection and takes the JSON message and the fd it carries.
Received AcceptListener(int server) {
  Received got;
  int conn = ::accept4(server, nullptr, nullptr, SOCK_CLOEXEC);
  if (conn < 0) return got;
  char buf[65536];
  iovec iov{buf, sizeof buf};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n = ::recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
  ::close(conn);
  if (n <= 0) return got;
  got.state.assign(buf, static_cast<size_t>(n));
  if (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr && c->cmsg_type == SCM_RIGHTS) {
    std::memcpy(&got.listener, CMSG_DATA(c), sizeof(int));
  }
  return got;
}

// Answers every notification on `listener` with -EXDEV until it closes.
void AnswerWithExdev(int listener) {
  seccomp_notif* req = nullptr;
  seccomp_notif_resp* resp = nullptr;
  if (seccomp_notify_alloc(&req, &resp) != 0) return;
  while (seccomp_notify_receive(listener, req) == 0) {
    resp->id = req->id;
    resp->error = -EXDEV;
    resp->val = 0;
    resp->flags = 0;
    if (seccomp_notify_respond(listener, resp) != 0) break;
  }
  seccomp_notify_free(req, resp);
}

TEST(SeccompNotify, ListenerGetsStateAndAnswersTheContainer) {
  BERTH_REQUIRE(testing::IsRoot(), "needs root");
  std::string rootfs = testing::BuiltBinary("integration/fixtures/busybox-rootfs");
  BERTH_REQUIRE(PathExists(rootfs + "/bin/berth-probe"),
                "fixture rootfs (target berth_fixture_rootfs)");
  testing::TempDir dir("berth-notify");
  std::string socket_path = dir / "agent.sock";

  int server = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(server, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, socket_path.c_str(), sizeof addr.sun_path - 1);
  ASSERT_EQ(::bind(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(server, 1), 0);
  Received got;
  std::thread agent([&] {
    got = AcceptListener(server);
    if (got.listener >= 0) AnswerWithExdev(got.listener);
  });

  ASSERT_TRUE(MkdirAll(dir / "bundle").ok());
  Command spec;
  spec.argv = {testing::BuiltBinary("cmd/berth-runc"), "spec", "--bundle", dir / "bundle"};
  ASSERT_TRUE(RunCommand(spec)->success());
  boost::json::value config = boost::json::parse(*ReadFile(dir / "bundle/config.json"));
  config.at("root").as_object()["path"] = rootfs;
  config.at("process").as_object()["terminal"] = false;
  config.at("process").as_object()["args"] =
      boost::json::array{"berth-probe", "seccomp-mkdir", "/dev/shm/x"};
  config.at("linux").as_object()["seccomp"] = boost::json::object{
      {"defaultAction", "SCMP_ACT_ALLOW"},
      {"listenerPath", socket_path},
      {"listenerMetadata", "agent-metadata"},
      {"syscalls",
       boost::json::array{boost::json::object{{"names", boost::json::array{"mkdir", "mkdirat"}},
                                              {"action", "SCMP_ACT_NOTIFY"}}}}};
  ASSERT_TRUE(WriteFile(dir / "bundle/config.json", boost::json::serialize(config)).ok());

  Command run;
  run.argv = {testing::BuiltBinary("cmd/berth-runc"),
              "--root",
              dir / "state",
              "run",
              "--bundle",
              dir / "bundle",
              "notify-" + std::to_string(::getpid())};
  run.timeout = std::chrono::seconds(60);
  auto result = RunCommand(run);
  ::shutdown(server, SHUT_RDWR);
  agent.join();
  ::close(server);
  if (got.listener >= 0) ::close(got.listener);

  ASSERT_TRUE(result.ok()) << result.error().str();
  // berth-probe exits 1 when the probed operation fails, as mkdir must.
  EXPECT_EQ(result->exit_code, 1) << result->Describe() << "\n" << result->out << result->err;
  EXPECT_NE(result->out.find("EXDEV"), std::string::npos) << result->out;
  ASSERT_FALSE(got.state.empty());
  boost::json::object state = boost::json::parse(got.state).as_object();
  EXPECT_EQ(state.at("fds").as_array().at(0).as_string(), "seccompFd");
  EXPECT_EQ(state.at("metadata").as_string(), "agent-metadata");
  EXPECT_GT(state.at("pid").as_int64(), 0);
  EXPECT_EQ(state.at("state").as_object().at("status").as_string(), "creating");
}

}  // namespace
}  // namespace berth
