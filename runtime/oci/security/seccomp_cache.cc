// CompileSeccompCached: compiled programs kept in files named by a hash of
// their key, each file holding the full key, checked on every read (a
// hash collision or a stale entry is a miss, never a wrong program).
//
// Entry layout (native byte order; the key pins the machine):
//   "BERTHSC1" | u64 key size | key | u32 instructions | sock_filter[] |
//   u32 unknown names | (u32 size | name)[]

#include <seccomp.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <string_view>

#include "common/file.h"
#include "common/log.h"
#include "runtime/oci/security/seccomp.h"
#include "runtime/oci/security/seccomp_kernel.h"

namespace berth::runtime::security {
namespace {

constexpr std::string_view kMagic = "BERTHSC1";
// Far beyond any real profile; bounds what a damaged entry can make us read.
constexpr uint32_t kMaxUnknownNames = 4096;

class KeyWriter {
 public:
  // Length-prefixed, so no two field sequences serialize alike.
  KeyWriter& Add(std::string_view field) {
    out_ += std::to_string(field.size());
    out_ += ':';
    out_ += field;
    return *this;
  }
  KeyWriter& Add(uint64_t n) { return Add(std::to_string(n)); }
  KeyWriter& Add(const std::optional<uint32_t>& n) { return Add(n ? std::to_string(*n) : "-"); }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

// Everything the compiled program can depend on besides the profile.
Result<std::string> SystemKey() {
  KeyWriter k;
  k.Add(kMagic);
  const scmp_version* v = seccomp_version();
  k.Add(v->major).Add(v->minor).Add(v->micro).Add(seccomp_api_get()).Add(seccomp_arch_native());
  utsname u{};
  if (::uname(&u) != 0) return Error::Sys("uname", "kernel release");
  k.Add(u.release).Add(u.version).Add(u.machine);
  struct stat st {};
  if (::stat("/proc/self/exe", &st) != 0) return Error::Sys("stat", "/proc/self/exe");
  k.Add(st.st_dev).Add(st.st_ino).Add(static_cast<uint64_t>(st.st_size));
  k.Add(static_cast<uint64_t>(st.st_mtim.tv_sec)).Add(static_cast<uint64_t>(st.st_mtim.tv_nsec));
  return k.Take();
}

std::string ProfileKey(const SeccompProfile& p) {
  KeyWriter k;
  k.Add(p.default_action).Add(p.default_errno_ret);
  k.Add(p.architectures.size());
  for (const std::string& a : p.architectures)
    k.Add(a);
  k.Add(p.flags.size());
  for (const std::string& f : p.flags)
    k.Add(f);
  k.Add(p.syscalls.size());
  for (const SeccompRule& r : p.syscalls) {
    k.Add(r.action).Add(r.errno_ret).Add(r.names.size());
    for (const std::string& n : r.names)
      k.Add(n);
    k.Add(r.args.size());
    for (const SeccompArg& a : r.args)
      k.Add(a.index).Add(a.value).Add(a.value_two).Add(a.op);
  }
  return k.Take();
}

// FNV-1a, for the file name only: entries carry their key.
std::string FileName(std::string_view key) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : key) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char name[32];
  std::snprintf(name, sizeof name, "%016llx.bpf", static_cast<unsigned long long>(h));
  return name;
}

template <class T>
void Put(std::string& out, T value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof value);
}

template <class T>
bool Take(std::string_view& in, T* value) {
  if (in.size() < sizeof *value) return false;
  std::memcpy(value, in.data(), sizeof *value);
  in.remove_prefix(sizeof *value);
  return true;
}

std::string Encode(std::string_view key, const CompiledSeccomp& c) {
  std::string out(kMagic);
  Put<uint64_t>(out, key.size());
  out += key;
  Put<uint32_t>(out, static_cast<uint32_t>(c.program.size()));
  out.append(reinterpret_cast<const char*>(c.program.data()),
             c.program.size() * sizeof(sock_filter));
  Put<uint32_t>(out, static_cast<uint32_t>(c.unknown_syscalls.size()));
  for (const std::string& name : c.unknown_syscalls) {
    Put<uint32_t>(out, static_cast<uint32_t>(name.size()));
    out += name;
  }
  return out;
}

// The entry's program and unknown names when it is whole and its key is
// exactly `key`; nullopt otherwise.
std::optional<CompiledSeccomp> Decode(std::string_view in, std::string_view key) {
  if (!in.starts_with(kMagic)) return std::nullopt;
  in.remove_prefix(kMagic.size());
  uint64_t key_size = 0;
  if (!Take(in, &key_size) || key_size != key.size() || in.substr(0, key.size()) != key) {
    return std::nullopt;
  }
  in.remove_prefix(key.size());
  uint32_t count = 0;
  if (!Take(in, &count) || count == 0 || count > BPF_MAXINSNS ||
      in.size() < count * sizeof(sock_filter)) {
    return std::nullopt;
  }
  CompiledSeccomp out;
  out.program.resize(count);
  std::memcpy(out.program.data(), in.data(), count * sizeof(sock_filter));
  in.remove_prefix(count * sizeof(sock_filter));
  uint32_t names = 0;
  if (!Take(in, &names) || names > kMaxUnknownNames) return std::nullopt;
  for (uint32_t i = 0; i < names; ++i) {
    uint32_t size = 0;
    if (!Take(in, &size) || in.size() < size) return std::nullopt;
    out.unknown_syscalls.emplace_back(in.substr(0, size));
    in.remove_prefix(size);
  }
  if (!in.empty()) return std::nullopt;
  return out;
}

// Only a directory of our own that nobody else may write is trusted.
Status CheckCacheDir(const std::string& dir) {
  BERTH_TRY(MkdirAll(dir, 0700));
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0) return Error::Sys("lstat", dir);
  if (!S_ISDIR(st.st_mode) || st.st_uid != ::geteuid() || (st.st_mode & 022) != 0) {
    return Error(Errc::kPermissionDenied, dir + ": not a directory of uid " +
                                              std::to_string(::geteuid()) +
                                              " that only it may write");
  }
  return Ok();
}

}  // namespace

Result<CompiledSeccomp> CompileSeccompCached(const SeccompProfile& profile,
                                             const std::string& cache_dir) {
  if (!profile.enabled() || cache_dir.empty()) return CompileSeccomp(profile);
  Status usable = CheckCacheDir(cache_dir);
  Result<std::string> system = usable.ok() ? SystemKey() : Result<std::string>(usable.error());
  if (!system.ok()) {
    BLOG(kDebug) << "seccomp cache: " << system.error().str();
    return CompileSeccomp(profile);
  }
  std::string key = *system + ProfileKey(profile);
  std::string path = cache_dir + "/" + FileName(key);
  if (Result<std::string> bytes = ReadFile(path); bytes.ok()) {
    if (std::optional<CompiledSeccomp> hit = Decode(*bytes, key)) {
      hit->uses_notify = profile.UsesNotify();
      hit->flags = BERTH_TRY(SeccompKernelFlags(profile, hit->uses_notify));
      return std::move(*hit);
    }
  }
  CompiledSeccomp compiled = BERTH_TRY(CompileSeccomp(profile));
  Status saved = WriteFileAtomic(path, Encode(key, compiled), 0600, Durability::kProcessCrash);
  if (!saved.ok()) BLOG(kDebug) << "seccomp cache: " << saved.error().str();
  return compiled;
}

}  // namespace berth::runtime::security
