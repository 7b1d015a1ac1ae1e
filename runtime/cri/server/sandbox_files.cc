#include "runtime/cri/server/sandbox_files.h"

#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>

#include "common/file.h"

namespace berth::cri {

namespace v1 = ::runtime::v1;

namespace {

const v1::NamespaceOption& Namespaces(const v1::PodSandboxConfig& c) {
  return c.linux().security_context().namespace_options();
}

std::string ResolvConf(const v1::DNSConfig& dns) {
  std::string out;
  if (dns.searches_size() > 0) {
    out += "search";
    for (const auto& s : dns.searches())
      out += " " + s;
    out += "\n";
  }
  for (const auto& s : dns.servers())
    out += "nameserver " + s + "\n";
  if (dns.options_size() > 0) {
    out += "options";
    for (const auto& o : dns.options())
      out += " " + o;
    out += "\n";
  }
  return out;
}

}  // namespace

bool HostNetwork(const v1::PodSandboxConfig& c) {
  return Namespaces(c).network() == v1::NamespaceMode::NODE;
}
bool HostIpc(const v1::PodSandboxConfig& c) {
  return Namespaces(c).ipc() == v1::NamespaceMode::NODE;
}
bool HostPid(const v1::PodSandboxConfig& c) {
  return Namespaces(c).pid() == v1::NamespaceMode::NODE;
}

Result<SandboxFiles> PrepareSandboxFiles(const std::string& dir,
                                         const v1::PodSandboxConfig& config) {
  SandboxFiles f;
  BERTH_TRY(MkdirAll(dir, 0755));
  f.hostname = config.hostname();
  if (f.hostname.empty() || HostNetwork(config)) {
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0) return Error::Sys("gethostname");
    if (HostNetwork(config) || f.hostname.empty()) f.hostname = buf;
  }
  f.hostname_file = dir + "/hostname";
  // These files serve this sandbox's containers only; a power loss ends
  // them too, so no fsync.
  constexpr Durability kDurability = Durability::kProcessCrash;
  BERTH_TRY(WriteFileAtomic(f.hostname_file, f.hostname + "\n", 0644, kDurability));

  f.hosts_file = dir + "/hosts";
  std::string hosts;
  if (HostNetwork(config)) {
    hosts = ReadFile("/etc/hosts").value_or("");
  } else {
    hosts =
        "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
        "fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\n"
        "ff02::2\tip6-allrouters\n";
  }
  BERTH_TRY(WriteFileAtomic(f.hosts_file, hosts, 0644, kDurability));

  f.resolv_conf = dir + "/resolv.conf";
  const v1::DNSConfig& dns = config.dns_config();
  bool custom = dns.servers_size() + dns.searches_size() + dns.options_size() > 0;
  std::string resolv = custom ? ResolvConf(dns) : ReadFile("/etc/resolv.conf").value_or("");
  BERTH_TRY(WriteFileAtomic(f.resolv_conf, resolv, 0644, kDurability));

  if (HostIpc(config)) {
    f.shm = "/dev/shm";
  } else {
    f.shm = dir + "/shm";
    BERTH_TRY(MkdirAll(f.shm, 0755));
    if (::mount("shm", f.shm.c_str(), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                "mode=1777,size=65536k") != 0) {
      return Error::Sys("mount tmpfs", f.shm);
    }
  }
  return f;
}

Status ReleaseSandboxShm(const std::string& shm) {
  if (shm.empty() || shm == "/dev/shm") return Ok();
  if (::umount2(shm.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT) {
    return Error::Sys("umount", shm);
  }
  return Ok();
}

}  // namespace berth::cri
