// The specs this library builds are config.json documents berth's own
// runtime takes: runtime/oci's ParseSpec and Validate accept them, their
// capabilities are all known, and their seccomp profile compiles.

#include "runtime/cri/spec/tests/spec_test_util.h"
#include "runtime/oci/spec.h"

namespace berth::cri::testing {
namespace {

class RuntimeAcceptsTest : public SpecTest {
 protected:
  void ExpectAccepted(const bj::object& doc, const std::string& what) {
    std::string text = bj::serialize(doc);
    Result<runtime::oci::Spec> spec = runtime::oci::ParseSpec(text, "config.json");
    ASSERT_TRUE(spec.ok()) << what << ": " << spec.error().str() << "\n" << text;
    Status valid = runtime::oci::Validate(*spec, tmp_.path());
    EXPECT_TRUE(valid.ok()) << what << ": " << valid.error().str() << "\n" << text;
    ASSERT_TRUE(spec->process.has_value());
    EXPECT_TRUE(spec->process->capabilities.specified) << what;
    EXPECT_TRUE(spec->process->capabilities.unknown.empty()) << what;
    if (spec->linux_config.seccomp) {
      auto compiled = runtime::security::CompileSeccomp(*spec->linux_config.seccomp);
      EXPECT_TRUE(compiled.ok()) << what << ": " << compiled.error().str();
    }
  }
};

TEST_F(RuntimeAcceptsTest, SandboxSpecs) {
  auto& sysctls = *pod_.mutable_linux()->mutable_sysctls();
  sysctls["net.ipv4.ip_unprivileged_port_start"] = "0";
  sysctls["kernel.shm_rmid_forced"] = "1";
  pod_.mutable_linux()->mutable_security_context()->mutable_seccomp()->set_profile_type(
      v1::SecurityProfile::RuntimeDefault);
  ExpectAccepted(BuildSandboxOk(), "sandbox");

  pod_.mutable_linux()->mutable_sysctls()->clear();
  auto* ns = pod_.mutable_linux()->mutable_security_context()->mutable_namespace_options();
  ns->set_network(v1::NODE);
  ns->set_pid(v1::NODE);
  ns->set_ipc(v1::NODE);
  ExpectAccepted(BuildSandboxOk(), "host-namespace sandbox");
}

TEST_F(RuntimeAcceptsTest, ContainerSpecs) {
  // A typical pod container: tty, a user, RuntimeDefault seccomp, a volume,
  // a device, resources.
  config_.set_tty(true);
  auto* sc = config_.mutable_linux()->mutable_security_context();
  sc->mutable_run_as_user()->set_value(1000);
  sc->add_supplemental_groups(2000);
  sc->mutable_seccomp()->set_profile_type(v1::SecurityProfile::RuntimeDefault);
  sc->mutable_capabilities()->add_drop_capabilities("ALL");
  sc->mutable_capabilities()->add_add_capabilities("NET_BIND_SERVICE");
  sc->set_no_new_privs(true);
  sc->set_readonly_rootfs(true);
  v1::Mount* m = config_.add_mounts();
  m->set_container_path("/data");
  m->set_host_path(tmp_.path());
  m->set_propagation(v1::PROPAGATION_HOST_TO_CONTAINER);
  v1::Device* d = config_.add_devices();
  d->set_host_path("/dev/null");
  d->set_container_path("/dev/extra-null");
  d->set_permissions("rw");
  auto* r = config_.mutable_linux()->mutable_resources();
  r->set_cpu_shares(256);
  r->set_cpu_quota(20000);
  r->set_cpu_period(100000);
  r->set_memory_limit_in_bytes(64 << 20);
  r->set_oom_score_adj(1000);
  auto* h = r->add_hugepage_limits();
  h->set_page_size("2MB");
  h->set_limit(0);
  (*r->mutable_unified())["memory.high"] = "max";
  extra_.cgroup_namespace = true;
  extra_.swap_accounting = true;
  ExpectAccepted(BuildOk(), "typical container");

  // Privileged, with every host device.
  pod_.mutable_linux()->mutable_security_context()->set_privileged(true);
  sc->set_privileged(true);
  ExpectAccepted(BuildOk(), "privileged container");

  // Host namespaces, a Localhost profile, PID CONTAINER.
  sc->set_privileged(false);
  auto* pod_ns = pod_.mutable_linux()->mutable_security_context()->mutable_namespace_options();
  pod_ns->set_network(v1::NODE);
  pod_ns->set_ipc(v1::NODE);
  sc->mutable_namespace_options()->set_pid(v1::CONTAINER);
  sc->mutable_seccomp()->set_profile_type(v1::SecurityProfile::Localhost);
  sc->mutable_seccomp()->set_localhost_ref(WriteFile("p.json", R"({
      "defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
      "syscalls": [{"names": ["keyctl"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}]})"));
  ExpectAccepted(BuildOk(), "host-network container");
}

}  // namespace
}  // namespace berth::cri::testing
