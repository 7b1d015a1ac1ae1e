// BuildContainerSpec, one rule per test (tables where a rule has cases).

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "runtime/cri/spec/capabilities.h"
#include "runtime/cri/spec/tests/spec_test_util.h"

// The deprecated seccomp_profile_path and apparmor_profile are tested on purpose.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace berth::cri::testing {
namespace {

using Strs = std::vector<std::string>;

class ContainerSpecTest : public SpecTest {};

// --- process.args / env / cwd ------------------------------------------------

TEST_F(ContainerSpecTest, ArgsFollowKubernetesCommandRules) {
  struct Case {
    Strs entrypoint, cmd, command, args, want;
  } cases[] = {
      {{"/ep"}, {"c1"}, {}, {}, {"/ep", "c1"}},
      {{"/ep"}, {"c1"}, {"/bin/sh"}, {}, {"/bin/sh"}},
      {{"/ep"}, {"c1"}, {}, {"a1", "a2"}, {"/ep", "a1", "a2"}},
      {{"/ep"}, {"c1"}, {"/bin/sh"}, {"-c", "x"}, {"/bin/sh", "-c", "x"}},
      {{""}, {"c1"}, {}, {}, {"c1"}},  // Entrypoint [""] resets it
  };
  for (const Case& c : cases) {
    image_.entrypoint = c.entrypoint;
    image_.cmd = c.cmd;
    config_.clear_command();
    config_.clear_args();
    for (const auto& s : c.command)
      config_.add_command(s);
    for (const auto& s : c.args)
      config_.add_args(s);
    EXPECT_EQ(Strings(BuildOk(), "/process/args"), c.want) << c.want[0];
  }
}

TEST_F(ContainerSpecTest, NothingToRunIsAnError) {
  image_.entrypoint.clear();
  image_.cmd.clear();
  Error e = BuildError();
  EXPECT_EQ(e.code(), Errc::kInvalidArgument);
  EXPECT_NE(e.str().find("docker.io/library/nginx:1.25"), std::string::npos) << e.str();
}

TEST_F(ContainerSpecTest, EnvIsPathTermHostnameThenImageThenConfig) {
  config_.set_tty(true);
  auto* kv = config_.add_envs();
  kv->set_key("NGINX_VERSION");
  kv->set_value("override");
  kv = config_.add_envs();
  kv->set_key("EXTRA");
  kv->set_value("1");
  bj::object spec = BuildOk();
  EXPECT_EQ(Strings(spec, "/process/env"),
            (Strs{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm",
                  "HOSTNAME=web-0", "NGINX_VERSION=override", "EXTRA=1"}));
  EXPECT_EQ(Find(spec, "/process/terminal")->as_bool(), true);
}

TEST_F(ContainerSpecTest, ImagePathReplacesTheDefaultInPlace) {
  image_.env = {"FOO=1", "PATH=/opt/bin"};
  extra_.hostname = "";  // falls back to the sandbox config's
  pod_.set_hostname("from-pod");
  bj::object spec = BuildOk();
  EXPECT_EQ(Strings(spec, "/process/env"), (Strs{"PATH=/opt/bin", "HOSTNAME=from-pod", "FOO=1"}));
  EXPECT_EQ(Find(spec, "/process/terminal"), nullptr);  // no tty, no terminal
}

TEST_F(ContainerSpecTest, WorkingDirFromConfigThenImageThenRoot) {
  image_.working_dir = "/srv";
  EXPECT_EQ(String(BuildOk(), "/process/cwd"), "/srv");
  config_.set_working_dir("/work");
  EXPECT_EQ(String(BuildOk(), "/process/cwd"), "/work");
  image_.working_dir.clear();
  config_.clear_working_dir();
  EXPECT_EQ(String(BuildOk(), "/process/cwd"), "/");
}

// --- process.user ------------------------------------------------------------

struct UserCase {
  const char* name;
  std::function<void(v1::LinuxContainerSecurityContext&, image::ImageConfig&)> set;
  uint32_t uid, gid;
  std::vector<uint32_t> gids;
};

TEST_F(ContainerSpecTest, UserResolvesInTheImagesPasswdAndGroup) {
  using SC = v1::LinuxContainerSecurityContext;
  using IC = image::ImageConfig;
  std::vector<UserCase> cases = {
      {"default root", [](SC&, IC&) {}, 0, 0, {10}},
      {"run_as_user in passwd",
       [](SC& s, IC&) { s.mutable_run_as_user()->set_value(1000); },
       1000,
       1000,
       {10, 44}},
      {"run_as_user unknown: gid 0",
       [](SC& s, IC&) { s.mutable_run_as_user()->set_value(4242); },
       4242,
       0,
       {}},
      {"run_as_user + run_as_group",
       [](SC& s, IC&) {
         s.mutable_run_as_user()->set_value(4242);
         s.mutable_run_as_group()->set_value(7);
       },
       4242,
       7,
       {}},
      {"run_as_username", [](SC& s, IC&) { s.set_run_as_username("app"); }, 1000, 1000, {10, 44}},
      {"run_as_username + group",
       [](SC& s, IC&) {
         s.set_run_as_username("app");
         s.mutable_run_as_group()->set_value(29);
       },
       1000,
       29,
       {10, 44}},
      {"image user", [](SC&, IC& i) { i.user = "app"; }, 1000, 1000, {10, 44}},
      {"image uid:gid", [](SC&, IC& i) { i.user = "65534:65534"; }, 65534, 65534, {}},
      {"run_as_user beats image user",
       [](SC& s, IC& i) {
         i.user = "app";
         s.mutable_run_as_user()->set_value(0);
       },
       0,
       0,
       {10}},
      {"supplemental groups merge",
       [](SC& s, IC&) {
         s.mutable_run_as_user()->set_value(1000);
         s.add_supplemental_groups(5);
         s.add_supplemental_groups(44);
         s.add_supplemental_groups(3);
       },
       1000,
       1000,
       {3, 5, 10, 44}},
      {"supplemental groups strict",
       [](SC& s, IC&) {
         s.mutable_run_as_user()->set_value(1000);
         s.add_supplemental_groups(5);
         s.add_supplemental_groups(3);
         s.set_supplemental_groups_policy(v1::Strict);
       },
       1000,
       1000,
       {3, 5}},
  };
  for (const UserCase& c : cases) {
    config_.mutable_linux()->clear_security_context();
    image_.user.clear();
    c.set(*config_.mutable_linux()->mutable_security_context(), image_);
    bj::object spec = BuildOk();
    EXPECT_EQ(Find(spec, "/process/user/uid")->to_number<uint32_t>(), c.uid) << c.name;
    EXPECT_EQ(Find(spec, "/process/user/gid")->to_number<uint32_t>(), c.gid) << c.name;
    std::vector<uint32_t> gids;
    if (const bj::value* g = Find(spec, "/process/user/additionalGids")) {
      for (const bj::value& v : g->as_array())
        gids.push_back(v.to_number<uint32_t>());
    }
    EXPECT_EQ(gids, c.gids) << c.name;
  }
}

TEST_F(ContainerSpecTest, UserErrorsNameTheField) {
  struct Case {
    std::function<void(v1::LinuxContainerSecurityContext&)> set;
    Errc code;
    std::string want;
  } cases[] = {
      {[](auto& s) { s.set_run_as_username("nobody2"); }, Errc::kNotFound,
       "run_as_username `nobody2`: not found in /etc/passwd of the image"},
      {[](auto& s) { s.mutable_run_as_group()->set_value(5); }, Errc::kInvalidArgument,
       "run_as_group 5 is specified without run_as_user or run_as_username"},
      {[](auto& s) { s.mutable_run_as_user()->set_value(-1); }, Errc::kInvalidArgument,
       "run_as_user: -1 is not a valid id"},
      {[](auto& s) { s.add_supplemental_groups(-3); }, Errc::kInvalidArgument,
       "supplemental_groups[0]: -3 is not a valid id"},
  };
  for (const Case& c : cases) {
    config_.mutable_linux()->clear_security_context();
    c.set(*config_.mutable_linux()->mutable_security_context());
    Error e = BuildError();
    EXPECT_EQ(e.code(), c.code) << e.str();
    EXPECT_EQ(e.str(), c.want);
  }
  config_.mutable_linux()->clear_security_context();
  image_.user = "ghost";
  EXPECT_EQ(BuildError().str(), "image user `ghost`: not found in /etc/passwd of the image");
}

// --- capabilities ----------------------------------------------------------

TEST_F(ContainerSpecTest, CapabilitiesAddAndDrop) {
  const Strs defaults = DefaultCapabilities();
  auto with = [&](Strs list, std::initializer_list<const char*> add) {
    for (const char* a : add)
      list.push_back(a);
    return list;
  };
  auto without = [&](Strs list, const char* drop) {
    list.erase(std::find(list.begin(), list.end(), drop));
    return list;
  };
  Strs all = AllCapabilities();
  struct Case {
    Strs add, drop, want;
  } cases[] = {
      {{}, {}, defaults},
      {{"NET_ADMIN", "CAP_SYS_TIME", "sys_ptrace"},
       {},
       with(defaults, {"CAP_NET_ADMIN", "CAP_SYS_TIME", "CAP_SYS_PTRACE"})},
      {{}, {"CHOWN", "cap_kill"}, without(without(defaults, "CAP_CHOWN"), "CAP_KILL")},
      {{"NET_BIND_SERVICE"}, {"ALL"}, {"CAP_NET_BIND_SERVICE"}},
      {{"ALL"}, {"CHOWN"}, without(all, "CAP_CHOWN")},
      {{}, {"all"}, {}},
  };
  for (const Case& c : cases) {
    auto* caps = config_.mutable_linux()->mutable_security_context()->mutable_capabilities();
    caps->Clear();
    for (const auto& a : c.add)
      caps->add_add_capabilities(a);
    for (const auto& d : c.drop)
      caps->add_drop_capabilities(d);
    bj::object spec = BuildOk();
    for (const char* set : {"bounding", "effective", "permitted"}) {
      EXPECT_EQ(Strings(spec, std::string("/process/capabilities/") + set), c.want) << set;
    }
    EXPECT_EQ(Find(spec, "/process/capabilities/inheritable"), nullptr);
    EXPECT_EQ(Find(spec, "/process/capabilities/ambient"), nullptr);
  }
}

TEST_F(ContainerSpecTest, AmbientCapabilitiesGoInEverySet) {
  auto* caps = config_.mutable_linux()->mutable_security_context()->mutable_capabilities();
  caps->add_add_ambient_capabilities("NET_BIND_SERVICE");
  caps->add_add_ambient_capabilities("NET_ADMIN");
  bj::object spec = BuildOk();
  EXPECT_EQ(Strings(spec, "/process/capabilities/ambient"),
            (Strs{"CAP_NET_BIND_SERVICE", "CAP_NET_ADMIN"}));
  EXPECT_EQ(Strings(spec, "/process/capabilities/inheritable"),
            (Strs{"CAP_NET_BIND_SERVICE", "CAP_NET_ADMIN"}));
  EXPECT_TRUE(Contains(Strings(spec, "/process/capabilities/bounding"), "CAP_NET_ADMIN"));
}

TEST_F(ContainerSpecTest, BadCapabilityNameIsAnError) {
  config_.mutable_linux()->mutable_security_context()->mutable_capabilities()->add_add_capabilities(
      "NET ADMIN");
  EXPECT_EQ(BuildError().str(), "add_capabilities: invalid capability name \"NET ADMIN\"");
}

// --- privileged, readonly rootfs, no_new_privs, masked paths --------------

TEST_F(ContainerSpecTest, PrivilegedOpensEverything) {
  pod_.mutable_linux()->mutable_security_context()->set_privileged(true);
  auto* sc = config_.mutable_linux()->mutable_security_context();
  sc->set_privileged(true);
  sc->mutable_seccomp()->set_profile_type(v1::SecurityProfile::RuntimeDefault);
  sc->add_masked_paths("/proc/kcore");
  extra_.cgroup_namespace = true;
  bj::object spec = BuildOk();
  EXPECT_EQ(Strings(spec, "/process/capabilities/bounding"), AllCapabilities());
  EXPECT_EQ(Find(spec, "/linux/seccomp"), nullptr);
  EXPECT_EQ(Find(spec, "/linux/maskedPaths"), nullptr);
  EXPECT_EQ(Find(spec, "/linux/readonlyPaths"), nullptr);
  EXPECT_EQ(NamespaceOf(spec, "cgroup"), nullptr);
  EXPECT_TRUE(Contains(MountOptions(spec, "/sys"), "rw"));
  EXPECT_FALSE(Contains(MountOptions(spec, "/sys"), "ro"));
  EXPECT_TRUE(Contains(MountOptions(spec, "/sys/fs/cgroup"), "rw"));
  const bj::array& rules = Find(spec, "/linux/resources/devices")->as_array();
  ASSERT_EQ(rules.size(), 1u);
  EXPECT_EQ(rules[0], (bj::value{{"allow", true}, {"access", "rwm"}}));
  std::vector<std::string> paths;
  for (const bj::value& d : Find(spec, "/linux/devices")->as_array())
    paths.emplace_back(d.as_object().at("path").as_string());
  EXPECT_TRUE(Contains(paths, "/dev/null"));
  EXPECT_FALSE(Contains(paths, "/dev/console"));
  for (const std::string& p : paths)
    EXPECT_NE(p.rfind("/dev/pts/", 0), 0u) << p;
}

TEST_F(ContainerSpecTest, PrivilegedWithoutHostDevices) {
  pod_.mutable_linux()->mutable_security_context()->set_privileged(true);
  config_.mutable_linux()->mutable_security_context()->set_privileged(true);
  extra_.host_dev_dir = "";
  EXPECT_EQ(Find(BuildOk(), "/linux/devices"), nullptr);
}

TEST_F(ContainerSpecTest, PrivilegedNeedsAPrivilegedSandbox) {
  config_.mutable_linux()->mutable_security_context()->set_privileged(true);
  Error e = BuildError();
  EXPECT_EQ(e.code(), Errc::kInvalidArgument);
  EXPECT_EQ(e.str(),
            "privileged: no privileged container allowed in a sandbox that is not privileged");
}

TEST_F(ContainerSpecTest, DefaultsForAnUnprivilegedContainer) {
  bj::object spec = BuildOk();
  EXPECT_EQ(Find(spec, "/root/readonly"), nullptr);
  EXPECT_EQ(Find(spec, "/process/noNewPrivileges"), nullptr);
  EXPECT_EQ(Find(spec, "/process/rlimits"), nullptr);
  EXPECT_EQ(Find(spec, "/process/oomScoreAdj"), nullptr);  // no resources
  EXPECT_EQ(Find(spec, "/linux/seccomp"), nullptr);  // no profile asked for: none (containerd)
  EXPECT_EQ(Strings(spec, "/linux/maskedPaths"),
            (Strs{"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                  "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
                  "/sys/devices/virtual/powercap", "/proc/scsi"}));
  EXPECT_EQ(Strings(spec, "/linux/readonlyPaths"),
            (Strs{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}));
  EXPECT_EQ(String(spec, "/linux/cgroupsPath"), "/kubepods/besteffort/pod6f1c/c0ffee");
  EXPECT_EQ(String(spec, "/ociVersion"), "1.1.0");
  EXPECT_EQ(String(spec, "/root/path"), rootfs_);
  EXPECT_EQ(Find(spec, "/hostname"), nullptr);  // joins the sandbox's UTS namespace
}

TEST_F(ContainerSpecTest, ReadonlyRootfsNoNewPrivsAndRequestedPaths) {
  auto* sc = config_.mutable_linux()->mutable_security_context();
  sc->set_readonly_rootfs(true);
  sc->set_no_new_privs(true);
  sc->add_masked_paths("/proc/secret");
  sc->add_readonly_paths("/proc/ro");
  bj::object spec = BuildOk();
  EXPECT_TRUE(Find(spec, "/root/readonly")->as_bool());
  EXPECT_TRUE(Find(spec, "/process/noNewPrivileges")->as_bool());
  EXPECT_EQ(Strings(spec, "/linux/maskedPaths"), Strs{"/proc/secret"});
  EXPECT_EQ(Strings(spec, "/linux/readonlyPaths"), Strs{"/proc/ro"});
  // The sandbox's files follow the rootfs; /dev/shm stays writable.
  for (const char* file : {"/etc/hostname", "/etc/hosts", "/etc/resolv.conf"})
    EXPECT_TRUE(Contains(MountOptions(spec, file), "ro")) << file;
  EXPECT_TRUE(Contains(MountOptions(spec, "/dev/shm"), "rw"));
}

TEST_F(ContainerSpecTest, AppArmorAndSelinuxAreIgnored) {
  auto* sc = config_.mutable_linux()->mutable_security_context();
  sc->mutable_apparmor()->set_profile_type(v1::SecurityProfile::Localhost);
  sc->mutable_apparmor()->set_localhost_ref("my-profile");
  sc->set_apparmor_profile("runtime/default");
  sc->mutable_selinux_options()->set_type("spc_t");
  bj::object spec = BuildOk();
  EXPECT_EQ(Find(spec, "/process/apparmorProfile"), nullptr);
  EXPECT_EQ(Find(spec, "/process/selinuxLabel"), nullptr);
  EXPECT_EQ(Find(spec, "/linux/mountLabel"), nullptr);
}

// --- seccomp -----------------------------------------------------------------

TEST_F(ContainerSpecTest, SeccompProfileTypes) {
  std::string local = WriteFile("profile.json", R"({
    "defaultAction": "SCMP_ACT_ALLOW", "archMap": [{"architecture": "SCMP_ARCH_X86_64"}],
    "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "comment": "no"}]})");
  struct Case {
    const char* name;
    std::function<void(v1::LinuxContainerSecurityContext&)> set;
    std::string default_action;  // "" = no linux.seccomp
  } cases[] = {
      {"absent", [](auto&) {}, ""},
      {"RuntimeDefault",
       [](auto& s) { s.mutable_seccomp()->set_profile_type(v1::SecurityProfile::RuntimeDefault); },
       "SCMP_ACT_ERRNO"},
      {"Unconfined",
       [](auto& s) { s.mutable_seccomp()->set_profile_type(v1::SecurityProfile::Unconfined); }, ""},
      {"Localhost",
       [&](auto& s) {
         s.mutable_seccomp()->set_profile_type(v1::SecurityProfile::Localhost);
         s.mutable_seccomp()->set_localhost_ref(local);
       },
       "SCMP_ACT_ALLOW"},
      {"legacy runtime/default", [](auto& s) { s.set_seccomp_profile_path("runtime/default"); },
       "SCMP_ACT_ERRNO"},
      {"legacy docker/default", [](auto& s) { s.set_seccomp_profile_path("docker/default"); },
       "SCMP_ACT_ERRNO"},
      {"legacy unconfined", [](auto& s) { s.set_seccomp_profile_path("unconfined"); }, ""},
      {"legacy localhost/", [&](auto& s) { s.set_seccomp_profile_path("localhost/" + local); },
       "SCMP_ACT_ALLOW"},
      {"field beats legacy",
       [](auto& s) {
         s.set_seccomp_profile_path("runtime/default");
         s.mutable_seccomp()->set_profile_type(v1::SecurityProfile::Unconfined);
       },
       ""},
  };
  for (const Case& c : cases) {
    config_.mutable_linux()->clear_security_context();
    c.set(*config_.mutable_linux()->mutable_security_context());
    bj::object spec = BuildOk();
    EXPECT_EQ(String(spec, "/linux/seccomp/defaultAction"), c.default_action) << c.name;
  }
}

TEST_F(ContainerSpecTest, LocalhostProfileKeepsOnlyOciMembers) {
  std::string local = WriteFile("docker-format.json", R"({
    "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
    "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": []}],
    "architectures": ["SCMP_ARCH_X86_64"],
    "syscalls": [{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW",
                  "comment": "io", "includes": {}, "excludes": {}}]})");
  auto* sp = config_.mutable_linux()->mutable_security_context()->mutable_seccomp();
  sp->set_profile_type(v1::SecurityProfile::Localhost);
  sp->set_localhost_ref("localhost/" + local);  // the prefix is trimmed
  bj::object spec = BuildOk();
  EXPECT_EQ(*Find(spec, "/linux/seccomp"),
            bj::parse(R"({"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
                          "architectures": ["SCMP_ARCH_X86_64"],
                          "syscalls": [{"names": ["read", "write"],
                                        "action": "SCMP_ACT_ALLOW"}]})"));
}

TEST_F(ContainerSpecTest, LocalhostProfileRelativeToTheRoot) {
  WriteFile("rel.json", R"({"defaultAction": "SCMP_ACT_LOG"})");
  auto* sp = config_.mutable_linux()->mutable_security_context()->mutable_seccomp();
  sp->set_profile_type(v1::SecurityProfile::Localhost);
  sp->set_localhost_ref("rel.json");
  EXPECT_EQ(BuildError().code(), Errc::kInvalidArgument);  // no root configured
  extra_.seccomp_profile_root = tmp_.path();
  EXPECT_EQ(String(BuildOk(), "/linux/seccomp/defaultAction"), "SCMP_ACT_LOG");
}

TEST_F(ContainerSpecTest, SeccompErrors) {
  std::string missing = tmp_ / "missing.json";
  std::string garbage = WriteFile("garbage.json", "{not json");
  std::string bad_action =
      WriteFile("bad.json", R"({"defaultAction": "SCMP_ACT_FOO", "syscalls": []})");
  std::string array = WriteFile("array.json", "[]");
  auto localhost = [](std::string path) {
    return [path](v1::LinuxContainerSecurityContext& s) {
      s.mutable_seccomp()->set_profile_type(v1::SecurityProfile::Localhost);
      s.mutable_seccomp()->set_localhost_ref(path);
    };
  };
  struct Case {
    std::function<void(v1::LinuxContainerSecurityContext&)> set;
    Errc code;
    std::string want;  // a substring
  } cases[] = {
      {localhost(missing), Errc::kNotFound, "seccomp profile `" + missing + "`: not found"},
      {localhost(garbage), Errc::kInvalidArgument,
       "seccomp profile `" + garbage + "`: invalid JSON"},
      {localhost(bad_action), Errc::kInvalidArgument,
       "seccomp.defaultAction: unknown action \"SCMP_ACT_FOO\""},
      {localhost(array), Errc::kInvalidArgument, "expected a JSON object, got array"},
      {localhost(""), Errc::kInvalidArgument, "a Localhost seccomp profile needs a path"},
      {[](auto& s) { s.set_seccomp_profile_path("foo/bar"); }, Errc::kInvalidArgument,
       "seccomp_profile_path: invalid profile \"foo/bar\""},
      {[](auto& s) {
         s.mutable_seccomp()->set_profile_type(v1::SecurityProfile::RuntimeDefault);
         s.mutable_seccomp()->set_localhost_ref("/x.json");
       },
       Errc::kInvalidArgument, "localhost_ref must only be set when profile_type is Localhost"},
  };
  for (const Case& c : cases) {
    config_.mutable_linux()->clear_security_context();
    c.set(*config_.mutable_linux()->mutable_security_context());
    Error e = BuildError();
    EXPECT_EQ(e.code(), c.code) << e.str();
    EXPECT_NE(e.str().find(c.want), std::string::npos) << e.str() << "\nwant: " << c.want;
  }
}

TEST_F(ContainerSpecTest, RuntimeDefaultFollowsTheCapabilities) {
  auto* sc = config_.mutable_linux()->mutable_security_context();
  sc->mutable_seccomp()->set_profile_type(v1::SecurityProfile::RuntimeDefault);
  bj::object spec = BuildOk();
  const bj::object& seccomp = Find(spec, "/linux/seccomp")->as_object();
  EXPECT_FALSE(Contains(AllowedSyscalls(seccomp), "mount"));
  EXPECT_TRUE(Contains(AllowedSyscalls(seccomp), "chroot"));  // CAP_SYS_CHROOT is a default
  sc->mutable_capabilities()->add_add_capabilities("SYS_ADMIN");
  spec = BuildOk();
  const bj::object& admin = Find(spec, "/linux/seccomp")->as_object();
  EXPECT_TRUE(Contains(AllowedSyscalls(admin), "mount"));
  EXPECT_TRUE(Contains(AllowedSyscalls(admin), "clone3"));
}

// --- mounts ------------------------------------------------------------------

v1::Mount* AddMount(v1::ContainerConfig& c, const std::string& dst, const std::string& src) {
  v1::Mount* m = c.add_mounts();
  m->set_container_path(dst);
  m->set_host_path(src);
  return m;
}

TEST_F(ContainerSpecTest, MountPropagation) {
  struct Case {
    v1::MountPropagation propagation;
    bool readonly;
    Strs options;
    std::string rootfs_propagation;
  } cases[] = {
      {v1::PROPAGATION_PRIVATE, false, {"rbind", "rprivate", "rw"}, ""},
      {v1::PROPAGATION_PRIVATE, true, {"rbind", "rprivate", "ro"}, ""},
      {v1::PROPAGATION_HOST_TO_CONTAINER, true, {"rbind", "rslave", "ro"}, "rslave"},
      {v1::PROPAGATION_BIDIRECTIONAL, false, {"rbind", "rshared", "rw"}, "rshared"},
  };
  for (const Case& c : cases) {
    config_.clear_mounts();
    v1::Mount* m = AddMount(config_, "/data", "/var/lib/data");
    m->set_propagation(c.propagation);
    m->set_readonly(c.readonly);
    m->set_selinux_relabel(true);  // ignored
    bj::object spec = BuildOk();
    const bj::object* mount = MountAt(spec, "/data");
    ASSERT_NE(mount, nullptr);
    EXPECT_EQ(String(*mount, "/type"), "bind");
    EXPECT_EQ(String(*mount, "/source"), "/var/lib/data");
    EXPECT_EQ(Strings(*mount, "/options"), c.options);
    EXPECT_EQ(String(spec, "/linux/rootfsPropagation"), c.rootfs_propagation);
  }
}

TEST_F(ContainerSpecTest, SharedBeatsSlaveForTheRootfs) {
  AddMount(config_, "/a", "/h/a")->set_propagation(v1::PROPAGATION_BIDIRECTIONAL);
  AddMount(config_, "/b", "/h/b")->set_propagation(v1::PROPAGATION_HOST_TO_CONTAINER);
  EXPECT_EQ(String(BuildOk(), "/linux/rootfsPropagation"), "rshared");
}

TEST_F(ContainerSpecTest, DefaultAndSandboxMountsInOrder) {
  AddMount(config_, "/var/log/app/deep", "/h/deep");
  AddMount(config_, "/var/log", "/h/log");
  bj::object spec = BuildOk();
  EXPECT_EQ(
      MountDestinations(spec),
      (Strs{"/proc", "/dev", "/dev/pts", "/dev/mqueue", "/sys", "/sys/fs/cgroup", "/var/log",
            "/etc/hostname", "/etc/hosts", "/etc/resolv.conf", "/dev/shm", "/var/log/app/deep"}));
  EXPECT_EQ(String(*MountAt(spec, "/etc/hosts"), "/source"), tmp_ / "hosts");
  EXPECT_EQ(String(*MountAt(spec, "/dev/shm"), "/source"), tmp_ / "shm");
  EXPECT_EQ(MountOptions(spec, "/sys"), (Strs{"nosuid", "noexec", "nodev", "ro"}));
  EXPECT_EQ(MountOptions(spec, "/sys/fs/cgroup"),
            (Strs{"nosuid", "noexec", "nodev", "relatime", "ro"}));
  EXPECT_EQ(String(*MountAt(spec, "/sys/fs/cgroup"), "/type"), "cgroup");
}

TEST_F(ContainerSpecTest, CriMountsOverrideSandboxFilesAndDefaults) {
  AddMount(config_, "/etc/hosts", "/my/hosts");
  AddMount(config_, "/dev", "/my/dev");
  extra_.hostname_file = "";  // not prepared: left out
  bj::object spec = BuildOk();
  EXPECT_EQ(MountDestinations(spec), (Strs{"/proc", "/sys", "/sys/fs/cgroup", "/dev", "/etc/hosts",
                                           "/etc/resolv.conf", "/dev/shm"}));
  EXPECT_EQ(String(*MountAt(spec, "/etc/hosts"), "/source"), "/my/hosts");
}

TEST_F(ContainerSpecTest, HostIpcUsesTheHostsShm) {
  pod_.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_ipc(v1::NODE);
  bj::object spec = BuildOk();
  EXPECT_EQ(String(*MountAt(spec, "/dev/shm"), "/source"), "/dev/shm");
  EXPECT_EQ(NamespaceOf(spec, "ipc"), nullptr);
}

TEST_F(ContainerSpecTest, RecursiveReadOnly) {
  v1::Mount* m = AddMount(config_, "/data", "/h/data");
  m->set_readonly(true);
  m->set_recursive_read_only(true);
  EXPECT_EQ(MountOptions(BuildOk(), "/data"), (Strs{"rbind", "rprivate", "rro"}));
  m->set_readonly(false);
  EXPECT_EQ(BuildError().str(),
            "mounts[0]: recursive_read_only needs readonly and PROPAGATION_PRIVATE");
}

TEST_F(ContainerSpecTest, MountErrors) {
  AddMount(config_, "relative", "/h");
  EXPECT_EQ(BuildError().str(),
            "mounts[0].container_path: must be an absolute path, got \"relative\"");
  config_.clear_mounts();
  AddMount(config_, "/img", "")->mutable_image()->set_image("busybox");
  EXPECT_EQ(BuildError().code(), Errc::kUnimplemented);
  config_.clear_mounts();
  AddMount(config_, "/x", "");
  EXPECT_EQ(BuildError().str(), "mounts[0].host_path: required");
}

// --- devices -----------------------------------------------------------------

TEST_F(ContainerSpecTest, DevicesFromTheHost) {
  v1::Device* d = config_.add_devices();
  d->set_host_path("/dev/null");
  d->set_container_path("/dev/mynull");
  d->set_permissions("rw");
  struct stat st {};
  ASSERT_EQ(::stat("/dev/null", &st), 0);
  bj::object spec = BuildOk();
  EXPECT_EQ(*Find(spec, "/linux/devices/0"), (bj::value{{"path", "/dev/mynull"},
                                                        {"type", "c"},
                                                        {"major", 1},
                                                        {"minor", 3},
                                                        {"fileMode", st.st_mode & 07777},
                                                        {"uid", st.st_uid},
                                                        {"gid", st.st_gid}}));
  EXPECT_EQ(*Find(spec, "/linux/resources/devices"),
            bj::parse(R"([{"allow": false, "access": "rwm"},
                          {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rw"}])"));
}

TEST_F(ContainerSpecTest, DeviceErrors) {
  std::string regular = WriteFile("regular", "x");
  struct Case {
    std::string host, perms;
    Errc code;
    std::string want;
  } cases[] = {
      {"/dev/null", "rwx", Errc::kInvalidArgument,
       "devices[0].permissions: \"rwx\" is not a combination of r, w and m"},
      {regular, "rw", Errc::kInvalidArgument,
       "devices[0]: host_path `" + regular + "` is not a device node"},
      {tmp_ / "nope", "rw", Errc::kNotFound, "devices[0]: stat `" + (tmp_ / "nope") + "`"},
  };
  for (const Case& c : cases) {
    config_.clear_devices();
    v1::Device* d = config_.add_devices();
    d->set_host_path(c.host);
    d->set_container_path("/dev/x");
    d->set_permissions(c.perms);
    Error e = BuildError();
    EXPECT_EQ(e.code(), c.code) << e.str();
    EXPECT_EQ(e.str().rfind(c.want, 0), 0u) << e.str();
  }
}

// --- resources -----------------------------------------------------------------

TEST_F(ContainerSpecTest, ResourcesMapToLinuxResources) {
  auto* r = config_.mutable_linux()->mutable_resources();
  r->set_cpu_period(100000);
  r->set_cpu_quota(50000);
  r->set_cpu_shares(512);
  r->set_memory_limit_in_bytes(256 << 20);
  r->set_oom_score_adj(-997);
  r->set_cpuset_cpus("0-1");
  r->set_cpuset_mems("0");
  auto* h = r->add_hugepage_limits();
  h->set_page_size("2MB");
  h->set_limit(4 << 21);
  (*r->mutable_unified())["memory.high"] = "200000000";
  (*r->mutable_unified())["cpu.idle"] = "0";
  bj::object spec = BuildOk();
  bj::value want = bj::parse(R"({
    "devices": [{"allow": false, "access": "rwm"}],
    "memory": {"limit": 268435456},
    "cpu": {"shares": 512, "quota": 50000, "period": 100000, "cpus": "0-1", "mems": "0"},
    "hugepageLimits": [{"pageSize": "2MB", "limit": 8388608}],
    "unified": {"cpu.idle": "0", "memory.high": "200000000"}})");
  EXPECT_EQ(*Find(spec, "/linux/resources"), want)
      << bj::serialize(*Find(spec, "/linux/resources"));
  EXPECT_EQ(Find(spec, "/process/oomScoreAdj")->to_number<int>(), -997);
}

TEST_F(ContainerSpecTest, SwapFollowsTheLimitWithSwapAccounting) {
  auto* r = config_.mutable_linux()->mutable_resources();
  r->set_memory_limit_in_bytes(1000);
  extra_.swap_accounting = true;
  EXPECT_EQ(Find(BuildOk(), "/linux/resources/memory/swap")->to_number<int64_t>(), 1000);
  r->set_memory_swap_limit_in_bytes(3000);
  EXPECT_EQ(Find(BuildOk(), "/linux/resources/memory/swap")->to_number<int64_t>(), 3000);
  extra_.swap_accounting = false;
  EXPECT_EQ(Find(BuildOk(), "/linux/resources/memory/swap"), nullptr);
}

TEST_F(ContainerSpecTest, OomScoreAdjIsClampedToTheFloor) {
  config_.mutable_linux()->mutable_resources()->set_oom_score_adj(-997);
  extra_.oom_score_adj_floor = 0;
  EXPECT_EQ(Find(BuildOk(), "/process/oomScoreAdj")->to_number<int>(), 0);
  config_.mutable_linux()->mutable_resources()->set_oom_score_adj(1000);
  EXPECT_EQ(Find(BuildOk(), "/process/oomScoreAdj")->to_number<int>(), 1000);
  config_.mutable_linux()->mutable_resources()->set_oom_score_adj(1001);
  EXPECT_EQ(BuildError().str(), "resources.oom_score_adj: 1001 is outside [-1000, 1000]");
}

// --- namespaces ----------------------------------------------------------------

TEST_F(ContainerSpecTest, PidNamespaceModes) {
  std::string self = "/proc/" + std::to_string(getpid()) + "/ns/";
  extra_.target_pid = 1;
  struct Case {
    v1::NamespaceMode mode;
    bool present;
    std::string path;
  } cases[] = {
      {v1::POD, true, self + "pid"},
      {v1::CONTAINER, true, ""},
      {v1::NODE, false, ""},
      {v1::TARGET, true, "/proc/1/ns/pid"},
  };
  for (const Case& c : cases) {
    config_.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(
        c.mode);
    bj::object spec = BuildOk();
    const bj::object* pid = NamespaceOf(spec, "pid");
    ASSERT_EQ(pid != nullptr, c.present) << c.mode;
    if (pid != nullptr) {
      EXPECT_EQ(String(*pid, "/path"), c.path) << c.mode;
    }
  }
  extra_.target_pid = 0;
  config_.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_pid(
      v1::TARGET);
  EXPECT_EQ(BuildError().code(), Errc::kInvalidArgument);
}

TEST_F(ContainerSpecTest, JoinsTheSandboxNamespaces) {
  std::string self = "/proc/" + std::to_string(getpid()) + "/ns/";
  bj::object spec = BuildOk();
  EXPECT_EQ(
      *Find(spec, "/linux/namespaces"),
      (bj::value{bj::object{{"type", "pid"}, {"path", self + "pid"}},
                 bj::object{{"type", "ipc"}, {"path", self + "ipc"}},
                 bj::object{{"type", "uts"}, {"path", self + "uts"}}, bj::object{{"type", "mount"}},
                 bj::object{{"type", "network"}, {"path", self + "net"}}}));
  extra_.netns_path = "/run/netns/cni-1234";
  extra_.cgroup_namespace = true;
  spec = BuildOk();
  EXPECT_EQ(String(*NamespaceOf(spec, "network"), "/path"), "/run/netns/cni-1234");
  EXPECT_NE(NamespaceOf(spec, "cgroup"), nullptr);
}

TEST_F(ContainerSpecTest, HostNetworkHasNoNetworkOrUtsNamespace) {
  pod_.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_network(
      v1::NODE);
  extra_.netns_path = "/run/netns/ignored";
  bj::object spec = BuildOk();
  EXPECT_EQ(NamespaceOf(spec, "network"), nullptr);
  EXPECT_EQ(NamespaceOf(spec, "uts"), nullptr);
  EXPECT_NE(NamespaceOf(spec, "mount"), nullptr);
}

TEST_F(ContainerSpecTest, SandboxPidIsRequiredToJoin) {
  extra_.sandbox_pid = 0;
  Error e = BuildError();
  EXPECT_EQ(e.str(), "container spec: sandbox_pid is required to join the pod's namespaces");
}

TEST_F(ContainerSpecTest, PodUserNamespaceIsUnimplemented) {
  config_.mutable_linux()
      ->mutable_security_context()
      ->mutable_namespace_options()
      ->mutable_userns_options()
      ->set_mode(v1::POD);
  EXPECT_EQ(BuildError().code(), Errc::kUnimplemented);
}

// --- annotations -------------------------------------------------------------

TEST_F(ContainerSpecTest, Annotations) {
  (*config_.mutable_annotations())["io.kubernetes.container.hash"] = "abc";
  (*config_.mutable_annotations())["io.kubernetes.cri.container-type"] = "spoofed";
  extra_.image_ref = "sha256:feed";
  bj::object spec = BuildOk();
  EXPECT_EQ(*Find(spec, "/annotations"),
            (bj::value{{"io.kubernetes.container.hash", "abc"},
                       {"io.kubernetes.cri.container-type", "container"},
                       {"io.kubernetes.cri.sandbox-id", "5a4db0x"},
                       {"io.kubernetes.cri.sandbox-namespace", "default"},
                       {"io.kubernetes.cri.sandbox-uid", "6f1c-uid"},
                       {"io.kubernetes.cri.sandbox-name", "web-0"},
                       {"io.kubernetes.cri.container-name", "nginx"},
                       {"io.kubernetes.cri.image-name", "sha256:feed"}}));
}

TEST_F(ContainerSpecTest, MissingInputsAreErrors) {
  ContainerSpecInput in = Input();
  in.image = nullptr;
  EXPECT_EQ(BuildContainerSpec(in).error().str(), "container spec: no image config");
  in = Input();
  in.rootfs = "relative";
  EXPECT_EQ(BuildContainerSpec(in).error().code(), Errc::kInvalidArgument);
}

}  // namespace
}  // namespace berth::cri::testing
