// Lifecycle cases: state, ps, pause/resume, exec, kill, delete, list, the
// error cases containerd's shim relies on, hooks and terminals.

#include <signal.h>
#include <unistd.h>

#include <thread>

#include "common/file.h"
#include "common/strings.h"
#include "integration/priv/cases.h"

namespace berth::priv {
namespace {

namespace bj = boost::json;
using ::testing::AllOf;
using ::testing::Eq;
using ::testing::HasSubstr;
using ::testing::StartsWith;

void Writable(bj::object& config) {
  config["root"].as_object()["readonly"] = false;
}

// The state JSON without what legitimately varies (created, ociVersion):
// "id=... status=... pid=init|0|<other> bundle=... rootfs=... annotations=... owner=...".
std::string Summary(const bj::value& state, pid_t init) {
  if (!state.is_object()) return "no state";
  const bj::object& o = state.as_object();
  auto str = [&](const char* k) -> std::string {
    const bj::value* v = o.if_contains(k);
    if (v == nullptr) return "<absent>";
    if (v->is_string()) return std::string(v->as_string());
    return bj::serialize(*v);
  };
  std::string pid = str("pid");
  if (pid == std::to_string(init)) pid = "init";
  std::string ann = "{}";
  if (const bj::value* a = o.if_contains("annotations"); a != nullptr && a->is_object()) {
    std::map<std::string, std::string> sorted;
    for (const auto& kv : a->as_object())
      sorted[kv.key()] = bj::serialize(kv.value());
    ann.clear();
    for (const auto& [k, v] : sorted)
      ann += (ann.empty() ? "{" : ",") + k + ":" + v;
    ann += "}";
  }
  return "id=" + str("id") + " status=" + str("status") + " pid=" + pid +
         " bundle=" + str("bundle") + " rootfs=" + str("rootfs") + " annotations=" + ann +
         " owner=" + str("owner");
}

// The init's cpu time so far (utime + stime, clock ticks).
uint64_t CpuTicks(pid_t pid) {
  Result<uint64_t> u = ParseInt<uint64_t>(StatField(pid, 14), "utime");
  Result<uint64_t> s = ParseInt<uint64_t>(StatField(pid, 15), "stime");
  return (u.ok() ? *u : 0) + (s.ok() ? *s : 0);
}

bool Progresses(pid_t pid, std::chrono::milliseconds within) {
  uint64_t t0 = CpuTicks(pid);
  return PollUntil([&] { return CpuTicks(pid) > t0; }, within);
}

std::vector<pid_t> PsJson(const Container& c) {
  RunResult r = c.Run({"ps", "--format", "json", c.id()});
  std::vector<pid_t> out;
  boost::system::error_code ec;
  bj::value v = bj::parse(r.out, ec);
  if (ec || !v.is_array()) return out;
  for (const bj::value& p : v.as_array()) {
    if (p.is_int64()) out.push_back(static_cast<pid_t>(p.as_int64()));
  }
  return out;
}

// Waits for a marker file the container writes into its (writable) rootfs.
bool WaitForFile(const std::string& path) {
  return PollUntil([&] { return PathExists(path); }, std::chrono::seconds(5));
}

std::string ReadPidFile(const std::string& path) {
  Result<std::string> t = ReadFile(path);
  return t.ok() ? std::string(Trim(*t)) : "";
}

pid_t ParsePid(const std::string& text) {
  Result<pid_t> p = ParseInt<pid_t>(text, "pid");
  return p.ok() ? *p : 0;
}

// The ns entries of `berth-probe ns` ("<name> -> <link>") compared with the
// init's links as the host sees them.
std::string CompareNs(const std::string& probe_output, pid_t init) {
  std::vector<std::string> diffs;
  int n = 0;
  for (const std::string& line : SplitNonEmpty(probe_output, '\n')) {
    size_t arrow = line.find(" -> ");
    if (arrow == std::string::npos) continue;
    std::string name = line.substr(0, arrow);
    ++n;
    if (line.substr(arrow + 4) != NsLink(init, name)) diffs.push_back(name);
  }
  if (n == 0) return "no namespaces listed";
  return diffs.empty() ? "all same as init" : "differs: " + Join(diffs, ",");
}

Case StateCase() {
  return {.name = "state_lifecycle",
          .args = {"sleep", "100"},
          .configure =
              [](bj::object& c, CaseContext&) {
                c["annotations"] = bj::object{{"org.berth.test/a", "1"}, {"b", "two"}};
              },
          .flow =
              [](Container& c, CaseContext&, Observation& obs) {
                obs["create"] = Outcome(c.Create());
                obs["created"] = Summary(c.State(), c.pid());
                obs["start"] = Outcome(c.Start());
                obs["running"] = Summary(c.State(), c.pid());
                obs["kill"] = Outcome(c.Kill("KILL"));
                obs["exit"] = DescribeStatus(c.WaitExit());
                obs["stopped"] = Summary(c.State(), c.pid());
                obs["delete"] = Outcome(c.Delete());
                obs["deleted"] = c.Status();
              },
          .expect = {{"created",
                      Eq("id=ctr status=created pid=init bundle=<bundle> rootfs=<bundle>/rootfs "
                         "annotations={b:\"two\",org.berth.test/a:\"1\"} owner=")},
                     {"running", HasSubstr(" status=running pid=init ")},
                     {"stopped", HasSubstr(" status=stopped pid=0 ")},
                     {"exit", Eq("signal 9")},
                     {"deleted", Eq("error: container does not exist")}}};
}

Case PsCase() {
  return {.name = "ps",
          .args = {"/bin/sh", "-c", "sleep 100 & sleep 100 & wait"},
          .flow = WhileRunning([](Container& c, CaseContext&, Observation& obs) {
            std::vector<pid_t> pids;
            PollUntil([&] { return (pids = PsJson(c)).size() >= 3; }, std::chrono::seconds(5));
            bool has_init = std::find(pids.begin(), pids.end(), c.pid()) != pids.end();
            bool sorted = std::is_sorted(pids.begin(), pids.end());
            int outside = 0;
            for (pid_t p : pids)
              outside += NsLink(p, "pid") != NsLink(c.pid(), "pid");
            obs["ps_json"] =
                "count=" + std::to_string(pids.size()) + " init=" + (has_init ? "yes" : "no") +
                " sorted=" + (sorted ? "yes" : "no") + " outside=" + std::to_string(outside);
            RunResult table = c.Run({"ps", c.id()});
            std::vector<std::string> lines = SplitNonEmpty(table.out, '\n');
            obs["ps_table"] =
                Outcome(table) + " rows=" + std::to_string(lines.size()) +
                " header=" + (lines.empty() ? "" : Join(SplitNonEmpty(lines[0], ' '), " "));
          }),
          .expect = {{"ps_json", Eq("count=3 init=yes sorted=yes outside=0")},
                     {"ps_table", Eq("ok rows=4 header=UID PID PPID C STIME TTY TIME CMD")}}};
}

Case PauseCase() {
  return {
      .name = "pause_resume",
      .args = {"/bin/sh", "-c", "while :; do :; done"},
      .flow = WhileRunning([](Container& c, CaseContext& ctx, Observation& obs) {
        obs["pause"] = Outcome(c.Pause());
        obs["paused_state"] = c.Status();
        Result<std::string> freezer =
            ReadFile(ctx.cgroups.Dir("/sys/fs/cgroup/freezer", "ctr") + "/freezer.state");
        obs["paused_freezer"] = freezer.ok() ? std::string(Trim(*freezer)) : freezer.error().str();
        obs["paused_progress"] = Progresses(c.pid(), std::chrono::milliseconds(300)) ? "yes" : "no";
        obs["pause_again"] = Outcome(c.Pause());
        obs["exec_paused"] = Outcome(c.Exec({"true"}));
        obs["resume"] = Outcome(c.Resume());
        obs["resumed_state"] = c.Status();
        obs["resumed_progress"] = Progresses(c.pid(), std::chrono::seconds(3)) ? "yes" : "no";
        obs["resume_again"] = Outcome(c.Resume());
      }),
      .expect = {{"pause", Eq("ok")},
                 {"paused_state", Eq("paused")},
                 {"paused_freezer", Eq("FROZEN")},
                 {"paused_progress", Eq("no")},
                 {"pause_again", Eq("exit 1: container not running")},
                 {"exec_paused", Eq("exit 255: exec failed: cannot exec in a paused container "
                                    "(use --ignore-paused to override)")},
                 {"resume", Eq("ok")},
                 {"resumed_state", Eq("running")},
                 {"resumed_progress", Eq("yes")},
                 {"resume_again", Eq("exit 1: container not paused")}}};
}

Case ExecCase() {
  return {.name = "exec",
          .args = {"sleep", "100"},
          .flow = WhileRunning([](Container& c, CaseContext&, Observation& obs) {
            RunResult r = c.Exec({"/bin/sh", "-c", "echo hi; echo e >&2; exit 3"});
            obs["exec"] =
                "exit " + std::to_string(r.exit_code()) + " out=" + r.out + " err=" + r.err;
            r = c.Exec({"/bin/sh", "-c", "id -u; id -g; pwd; echo $X"},
                       {"--user", "1000:1000", "--cwd", "/tmp", "--env", "X=1"});
            obs["exec_options"] = Outcome(r) + " " + r.out;
            r = c.Exec(Probe({"ns"}));
            obs["exec_ns"] = Outcome(r) + " " + CompareNs(r.out, c.pid());
            r = c.Exec(Probe({"caps"}));
            obs["exec_caps"] = r.out;
            r = c.Exec(Probe({"cgroup"}));
            obs["exec_cgroup"] = r.out == ProcFile(c.pid(), "cgroup") ? "same as init" : r.out;
            obs["exec_missing"] = Outcome(c.Exec({"no-such-binary"}));
          }),
          .expect = {{"exec", Eq("exit 3 out=hi\n err=e\n")},
                     {"exec_options", Eq("ok 1000\n1000\n/tmp\n1\n")},
                     {"exec_ns", Eq("ok all same as init")},
                     {"exec_caps", HasSubstr("CapEff:\t0000000020000420\n")},
                     {"exec_cgroup", Eq("same as init")},
                     {"exec_missing",
                      AllOf(StartsWith("exit 255: exec failed: "), HasSubstr("no-such-binary"))}},
          .differences = {{"exec_missing", "the wording of an exec lookup failure is free-form"}}};
}

Case ExecDetachedCase() {
  return {.name = "exec_detached",
          .args = {"sleep", "100"},
          .flow =
              [](Container& c, CaseContext& ctx, Observation& obs) {
                obs["create"] = Outcome(c.Create());
                obs["start"] = Outcome(c.Start());
                std::string pid_file = ctx.scratch + "/exec.pid";
                obs["exec_d"] = Outcome(c.Exec({"sleep", "100"}, {"-d", "--pid-file", pid_file}));
                pid_t p = ParsePid(ReadPidFile(pid_file));
                if (p > 0) ClaimPid(p);
                obs["exec_d_pid"] =
                    p > 0 && ProcessExists(p) ? "alive" : "missing: " + ReadPidFile(pid_file);
                obs["exec_d_pidns"] =
                    NsLink(p, "pid") == NsLink(c.pid(), "pid") ? "same" : "different";
                obs["exec_d_cgroup"] =
                    ProcFile(p, "cgroup") == ProcFile(c.pid(), "cgroup") ? "same" : "different";
                obs["exec_d_in_ps"] = [&] {
                  std::vector<pid_t> pids = PsJson(c);
                  return std::find(pids.begin(), pids.end(), p) != pids.end() ? "yes" : "no";
                }();
                // The pid namespace ends with its init: the exec'd process too.
                obs["kill"] = Outcome(c.Kill("KILL"));
                obs["exit"] = DescribeStatus(c.WaitExit());
                obs["exec_d_exit"] =
                    p > 0 ? DescribeStatus(WaitStatus(p, std::chrono::seconds(5))) : "no pid";
                obs["delete"] = Outcome(c.Delete());
              },
          .expect = {{"exec_d", Eq("ok")},
                     {"exec_d_pid", Eq("alive")},
                     {"exec_d_pidns", Eq("same")},
                     {"exec_d_cgroup", Eq("same")},
                     {"exec_d_in_ps", Eq("yes")},
                     {"exec_d_exit", Eq("signal 9")}}};
}

std::string NormalizePts(std::string text) {
  text = StripCr(std::move(text));
  for (char d = '0'; d <= '9'; ++d)
    text = ReplaceAll(text, std::string("/dev/pts/") + d, "/dev/pts/N");
  return text;
}

// exec -t as containerd's shim runs it (detached, the pty master sent to a
// console socket), and in the foreground.
Case ExecTtyCase() {
  return {.name = "exec_tty",
          .args = {"sleep", "100"},
          .flow = WhileRunning([](Container& c, CaseContext& ctx, Observation& obs) {
            const std::vector<std::string> cmd = {"/bin/sh", "-c",
                                                  "/bin/berth-probe ptsname; tty; exit 5"};
            ConsoleSocket sock(ctx.scratch + "/exec-console.sock");
            UniqueFd master;
            std::thread receiver([&] { master = sock.Accept(std::chrono::seconds(10)); });
            std::string pid_file = ctx.scratch + "/exec.pid";
            RunResult r =
                c.Exec(cmd, {"-t", "-d", "--console-socket", sock.path(), "--pid-file", pid_file});
            receiver.join();
            pid_t pid = ParsePid(ReadPidFile(pid_file));
            if (pid > 0) ClaimPid(pid);
            std::string out = master ? ConsoleSocket::ReadAll(master.get(), std::chrono::seconds(5))
                                     : "no master";
            obs["exec_tty_socket"] = Outcome(r) + " " + NormalizePts(out);
            obs["exec_tty_socket_exit"] =
                pid > 0 ? DescribeStatus(WaitStatus(pid, std::chrono::seconds(5))) : "no pid";
            r = c.Exec(cmd, {"-t"});
            obs["exec_tty_foreground"] = Outcome(r) + " " + NormalizePts(r.out);
          }),
          .expect = {{"exec_tty_socket", Eq("ok tty: /dev/pts/N\n/dev/pts/N\n")},
                     {"exec_tty_socket_exit", Eq("exit 5")}},
          .expect_on = {{"berth-runc",
                         {"exec_tty_foreground", Eq("exit 5 tty: /dev/pts/N\n/dev/pts/N\n")}}},
          .differences = {
              {"exec_tty_foreground",
               "runc needs the caller's controlling terminal (open /dev/tty) for a foreground "
               "exec -t; berth relays the pty to its stdio without one"}}};
}

Case TerminalCase() {
  return {
      .name = "terminal_console_socket",
      .args = {"/bin/sh", "-c",
               "/bin/berth-probe ptsname; stty size; stat -c '%F %t' /dev/console; "
               "ls -l /proc/self/fd/0 | sed 's/.*-> //'; exit 4"},
      .configure =
          [](bj::object& c, CaseContext&) {
            Process(c)["terminal"] = true;
            Process(c)["consoleSize"] = bj::object{{"height", 25}, {"width", 81}};
          },
      .flow =
          [](Container& c, CaseContext& ctx, Observation& obs) {
            ConsoleSocket sock(ctx.scratch + "/console.sock");
            UniqueFd master;
            std::thread receiver([&] { master = sock.Accept(std::chrono::seconds(10)); });
            RunResult created = c.Create({"--console-socket", sock.path()});
            receiver.join();
            obs["create"] = Outcome(created);
            obs["master"] = master ? "received" : "none";
            if (created.exit_code() != 0) return;
            obs["start"] = Outcome(c.Start());
            std::string out =
                master ? ConsoleSocket::ReadAll(master.get(), std::chrono::seconds(5)) : "";
            obs["console"] = NormalizePts(out);
            obs["exit"] = DescribeStatus(c.WaitExit());
            obs["stdout"] = c.Stdout();
            obs["delete"] = Outcome(c.Delete());
          },
      .expect = {{"master", Eq("received")},
                 {"console", Eq("tty: /dev/pts/N\n25 81\ncharacter special file 88\n/dev/pts/N\n")},
                 {"exit", Eq("exit 4")},
                 {"stdout", Eq("")}}};
}

Case KillTermCase() {
  return {
      .name = "kill_default_signal_and_stopped",
      .args = {"/bin/sh", "-c",
               "trap 'exit 7' TERM; touch /tmp/ready; while :; do usleep 20000; done"},
      .configure = [](bj::object& c, CaseContext&) { Writable(c); },
      .flow =
          [](Container& c, CaseContext& ctx, Observation& obs) {
            obs["create"] = Outcome(c.Create());
            obs["start"] = Outcome(c.Start());
            obs["ready"] = WaitForFile(ctx.rootfs + "/tmp/ready") ? "yes" : "no";
            obs["kill"] = Outcome(c.Run({"kill", c.id()}));  // SIGTERM by default
            obs["exit"] = DescribeStatus(c.WaitExit());
            obs["state"] = c.Status();
            obs["kill_stopped"] = Outcome(c.Kill("KILL"));
            obs["kill_all_stopped"] = Outcome(c.Kill("KILL", true));
            obs["exec_stopped"] = Outcome(c.Exec({"true"}));
            obs["start_stopped"] = Outcome(c.Start());
            obs["pause_stopped"] = Outcome(c.Pause());
            obs["resume_stopped"] = Outcome(c.Resume());
            obs["delete"] = Outcome(c.Delete());
          },
      .expect = {{"ready", Eq("yes")},
                 {"kill", Eq("ok")},
                 {"exit", Eq("exit 7")},
                 {"state", Eq("stopped")},
                 {"kill_stopped", Eq("exit 1: container not running")},
                 {"exec_stopped", Eq("exit 255: exec failed: cannot exec in a stopped container")},
                 {"start_stopped", Eq("exit 1: cannot start a container that has stopped")},
                 {"pause_stopped", Eq("exit 1: container not running")},
                 {"delete", Eq("ok")}}};
}

Case KillFormsCase() {
  return {.name = "kill_signal_forms",
          .args = {"/bin/sh", "-c",
                   "trap 'echo usr1' USR1; trap 'exit 8' USR2; touch /tmp/ready; while :; do "
                   "usleep 20000; done"},
          .configure = [](bj::object& c, CaseContext&) { Writable(c); },
          .flow =
              [](Container& c, CaseContext& ctx, Observation& obs) {
                obs["create"] = Outcome(c.Create());
                obs["start"] = Outcome(c.Start());
                obs["ready"] = WaitForFile(ctx.rootfs + "/tmp/ready") ? "yes" : "no";
                obs["kill_SIGUSR1"] = Outcome(c.Kill("SIGUSR1"));
                PollUntil([&] { return c.Stdout().find("usr1") != std::string::npos; },
                          std::chrono::seconds(5));
                obs["kill_bogus"] = Outcome(c.Kill("SIGBOGUS"));
                obs["kill_12"] = Outcome(c.Kill("12"));
                obs["exit"] = DescribeStatus(c.WaitExit());
                obs["stdout"] = c.Stdout();
                obs["delete"] = Outcome(c.Delete());
              },
          .expect = {{"kill_SIGUSR1", Eq("ok")},
                     {"kill_12", Eq("ok")},
                     {"kill_bogus", StartsWith("exit 1: ")},
                     {"exit", Eq("exit 8")},
                     {"stdout", Eq("usr1\n")}}};
}

// Without a pid namespace, killing the init leaves its children: --all
// reaches every process of the container's cgroup.
Case KillAllCase() {
  return {.name = "kill_all_shared_pid_namespace",
          .args = {"/bin/sh", "-c", "sleep 100 & echo $! > /tmp/child; wait"},
          .configure =
              [](bj::object& c, CaseContext&) {
                Writable(c);
                SetNamespaces(c, {"network", "ipc", "uts", "mount"});
              },
          .flow =
              [](Container& c, CaseContext& ctx, Observation& obs) {
                obs["create"] = Outcome(c.Create());
                obs["start"] = Outcome(c.Start());
                WaitForFile(ctx.rootfs + "/tmp/child");
                pid_t child = 0;
                PollUntil(
                    [&] { return (child = ParsePid(ReadPidFile(ctx.rootfs + "/tmp/child"))) > 0; },
                    std::chrono::seconds(5));
                if (child > 0) ClaimPid(child);
                obs["ps_count"] = std::to_string(PsJson(c).size());
                obs["kill_all"] = Outcome(c.Kill("KILL", true));
                obs["exit"] = DescribeStatus(c.WaitExit());
                obs["child_exit"] = child > 0
                                        ? DescribeStatus(WaitStatus(child, std::chrono::seconds(5)))
                                        : "no child";
                obs["delete"] = Outcome(c.Delete());
              },
          .expect = {{"ps_count", Eq("2")},
                     {"kill_all", Eq("ok")},
                     {"exit", Eq("signal 9")},
                     {"child_exit", Eq("signal 9")}}};
}

Case DeleteForceCase(const std::string& name, bool pause) {
  return {.name = name,
          .args = {"sleep", "100"},
          .flow =
              [pause](Container& c, CaseContext& ctx, Observation& obs) {
                obs["create"] = Outcome(c.Create());
                obs["start"] = Outcome(c.Start());
                if (pause) obs["pause"] = Outcome(c.Pause());
                obs["delete_unforced"] = Outcome(c.Delete());
                obs["delete_force"] = Outcome(c.Delete(true));
                obs["exit"] = DescribeStatus(c.WaitExit());
                obs["state"] = c.Status();
                obs["cgroup_dir"] =
                    PathExists(ctx.cgroups.Dir("/sys/fs/cgroup/pids", "ctr")) ? "left" : "removed";
                obs["state_dir"] = PathExists(ctx.session.root() + "/ctr") ? "left" : "removed";
              },
          .expect = {{"delete_unforced",
                      Eq(std::string("exit 1: cannot delete container ctr that is not stopped: ") +
                         (pause ? "paused" : "running"))},
                     {"delete_force", Eq("ok")},
                     {"exit", Eq("signal 9")},
                     {"state", Eq("error: container does not exist")},
                     {"cgroup_dir", Eq("removed")},
                     {"state_dir", Eq("removed")}}};
}

Case DeleteCreatedCase() {
  return {.name = "delete_created",
          .args = {"sleep", "100"},
          .flow =
              [](Container& c, CaseContext&, Observation& obs) {
                obs["create"] = Outcome(c.Create());
                obs["delete"] = Outcome(c.Delete());
                obs["exit"] = DescribeStatus(c.WaitExit());
                obs["state"] = c.Status();
              },
          .expect = {{"delete", Eq("ok")},
                     {"exit", Eq("signal 9")},
                     {"state", Eq("error: container does not exist")}}};
}

std::string ListSummary(const RunResult& r, const std::map<std::string, pid_t>& inits) {
  if (r.exit_code() != 0) return Outcome(r);
  boost::system::error_code ec;
  bj::value v = bj::parse(r.out, ec);
  if (ec) return "bad JSON: " + r.out;
  if (v.is_null()) return "null";
  if (!v.is_array()) return "not an array: " + r.out;
  std::vector<std::string> rows;
  for (const bj::value& item : v.as_array()) {
    std::string id = item.is_object() && item.as_object().contains("id")
                         ? std::string(item.as_object().at("id").as_string())
                         : "";
    auto it = inits.find(id);
    rows.push_back(Summary(item, it == inits.end() ? -1 : it->second));
  }
  return Join(rows, "\n");
}

Case ListCase() {
  return {
      .name = "list",
      .args = {"sleep", "100"},
      .flow =
          [](Container& c, CaseContext& ctx, Observation& obs) {
            obs["list_empty"] = ListSummary(c.Run({"list", "--format", "json"}), {});
            obs["create"] = Outcome(c.Create());
            obs["start"] = Outcome(c.Start());
            // A second container, created only, from a second bundle.
            Bundle second;
            Result<std::string> text = ReadFile(c.bundle() + "/config.json");
            bj::object config = text.ok() ? bj::parse(*text).as_object() : bj::object();
            config["linux"].as_object()["cgroupsPath"] = ctx.cgroups.CgroupsPath("ctr2");
            config["annotations"] = bj::object{{"k", "v"}};
            second.WriteConfig(config);
            Container c2(ctx.session, "ctr2", second.path());
            obs["create2"] = Outcome(c2.Create());
            RunResult json = c.Run({"list", "--format", "json"});
            obs["list_json"] = ReplaceAll(ListSummary(json, {{"ctr", c.pid()}, {"ctr2", c2.pid()}}),
                                          second.path(), "<bundle2>");
            obs["list_quiet"] = c.Run({"list", "-q"}).out;
            RunResult table = c.Run({"list"});
            std::vector<std::string> lines = Split(table.out, '\n');
            obs["list_table_header"] = lines.empty() ? "" : Join(SplitNonEmpty(lines[0], ' '), " ");
            obs["list_table_rows"] = std::to_string(SplitNonEmpty(table.out, '\n').size());
            obs["delete2"] = Outcome(c2.Delete(true));
            obs["kill"] = Outcome(c.Kill("KILL"));
            obs["exit"] = DescribeStatus(c.WaitExit());
            obs["delete"] = Outcome(c.Delete());
            obs["list_after"] = ListSummary(c.Run({"list", "--format", "json"}), {});
          },
      .expect = {{"list_empty", Eq("null")},
                 {"list_json",
                  Eq("id=ctr status=running pid=init bundle=<bundle> rootfs=<bundle>/rootfs "
                     "annotations={} "
                     "owner=root\n"
                     "id=ctr2 status=created pid=init bundle=<bundle2> rootfs=<bundle2>/rootfs "
                     "annotations={k:\"v\"} owner=root")},
                 {"list_quiet", Eq("ctr\nctr2\n")},
                 {"list_table_header", Eq("ID PID STATUS BUNDLE CREATED OWNER")},
                 {"list_table_rows", Eq("3")},
                 {"list_after", Eq("null")}}};
}

Case ErrorsCase() {
  return {
      .name = "error_cases",
      .args = {"sleep", "100"},
      .flow =
          [](Container& c, CaseContext&, Observation& obs) {
            for (const char* verb : {"state", "start", "kill", "delete", "pause", "resume", "ps"}) {
              obs[std::string("missing_") + verb] = Outcome(c.Run({verb, "nope"}));
            }
            obs["missing_exec"] = Outcome(c.Run({"exec", "nope", "true"}));
            obs["missing_delete_force"] = Outcome(c.Run({"delete", "--force", "nope"}));
            obs["invalid_id"] = Outcome(c.Run({"create", "--bundle", c.bundle(), "../x"}));
            obs["create"] = Outcome(c.Create());
            obs["duplicate_id"] = Outcome(c.Run({"create", "--bundle", c.bundle(), c.id()}));
            obs["after_duplicate"] = c.Status();
            obs["resume_created"] = Outcome(c.Resume());
            obs["pause_created"] = Outcome(c.Pause());
            obs["paused_created_state"] = c.Status();
            obs["start_paused"] = Outcome(c.Start());
            obs["resume"] = Outcome(c.Resume());
            obs["resumed_state"] = c.Status();
            obs["start"] = Outcome(c.Start());
            obs["start_twice"] = Outcome(c.Start());
            obs["delete_running"] = Outcome(c.Delete());
            obs["delete_force"] = Outcome(c.Delete(true));
            obs["exit"] = DescribeStatus(c.WaitExit());
          },
      .expect = {{"missing_state", Eq("exit 1: container does not exist")},
                 {"missing_start", Eq("exit 1: container does not exist")},
                 {"missing_kill", Eq("exit 1: container does not exist")},
                 {"missing_delete", Eq("exit 1: container does not exist")},
                 {"missing_exec", Eq("exit 255: exec failed: container does not exist")},
                 {"missing_delete_force", Eq("ok")},
                 {"invalid_id",
                  StartsWith("exit 1: <runtime> create failed: invalid container ID format")},
                 {"duplicate_id",
                  Eq("exit 1: <runtime> create failed: container with given ID already exists")},
                 {"after_duplicate", Eq("created")},
                 {"resume_created", Eq("exit 1: container not paused")},
                 {"pause_created", Eq("ok")},
                 {"paused_created_state", Eq("paused")},
                 {"start_paused", Eq("exit 1: cannot start a container in the paused state")},
                 {"resumed_state", Eq("created")},
                 {"start", Eq("ok")},
                 {"start_twice", Eq("exit 1: cannot start an already running container")},
                 {"delete_running",
                  Eq("exit 1: cannot delete container ctr that is not stopped: running")},
                 {"exit", Eq("signal 9")},
                 {"delete_force", Eq("ok")}},
      .differences = {{"invalid_id", "berth names the rejected id after runc's wording"}}};
}

// Each hook appends "<n>-<phase>" to a directory shared with the
// container (bind-mounted at /hooks for startContainer, which runs inside),
// with the state it got on stdin.
bj::object Hook(const std::string& dir, const std::string& phase) {
  std::string script = "d=" + dir +
                       "; [ -d \"$d\" ] || d=/hooks; n=$(ls \"$d\" | wc -l); cat > \"$d/$n-" +
                       phase + "\"";
  return bj::object{{"path", "/bin/sh"},
                    {"args", JsonStrings({"sh", "-c", script})},
                    {"env", JsonStrings({"PATH=/usr/sbin:/usr/bin:/sbin:/bin"})}};
}

struct HookRecord {
  std::string phase;
  std::string state;  // Summary() of the state it got on stdin
};

std::vector<HookRecord> HookRecords(const std::string& dir, pid_t init) {
  std::vector<std::pair<int, std::string>> sorted;
  Result<std::vector<std::string>> names = ListDir(dir);
  for (const std::string& n : names.ok() ? *names : std::vector<std::string>{}) {
    sorted.emplace_back(ParseInt<int>(n.substr(0, n.find('-')), "n").value_or(-1), n);
  }
  std::sort(sorted.begin(), sorted.end());
  std::vector<HookRecord> out;
  for (const auto& [index, name] : sorted) {
    Result<std::string> text = ReadFile(dir + "/" + name);
    boost::system::error_code ec;
    bj::value v = bj::parse(text.ok() ? *text : "", ec);
    out.push_back({name.substr(name.find('-') + 1), ec ? "bad JSON" : Summary(v, init)});
  }
  return out;
}

std::string Phases(const std::vector<HookRecord>& records) {
  std::vector<std::string> names;
  names.reserve(records.size());
  for (const HookRecord& r : records)
    names.push_back(r.phase);
  return Join(names, " ");
}

Case HooksCase() {
  static const std::vector<std::string> kPhases = {
      "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"};
  return {
      .name = "hooks",
      .args = {"/bin/sh", "-c", "ls /hooks"},
      .configure =
          [](bj::object& c, CaseContext& ctx) {
            std::string dir = ctx.scratch + "/hooks";
            (void)MkdirAll(dir);
            AddMount(c, "/hooks", "bind", dir, {"rbind", "rw"});
            c["annotations"] = bj::object{{"hook.test", "yes"}};
            bj::object hooks;
            for (const std::string& phase : kPhases)
              hooks[phase] = bj::array{Hook(dir, phase)};
            c["hooks"] = std::move(hooks);
          },
      .flow =
          [](Container& c, CaseContext& ctx, Observation& obs) {
            std::string dir = ctx.scratch + "/hooks";
            obs["create"] = Outcome(c.Create());
            obs["after_create"] = Phases(HookRecords(dir, c.pid()));
            obs["start"] = Outcome(c.Start());
            obs["after_start"] = Phases(HookRecords(dir, c.pid()));
            obs["exit"] = DescribeStatus(c.WaitExit());
            // What the user process found: the hooks that ran before it.
            std::vector<std::string> seen;
            for (const std::string& f : SplitNonEmpty(c.Stdout(), '\n'))
              seen.push_back(f.substr(f.find('-') + 1));
            obs["before_process"] = Join(seen, " ");
            obs["delete"] = Outcome(c.Delete());
            std::vector<HookRecord> records = HookRecords(dir, c.pid());
            obs["order"] = Phases(records);
            std::vector<std::string> ran;
            ran.reserve(records.size());
            for (const HookRecord& r : records)
              ran.push_back(r.phase);
            std::sort(ran.begin(), ran.end());
            obs["ran"] = Join(ran, " ");
            for (const HookRecord& r : records)
              obs["state_" + r.phase] = ReplaceAll(r.state, " rootfs=<absent>", "");
          },
      .expect = {{"after_create", ::testing::StartsWith("prestart createRuntime createContainer")},
                 {"ran",
                  Eq("createContainer createRuntime poststart poststop prestart startContainer")},
                 {"state_prestart", Eq("id=ctr status=creating pid=init bundle=<bundle> "
                                       "annotations={hook.test:\"yes\"} owner=<absent>")},
                 {"state_createRuntime", HasSubstr(" status=creating pid=init ")},
                 {"state_createContainer", HasSubstr(" status=creating ")},
                 {"state_startContainer", HasSubstr(" status=created ")},
                 {"state_poststop", Eq("id=ctr status=stopped pid=<absent> bundle=<bundle> "
                                       "annotations={hook.test:\"yes\"} owner=<absent>")}},
      .expect_on =
          {{"berth-runc", {"after_create", Eq("prestart createRuntime createContainer")}},
           {"berth-runc",
            {"after_start", Eq("prestart createRuntime createContainer startContainer poststart")}},
           {"berth-runc",
            {"before_process", Eq("prestart createRuntime createContainer startContainer")}},
           {"berth-runc", {"order", Eq(Join(kPhases, " "))}},
           {"berth-runc", {"state_createContainer", HasSubstr(" pid=init ")}},
           {"berth-runc", {"state_startContainer", HasSubstr(" pid=init ")}},
           {"berth-runc", {"state_poststart", HasSubstr(" status=running pid=init ")}}},
      // runtime.md: poststart hooks run "after the user-specified
      // process is executed but before the start operation returns",
      // with the state's pid "as seen by the host". runc 1.1.5 runs
      // them at the end of `create` (with status "created"; runc 1.2
      // moved them), and passes the container-side hooks the init's
      // pid in its own namespace (1).
      .differences = {{"after_create", "runc 1.1.5 runs poststart at the end of create"},
                      {"after_start", "runc 1.1.5 runs poststart at the end of create"},
                      {"before_process", "runc 1.1.5 runs poststart at the end of create"},
                      {"order", "runc 1.1.5 runs poststart at the end of create"},
                      {"state_createContainer", "runc passes the namespaced pid (1)"},
                      {"state_startContainer", "runc passes the namespaced pid (1)"},
                      {"state_poststart", "runc passes status created to poststart"}}};
}

// `spec`: the default config both runtimes write (the suite's base).
Case SpecCase() {
  return {
      .name = "spec_default_config",
      .args = {"true"},
      .flow =
          [](Container& c, CaseContext& ctx, Observation& obs) {
            obs["spec"] = Outcome(c.Run({"spec", "--bundle", ctx.scratch}));
            Result<std::string> text = ReadFile(ctx.scratch + "/config.json");
            boost::system::error_code ec;
            bj::value v = bj::parse(text.ok() ? *text : "", ec);
            if (ec || !v.is_object()) return;
            bj::object& o = v.as_object();
            obs["spec_hostname"] = bj::serialize(o["hostname"]);
            std::vector<std::string> types;
            for (const bj::value& n : o["linux"].as_object()["namespaces"].as_array()) {
              types.emplace_back(n.as_object().at("type").as_string());
            }
            obs["spec_namespaces"] = Join(types, " ");
            o.erase("ociVersion");
            o.erase("hostname");
            o["linux"].as_object().erase("namespaces");
            obs["spec_rest"] = bj::serialize(o);
          },
      .expect = {{"spec", Eq("ok")},
                 {"spec_namespaces", StartsWith("pid network ipc uts mount")},
                 {"spec_rest",
                  AllOf(HasSubstr("\"terminal\":true"), HasSubstr("\"args\":[\"sh\"]"),
                        HasSubstr("\"readonly\":true"), HasSubstr("\"noNewPrivileges\":true"))}},
      .differences = {
          {"spec_hostname", "the default hostname names the runtime"},
          {"spec_namespaces", "berth's default adds a cgroup namespace, as runc 1.2's does"}}};
}

}  // namespace

std::vector<Case> LifecycleCases() {
  std::vector<Case> cases;
  cases.push_back(StateCase());
  cases.push_back(PsCase());
  cases.push_back(PauseCase());
  cases.push_back(ExecCase());
  cases.push_back(ExecDetachedCase());
  cases.push_back(ExecTtyCase());
  cases.push_back(TerminalCase());
  cases.push_back(KillTermCase());
  cases.push_back(KillFormsCase());
  cases.push_back(KillAllCase());
  cases.push_back(DeleteForceCase("delete_force_running", false));
  cases.push_back(DeleteForceCase("delete_force_paused", true));
  cases.push_back(DeleteCreatedCase());
  cases.push_back(ListCase());
  cases.push_back(ErrorsCase());
  cases.push_back(HooksCase());
  cases.push_back(SpecCase());
  return cases;
}

}  // namespace berth::priv
