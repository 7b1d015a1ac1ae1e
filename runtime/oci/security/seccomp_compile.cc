// CompileSeccomp: SeccompProfile -> libseccomp filter -> classic BPF, with
// runc's rule handling (see seccomp.h) and its -ENOSYS stub in front.

#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <string>

#include "common/fd.h"
#include "common/log.h"
#include "runtime/oci/security/seccomp.h"
#include "runtime/oci/security/seccomp_enosys.h"
#include "runtime/oci/security/seccomp_kernel.h"
#include "runtime/oci/security/seccomp_names.h"

namespace berth::runtime::security {
namespace {

using FilterPtr = std::unique_ptr<void, decltype(&seccomp_release)>;

constexpr size_t kMaxArgs = 6;
// runc turns on libseccomp's binary-tree syscall lookup above this many
// rules (libseccomp <= 2.5.4 misbehaves with the tree and no rules).
constexpr size_t kBinaryTreeThreshold = 32;

std::string Path(std::string_view member, size_t index) {
  return "linux.seccomp." + std::string(member) + "[" + std::to_string(index) + "]";
}

Error Invalid(const std::string& path, const std::string& why) {
  return Error(Errc::kInvalidArgument, path + ": " + why);
}

Result<uint32_t> ActionValue(const std::string& path, const std::string& action,
                             std::optional<uint32_t> errno_ret) {
  std::optional<uint32_t> value = SeccompActionValue(action, errno_ret);
  if (!value) return Invalid(path, "unknown action \"" + action + "\"");
  return *value;
}

Result<FilterPtr> NewFilter(const SeccompProfile& profile, uint32_t default_action) {
  FilterPtr filter(seccomp_init(default_action), &seccomp_release);
  if (!filter) {
    return Invalid("linux.seccomp.defaultAction", "libseccomp rejected " + profile.default_action);
  }
  for (size_t i = 0; i < profile.architectures.size(); ++i) {
    const std::string& name = profile.architectures[i];
    std::optional<uint32_t> token = SeccompArchToken(name);
    if (!token) return Invalid(Path("architectures", i), "unknown architecture \"" + name + "\"");
    int rc = seccomp_arch_add(filter.get(), *token);
    if (rc != 0 && rc != -EEXIST) {
      return Error::Sys("seccomp_arch_add", name, -rc).Wrap(Path("architectures", i));
    }
  }
  return filter;
}

Result<std::vector<scmp_arg_cmp>> Conditions(const std::string& path,
                                             const std::vector<SeccompArg>& args) {
  std::vector<scmp_arg_cmp> out;
  for (size_t i = 0; i < args.size(); ++i) {
    const SeccompArg& arg = args[i];
    std::string arg_path = path + ".args[" + std::to_string(i) + "]";
    std::optional<int> op = SeccompOperatorValue(arg.op);
    if (!op) return Invalid(arg_path + ".op", "unknown operator \"" + arg.op + "\"");
    if (arg.index >= kMaxArgs) return Invalid(arg_path + ".index", "out of range (0-5)");
    // For SCMP_CMP_MASKED_EQ, datum_a is the mask and datum_b the value.
    out.push_back({arg.index, static_cast<scmp_compare>(*op), arg.value, arg.value_two});
  }
  return out;
}

// runc: conditions on distinct arguments form one rule (AND); when two of
// them test the same argument, each becomes a rule of its own (OR).
std::vector<std::vector<scmp_arg_cmp>> GroupConditions(const std::vector<scmp_arg_cmp>& conds) {
  size_t per_arg[kMaxArgs] = {};
  bool repeated = false;
  for (const scmp_arg_cmp& c : conds) {
    repeated |= ++per_arg[c.arg] > 1;
  }
  if (!repeated) return {conds};
  std::vector<std::vector<scmp_arg_cmp>> out;
  out.reserve(conds.size());
  for (const scmp_arg_cmp& c : conds)
    out.push_back({c});
  return out;
}

struct RuleStats {
  size_t added = 0;
};

Status AddRule(scmp_filter_ctx ctx, const SeccompRule& rule, size_t index, uint32_t default_action,
               RuleStats* stats, std::vector<std::string>* unknown) {
  std::string path = Path("syscalls", index);
  uint32_t action = BERTH_TRY(ActionValue(path + ".action", rule.action, rule.errno_ret));
  // libseccomp refuses a rule that repeats the default action; it is a no-op.
  if (action == default_action) return Ok();
  std::vector<scmp_arg_cmp> conds = BERTH_TRY(Conditions(path, rule.args));
  for (const std::string& name : rule.names) {
    int nr = seccomp_syscall_resolve_name(name.c_str());
    if (nr == __NR_SCMP_ERROR) {
      BLOG(kDebug) << "unknown seccomp syscall \"" << name << "\" ignored";
      unknown->push_back(name);
      continue;
    }
    for (const auto& group : GroupConditions(conds)) {
      int rc = seccomp_rule_add_array(ctx, action, nr, static_cast<unsigned>(group.size()),
                                      group.data());
      if (rc != 0) return Error::Sys("seccomp_rule_add", name, -rc).Wrap(path);
      ++stats->added;
    }
  }
  return Ok();
}

Result<std::vector<sock_filter>> ReadProgram(int fd) {
  std::string bytes;
  char buf[8192];
  for (off_t at = 0;;) {
    ssize_t n = ::pread(fd, buf, sizeof buf, at);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::Sys("pread", "seccomp bpf memfd");
    if (n == 0) break;
    bytes.append(buf, static_cast<size_t>(n));
    at += n;
  }
  if (bytes.empty() || bytes.size() % sizeof(sock_filter) != 0) {
    return Error(Errc::kInternal, "seccomp_export_bpf: wrote " + std::to_string(bytes.size()) +
                                      " bytes, not a whole BPF program");
  }
  std::vector<sock_filter> program(bytes.size() / sizeof(sock_filter));
  std::memcpy(program.data(), bytes.data(), bytes.size());
  return program;
}

Result<std::vector<sock_filter>> ExportBpf(scmp_filter_ctx ctx) {
  UniqueFd fd(::memfd_create("berth-seccomp-bpf", MFD_CLOEXEC));
  if (!fd) return Error::Sys("memfd_create", "berth-seccomp-bpf");
  int rc = seccomp_export_bpf(ctx, fd.get());
  if (rc != 0) return Error::Sys("seccomp_export_bpf", "memfd", -rc);
  return ReadProgram(fd.get());
}

Status CheckKernelFlag(const std::string& path, const std::string& name, unsigned int probe) {
  if (KernelAcceptsSeccompFlags(probe)) return Ok();
  return Error(Errc::kUnimplemented,
               path + ": " + name + " is not supported by the running kernel");
}

}  // namespace

Result<unsigned int> SeccompKernelFlags(const SeccompProfile& profile, bool uses_notify) {
  unsigned int flags = uses_notify ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0;
  for (size_t i = 0; i < profile.flags.size(); ++i) {
    const std::string& name = profile.flags[i];
    std::optional<unsigned int> value = SeccompFlagValue(name);
    if (!value) return Invalid(Path("flags", i), "unknown flag \"" + name + "\"");
    unsigned int probe = *value;
    if (*value == SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV) {
      // The kernel takes it only with a listener (libseccomp drops it too).
      if (!uses_notify) {
        BLOG(kDebug) << "seccomp: " << name << " ignored: no SCMP_ACT_NOTIFY rule";
        continue;
      }
      probe |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
    }
    BERTH_TRY(CheckKernelFlag(Path("flags", i), name, probe));
    flags |= *value;
  }
  // TSYNC with a listener needs TSYNC_ESRCH (the return value is the fd).
  if ((flags & SECCOMP_FILTER_FLAG_TSYNC) && (flags & SECCOMP_FILTER_FLAG_NEW_LISTENER)) {
    flags |= SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
  }
  BERTH_TRY(CheckKernelFlag("linux.seccomp.flags", "this flag combination", flags));
  return flags;
}

Result<CompiledSeccomp> CompileSeccomp(const SeccompProfile& profile) {
  CompiledSeccomp out;
  if (!profile.enabled()) return out;
  uint32_t default_action = BERTH_TRY(ActionValue(
      "linux.seccomp.defaultAction", profile.default_action, profile.default_errno_ret));
  out.uses_notify = profile.UsesNotify();

  FilterPtr filter = BERTH_TRY(NewFilter(profile, default_action));
  RuleStats stats;
  for (size_t i = 0; i < profile.syscalls.size(); ++i) {
    BERTH_TRY(AddRule(filter.get(), profile.syscalls[i], i, default_action, &stats,
                      &out.unknown_syscalls));
  }
  if (stats.added > kBinaryTreeThreshold &&
      seccomp_attr_set(filter.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2) != 0) {
    BLOG(kDebug) << "seccomp: binary tree optimization not available";
  }
  std::vector<sock_filter> main = BERTH_TRY(ExportBpf(filter.get()));
  out.program = BERTH_TRY(BuildEnosysStub(profile));
  out.program.insert(out.program.end(), main.begin(), main.end());
  if (out.program.size() > BPF_MAXINSNS) {
    return Error(Errc::kInvalidArgument,
                 "linux.seccomp: filter of " + std::to_string(out.program.size()) +
                     " instructions exceeds the kernel's limit of " + std::to_string(BPF_MAXINSNS));
  }
  out.flags = BERTH_TRY(SeccompKernelFlags(profile, out.uses_notify));
  return out;
}

}  // namespace berth::runtime::security
