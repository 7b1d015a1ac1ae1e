#include "cgroups/cgroupfs.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <ranges>

#include "common/fd.h"
#include "common/file.h"
#include "common/strings.h"

namespace berth::cgroups {

std::string KnobPath(std::string_view dir, std::string_view file) {
  return PathJoin(dir, file);
}

bool KnobExists(std::string_view dir, std::string_view file) {
  struct stat st {};
  return ::stat(KnobPath(dir, file).c_str(), &st) == 0;
}

namespace {
KnobWriteObserver& Observer() {
  static KnobWriteObserver observer;
  return observer;
}
}  // namespace

void SetKnobWriteObserverForTest(KnobWriteObserver observer) {
  Observer() = std::move(observer);
}

Status WriteKnob(std::string_view dir, std::string_view file, std::string_view value) {
  std::string path = KnobPath(dir, file);
  if (Observer()) Observer()(path, value);
  int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0) return Error::Sys("open", path);
  UniqueFd owned(fd);
  // A knob takes its value in one write(2); a short write is a kernel bug.
  while (::write(fd, value.data(), value.size()) < 0) {
    if (errno == EINTR) continue;
    // The op carries the rendered call so the value follows the path:
    // write `/sys/fs/cgroup/x/memory.max` (value "1048576"): Device or resource busy
    return Error::Sys("write `" + path + "` (value \"" + std::string(value) + "\")", "");
  }
  return Ok();
}

Result<std::string> ReadKnob(std::string_view dir, std::string_view file) {
  return ReadFile(KnobPath(dir, file));
}

Result<uint64_t> ReadKnobUint(std::string_view dir, std::string_view file) {
  std::string text = BERTH_TRY(ReadKnob(dir, file));
  return ParseUintOrMax(text, KnobPath(dir, file));
}

Result<int64_t> ReadKnobInt(std::string_view dir, std::string_view file) {
  std::string text = BERTH_TRY(ReadKnob(dir, file));
  return ParseInt<int64_t>(text, KnobPath(dir, file));
}

Result<std::map<std::string, uint64_t>> ReadKnobKeyValues(std::string_view dir,
                                                          std::string_view file) {
  std::string text = BERTH_TRY(ReadKnob(dir, file));
  return ParseKeyValues(text, KnobPath(dir, file));
}

Result<std::vector<std::string>> ReadKnobWords(std::string_view dir, std::string_view file) {
  std::string text = BERTH_TRY(ReadKnob(dir, file));
  std::vector<std::string> words;
  for (const std::string& line : Split(text, '\n')) {
    for (std::string& w : SplitNonEmpty(line, ' '))
      words.push_back(std::move(w));
  }
  return words;
}

Result<uint64_t> ParseUintOrMax(std::string_view text, std::string_view what) {
  std::string_view t = Trim(text);
  if (t == "max") return kMax;
  // Some v1 files print unlimited as a signed -1 (cpu.cfs_quota_us).
  if (t == "-1") return kMax;
  return ParseInt<uint64_t>(t, what);
}

Result<std::map<std::string, uint64_t>> ParseKeyValues(std::string_view text,
                                                       std::string_view what) {
  std::map<std::string, uint64_t> out;
  for (const std::string& line : Split(text, '\n')) {
    std::vector<std::string> f = SplitNonEmpty(line, ' ');
    if (f.empty()) continue;
    if (f.size() != 2) {
      return Error(Errc::kInvalidArgument,
                   std::string(what) + ": malformed line \"" + line + "\" (want \"key value\")");
    }
    out[f[0]] = BERTH_TRY(ParseUintOrMax(f[1], std::string(what) + " " + f[0]));
  }
  return out;
}

Result<std::vector<uint64_t>> ParseUintList(std::string_view text, std::string_view what) {
  std::vector<uint64_t> out;
  for (const std::string& line : Split(text, '\n')) {
    for (const std::string& w : SplitNonEmpty(line, ' ')) {
      out.push_back(BERTH_TRY(ParseInt<uint64_t>(w, what)));
    }
  }
  return out;
}

std::string V2Limit(int64_t value) {
  return value < 0 ? "max" : std::to_string(value);
}

std::string RdmaLimitLine(const std::string& device,
                          const std::map<std::string, uint32_t>& limits) {
  std::string line;
  auto handles = limits.find("hcaHandles");
  auto objects = limits.find("hcaObjects");
  if (handles != limits.end()) line += " hca_handle=" + std::to_string(handles->second);
  if (objects != limits.end()) line += " hca_object=" + std::to_string(objects->second);
  return line.empty() ? line : device + line;
}

Result<std::vector<pid_t>> ReadProcs(std::string_view dir) {
  std::string text = BERTH_TRY(ReadKnob(dir, "cgroup.procs"));
  std::vector<pid_t> pids;
  for (const std::string& line : SplitNonEmpty(text, '\n')) {
    pids.push_back(BERTH_TRY(ParseInt<pid_t>(line, KnobPath(dir, "cgroup.procs"))));
  }
  return pids;
}

namespace {

Result<std::vector<std::string>> ChildCgroups(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return Error::Sys("opendir", dir);
  std::vector<std::string> out;
  while (dirent* ent = ::readdir(d)) {
    std::string name = ent->d_name;
    if (name == "." || name == "..") continue;
    if (ent->d_type == DT_DIR) out.push_back(PathJoin(dir, name));
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

// A sub-cgroup may vanish while it is walked (the container removes its
// own children); only the top directory must exist.
Status CollectProcs(const std::string& dir, std::vector<pid_t>* pids, bool top) {
  Result<std::vector<pid_t>> procs = ReadProcs(dir);
  if (!procs.ok()) {
    if (!top && procs.error().sys_errno() == ENOENT) return Ok();
    return std::move(procs).error();
  }
  pids->insert(pids->end(), procs->begin(), procs->end());
  Result<std::vector<std::string>> children = ChildCgroups(dir);
  if (!children.ok()) {
    if (!top && children.error().sys_errno() == ENOENT) return Ok();
    return std::move(children).error();
  }
  for (const std::string& child : *children)
    BERTH_TRY(CollectProcs(child, pids, false));
  return Ok();
}

// rmdir with EBUSY retries: a cgroup stays busy until its last task is
// reaped, which may lag a SIGKILL by a little.
Status RmdirRetrying(const std::string& dir) {
  for (int attempt = 0;; ++attempt) {
    if (::rmdir(dir.c_str()) == 0 || errno == ENOENT) return Ok();
    if (errno != EBUSY || attempt >= 100) return Error::Sys("rmdir", dir);
    SleepMs(std::min(10 * (attempt + 1), 100));
  }
}

}  // namespace

Result<std::vector<pid_t>> ReadProcsRecursive(std::string_view dir) {
  std::vector<pid_t> pids;
  BERTH_TRY(CollectProcs(std::string(dir), &pids, true));
  std::sort(pids.begin(), pids.end());
  pids.erase(std::unique(pids.begin(), pids.end()), pids.end());
  return pids;
}

Status WriteProc(std::string_view dir, pid_t pid) {
  std::string value = std::to_string(pid);
  for (int attempt = 0;; ++attempt) {
    Status s = WriteKnob(dir, "cgroup.procs", value);
    if (s.ok() || s.error().sys_errno() != EINVAL || attempt >= 5) return s;
    SleepMs(30);
  }
}

Status SignalPids(const std::vector<pid_t>& pids, int signal) {
  for (pid_t pid : pids) {
    if (::kill(pid, signal) != 0 && errno != ESRCH) {
      return Error::Sys("kill", std::to_string(pid) + " (signal " + std::to_string(signal) + ")");
    }
  }
  return Ok();
}

Status RemoveCgroup(const std::string& dir) {
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0) {
    if (errno == ENOENT) return Ok();
    return Error::Sys("stat", dir);
  }
  Result<std::vector<std::string>> children = ChildCgroups(dir);
  if (!children.ok()) {
    if (children.error().sys_errno() == ENOENT) return Ok();
    return std::move(children).error();
  }
  for (const std::string& child : *children)
    BERTH_TRY(RemoveCgroup(child));
  return RmdirRetrying(dir);
}

bool IsWithin(std::string_view path, std::string_view root) {
  if (root.size() > 1 && root.back() == '/') root.remove_suffix(1);
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  if (path.substr(0, root.size()) != root) return false;
  return path.size() == root.size() || root == "/" || path[root.size()] == '/';
}

std::vector<std::string> DirsFromRoot(const std::string& root, const std::string& path) {
  std::vector<std::string> dirs;
  std::string current = path;
  while (true) {
    dirs.push_back(current);
    if (current.size() <= root.size()) break;
    current = Dirname(current);
  }
  std::reverse(dirs.begin(), dirs.end());
  return dirs;
}

Status CheckConfined(const std::string& key, const std::string& dir, const std::string& root) {
  bool clean = !dir.empty() && dir.front() == '/' && CleanPath(dir) == dir && !root.empty() &&
               root.front() == '/' && CleanPath(root) == root;
  if (clean && dir != root && IsWithin(dir, root)) return Ok();
  return Error(Errc::kInvalidArgument, "cgroup placement: `" + dir + "` (" + key +
                                           ") is not a clean path strictly below the berth "
                                           "root `" +
                                           root + "`; refusing to touch it");
}

Result<std::vector<std::string>> MakeCgroupDirs(const std::string& root, const std::string& dir) {
  BERTH_TRY(CheckConfined("mkdir", dir, root));
  std::vector<std::string> created;
  for (const std::string& level : DirsFromRoot(root, dir)) {
    if (::mkdir(level.c_str(), 0755) == 0) {
      created.push_back(level);
      continue;
    }
    if (errno == EEXIST) continue;
    Error e = Error::Sys("mkdir", level);
    RemoveCreated(created);
    return e;
  }
  return created;
}

void RemoveCreated(const std::vector<std::string>& created) {
  for (size_t i = created.size(); i-- > 0;)
    (void)::rmdir(created[i].c_str());
}

void SleepMs(int ms) {
  timespec ts{ms / 1000, static_cast<long>(ms % 1000) * 1'000'000L};
  while (::nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

}  // namespace berth::cgroups
