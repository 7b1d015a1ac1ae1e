// BuildSandboxSpec: the pause container's config.json.

#include "runtime/cri/spec/capabilities.h"
#include "runtime/cri/spec/tests/spec_test_util.h"

namespace berth::cri::testing {
namespace {

using Strs = std::vector<std::string>;

class SandboxSpecTest : public SpecTest {
 protected:
  v1::NamespaceOption* Namespaces() {
    return pod_.mutable_linux()->mutable_security_context()->mutable_namespace_options();
  }
  Error BuildSandboxError() {
    Result<bj::object> spec = BuildSandboxSpec(SandboxInput());
    EXPECT_FALSE(spec.ok());
    return spec.ok() ? Error(Errc::kUnknown, "no error") : std::move(spec).error();
  }
};

TEST_F(SandboxSpecTest, ThePauseContainer) {
  bj::object spec = BuildSandboxOk();
  EXPECT_EQ(Strings(spec, "/process/args"), Strs{"/pause"});
  EXPECT_EQ(Strings(spec, "/process/env"),
            Strs{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"});
  EXPECT_EQ(String(spec, "/process/cwd"), "/");
  EXPECT_EQ(*Find(spec, "/process/user"), (bj::value{{"uid", 0}, {"gid", 0}}));
  EXPECT_TRUE(Find(spec, "/process/noNewPrivileges")->as_bool());
  EXPECT_EQ(Find(spec, "/process/oomScoreAdj")->to_number<int>(), -998);
  EXPECT_EQ(Strings(spec, "/process/capabilities/bounding"), DefaultCapabilities());
  EXPECT_EQ(String(spec, "/root/path"), rootfs_);
  EXPECT_TRUE(Find(spec, "/root/readonly")->as_bool());
  EXPECT_EQ(String(spec, "/hostname"), "web-0");
  EXPECT_EQ(MountDestinations(spec),
            (Strs{"/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys"}));
  EXPECT_EQ(*Find(spec, "/linux/resources"),
            bj::parse(R"({"devices": [{"allow": false, "access": "rwm"}],
                          "cpu": {"shares": 2}})"));
  EXPECT_EQ(String(spec, "/linux/cgroupsPath"), "/kubepods/besteffort/pod6f1c/5a4db0x");
  EXPECT_EQ(*Find(spec, "/linux/namespaces"),
            bj::parse(R"([{"type": "pid"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"},
                          {"type": "network", "path": "/proc/self/ns/net"}])"));
  EXPECT_EQ(Find(spec, "/linux/seccomp"), nullptr);
  EXPECT_EQ(Strings(spec, "/linux/readonlyPaths").size(), 5u);
  EXPECT_EQ(Strings(spec, "/linux/maskedPaths").size(), 11u);
}

TEST_F(SandboxSpecTest, HostNamespaces) {
  Namespaces()->set_network(v1::NODE);
  Namespaces()->set_pid(v1::NODE);
  Namespaces()->set_ipc(v1::NODE);
  bj::object spec = BuildSandboxOk();
  EXPECT_EQ(*Find(spec, "/linux/namespaces"), bj::parse(R"([{"type": "mount"}])"));
  EXPECT_EQ(Find(spec, "/hostname"), nullptr);  // no UTS namespace to set it in
}

TEST_F(SandboxSpecTest, NewNetnsWithoutAPath) {
  SandboxSpecInput in = SandboxInput();
  in.netns_path.clear();
  Result<bj::object> spec = BuildSandboxSpec(in);
  ASSERT_TRUE(spec.ok()) << spec.error().str();
  EXPECT_EQ(*NamespaceOf(*spec, "network"), (bj::value{{"type", "network"}}));
}

TEST_F(SandboxSpecTest, Sysctls) {
  auto& sysctls = *pod_.mutable_linux()->mutable_sysctls();
  sysctls["net.ipv4.ip_unprivileged_port_start"] = "0";
  sysctls["kernel.shm_rmid_forced"] = "1";
  sysctls["kernel.msgmax"] = "8192";
  sysctls["fs.mqueue.msg_max"] = "20";
  sysctls["kernel.sem"] = "250 32000 32 128";
  bj::object spec = BuildSandboxOk();
  EXPECT_EQ(*Find(spec, "/linux/sysctl"),
            (bj::value{{"fs.mqueue.msg_max", "20"},
                       {"kernel.msgmax", "8192"},
                       {"kernel.sem", "250 32000 32 128"},
                       {"kernel.shm_rmid_forced", "1"},
                       {"net.ipv4.ip_unprivileged_port_start", "0"}}));
}

TEST_F(SandboxSpecTest, SysctlErrorsNameTheKey) {
  struct Case {
    std::string key;
    v1::NamespaceMode network, ipc;
    std::string want;
  } cases[] = {
      {"kernel.panic", v1::POD, v1::POD,
       "sysctls[\"kernel.panic\"]: not a namespaced sysctl (kernel.shm*, kernel.msg*, "
       "kernel.sem, fs.mqueue.*, net.*)"},
      {"net.ipv4.ip_forward", v1::NODE, v1::POD,
       "sysctls[\"net.ipv4.ip_forward\"]: needs the pod's own network namespace, but the pod "
       "uses the host network"},
      {"kernel.shmmax", v1::POD, v1::NODE,
       "sysctls[\"kernel.shmmax\"]: needs the pod's own IPC namespace, but the pod uses the "
       "host's"},
  };
  for (const Case& c : cases) {
    pod_.mutable_linux()->mutable_sysctls()->clear();
    (*pod_.mutable_linux()->mutable_sysctls())[c.key] = "1";
    Namespaces()->set_network(c.network);
    Namespaces()->set_ipc(c.ipc);
    Error e = BuildSandboxError();
    EXPECT_EQ(e.code(), Errc::kInvalidArgument);
    EXPECT_EQ(e.str(), c.want);
  }
}

TEST_F(SandboxSpecTest, UserAndGroups) {
  auto* sc = pod_.mutable_linux()->mutable_security_context();
  sc->mutable_run_as_user()->set_value(1000);
  sc->add_supplemental_groups(2000);
  sc->add_supplemental_groups(100);
  bj::object spec = BuildSandboxOk();
  EXPECT_EQ(*Find(spec, "/process/user"),
            bj::parse(R"({"uid": 1000, "gid": 1000, "additionalGids": [100, 2000]})"));
  sc->mutable_run_as_group()->set_value(3000);
  EXPECT_EQ(Find(BuildSandboxOk(), "/process/user/gid")->to_number<uint32_t>(), 3000u);
}

TEST_F(SandboxSpecTest, OomScoreAdjFloor) {
  SandboxSpecInput in = SandboxInput();
  in.oom_score_adj_floor = -500;
  Result<bj::object> spec = BuildSandboxSpec(in);
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(Find(*spec, "/process/oomScoreAdj")->to_number<int>(), -500);
}

TEST_F(SandboxSpecTest, SeccompAndPrivileged) {
  auto* sc = pod_.mutable_linux()->mutable_security_context();
  sc->mutable_seccomp()->set_profile_type(v1::SecurityProfile::RuntimeDefault);
  EXPECT_EQ(String(BuildSandboxOk(), "/linux/seccomp/defaultAction"), "SCMP_ACT_ERRNO");
  sc->set_privileged(true);
  EXPECT_EQ(Find(BuildSandboxOk(), "/linux/seccomp"), nullptr);
}

TEST_F(SandboxSpecTest, AnnotationsAndSharedFiles) {
  (*pod_.mutable_annotations())["kubernetes.io/config.source"] = "api";
  auto* r = pod_.mutable_linux()->mutable_resources();
  r->set_cpu_period(100000);
  r->set_cpu_quota(20000);
  r->set_cpu_shares(204);
  r->set_memory_limit_in_bytes(1 << 20);
  SandboxSpecInput in = SandboxInput();
  in.shm_path = "/run/berth/sandboxes/x/shm";
  in.resolv_conf = "/var/lib/berth/sandboxes/x/resolv.conf";
  Result<bj::object> spec = BuildSandboxSpec(in);
  ASSERT_TRUE(spec.ok()) << spec.error().str();
  EXPECT_EQ(*Find(*spec, "/annotations"),
            (bj::value{
                {"kubernetes.io/config.source", "api"},
                {"io.kubernetes.cri.container-type", "sandbox"},
                {"io.kubernetes.cri.sandbox-id", "5a4db0x"},
                {"io.kubernetes.cri.sandbox-namespace", "default"},
                {"io.kubernetes.cri.sandbox-uid", "6f1c-uid"},
                {"io.kubernetes.cri.sandbox-name", "web-0"},
                {"io.kubernetes.cri.sandbox-log-directory", "/var/log/pods/default_web-0_6f1c-uid"},
                {"io.kubernetes.cri.sandbox-cpu-period", "100000"},
                {"io.kubernetes.cri.sandbox-cpu-quota", "20000"},
                {"io.kubernetes.cri.sandbox-cpu-shares", "204"},
                {"io.kubernetes.cri.sandbox-memory", "1048576"}}));
  EXPECT_EQ(MountDestinations(*spec), (Strs{"/proc", "/dev", "/dev/pts", "/dev/mqueue", "/sys",
                                            "/dev/shm", "/etc/resolv.conf"}));
  EXPECT_EQ(MountOptions(*spec, "/dev/shm"), (Strs{"rbind", "ro"}));
}

TEST_F(SandboxSpecTest, InputErrors) {
  SandboxSpecInput in = SandboxInput();
  in.config = nullptr;
  EXPECT_EQ(BuildSandboxSpec(in).error().str(), "sandbox spec: no config");
  in = SandboxInput();
  in.pause_args.clear();
  EXPECT_EQ(BuildSandboxSpec(in).error().code(), Errc::kInvalidArgument);
  Namespaces()->mutable_userns_options()->set_mode(v1::POD);
  EXPECT_EQ(BuildSandboxError().code(), Errc::kUnimplemented);
}

}  // namespace
}  // namespace berth::cri::testing
