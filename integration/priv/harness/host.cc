#include "integration/priv/harness/host.h"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <map>
#include <random>

#include "common/file.h"
#include "common/strings.h"
#include "common/unix_socket.h"
#include "integration/priv/harness/process.h"

namespace berth::priv {
namespace {

// mountinfo: "id parent maj:min root mountpoint opts [optional...] - type source superopts".
struct CgroupMount {
  std::string mount, root, type;
  std::set<std::string> controllers;  // v1: from the super options
};

std::vector<CgroupMount> CgroupMounts() {
  std::vector<CgroupMount> out;
  Result<std::string> text = ReadFile("/proc/self/mountinfo");
  if (!text.ok()) return out;
  for (const std::string& line : Split(*text, '\n')) {
    std::vector<std::string> f = SplitNonEmpty(line, ' ');
    size_t dash = 0;
    while (dash < f.size() && f[dash] != "-")
      ++dash;
    if (dash + 3 > f.size() || f.size() < 5) continue;
    const std::string& type = f[dash + 1];
    if (type != "cgroup" && type != "cgroup2") continue;
    if (f[4].rfind("/sys/fs/cgroup/", 0) != 0 && f[4] != "/sys/fs/cgroup") continue;
    CgroupMount m{f[4], f[3], type, {}};
    for (const std::string& opt : Split(f[dash + 3], ','))
      m.controllers.insert(opt);
    out.push_back(std::move(m));
  }
  return out;
}

std::string Below(const std::string& mount, const std::string& mount_root,
                  const std::string& path) {
  std::string rest = path;
  if (mount_root != "/" && rest.rfind(mount_root, 0) == 0) rest = rest.substr(mount_root.size());
  return CleanPath(mount + "/" + rest);
}

bool IsCgroupDir(const std::string& dir) {
  return ::access((dir + "/cgroup.procs").c_str(), F_OK) == 0;
}

void CollectDirs(const std::string& dir, const std::string& exclude, std::set<std::string>& out) {
  Result<std::vector<std::string>> names = ListDir(dir);
  if (!names.ok()) return;
  for (const std::string& n : *names) {
    std::string sub = dir + "/" + n;
    struct stat st {};
    if (::lstat(sub.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) continue;
    if (n == exclude) continue;
    out.insert(sub);
    CollectDirs(sub, exclude, out);
  }
}

// Depth-first: children before parents.
void RemoveTree(const std::string& dir) {
  if (!PathExists(dir)) return;
  std::set<std::string> dirs;
  CollectDirs(dir, "", dirs);
  std::for_each(dirs.rbegin(), dirs.rend(), [](const std::string& d) { ::rmdir(d.c_str()); });
  ::rmdir(dir.c_str());
}

void KillProcs(const std::string& dir) {
  std::set<std::string> dirs = {dir};
  CollectDirs(dir, "", dirs);
  for (const std::string& d : dirs) {
    Result<std::string> procs = ReadFile(d + "/cgroup.procs");
    if (!procs.ok()) continue;
    for (const std::string& p : SplitNonEmpty(*procs, '\n')) {
      Result<pid_t> pid = ParseInt<pid_t>(p, "pid");
      if (pid.ok() && *pid > 0) ::kill(*pid, SIGKILL);
    }
    (void)WriteExisting(d + "/freezer.state", "THAWED");
  }
}

}  // namespace

std::vector<Hierarchy> CgroupHierarchies() {
  std::vector<Hierarchy> out;
  Result<std::string> own_text = ReadFile("/proc/self/cgroup");
  if (!own_text.ok()) return out;
  for (const CgroupMount& m : CgroupMounts()) {
    for (const std::string& line : Split(*own_text, '\n')) {
      size_t a = line.find(':');
      size_t b = a == std::string::npos ? a : line.find(':', a + 1);
      if (b == std::string::npos) continue;
      std::string controllers = line.substr(a + 1, b - a - 1);
      std::string path = line.substr(b + 1);
      bool match = m.type == "cgroup2" ? controllers.empty() : !controllers.empty();
      for (const std::string& c : SplitNonEmpty(controllers, ','))
        match = match && m.controllers.count(c) != 0;
      if (!match) continue;
      out.push_back({m.mount, Below(m.mount, m.root, path), m.type == "cgroup2"});
      break;
    }
  }
  return out;
}

CgroupTree::CgroupTree() : hierarchies_(CgroupHierarchies()) {
  static std::atomic<int> counter{0};
  std::random_device rd;
  name_ = "berth-conf-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" +
          std::to_string(rd() % 100000);
}

CgroupTree::~CgroupTree() {
  try {
    Cleanup();
  } catch (...) {
    ::fprintf(stderr, "cgroup tree %s: cleanup threw\n", name_.c_str());
  }
}

std::vector<std::string> CgroupTree::Roots() const {
  std::vector<std::string> out;
  for (const Hierarchy& h : hierarchies_)
    out.push_back(h.own_dir + "/" + name_);
  return out;
}

std::string CgroupTree::Dir(const std::string& mount, const std::string& leaf) const {
  for (const Hierarchy& h : hierarchies_) {
    if (h.mount == mount) return h.own_dir + "/" + name_ + (leaf.empty() ? "" : "/" + leaf);
  }
  return "";
}

std::set<std::string> CgroupTree::Contents() const {
  std::set<std::string> out;
  for (const std::string& root : Roots()) {
    std::set<std::string> dirs;
    CollectDirs(root, "", dirs);
    for (const std::string& d : dirs)
      out.insert(d.substr(root.size() + 1));
  }
  return out;
}

void CgroupTree::Cleanup() const {
  for (int attempt = 0; attempt < 50; ++attempt) {
    bool left = false;
    for (const std::string& root : Roots()) {
      if (!PathExists(root)) continue;
      KillProcs(root);
      RemoveTree(root);
      left = left || PathExists(root);
    }
    if (!left) return;
    struct timespec ts {
      0, 20'000'000
    };
    ::nanosleep(&ts, nullptr);
  }
  ADD_FAILURE_AT(__FILE__, __LINE__) << "cgroup tree " << name_ << " could not be removed";
}

std::set<std::string> CgroupTree::DirsOutside() const {
  std::set<std::string> out;
  std::vector<std::string> roots = Roots();
  for (const std::string& d : SnapshotCgroupDirs("")) {
    bool skip = false;
    for (const std::string& root : roots)
      skip = skip || d == root || d.rfind(root + "/", 0) == 0;
    for (const std::string& part : Split(d, '/')) {
      // Other tests' trees (berth-conf-*, berth-test-*, berth-ctrd-*, ...),
      // created concurrently under ctest -j.
      skip = skip || (part.rfind("berth-", 0) == 0 && part != name_);
    }
    // Siblings of our own cgroup (and what is below them) belong to the
    // jobs the machine's supervisor starts next to us (on these VMs,
    // memory/process_api/<id>). A runtime that strayed there would name
    // its directory after the cgroups path, which contains this tree's
    // name, so those are still counted.
    for (const Hierarchy& h : hierarchies_) {
      std::string parent = Dirname(h.own_dir);
      bool sibling = h.own_dir != h.mount && d.rfind(parent + "/", 0) == 0 && d != h.own_dir &&
                     d.rfind(h.own_dir + "/", 0) != 0;
      skip = skip || (sibling && d.find(name_) == std::string::npos);
    }
    if (!skip) out.insert(d);
  }
  return out;
}

std::set<std::string> SnapshotCgroupDirs(const std::string& exclude_name) {
  std::set<std::string> out;
  for (const CgroupMount& m : CgroupMounts()) {
    if (!IsCgroupDir(m.mount)) continue;
    out.insert(m.mount);
    CollectDirs(m.mount, exclude_name, out);
  }
  return out;
}

NamedNetns::NamedNetns(std::string name) : name_(std::move(name)) {
  RunResult r = Run({"/usr/sbin/ip", "netns", "add", name_});
  ok_ = r.exit_code() == 0;
  EXPECT_TRUE(ok_) << "ip netns add " << name_ << ": " << r.Describe();
}

NamedNetns::~NamedNetns() {
  if (!ok_) return;
  RunResult r = Run({"/usr/sbin/ip", "netns", "del", name_});
  EXPECT_EQ(r.exit_code(), 0) << "ip netns del " << name_ << ": " << r.Describe();
}

ConsoleSocket::ConsoleSocket(std::string path) : path_(std::move(path)) {
  Result<UniqueFd> fd = ListenUnix(path_, "console socket", 4);
  EXPECT_TRUE(fd.ok()) << fd.error().str();
  if (fd.ok()) listener_ = std::move(fd).value();
}

UniqueFd ConsoleSocket::Accept(std::chrono::milliseconds timeout) const {
  pollfd p{listener_.get(), POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return UniqueFd();
  UniqueFd conn(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!conn) return UniqueFd();
  p = {conn.get(), POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return UniqueFd();
  Result<ReceivedMessage> msg = ReceiveMessage(conn.get(), 256, "console socket");
  if (!msg.ok()) return UniqueFd();
  return std::move(msg->fd);
}

std::string ConsoleSocket::ReadAll(int master, std::chrono::milliseconds timeout) {
  std::string out;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{master, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    char buf[4096];
    ssize_t n = ::read(master, buf, sizeof buf);
    if (n <= 0) break;  // EIO: every slave end is closed
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

std::string ProcFile(pid_t pid, const std::string& file) {
  Result<std::string> text = ReadFile("/proc/" + std::to_string(pid) + "/" + file);
  return text.ok() ? *text : "";
}

std::string NsLink(pid_t pid, const std::string& name) {
  std::string path = "/proc/" + std::to_string(pid) + "/ns/" + name;
  char buf[256];
  ssize_t n = ::readlink(path.c_str(), buf, sizeof buf - 1);
  return n < 0 ? "" : std::string(buf, static_cast<size_t>(n));
}

bool ProcessExists(pid_t pid) {
  return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM);
}

std::vector<pid_t> PidsMentioning(const std::string& needle) {
  std::vector<pid_t> out;
  Result<std::vector<std::string>> names = ListDir("/proc");
  if (!names.ok()) return out;
  for (const std::string& n : *names) {
    Result<pid_t> pid = ParseInt<pid_t>(n, "pid");
    if (!pid.ok()) continue;
    std::string root_link;
    char buf[4096];
    ssize_t len = ::readlink(("/proc/" + n + "/root").c_str(), buf, sizeof buf - 1);
    if (len > 0) root_link.assign(buf, static_cast<size_t>(len));
    if (ProcFile(*pid, "cgroup").find(needle) != std::string::npos ||
        root_link.find(needle) != std::string::npos) {
      out.push_back(*pid);
    }
  }
  return out;
}

std::string StatField(pid_t pid, int field) {
  std::string text = ProcFile(pid, "stat");
  size_t close = text.rfind(')');
  if (close == std::string::npos) return "";
  std::vector<std::string> f = SplitNonEmpty(std::string_view(text).substr(close + 1), ' ');
  size_t index = static_cast<size_t>(field - 3);
  return index < f.size() ? f[index] : "";
}

}  // namespace berth::priv
