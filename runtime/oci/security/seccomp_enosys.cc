// The -ENOSYS stub (see seccomp_enosys.h). Layout, for the architectures A,
// B... that the profile lists:
//
//     ld  [arch]
//     jeq A, section_A          ; one per audit arch
//     jeq B, section_B
//     ja  filter
//   section_A:
//     ld  [nr]
//     (x86_64 only: route x32 numbers, bit 30, to their own maximum)
//     (s390/s390x only: nr 0 is the multiplexer for unknown syscalls)
//     jgt max_A, enosys, filter
//   ...
//   enosys:
//     ret ERRNO(ENOSYS)
//   filter:                     ; libseccomp's program follows

#include "runtime/oci/security/seccomp_enosys.h"

#include <linux/audit.h>
#include <linux/seccomp.h>
#include <seccomp.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <map>

#include "common/log.h"
#include "runtime/oci/security/bpf_builder.h"
#include "runtime/oci/security/seccomp_names.h"

namespace berth::runtime::security {
namespace {

constexpr uint32_t kX32SyscallBit = 0x40000000;
constexpr uint32_t kOffsetNr = offsetof(seccomp_data, nr);
constexpr uint32_t kOffsetArch = offsetof(seccomp_data, arch);

bool NeedsStub(const SeccompProfile& profile) {
  if (IsPermissiveSeccompAction(profile.default_action)) return false;
  return !(profile.default_action == "SCMP_ACT_ERRNO" && profile.default_errno_ret == ENOSYS);
}

uint32_t HighestFor(const SeccompProfile& profile, uint32_t token) {
  int highest = 0;
  for (const SeccompRule& rule : profile.syscalls) {
    for (const std::string& name : rule.names) {
      // Negative numbers are libseccomp's pseudo-syscalls / unknown names.
      highest = std::max(highest, seccomp_syscall_resolve_name_arch(token, name.c_str()));
    }
  }
  return static_cast<uint32_t>(highest);
}

// One audit arch's section; `maxima` holds one or (x86_64 + x32) two
// entries.
void EmitSection(BpfBuilder& b, const std::vector<ArchSyscallMax>& maxima, BpfBuilder::Label enosys,
                 BpfBuilder::Label filter) {
  b.LoadWord(kOffsetNr);
  auto find = [&](uint32_t token) -> const ArchSyscallMax* {
    for (const ArchSyscallMax& m : maxima) {
      if (m.arch_token == token) return &m;
    }
    return nullptr;
  };
  const ArchSyscallMax* native = find(SCMP_ARCH_X86_64);
  const ArchSyscallMax* x32 = find(SCMP_ARCH_X32);
  if (native && x32) {
    BpfBuilder::Label x32_section = b.NewLabel();
    b.JumpIf(BPF_JSET, kX32SyscallBit, x32_section, BpfBuilder::kNext);
    b.JumpIf(BPF_JGT, native->max_nr, enosys, filter);
    b.Bind(x32_section);
    b.JumpIf(BPF_JGT, x32->max_nr, enosys, filter);
    return;
  }
  // Numbers of the other x86_64 ABI are left to the filter (bad arch).
  if (native) b.JumpIf(BPF_JSET, kX32SyscallBit, filter, BpfBuilder::kNext);
  if (x32) b.JumpIf(BPF_JSET, kX32SyscallBit, BpfBuilder::kNext, filter);
  const ArchSyscallMax& only = maxima.front();
  if (only.arch_token == SCMP_ARCH_S390 || only.arch_token == SCMP_ARCH_S390X) {
    b.JumpIf(BPF_JEQ, 0, enosys, BpfBuilder::kNext);
  }
  b.JumpIf(BPF_JGT, only.max_nr, enosys, filter);
}

}  // namespace

std::vector<ArchSyscallMax> HighestProfileSyscalls(const SeccompProfile& profile) {
  std::vector<ArchSyscallMax> out;
  for (const std::string& name : profile.architectures) {
    std::optional<uint32_t> token = SeccompArchToken(name);
    if (!token) continue;  // ParseSeccomp rejects these
    bool seen = std::any_of(out.begin(), out.end(),
                            [&](const ArchSyscallMax& m) { return m.arch_token == *token; });
    if (seen) continue;
    uint32_t highest = HighestFor(profile, *token);
    if (highest == 0) {
      BLOG(kWarn) << "seccomp: could not find any syscalls for arch " << name;
      continue;
    }
    out.push_back({*SeccompAuditArch(*token), *token, highest});
  }
  return out;
}

Result<std::vector<sock_filter>> BuildEnosysStub(const SeccompProfile& profile) {
  if (!NeedsStub(profile)) return std::vector<sock_filter>();
  std::map<uint32_t, std::vector<ArchSyscallMax>> by_audit_arch;
  for (const ArchSyscallMax& m : HighestProfileSyscalls(profile)) {
    by_audit_arch[m.audit_arch].push_back(m);
  }
  if (by_audit_arch.empty()) return std::vector<sock_filter>();

  BpfBuilder b;
  BpfBuilder::Label enosys = b.NewLabel();
  BpfBuilder::Label filter = b.NewLabel();
  std::map<uint32_t, BpfBuilder::Label> sections;
  b.LoadWord(kOffsetArch);
  for (const auto& [audit_arch, maxima] : by_audit_arch) {
    sections[audit_arch] = b.NewLabel();
    b.JumpIf(BPF_JEQ, audit_arch, sections[audit_arch], BpfBuilder::kNext);
  }
  b.Jump(filter);
  for (const auto& [audit_arch, maxima] : by_audit_arch) {
    b.Bind(sections[audit_arch]);
    EmitSection(b, maxima, enosys, filter);
  }
  b.Bind(enosys);
  b.Return(SECCOMP_RET_ERRNO | ENOSYS);
  b.Bind(filter);
  return b.Finish();
}

}  // namespace berth::runtime::security
