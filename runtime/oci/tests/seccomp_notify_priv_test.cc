// linux.seccomp.listenerPath end to end: berth-runc hands the notify
// listener to an agent (this test), which answers the container's mkdir.

#include <gtest/gtest.h>
#include <seccomp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <thread>

#include "common/file.h"
#include "common/process.h"
#include "common/testing/testkit.h"
#include "common/unix_socket.h"

namespace berth {
namespace {

struct Received {
  std::string state;
  UniqueFd listener;
};

// Accepts one connection and takes the JSON message and the fd it carries.
Received AcceptListener(int server) {
  UniqueFd conn(::accept4(server, nullptr, nullptr, SOCK_CLOEXEC));
  if (!conn) return {};
  Result<ReceivedMessage> msg = ReceiveMessage(conn.get(), 65536, "seccomp agent socket");
  if (!msg.ok()) return {};
  return {std::move(msg->payload), std::move(msg->fd)};
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

  Result<UniqueFd> listening = ListenUnix(socket_path, "seccomp agent socket", 1);
  ASSERT_TRUE(listening.ok()) << listening.error().str();
  int server = listening->get();
  Received got;
  std::thread agent([&] {
    got = AcceptListener(server);
    if (got.listener) AnswerWithExdev(got.listener.get());
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
