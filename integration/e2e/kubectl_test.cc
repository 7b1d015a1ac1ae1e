// Acceptance 2: what kubectl users do with pods on the node, with kubectl
// 1.33 (WebSocket streams) and 1.27 (SPDY): logs (--tail, --timestamps,
// -f, --previous), exec (non-tty with stdin and exit codes, tty), attach,
// port-forward, and describe's events.

#include <regex>

#include "common/file.h"
#include "common/strings.h"
#include "integration/e2e/e2e_fixture.h"
#include "integration/e2e/http_get.h"
#include "integration/e2e/pty_command.h"

namespace berth::e2e {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// A pod printing "line 1" ... "line 5" at once, then one line a second.
constexpr char kTalker[] = R"(
apiVersion: v1
kind: Pod
metadata: {name: talker}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: berth.local/demo:latest
    imagePullPolicy: Never
    command: ["sh", "-c", "for i in 1 2 3 4 5; do echo line $i; done; i=6; while true; do sleep 1; echo line $i; i=$((i+1)); done"]
)";

class KubectlTest : public E2eTest, public ::testing::WithParamInterface<std::string> {
 protected:
  const std::string& version() const { return GetParam(); }
  CommandResult K(const std::vector<std::string>& args, std::string stdin_data = "",
                  milliseconds timeout = seconds(60)) {
    KubectlCall call;
    call.version = version();
    call.stdin_data = std::move(stdin_data);
    call.timeout = timeout;
    return Kubectl(args, call);
  }
  bj::value StartPod(const std::string& manifest, const std::string& name) {
    if (!Apply(manifest)) return nullptr;
    return WaitPod(name, "Running", seconds(30),
                   [](const bj::value& p) { return StringAt(p, "/status/phase") == "Running"; });
  }
};

std::vector<std::string> Lines(const std::string& text) {
  return SplitNonEmpty(text, '\n');
}

TEST_P(KubectlTest, LogsTailTimestampsAndFollow) {
  ASSERT_EQ(StringAt(StartPod(kTalker, "talker"), "/status/phase"), "Running");
  // The first five lines are out at once.
  ASSERT_TRUE(Eventually(seconds(10), [&] {
    return Lines(K({"logs", "talker"}).out).size() >= 5;
  }));

  CommandResult tail = K({"logs", "talker", "--tail=2"});
  ASSERT_EQ(tail.exit_code, 0) << tail.err;
  std::vector<std::string> last = Lines(tail.out);
  ASSERT_EQ(last.size(), 2u) << tail.out;
  std::smatch m1, m2;
  std::regex numbered("line ([0-9]+)");
  ASSERT_TRUE(std::regex_match(last[0], m1, numbered)) << tail.out;
  ASSERT_TRUE(std::regex_match(last[1], m2, numbered)) << tail.out;
  EXPECT_EQ(std::stoi(m2[1]), std::stoi(m1[1]) + 1) << tail.out;

  CommandResult stamped = K({"logs", "talker", "--timestamps", "--tail=3"});
  ASSERT_EQ(stamped.exit_code, 0) << stamped.err;
  std::vector<std::string> stamped_lines = Lines(stamped.out);
  ASSERT_EQ(stamped_lines.size(), 3u) << stamped.out;
  std::regex rfc3339nano(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z line [0-9]+)");
  for (const std::string& line : stamped_lines)
    EXPECT_TRUE(std::regex_match(line, rfc3339nano)) << line;

  // -f keeps streaming: lines written after it started arrive.
  size_t before = Lines(K({"logs", "talker"}).out).size();
  CommandResult follow = K({"logs", "-f", "talker"}, "", milliseconds(4500));
  EXPECT_TRUE(follow.timed_out) << "kubectl logs -f ended by itself: " << follow.Describe()
                                << follow.err;
  EXPECT_NE(follow.out.find("line " + std::to_string(before + 2) + "\n"), std::string::npos)
      << "had " << before << " lines before -f; -f showed:\n"
      << follow.out;
}

TEST_P(KubectlTest, LogsPreviousAfterRestart) {
  // Exits 1 on its first run, then keeps running: --previous shows the
  // first run's output.
  const std::string crasher = R"(
apiVersion: v1
kind: Pod
metadata: {name: crasher}
spec:
  terminationGracePeriodSeconds: 1
  volumes: [{name: d, emptyDir: {}}]
  containers:
  - name: c
    image: berth.local/demo:latest
    imagePullPolicy: Never
    volumeMounts: [{name: d, mountPath: /d}]
    command: ["sh", "-c", "if [ -f /d/once ]; then echo second run; exec sleep 3600; fi; echo > /d/once; echo first run; exit 1"]
)";
  ASSERT_TRUE(Apply(crasher));
  bj::value pod =
      WaitPod("crasher", "restarted once and running", seconds(30), [](const bj::value& p) {
        const bj::value* c = ContainerStatus(p, "c");
        return c != nullptr && IntAt(*c, "/restartCount") == 1 &&
               Field(*c, "/state/running") != nullptr;
      });
  ASSERT_FALSE(HasFailure());
  CommandResult previous = K({"logs", "crasher", "--previous"});
  EXPECT_EQ(previous.exit_code, 0) << previous.err;
  EXPECT_EQ(previous.out, "first run\n");
  EXPECT_TRUE(Eventually(seconds(5), [&] {
    return K({"logs", "crasher"}).out == "second run\n";
  })) << K({"logs", "crasher"}).out;
}

TEST_P(KubectlTest, ExecNonTtyWithStdinAndExitCodes) {
  ASSERT_EQ(StringAt(StartPod(kTalker, "talker"), "/status/phase"), "Running");
  CommandResult failed = K({"exec", "talker", "--", "sh", "-c", "echo out; echo err >&2; exit 3"});
  EXPECT_EQ(failed.exit_code, 3) << failed.Describe() << failed.err;
  EXPECT_EQ(failed.out, "out\n");
  EXPECT_NE(failed.err.find("err\n"), std::string::npos) << failed.err;

  CommandResult ok = K({"exec", "talker", "--", "true"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;

  // stdin reaches the process, and its end closes the process's stdin.
  CommandResult piped = K({"exec", "-i", "talker", "--", "sh", "-c", "cat; echo done"},
                          "piped 1\npiped 2\n", seconds(20));
  EXPECT_FALSE(piped.timed_out) << "stdin's end did not reach the process";
  EXPECT_EQ(piped.exit_code, 0) << piped.err;
  EXPECT_EQ(piped.out, "piped 1\npiped 2\ndone\n");

  CommandResult missing = K({"exec", "talker", "--", "/no/such/binary"});
  EXPECT_NE(missing.exit_code, 0);
}

TEST_P(KubectlTest, ExecTty) {
  ASSERT_EQ(StringAt(StartPod(kTalker, "talker"), "/status/phase"), "Running");
  std::vector<std::string> argv =
      up().KubectlArgv(version(), {"--namespace=" + ns(), "exec", "-ti", "talker", "--", "sh"});
  // The typed text echoes back; only the shell's answers say "tty=yes" and
  // "sum=42".
  Result<PtyResult> r = RunInPty(
      argv, {{"# ", "echo tty=$([ -t 0 ] && echo yes) sum=$((40+2))\r"}, {"sum=42", "exit 4\r"}},
      seconds(30));
  ASSERT_TRUE(r.ok()) << r.error().str();
  EXPECT_FALSE(r->timed_out) << r->output;
  EXPECT_NE(r->output.find("tty=yes sum=42"), std::string::npos) << r->output;
  EXPECT_EQ(r->exit_code, 4) << r->output;
}

TEST_P(KubectlTest, AttachSendsStdinAndShowsOutput) {
  const std::string reader = R"(
apiVersion: v1
kind: Pod
metadata: {name: reader}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: berth.local/demo:latest
    imagePullPolicy: Never
    stdin: true
    command: ["sh", "-c", "echo waiting; read l; echo got $l"]
)";
  ASSERT_EQ(StringAt(StartPod(reader, "reader"), "/status/phase"), "Running");
  CommandResult attached = K({"attach", "-i", "reader", "-c", "c"}, "hello\n", seconds(20));
  EXPECT_FALSE(attached.timed_out) << attached.out << attached.err;
  EXPECT_EQ(attached.exit_code, 0) << attached.err;
  EXPECT_NE(attached.out.find("got hello"), std::string::npos) << attached.out << attached.err;
  bj::value done = WaitPod("reader", "Succeeded", seconds(10), [](const bj::value& p) {
    return StringAt(p, "/status/phase") == "Succeeded";
  });
  EXPECT_EQ(K({"logs", "reader"}).out, "waiting\ngot hello\n");
}

TEST_P(KubectlTest, PortForward) {
  const std::string web = R"(
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: httpd
    image: berth.local/demo:latest
    imagePullPolicy: Never
)";
  ASSERT_EQ(StringAt(StartPod(web, "web"), "/status/phase"), "Running");
  uint16_t local = testing::UnusedPort();
  ASSERT_NE(local, 0);
  std::string log = up().dir() + "/port-forward-" + version() + ".log";
  Result<ChildGuard> forward = testing::SpawnLogged(
      up().KubectlArgv(version(), {"--namespace=" + ns(), "port-forward", "pod/web",
                                   std::to_string(local) + ":8080"}),
      log);
  ASSERT_TRUE(forward.ok()) << forward.error().str();
  Result<HttpAnswer> answer = Error(Errc::kUnavailable, "not tried");
  Eventually(seconds(15), [&] {
    answer = HttpGet("127.0.0.1", local, "/");
    return answer.ok();
  });
  ASSERT_TRUE(answer.ok()) << answer.error().str() << "\n" << ReadFile(log).value_or("");
  EXPECT_EQ(answer->status, 200);
  EXPECT_EQ(answer->body, "hello from berth\n");
  // A second connection through the same forward.
  Result<HttpAnswer> again = HttpGet("127.0.0.1", local, "/index.html");
  ASSERT_TRUE(again.ok()) << again.error().str();
  EXPECT_EQ(again->body, "hello from berth\n");
}

TEST_P(KubectlTest, DescribeShowsEvents) {
  ASSERT_EQ(StringAt(StartPod(kTalker, "talker"), "/status/phase"), "Running");
  std::string described;
  bool all = Eventually(seconds(10), [&] {
    described = K({"describe", "pod", "talker"}).out;
    size_t events = described.find("Events:");
    if (events == std::string::npos) return false;
    std::string tail = described.substr(events);
    for (const char* reason : {"Scheduled", "Pulled", "Created", "Started"}) {
      if (tail.find(reason) == std::string::npos) return false;
    }
    return true;
  });
  EXPECT_TRUE(all) << described;
}

INSTANTIATE_TEST_SUITE_P(Kubectl, KubectlTest, ::testing::Values(kKubectl133, kKubectl127),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = "v" + info.param;
                           for (char& c : name)
                             if (c == '.') c = '_';
                           return name;
                         });

}  // namespace
}  // namespace berth::e2e
