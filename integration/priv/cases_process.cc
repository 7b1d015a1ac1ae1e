// Process-level cases: what the container process gets (exit code, stdio,
// ids, environment, cwd, rlimits, oom_score_adj, capabilities, names).

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

bj::object Rlimit(const std::string& type, uint64_t soft, uint64_t hard) {
  return bj::object{{"type", type}, {"soft", soft}, {"hard", hard}};
}

// Our own limit: the containers inherit it, and raising above it needs
// CAP_SYS_RESOURCE, which this host lacks.
std::string OwnOomScoreAdj() {
  Result<std::string> text = ReadFile("/proc/self/oom_score_adj");
  return text.ok() ? std::string(Trim(*text)) : "?";
}

}  // namespace

// Where runc's create fails and berth's succeeds (for `why`), every later
// facet differs too.
std::map<std::string, std::string> RuncCreateFailed(const std::string& why) {
  std::map<std::string, std::string> d{{"create", why}};
  for (const char* facet : {"start", "exit", "stdout", "stderr", "state", "delete"})
    d[facet] = "runc's create failed";
  return d;
}

std::vector<Case> ProcessCases() {
  std::vector<Case> cases;
  cases.push_back({.name = "exit_code",
                   .args = Probe({"exit", "7"}),
                   .expect = {{"create", Eq("ok")},
                              {"start", Eq("ok")},
                              {"exit", Eq("exit 7")},
                              {"state", Eq("stopped")},
                              {"delete", Eq("ok")}}});
  cases.push_back(
      {.name = "stdio",
       .args = {"/bin/sh", "-c", "echo out; echo err >&2"},
       .expect = {{"stdout", Eq("out\n")}, {"stderr", Eq("err\n")}, {"exit", Eq("exit 0")}}});
  // Without a pid namespace: a namespace's init ignores signals it has no
  // handler for, even its own.
  cases.push_back({.name = "killed_by_signal",
                   .args = {"/bin/sh", "-c", "kill -USR1 $$; sleep 5"},
                   .configure =
                       [](bj::object& c, CaseContext&) {
                         SetNamespaces(c, {"network", "ipc", "uts", "mount"});
                       },
                   .expect = {{"exit", Eq("signal 10")}}});
  cases.push_back(
      {.name = "path_lookup", .args = {"sh", "-c", "echo $0"}, .expect = {{"stdout", Eq("sh\n")}}});
  cases.push_back(
      {.name = "missing_executable",
       .args = {"no-such-binary"},
       .expect = {{"create", AllOf(StartsWith("exit 1: "), HasSubstr("no-such-binary"))}},
       .differences = {{"create", "the wording of an exec lookup failure is free-form"}}});
  cases.push_back(
      {.name = "default_capabilities",
       .args = Probe({"caps"}),
       .expect = {{"stdout", Eq("CapInh:\t0000000000000000\nCapPrm:\t0000000020000420\n"
                                "CapEff:\t0000000020000420\nCapBnd:\t0000000020000420\n"
                                "CapAmb:\t0000000000000000\nNoNewPrivs:\t1\nSeccomp:\t0\n")}}});
  cases.push_back(
      {.name = "no_new_privileges_off",
       .args = {"/bin/sh", "-c", "grep NoNewPrivs /proc/self/status"},
       .configure = [](bj::object& c, CaseContext&) { Process(c)["noNewPrivileges"] = false; },
       .expect = {{"stdout", Eq("NoNewPrivs:\t0\n")}}});
  cases.push_back(
      {.name = "hostname_domainname",
       .args = {"/bin/sh", "-c", "hostname; cat /proc/sys/kernel/domainname"},
       .configure =
           [](bj::object& c, CaseContext&) {
             c["hostname"] = "conf-host";
             c["domainname"] = "conf.example";
           },
       .expect = {{"stdout", StartsWith("conf-host\n")}},
       .expect_on = {{"berth-runc", {"stdout", Eq("conf-host\nconf.example\n")}}},
       // config.md: domainname "specifies the container's domainname";
       // runc 1.1.5 predates support for it and leaves "(none)".
       .differences = {{"stdout", "runc 1.1.5 ignores domainname (OCI config.md defines it)"}}});
  cases.push_back(
      {.name = "user_and_groups",
       .args = Probe({"uidgid"}),
       .configure =
           [](bj::object& c, CaseContext&) {
             Process(c)["user"] = bj::object{{"uid", 1000},
                                             {"gid", 1000},
                                             {"additionalGids", bj::array{1001, 2002}},
                                             {"umask", 023}};
           },
       .expect = {{"stdout", Eq("uid=1000 euid=1000 suid=1000\ngid=1000 egid=1000 sgid=1000\n"
                                "groups=1001,2002\numask=0023\n")}}});
  cases.push_back(
      {.name = "user_env_home",
       .args = Probe({"printenv"}),
       .configure =
           [](bj::object& c, CaseContext&) {
             Process(c)["user"] = bj::object{{"uid", 1000}, {"gid", 1000}};
             Process(c)["env"] = JsonStrings({"PATH=/bin:/usr/bin", "FOO=bar", "EMPTY="});
           },
       .expect = {{"stdout", AllOf(HasSubstr("PATH=/bin:/usr/bin\n"), HasSubstr("FOO=bar\n"),
                                   HasSubstr("EMPTY=\n"), HasSubstr("HOME=/tmp\n"))}}});
  cases.push_back({.name = "root_env_home",
                   .args = Probe({"printenv"}),
                   .expect = {{"stdout", HasSubstr("HOME=/root\n")}}});
  cases.push_back({.name = "cwd",
                   .args = Probe({"cwd"}),
                   .configure = [](bj::object& c, CaseContext&) { Process(c)["cwd"] = "/tmp"; },
                   .expect = {{"stdout", Eq("/tmp\n")}}});
  cases.push_back(
      {.name = "cwd_created_when_missing",
       .args = Probe({"cwd"}),
       .configure = [](bj::object& c, CaseContext&) { Process(c)["cwd"] = "/work/dir"; },
       .expect = {{"create", Eq("ok")}, {"stdout", Eq("/work/dir\n")}}});
  cases.push_back(
      {.name = "rlimits_lowered",
       .args = {"/bin/sh", "-c", "/bin/berth-probe rlimits | grep -E '_(NOFILE|CORE|NPROC) '"},
       .configure =
           [](bj::object& c, CaseContext&) {
             Process(c)["rlimits"] =
                 bj::array{Rlimit("RLIMIT_NOFILE", 512, 1000), Rlimit("RLIMIT_CORE", 0, 0),
                           Rlimit("RLIMIT_NPROC", 100, 200)};
           },
       .expect = {
           {"stdout", Eq("RLIMIT_CORE 0 0\nRLIMIT_NOFILE 512 1000\nRLIMIT_NPROC 100 200\n")}}});
  // runc fails the create (prlimit EPERM without CAP_SYS_RESOURCE); berth
  // clamps to the current hard limit and warns (runtime/oci/security
  // README, "Clamping"): an intended, documented difference.
  cases.push_back(
      {.name = "rlimit_raise_without_cap_sys_resource",
       .args = {"/bin/sh", "-c", "ulimit -Hn"},
       .configure =
           [](bj::object& c, CaseContext&) {
             Process(c)["rlimits"] = bj::array{Rlimit("RLIMIT_NOFILE", 4096, 1u << 30)};
           },
       .expect = {{"cgroups_left", Eq("")}},
       .expect_on = {{"runc", {"create", AllOf(StartsWith("exit 1: "), HasSubstr("rlimit"))}},
                     {"berth-runc", {"create", Eq("ok")}},
                     {"berth-runc", {"stderr", Eq("")}}},
       .differences = RuncCreateFailed("berth clamps rlimit raises without CAP_SYS_RESOURCE")});
  cases.push_back(
      {.name = "oom_score_adj_raised",
       .args = {"/bin/sh", "-c", "cat /proc/self/oom_score_adj"},
       .configure = [](bj::object& c, CaseContext&) { Process(c)["oomScoreAdj"] = 500; },
       .expect = {{"stdout", Eq("500\n")}}});
  cases.push_back(
      {.name = "oom_score_adj_lowered_without_cap_sys_resource",
       .args = {"/bin/sh", "-c", "cat /proc/self/oom_score_adj"},
       .configure = [](bj::object& c, CaseContext&) { Process(c)["oomScoreAdj"] = -999; },
       .expect = {{"cgroups_left", Eq("")}},
       .expect_on = {{"runc", {"create", StartsWith("exit 1: ")}},
                     {"berth-runc", {"create", Eq("ok")}},
                     {"berth-runc", {"stdout", Eq(OwnOomScoreAdj() + "\n")}}},
       .differences = RuncCreateFailed(
           "berth keeps the current oom_score_adj floor without CAP_SYS_RESOURCE")});
  return cases;
}

}  // namespace berth::priv
