// Isolation cases: namespaces (new, joined by path, user), mounts, /dev,
// masked and read-only paths, the read-only rootfs, cgroup membership and
// sysctls, mostly seen from the host through /proc/<init pid>.

#include <sys/stat.h>

#include "common/file.h"
#include "common/strings.h"
#include "integration/priv/cases.h"

namespace berth::priv {
namespace {

namespace bj = boost::json;
using ::testing::AllOf;
using ::testing::ContainsRegex;
using ::testing::Eq;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::StartsWith;

void AddNamespace(bj::object& config, const std::string& type, const std::string& path = "") {
  bj::object n{{"type", type}};
  if (!path.empty()) n["path"] = path;
  Linux(config)["namespaces"].as_array().push_back(std::move(n));
}

// "<name>=new|host" for each namespace of the init, against ours.
std::string NamespaceKinds(pid_t pid) {
  Result<std::vector<std::string>> names = ListDir("/proc/self/ns");
  if (!names.ok()) return names.error().str();
  std::vector<std::string> sorted = *names;
  std::sort(sorted.begin(), sorted.end());
  std::string out;
  for (const std::string& n : sorted) {
    std::string theirs = NsLink(pid, n);
    out += n + "=" +
           (theirs.empty()                    ? "?"
            : theirs == NsLink(::getpid(), n) ? "host"
                                              : "new") +
           " ";
  }
  return out;
}

std::string Inode(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? std::to_string(st.st_ino) : "?";
}

// The mountinfo lines of the init, normalized (ids, device numbers gone).
std::string InitMounts(pid_t pid) {
  return NormalizeMountinfo(ProcFile(pid, "mountinfo"));
}

const char* kListDev =
    "find /dev -mindepth 1 -maxdepth 1 | sort | while read f; do stat -c '%n %A %u %g %t:%T %N' "
    "\"$f\"; done";

Case NamespacesCase() {
  return {
      .name = "namespaces_default",
      .args = {"sleep", "100"},
      .flow = WhileRunning([](Container& c, CaseContext&, Observation& obs) {
        obs["init_ns"] = NamespaceKinds(c.pid());
        std::string status = ProcFile(c.pid(), "status");
        obs["init_status"] = GrepLines(status, "Cap") + GrepLines(status, "NoNewPrivs:") +
                             GrepLines(status, "Seccomp:\t");
        RunResult r = c.Exec(Probe({"ns"}));
        std::string same = "yes";
        for (const std::string& line : SplitNonEmpty(r.out, '\n')) {
          size_t arrow = line.find(" -> ");
          if (arrow != std::string::npos &&
              line.substr(arrow + 4) != NsLink(c.pid(), line.substr(0, arrow))) {
            same = "no: " + line;
          }
        }
        obs["exec_joins_init_ns"] = r.out.empty() ? "no output" : same;
      }),
      .expect = {{"init_ns",
                  Eq("cgroup=host ipc=new mnt=new net=new pid=new pid_for_children=new time=host "
                     "time_for_children=host user=host uts=new ")},
                 {"init_status", Eq("CapInh:\t0000000000000000\nCapPrm:\t0000000020000420\n"
                                    "CapEff:\t0000000020000420\nCapBnd:\t0000000020000420\n"
                                    "CapAmb:\t0000000000000000\nNoNewPrivs:\t1\nSeccomp:\t0\n")},
                 {"exec_joins_init_ns", Eq("yes")}}};
}

Case CgroupNamespaceCase() {
  return {.name = "cgroup_namespace",
          .args = {"/bin/sh", "-c", "cat /proc/self/cgroup"},
          .configure = [](bj::object& c, CaseContext&) { AddNamespace(c, "cgroup"); },
          .expect = {{"stdout", MatchesRegex("([0-9]+:[a-z=,]*:/\n)+")}, {"exit", Eq("exit 0")}}};
}

Case MountinfoCase() {
  return {.name = "mountinfo",
          .args = {"sleep", "100"},
          .flow = WhileRunning([](Container& c, CaseContext&, Observation& obs) {
            obs["mountinfo"] = InitMounts(c.pid());
          }),
          .expect = {
              {"mountinfo",
               AllOf(ContainsRegex("^<bundle>/rootfs / ro,"), HasSubstr(" /proc rw,"),
                     HasSubstr(" /dev rw,nosuid "), HasSubstr(" /dev/pts "), HasSubstr(" /sys ro,"),
                     HasSubstr("/null /proc/keys "), HasSubstr(" /proc/sys ro,"))}}};
}

Case CgroupMembershipCase() {
  return {.name = "cgroup_membership",
          .args = {"sleep", "100"},
          .flow = WhileRunning([](Container& c, CaseContext&, Observation& obs) {
            obs["proc_cgroup"] = ProcFile(c.pid(), "cgroup");
          }),
          .expect = {{"proc_cgroup",
                      MatchesRegex("([0-9]+:[a-z=,]*:(/process_api/[0-9a-f]+)?/<cgroups>/ctr\n)+")},
                     {"proc_cgroup", HasSubstr("0::/<cgroups>/ctr\n")}}};
}

Case DevCase() {
  return {.name = "dev_contents",
          .args = {"/bin/sh", "-c",
                   std::string(kListDev) + "; echo x > /dev/berthnull && echo written"},
          .configure =
              [](bj::object& c, CaseContext&) {
                Linux(c)["devices"] = bj::array{bj::object{{"path", "/dev/berthnull"},
                                                           {"type", "c"},
                                                           {"major", 1},
                                                           {"minor", 3},
                                                           {"fileMode", 0640},
                                                           {"uid", 0},
                                                           {"gid", 0}}};
                Linux(c)["resources"].as_object()["devices"].as_array().push_back(bj::object{
                    {"allow", true}, {"type", "c"}, {"major", 1}, {"minor", 3}, {"access", "rwm"}});
              },
          .expect = {{"stdout",
                      AllOf(HasSubstr("/dev/null crw-rw-rw- 0 0 1:3 /dev/null\n"),
                            HasSubstr("/dev/berthnull crw-r----- 0 0 1:3 /dev/berthnull\n"),
                            HasSubstr("/dev/ptmx lrwxrwxrwx 0 0 0:0 '/dev/ptmx' -> 'pts/ptmx'\n"),
                            HasSubstr("/dev/fd lrwxrwxrwx 0 0 0:0 '/dev/fd' -> '/proc/self/fd'\n"),
                            HasSubstr("/dev/shm drwxrwxrwt "), HasSubstr("written\n"))}}};
}

// Masked: files become /dev/null, directories an empty read-only tmpfs;
// read-only paths are read-only bind mounts. (This kernel has neither
// /proc/kcore nor /proc/sysrq-trigger, so other entries of the default
// lists are used.)
Case ProtectedPathsCase() {
  return {
      .name = "masked_and_readonly_paths",
      .args = {"/bin/sh", "-c",
               "cat /proc/keys | wc -c; cat /proc/timer_list | wc -c; ls -A /sys/firmware | wc -l; "
               "/bin/berth-probe write /proc/keys x; "
               "/bin/berth-probe write /proc/sys/kernel/domainname x; "
               "/bin/berth-probe write /proc/irq/default_smp_affinity 1; "
               "touch /sys/firmware/x 2>&1 | sed 's/.*: //'"},
      .expect = {
          {"stdout",
           Eq("0\n0\n0\nwrite: ok\nwrite: open /proc/sys/kernel/domainname: EROFS\n"
              "write: open /proc/irq/default_smp_affinity: EROFS\nRead-only file system\n")}}};
}

Case ReadonlyRootfsCase(bool readonly) {
  return {.name = readonly ? "rootfs_readonly" : "rootfs_writable",
          .args = Probe({"write", "/created-by-container", "hello"}),
          .configure = [readonly](bj::object& c,
                                  CaseContext&) { c["root"].as_object()["readonly"] = readonly; },
          .flow =
              [](Container& c, CaseContext& ctx, Observation& obs) {
                RunToExit()(c, ctx, obs);
                Result<std::string> text = ReadFile(ctx.rootfs + "/created-by-container");
                obs["host_file"] = text.ok() ? *text : "absent";
              },
          .expect = {{"stdout",
                      Eq(readonly ? "write: open /created-by-container: EROFS\n" : "write: ok\n")},
                     {"host_file", Eq(readonly ? "absent" : "hello")}}};
}

Case MountOptionsCase() {
  return {
      .name = "tmpfs_and_bind_mounts",
      .args =
          {"/bin/sh", "-c",
           "stat -c '%a' /mnt/t; cat /mnt/ro/f; echo x > /mnt/ro/g 2>/dev/null || echo ro-refused; "
           "echo y > /mnt/rw/h && echo rw-ok; cp /bin/busybox /mnt/t/bb && /mnt/t/bb true || echo "
           "noexec; "
           "grep ' /mnt/' /proc/self/mountinfo | cut -d' ' -f4-"},
      .configure =
          [](bj::object& c, CaseContext& ctx) {
            (void)MkdirAll(ctx.scratch + "/ro");
            (void)MkdirAll(ctx.scratch + "/rw");
            (void)WriteFile(ctx.scratch + "/ro/f", "bound\n");
            AddMount(c, "/mnt/t", "tmpfs", "tmpfs",
                     {"nosuid", "nodev", "noexec", "size=1m", "mode=1770"});
            AddMount(c, "/mnt/ro", "bind", ctx.scratch + "/ro", {"rbind", "ro", "nosuid"});
            AddMount(c, "/mnt/rw", "none", ctx.scratch + "/rw", {"bind", "rprivate"});
          },
      .flow =
          [](Container& c, CaseContext& ctx, Observation& obs) {
            RunToExit()(c, ctx, obs);
            obs["host_rw"] = PathExists(ctx.scratch + "/rw/h") ? "written" : "missing";
            obs["host_ro"] = PathExists(ctx.scratch + "/ro/g") ? "written" : "untouched";
          },
      .expect = {{"stdout",
                  AllOf(StartsWith("1770\nbound\nro-refused\nrw-ok\nnoexec\n"),
                        ContainsRegex("/ /mnt/t rw,nosuid,nodev,noexec,[a-z]+ .*- tmpfs tmpfs "
                                      "rw,size=1024k,mode=1770"),
                        ContainsRegex(" /mnt/ro ro,nosuid"), HasSubstr(" /mnt/rw rw"))},
                 {"host_rw", Eq("written")},
                 {"host_ro", Eq("untouched")}}};
}

Case SysctlCase() {
  return {.name = "sysctl",
          .args = {"/bin/sh", "-c", "cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax"},
          .configure =
              [](bj::object& c, CaseContext&) {
                Linux(c)["sysctl"] =
                    bj::object{{"net.ipv4.ip_forward", "1"}, {"kernel.shmmax", "123456789"}};
              },
          .expect = {{"stdout", Eq("1\n123456789\n")}}};
}

// A network sysctl without a network namespace would change the host's.
Case SysctlHostNetnsCase() {
  return {.name = "sysctl_refused_in_host_netns",
          .args = {"true"},
          .configure =
              [](bj::object& c, CaseContext&) {
                SetNamespaces(c, {"pid", "ipc", "uts", "mount"});
                Linux(c)["sysctl"] = bj::object{{"net.ipv4.ip_forward", "1"}};
              },
          .expect = {{"create", AllOf(StartsWith("exit 1: "), HasSubstr("net.ipv4.ip_forward"))},
                     {"cgroups_left", Eq("")}},
          .differences = {{"create", "error wording"}}};
}

Case JoinNetnsCase() {
  return {.name = "join_netns_by_path",
          .args = {"sleep", "100"},
          .configure =
              [](bj::object& c, CaseContext& ctx) {
                NamedNetns& netns = ctx.MakeNetns();
                for (bj::value& n : Linux(c)["namespaces"].as_array()) {
                  if (n.as_object()["type"] == "network") n.as_object()["path"] = netns.path();
                }
              },
          .flow = WhileRunning([](Container& c, CaseContext& ctx, Observation& obs) {
            std::string path = ctx.netns.empty() ? "" : ctx.netns.front()->path();
            obs["joined"] = NsLink(c.pid(), "net") == "net:[" + Inode(path) + "]"
                                ? "yes"
                                : "no: " + NsLink(c.pid(), "net");
            RunResult r = c.Exec({"/bin/sh", "-c", "ip -o link | cut -d' ' -f2"});
            obs["links"] = Outcome(r) + " " + r.out;
            obs["exec_net"] = Outcome(c.Exec({"/bin/sh", "-c", "readlink /proc/self/ns/net"}));
          }),
          .expect = {{"joined", Eq("yes")}, {"links", Eq("ok lo:\n")}}};
}

Case UserNamespaceCase() {
  return {
      .name = "user_namespace",
      .args = {"sleep", "100"},
      .configure =
          [](bj::object& c, CaseContext&) {
            AddNamespace(c, "user");
            bj::array map{bj::object{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
            Linux(c)["uidMappings"] = map;
            Linux(c)["gidMappings"] = map;
          },
      .flow = WhileRunning([](Container& c, CaseContext&, Observation& obs) {
        std::string status = ProcFile(c.pid(), "status");
        obs["host_status_ids"] = GrepLines(status, "Uid:\t") + GrepLines(status, "Gid:\t");
        obs["uid_map"] = Join(SplitNonEmpty(ProcFile(c.pid(), "uid_map"), ' '), " ");
        obs["gid_map"] = Join(SplitNonEmpty(ProcFile(c.pid(), "gid_map"), ' '), " ");
        obs["init_ns"] = NamespaceKinds(c.pid());
        RunResult r = c.Exec(
            {"/bin/sh", "-c", "/bin/berth-probe uidgid; stat -c '%u %g' /bin/busybox /proc/1"});
        obs["inside"] = Outcome(r) + "\n" + r.out;
        r = c.Exec({"/bin/sh", "-c", "cat /proc/self/uid_map"});
        obs["exec_uid_map"] = Join(SplitNonEmpty(r.out, ' '), " ");
      }),
      .expect = {{"host_status_ids", HasSubstr("Uid:\t100000\t100000\t100000\t100000\n")},
                 {"host_status_ids", HasSubstr("Gid:\t100000\t100000\t100000\t100000\n")},
                 {"uid_map", Eq("0 100000 65536\n")},
                 {"gid_map", Eq("0 100000 65536\n")},
                 {"exec_uid_map", Eq("0 100000 65536\n")},
                 {"init_ns", HasSubstr(" user=new ")},
                 {"inside", Eq("ok\nuid=0 euid=0 suid=0\ngid=0 egid=0 sgid=0\ngroups=\numask=0022\n"
                               "65534 65534\n0 0\n")}}};
}

}  // namespace

std::vector<Case> IsolationCases() {
  std::vector<Case> cases;
  cases.push_back(NamespacesCase());
  cases.push_back(CgroupNamespaceCase());
  cases.push_back(MountinfoCase());
  cases.push_back(CgroupMembershipCase());
  cases.push_back(DevCase());
  cases.push_back(ProtectedPathsCase());
  cases.push_back(ReadonlyRootfsCase(true));
  cases.push_back(ReadonlyRootfsCase(false));
  cases.push_back(MountOptionsCase());
  cases.push_back(SysctlCase());
  cases.push_back(SysctlHostNetnsCase());
  cases.push_back(JoinNetnsCase());
  cases.push_back(UserNamespaceCase());
  return cases;
}

}  // namespace berth::priv
