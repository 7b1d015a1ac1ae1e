// Devices on cgroup v2: the emulated rule set compiled to a
// BPF_CGROUP_DEVICE program (device_program.cc), loaded with
// bpf(BPF_PROG_LOAD) and attached to the container's cgroup directory with
// BPF_F_ALLOW_MULTI; the programs attached there before are then detached
// (bpf(2), BPF_PROG_QUERY / BPF_PROG_GET_FD_BY_ID / BPF_PROG_DETACH).

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>

#include "cgroups/device_rules.h"
#include "cgroups/v2/controllers.h"
#include "common/fd.h"
#include "common/log.h"

namespace berth::cgroups::v2 {

namespace {

int Bpf(int cmd, bpf_attr* attr) {
  return static_cast<int>(::syscall(__NR_bpf, cmd, attr, sizeof(*attr)));
}

uint64_t Ptr(const void* p) {
  return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(p));
}

// Before Linux 5.11 BPF memory was charged to RLIMIT_MEMLOCK; raise the soft
// limit to the hard one (best effort: CAP_SYS_RESOURCE may be missing).
void RaiseMemlock() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_MEMLOCK, &lim) == 0 && lim.rlim_cur != lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    (void)::setrlimit(RLIMIT_MEMLOCK, &lim);
  }
}

bpf_attr LoadAttr(const BpfProgram& program) {
  bpf_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insns = Ptr(program.data());
  attr.insn_cnt = static_cast<uint32_t>(program.size());
  attr.license = Ptr(kDeviceProgramLicense);
  return attr;
}

Result<UniqueFd> LoadProgram(const BpfProgram& program) {
  bpf_attr attr = LoadAttr(program);
  int fd = Bpf(BPF_PROG_LOAD, &attr);
  if (fd < 0 && errno == EPERM) {
    RaiseMemlock();
    attr = LoadAttr(program);
    fd = Bpf(BPF_PROG_LOAD, &attr);
  }
  if (fd >= 0) return UniqueFd(fd);
  int err = errno;
  // Load again with the verifier log, so the error says why.
  std::string log(size_t{64} * 1024, '\0');
  attr = LoadAttr(program);
  attr.log_level = 1;
  attr.log_buf = Ptr(log.data());
  attr.log_size = static_cast<uint32_t>(log.size());
  fd = Bpf(BPF_PROG_LOAD, &attr);
  if (fd >= 0) return UniqueFd(fd);  // a transient failure
  log.resize(std::strlen(log.c_str()));
  while (!log.empty() && log.back() == '\n')
    log.pop_back();
  return Error::Sys("bpf(BPF_PROG_LOAD)",
                    "device filter, " + std::to_string(program.size()) + " insns" +
                        (log.empty() ? "" : "; verifier: " + log),
                    err);
}

Result<std::vector<uint32_t>> AttachedPrograms(int cgroup_fd, const std::string& dir) {
  std::vector<uint32_t> ids(64);
  while (true) {
    bpf_attr attr;
    std::memset(&attr, 0, sizeof(attr));
    attr.query.target_fd = static_cast<uint32_t>(cgroup_fd);
    attr.query.attach_type = BPF_CGROUP_DEVICE;
    attr.query.prog_ids = Ptr(ids.data());
    attr.query.prog_cnt = static_cast<uint32_t>(ids.size());
    if (Bpf(BPF_PROG_QUERY, &attr) == 0) {
      ids.resize(attr.query.prog_cnt);
      return ids;
    }
    if (errno != ENOSPC || ids.size() >= 65536) return Error::Sys("bpf(BPF_PROG_QUERY)", dir);
    ids.resize(ids.size() * 4);
  }
}

Status Attach(int cgroup_fd, int prog_fd, const std::string& dir) {
  bpf_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.target_fd = static_cast<uint32_t>(cgroup_fd);
  attr.attach_bpf_fd = static_cast<uint32_t>(prog_fd);
  attr.attach_type = BPF_CGROUP_DEVICE;
  attr.attach_flags = BPF_F_ALLOW_MULTI;
  if (Bpf(BPF_PROG_ATTACH, &attr) != 0) return Error::Sys("bpf(BPF_PROG_ATTACH)", dir);
  return Ok();
}

Status Detach(int cgroup_fd, uint32_t id, const std::string& dir) {
  bpf_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.prog_id = id;
  UniqueFd prog(Bpf(BPF_PROG_GET_FD_BY_ID, &attr));
  if (!prog) {
    if (errno == ENOENT) return Ok();  // already gone
    return Error::Sys("bpf(BPF_PROG_GET_FD_BY_ID)", "program " + std::to_string(id));
  }
  std::memset(&attr, 0, sizeof(attr));
  attr.target_fd = static_cast<uint32_t>(cgroup_fd);
  attr.attach_bpf_fd = static_cast<uint32_t>(prog.get());
  attr.attach_type = BPF_CGROUP_DEVICE;
  if (Bpf(BPF_PROG_DETACH, &attr) != 0 && errno != ENOENT) {
    return Error::Sys("bpf(BPF_PROG_DETACH)", dir + " (program " + std::to_string(id) + ")");
  }
  return Ok();
}

class BpfInstaller : public DeviceFilterInstaller {
 public:
  Status Install(const std::string& dir, const BpfProgram& program) override {
    UniqueFd prog = BERTH_TRY(LoadProgram(program));
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return Error::Sys("open", dir);
    UniqueFd cgroup(fd);
    std::vector<uint32_t> old = BERTH_TRY(AttachedPrograms(cgroup.get(), dir));
    BERTH_TRY(Attach(cgroup.get(), prog.get(), dir));
    // Both filters apply until the old one is gone (ALLOW_MULTI runs every
    // program, all must allow), so the update never widens access.
    for (uint32_t id : old)
      BERTH_TRY(Detach(cgroup.get(), id, dir));
    BLOG(kDebug) << "device filter: attached " << program.size() << " insns to " << dir
                 << ", detached " << old.size();
    return Ok();
  }
};

}  // namespace

DeviceFilterInstallerPtr NewBpfDeviceFilterInstaller() {
  return std::make_unique<BpfInstaller>();
}

Status ApplyDevices(const Target& t, const std::vector<DeviceRule>& rules,
                    DeviceFilterInstaller* installer) {
  if (rules.empty()) return Ok();
  DeviceEmulator emulated =
      BERTH_TRY_CTX(DeviceEmulator::FromRules(rules), std::string(kField) + "devices");
  BpfProgram program = BERTH_TRY_CTX(DeviceProgram(emulated), std::string(kField) + "devices");
  BERTH_TRY_CTX(installer->Install(t.dir, program), std::string(kField) + "devices");
  return Ok();
}

}  // namespace berth::cgroups::v2
