#include "runtime/cri/spec/tests/spec_test_util.h"

#include <unistd.h>

#include <algorithm>

#include "common/file.h"

namespace berth::cri::testing {

const char kPasswd[] =
    "root:x:0:0:root:/root:/bin/sh\n"
    "daemon:x:1:1::/:/sbin/nologin\n"
    "app:x:1000:1000::/home/app:/bin/sh\n"
    "nobody:x:65534:65534::/:/sbin/nologin\n";
const char kGroup[] =
    "root:x:0:\n"
    "wheel:x:10:root,app\n"
    "audio:x:29:\n"
    "video:x:44:app\n"
    "app:x:1000:\n";

SpecTest::SpecTest() {
  rootfs_ = tmp_ / "rootfs";
  EXPECT_TRUE(MkdirAll(rootfs_ + "/etc").ok());
  EXPECT_TRUE(berth::WriteFile(rootfs_ + "/etc/passwd", kPasswd).ok());
  EXPECT_TRUE(berth::WriteFile(rootfs_ + "/etc/group", kGroup).ok());

  auto* meta = pod_.mutable_metadata();
  meta->set_name("web-0");
  meta->set_namespace_("default");
  meta->set_uid("6f1c-uid");
  pod_.set_hostname("web-0");
  pod_.set_log_directory("/var/log/pods/default_web-0_6f1c-uid");
  pod_.mutable_linux()->set_cgroup_parent("/kubepods/besteffort/pod6f1c");

  config_.mutable_metadata()->set_name("nginx");
  config_.mutable_image()->set_image("docker.io/library/nginx:1.25");

  image_.entrypoint = {"/docker-entrypoint.sh"};
  image_.cmd = {"nginx", "-g", "daemon off;"};
  image_.env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "NGINX_VERSION=1.25"};

  extra_.sandbox_pid = getpid();
  extra_.cgroups_path = "/kubepods/besteffort/pod6f1c/c0ffee";
  extra_.hostname = "web-0";
  extra_.resolv_conf = tmp_ / "resolv.conf";
  extra_.hosts_file = tmp_ / "hosts";
  extra_.hostname_file = tmp_ / "hostname";
  extra_.shm_path = tmp_ / "shm";
}

ContainerSpecInput SpecTest::Input() {
  ContainerSpecInput in = extra_;
  in.config = &config_;
  in.sandbox = &pod_;
  in.container_id = "c0ffee";
  in.sandbox_id = "5a4db0x";
  in.rootfs = rootfs_;
  in.image = &image_;
  return in;
}

SandboxSpecInput SpecTest::SandboxInput() {
  SandboxSpecInput in;
  in.config = &pod_;
  in.sandbox_id = "5a4db0x";
  in.rootfs = rootfs_;
  in.netns_path = "/proc/self/ns/net";
  in.cgroups_path = "/kubepods/besteffort/pod6f1c/5a4db0x";
  in.hostname = "web-0";
  return in;
}

bj::object SpecTest::BuildOk() {
  Result<bj::object> spec = BuildContainerSpec(Input());
  EXPECT_TRUE(spec.ok()) << spec.error().str();
  return spec.ok() ? *spec : bj::object();
}

bj::object SpecTest::BuildSandboxOk() {
  Result<bj::object> spec = BuildSandboxSpec(SandboxInput());
  EXPECT_TRUE(spec.ok()) << spec.error().str();
  return spec.ok() ? *spec : bj::object();
}

Error SpecTest::BuildError() {
  Result<bj::object> spec = BuildContainerSpec(Input());
  EXPECT_FALSE(spec.ok()) << bj::serialize(spec.ok() ? *spec : bj::object());
  return spec.ok() ? Error(Errc::kUnknown, "no error") : std::move(spec).error();
}

std::string SpecTest::WriteFile(const std::string& name, const std::string& text) {
  std::string path = tmp_ / name;
  EXPECT_TRUE(berth::WriteFile(path, text).ok());
  return path;
}

const bj::value* Find(const bj::object& doc, std::string_view pointer) {
  // A JSON pointer walk ("/a/0/b"), without escapes: enough for spec keys.
  const bj::value* cur = nullptr;
  const bj::object* obj = &doc;
  while (!pointer.empty()) {
    pointer.remove_prefix(1);
    size_t slash = pointer.find('/');
    std::string token(pointer.substr(0, slash));
    pointer = slash == std::string_view::npos ? std::string_view() : pointer.substr(slash);
    if (cur != nullptr && cur->is_array()) {
      size_t index = std::stoul(token);
      if (index >= cur->as_array().size()) return nullptr;
      cur = &cur->as_array()[index];
      continue;
    }
    if (cur != nullptr) {
      if (!cur->is_object()) return nullptr;
      obj = &cur->as_object();
    }
    cur = obj->if_contains(token);
    if (cur == nullptr) return nullptr;
  }
  return cur;
}

std::vector<std::string> Strings(const bj::object& doc, std::string_view pointer) {
  std::vector<std::string> out;
  const bj::value* v = Find(doc, pointer);
  if (v == nullptr || !v->is_array()) return out;
  for (const bj::value& item : v->as_array()) {
    if (item.is_string()) out.emplace_back(item.as_string());
  }
  return out;
}

std::string String(const bj::object& doc, std::string_view pointer) {
  const bj::value* v = Find(doc, pointer);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

const bj::object* MountAt(const bj::object& spec, std::string_view destination) {
  const bj::object* found = nullptr;
  const bj::value* mounts = spec.if_contains("mounts");
  if (mounts == nullptr) return nullptr;
  for (const bj::value& m : mounts->as_array()) {
    if (m.as_object().at("destination").as_string() == destination) found = &m.as_object();
  }
  return found;
}

std::vector<std::string> MountOptions(const bj::object& spec, std::string_view destination) {
  const bj::object* m = MountAt(spec, destination);
  return m == nullptr ? std::vector<std::string>() : Strings(*m, "/options");
}

std::vector<std::string> MountDestinations(const bj::object& spec) {
  std::vector<std::string> out;
  for (const bj::value& m : spec.at("mounts").as_array())
    out.emplace_back(m.as_object().at("destination").as_string());
  return out;
}

const bj::object* NamespaceOf(const bj::object& spec, std::string_view type) {
  for (const bj::value& ns : spec.at("linux").at("namespaces").as_array()) {
    if (ns.as_object().at("type").as_string() == type) return &ns.as_object();
  }
  return nullptr;
}

std::vector<std::string> AllowedSyscalls(const bj::object& seccomp) {
  std::vector<std::string> out;
  for (const bj::value& rule : seccomp.at("syscalls").as_array()) {
    const bj::object& r = rule.as_object();
    if (r.at("action").as_string() != "SCMP_ACT_ALLOW" || r.contains("args")) continue;
    for (const bj::value& n : r.at("names").as_array())
      out.emplace_back(n.as_string());
  }
  return out;
}

bool Contains(const std::vector<std::string>& list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

}  // namespace berth::cri::testing
