#pragma once
// The OCI runtime configuration (runtime-spec 1.1 config.md and
// config-linux.md), parsed from a bundle's config.json into typed structs.
// Parsing checks types and names the field of any error; Validate() checks
// the semantic rules that need the bundle on disk.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cgroups/resources.h"
#include "common/error.h"
#include "common/json.h"
#include "namespaces/idmap.h"
#include "namespaces/namespace.h"
#include "runtime/oci/security/capabilities.h"
#include "runtime/oci/security/rlimits.h"
#include "runtime/oci/security/seccomp.h"

namespace berth::runtime::oci {

using StringPairs = std::vector<std::pair<std::string, std::string>>;

struct Mount {
  std::string destination;
  std::string type;
  std::string source;
  std::vector<std::string> options;
  std::vector<ns::IdMapping> uid_mappings, gid_mappings;
};

struct User {
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::optional<uint32_t> umask;
  std::vector<uint32_t> additional_gids;
  std::string username;
};

struct ConsoleSize {
  uint32_t height = 0, width = 0;
};

struct Process {
  bool terminal = false;
  std::optional<ConsoleSize> console_size;
  User user;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::string cwd;
  security::CapabilitySets capabilities;
  std::vector<security::Rlimit> rlimits;
  bool no_new_privileges = false;
  std::optional<int> oom_score_adj;
  std::string apparmor_profile;
  std::string selinux_label;
};

struct Hook {
  std::string path;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::optional<int> timeout;  // seconds
};

struct Hooks {
  std::vector<Hook> prestart, create_runtime, create_container, start_container, poststart,
      poststop;
};

struct Namespace {
  ns::Kind kind;
  std::string path;  // empty: create a new one
};

struct Device {
  std::string path;
  char type = 'c';  // c, u, b, p
  int64_t major = 0, minor = 0;
  std::optional<uint32_t> file_mode;
  std::optional<uint32_t> uid, gid;
};

struct LinuxConfig {
  std::vector<Namespace> namespaces;
  std::vector<ns::IdMapping> uid_mappings, gid_mappings;
  StringPairs sysctl;
  cgroups::Resources resources;
  bool has_resources = false;
  std::string cgroups_path;
  std::vector<Device> devices;
  std::optional<security::SeccompProfile> seccomp;
  std::string rootfs_propagation;
  std::vector<std::string> masked_paths, readonly_paths;
  std::string mount_label;

  const Namespace* Find(ns::Kind kind) const;
  bool Has(ns::Kind kind) const { return Find(kind) != nullptr; }
  // True when the container gets a new namespace of `kind` (listed, no path).
  bool CreatesNew(ns::Kind kind) const;
};

struct Spec {
  std::string oci_version;
  std::string root_path;  // as written (may be relative to the bundle)
  bool root_readonly = false;
  std::optional<Process> process;
  std::string hostname;
  std::string domainname;
  std::vector<Mount> mounts;
  Hooks hooks;
  StringPairs annotations;
  LinuxConfig linux_config;
};

// Parses config.json text; `what` names the document in errors.
Result<Spec> ParseSpec(std::string_view text, std::string_view what = "config.json");
// Parses a process object (config.json's "process", or `exec --process`).
Result<Process> ParseProcess(const json::Field& field);

// Semantic checks (the rules runc enforces): rootfs exists, args present,
// hostname needs a UTS namespace, sysctls are namespaced, unsupported
// security features are refused by name. `bundle` is the absolute bundle
// directory.
Status Validate(const Spec& spec, const std::string& bundle);
Status ValidateProcess(const Process& process, std::string_view field);

// The rootfs path made absolute against the bundle.
std::string RootfsPath(const Spec& spec, const std::string& bundle);

}  // namespace berth::runtime::oci
