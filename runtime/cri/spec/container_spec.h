#pragma once
// CRI CreateContainer -> the container's config.json, as containerd 1.7's
// CRI plugin writes it (container_create_linux.go, pkg/cri/opts):
//
//   process   args, cwd and env from the image config merged with command,
//             args, working_dir and envs (image::MergeImageConfig); env is
//             PATH, TERM=xterm with tty, HOSTNAME, then the image's and the
//             config's variables (later ones replace same-named ones);
//             terminal = tty (stdin flags are the shim's business);
//             user per user.h; capabilities per capabilities.h;
//             noNewPrivileges = no_new_privs; oomScoreAdj =
//             resources.oom_score_adj when resources are set
//   root      the rootfs; read-only with readonly_rootfs
//   mounts    per mounts.h, with the sandbox's files: hostname_file,
//             hosts_file and resolv_conf (read-only with readonly_rootfs)
//             and shm_path (the host's /dev/shm with host IPC)
//   linux     namespaces: network, ipc and uts of the sandbox (by netns_path
//             or /proc/<sandbox_pid>/ns/*; none with host network / IPC),
//             pid by the container's NamespaceOption (POD: the sandbox's,
//             CONTAINER: new, NODE: none, TARGET: /proc/<target_pid>/ns/pid),
//             a new mount namespace, and a new cgroup namespace when
//             cgroup_namespace and not privileged;
//             resources per resources.h; devices from Device entries
//             (privileged: every host device and allow-all instead);
//             seccomp per seccomp_profile.h; masked/read-only paths from
//             the request, else containerd's defaults (none when
//             privileged); cgroupsPath; rootfsPropagation
//   annotations the container's annotations, then io.kubernetes.cri.*
//
// Privileged (needs a privileged sandbox): all capabilities, no seccomp, no
// masked or read-only paths, /sys and /sys/fs/cgroup read-write, host
// devices. AppArmor and SELinux options are accepted and ignored.
// Pure apart from reading the rootfs's /etc/passwd and /etc/group, a
// Localhost seccomp profile, and stat(2) of device paths.

#include <sys/types.h>

#include <boost/json.hpp>
#include <optional>
#include <string>

#include "common/error.h"
#include "runtime/cri/proto/api.pb.h"
#include "runtime/image/manifest.h"

namespace berth::cri {

struct ContainerSpecInput {
  const ::runtime::v1::ContainerConfig* config = nullptr;    // required
  const ::runtime::v1::PodSandboxConfig* sandbox = nullptr;  // required
  std::string container_id, sandbox_id;
  std::string rootfs;                         // the mounted rootfs (absolute)
  const image::ImageConfig* image = nullptr;  // required: Entrypoint, Cmd, Env, WorkingDir, User
  std::string image_ref;   // io.kubernetes.cri.image-name ("" = config.image.image)
  pid_t sandbox_pid = 0;   // the pause process: its ns are joined via /proc/<pid>/ns/*
  pid_t target_pid = 0;    // NamespaceMode TARGET: the target container's init
  std::string netns_path;  // the pod's pinned netns ("" = /proc/<sandbox_pid>/ns/net)
  std::string cgroups_path;
  std::string hostname;  // HOSTNAME ("" = the sandbox config's, else the host's)
  // The sandbox's files, bind-mounted at /etc/resolv.conf, /etc/hosts,
  // /etc/hostname and /dev/shm; "" leaves that mount out.
  std::string resolv_conf, hosts_file, hostname_file, shm_path;
  std::string seccomp_profile_root;        // for relative Localhost profile paths
  std::optional<int> oom_score_adj_floor;  // restrict_oom_score_adj
  // cgroup v2 host: unprivileged containers get a private cgroup namespace.
  bool cgroup_namespace = false;
  // The host accounts swap (memory.memsw / memory.swap.max): memory.swap is
  // then set (= the limit unless memory_swap_limit_in_bytes).
  bool swap_accounting = false;
  // Privileged containers get every device under it ("" = none, as
  // containerd's privileged_without_host_devices).
  std::string host_dev_dir = "/dev";
};

Result<boost::json::object> BuildContainerSpec(const ContainerSpecInput& in);

}  // namespace berth::cri
