#pragma once
// Host-side resources a priv test makes and must leave no trace of: its
// cgroup tree (one per test, in every hierarchy), a named network namespace,
// and a console socket; plus reads of /proc from the host's point of view.

#include <sys/types.h>

#include <chrono>
#include <set>
#include <string>
#include <vector>

#include "common/fd.h"

namespace berth::priv {

// One mounted cgroup hierarchy and this process's own cgroup directory in
// it (/sys/fs/cgroup/memory/process_api/<hash>, /sys/fs/cgroup/cpu, ...).
struct Hierarchy {
  std::string mount;    // /sys/fs/cgroup/memory
  std::string own_dir;  // the directory of our own cgroup in it
  bool unified = false;
};
std::vector<Hierarchy> CgroupHierarchies();

// "berth-conf-<pid>-<n>" below our own cgroup in every hierarchy: containers
// use the relative cgroupsPath "<name>/<leaf>", which runc and berth-runc
// both resolve below the cgroup they run in. Removed on destruction, after
// killing whatever is still inside (only this test's processes can be).
class CgroupTree {
 public:
  CgroupTree();
  CgroupTree(const CgroupTree&) = delete;
  CgroupTree& operator=(const CgroupTree&) = delete;
  ~CgroupTree();

  const std::string& name() const { return name_; }
  std::string CgroupsPath(const std::string& leaf) const { return name_ + "/" + leaf; }
  // The tree's directory in each hierarchy (whether it exists or not).
  std::vector<std::string> Roots() const;
  // <hierarchy own dir>/<name>/<leaf> in the hierarchy mounted at `mount`.
  std::string Dir(const std::string& mount, const std::string& leaf) const;
  // Every cgroup directory below the tree's roots, relative to the roots.
  std::set<std::string> Contents() const;
  void Cleanup() const;
  // Every cgroup directory of the host outside this tree: what a runtime
  // must not create. Trees of other tests running concurrently (any
  // "berth-*" directory but this tree's) and the cgroups of other jobs next
  // to our own cgroup (unless named after this tree) are left out too.
  std::set<std::string> DirsOutside() const;

 private:
  std::string name_;
  std::vector<Hierarchy> hierarchies_;
};

// Every cgroup directory of every hierarchy (absolute paths), skipping
// subtrees whose directory name is `exclude_name`.
std::set<std::string> SnapshotCgroupDirs(const std::string& exclude_name);

// `ip netns add <name>` / `ip netns del <name>`.
class NamedNetns {
 public:
  explicit NamedNetns(std::string name);
  NamedNetns(const NamedNetns&) = delete;
  NamedNetns& operator=(const NamedNetns&) = delete;
  ~NamedNetns();
  bool ok() const { return ok_; }
  std::string path() const { return "/run/netns/" + name_; }

 private:
  std::string name_;
  bool ok_ = false;
};

// A --console-socket listener. Accept() takes the runtime's connection
// and the pty master it sends with SCM_RIGHTS; ReadAll() reads the master
// until the terminal's last slave closes (EIO) or the timeout.
class ConsoleSocket {
 public:
  explicit ConsoleSocket(std::string path);
  const std::string& path() const { return path_; }
  bool listening() const { return listener_.valid(); }
  UniqueFd Accept(std::chrono::milliseconds timeout) const;
  static std::string ReadAll(int master, std::chrono::milliseconds timeout);

 private:
  std::string path_;
  UniqueFd listener_;
};

// /proc/<pid>/<file> ("" when unreadable) and /proc/<pid>/ns/<name>.
std::string ProcFile(pid_t pid, const std::string& file);
std::string NsLink(pid_t pid, const std::string& name);
bool ProcessExists(pid_t pid);
// Pids whose /proc/<pid>/cgroup or root link mentions `needle`.
std::vector<pid_t> PidsMentioning(const std::string& needle);

// A field of /proc/<pid>/stat by its number in proc(5) (3 = state).
std::string StatField(pid_t pid, int field);

}  // namespace berth::priv
