#include "integration/containerd/containerd_daemon.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>

#include "common/file.h"
#include "common/strings.h"

namespace berth::integration {
namespace {

constexpr char kContainerd[] = "/usr/bin/containerd";
constexpr char kCtr[] = "/usr/bin/ctr";

// Plugins the test does not need and that would write outside the temp
// directory (opt: /opt/containerd) or fail noisily on this host (the
// snapshotters for filesystems that are not there). The CRI plugin is off
// unless asked for, to keep startup fast and away from CNI.
constexpr char kCriPlugin[] = "io.containerd.grpc.v1.cri";
constexpr const char* kDisabledPlugins[] = {
    "io.containerd.internal.v1.opt",      "io.containerd.snapshotter.v1.aufs",
    "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper",
    "io.containerd.snapshotter.v1.zfs",
};

std::string Quote(const std::string& s) {
  return "\"" + s + "\"";
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string UnescapeMountPath(std::string_view s) {
  auto octal = [](char c) { return c >= '0' && c <= '7'; };
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && octal(s[i + 1]) && octal(s[i + 2]) && octal(s[i + 3])) {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
      continue;
    }
    out += s[i];
  }
  return out;
}

bool IsAtOrBelow(const std::string& path, const std::string& dir) {
  return path == dir ||
         (path.size() > dir.size() && path.starts_with(dir) && path[dir.size()] == '/');
}

void SleepMs(int ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

}  // namespace

std::string ContainerdConfig(const ContainerdOptions& o) {
  std::vector<std::string> disabled;
  if (!o.cri) disabled.push_back(Quote(kCriPlugin));
  for (const char* p : kDisabledPlugins)
    disabled.push_back(Quote(p));
  std::string c;
  c += "version = 2\n";
  c += "root = " + Quote(o.dir + "/root") + "\n";
  c += "state = " + Quote(o.dir + "/state") + "\n";
  c += "disabled_plugins = [" + Join(disabled, ", ") + "]\n";
  c += "[grpc]\n  address = " + Quote(o.dir + "/containerd.sock") + "\n";
  c += "[ttrpc]\n  address = " + Quote(o.dir + "/containerd.sock.ttrpc") + "\n";
  c += "[debug]\n  level = " + Quote(o.log_level) + "\n";
  if (!o.cri) return c;
  const ContainerdCri& cri = *o.cri;
  auto or_default = [&](const std::string& path, const char* sub) {
    return path.empty() ? o.dir + sub : path;
  };
  const std::string section = "[plugins." + Quote(kCriPlugin);
  c += section + "]\n";
  c += "  sandbox_image = " + Quote(cri.sandbox_image) + "\n";
  c += "  restrict_oom_score_adj = true\n";
  c += "  netns_mounts_under_state_dir = true\n";
  c += "  disable_apparmor = true\n";
  c += "  stream_server_address = \"127.0.0.1\"\n";
  c += "  stream_server_port = \"0\"\n";
  c += section + ".containerd]\n";
  c += "  snapshotter = \"overlayfs\"\n";
  c += "  default_runtime_name = \"runc\"\n";
  c += section + ".containerd.runtimes.runc]\n";
  c += "  runtime_type = \"io.containerd.runc.v2\"\n";
  c += section + ".containerd.runtimes.runc.options]\n";
  if (!cri.runc_binary.empty()) c += "  BinaryName = " + Quote(cri.runc_binary) + "\n";
  c += "  Root = " + Quote(o.dir + "/runc") + "\n";
  c += "  SystemdCgroup = false\n";
  c += section + ".cni]\n";
  c += "  bin_dir = " + Quote(or_default(cri.cni_bin_dir, "/cni/bin")) + "\n";
  c += "  conf_dir = " + Quote(or_default(cri.cni_conf_dir, "/cni/net.d")) + "\n";
  c += "  max_conf_num = 1\n";
  c += section + ".registry]\n";
  c += "  config_path = " + Quote(or_default(cri.registry_config_path, "/certs.d")) + "\n";
  return c;
}

Result<std::unique_ptr<Containerd>> Containerd::Start(const ContainerdOptions& options) {
  std::unique_ptr<Containerd> c(new Containerd(options));
  BERTH_TRY(MkdirAll(c->fifo_dir(), 0700));
  BERTH_TRY(MkdirAll(c->runc_root(), 0700));
  if (options.cri) {
    const ContainerdCri& cri = *options.cri;
    for (const auto& [path, sub] : {std::pair{cri.cni_bin_dir, "/cni/bin"},
                                    {cri.cni_conf_dir, "/cni/net.d"},
                                    {cri.registry_config_path, "/certs.d"}}) {
      if (path.empty()) BERTH_TRY(MkdirAll(options.dir + sub, 0700));
    }
  }
  BERTH_TRY(WriteFile(options.dir + "/config.toml", ContainerdConfig(options), 0600));
  BERTH_TRY(c->Launch());
  BERTH_TRY(c->WaitReady());
  return c;
}

Status Containerd::Launch() {
  std::string config = options_.dir + "/config.toml";
  UniqueFd log(::open(log_path().c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
  if (!log) return Error::Sys("open", log_path());
  UniqueFd null(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!null) return Error::Sys("open", "/dev/null");
  // Ours replace inherited variables of the same name (Go's getenv would
  // take the first of two).
  std::vector<std::string> env = options_.env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view var = *e;
    bool overridden = false;
    for (const std::string& o : options_.env)
      overridden |= var.substr(0, var.find('=') + 1) == o.substr(0, o.find('=') + 1);
    if (!overridden) env.emplace_back(var);
  }
  std::vector<char*> envp;
  envp.reserve(env.size() + 1);
  for (std::string& e : env)
    envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) return Error::Sys("fork", kContainerd);
  if (pid == 0) {
    // If the test dies, containerd goes too (its shims stay: KillShims).
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::dup2(null.get(), 0) < 0 || ::dup2(log.get(), 1) < 0 || ::dup2(log.get(), 2) < 0)
      _exit(127);
    const char* argv[] = {kContainerd, "--config", config.c_str(), nullptr};
    ::execve(kContainerd, const_cast<char* const*>(argv), envp.data());
    dprintf(2, "exec %s: %s\n", kContainerd, std::strerror(errno));
    _exit(127);
  }
  pid_ = pid;
  return Ok();
}

Status Containerd::WaitReady() {
  for (int i = 0; i < 300; ++i) {  // 30 s
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return Error(Errc::kUnavailable, "containerd exited during startup (" +
                                           std::to_string(ExitCodeFromWaitStatus(status)) +
                                           "); log:\n" + Log());
    }
    if (PathExists(socket())) {
      Result<CommandResult> r = Ctr({"version"});
      if (r.ok() && r->success()) return Ok();
    }
    SleepMs(100);
  }
  return Error(Errc::kDeadlineExceeded,
               "containerd did not answer on " + socket() + " within 30 s");
}

Containerd::~Containerd() {
  (void)Stop();
}

Status Containerd::Stop() {
  if (pid_ <= 0) return Ok();
  ::kill(pid_, SIGTERM);
  for (int i = 0; i < 100; ++i) {
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;
      return Ok();
    }
    SleepMs(100);
  }
  ::kill(pid_, SIGKILL);
  (void)WaitPid(pid_);
  pid_ = -1;
  return Error(Errc::kDeadlineExceeded, "containerd did not exit within 10 s of SIGTERM");
}

Status Containerd::Restart() {
  BERTH_TRY(Stop());
  BERTH_TRY(Launch());
  return WaitReady();
}

Result<CommandResult> Containerd::Ctr(const std::vector<std::string>& args) const {
  Command cmd;
  cmd.argv = {kCtr, "-a", socket(), "-n", options_.ns};
  cmd.argv.insert(cmd.argv.end(), args.begin(), args.end());
  cmd.timeout = std::chrono::seconds(60);
  return RunCommand(cmd);
}

std::string Containerd::bundle(const std::string& id) const {
  return options_.dir + "/state/io.containerd.runtime.v2.task/" + options_.ns + "/" + id;
}

std::string Containerd::Log() const {
  Result<std::string> text = ReadFile(log_path());
  return text.ok() ? *text : "(no log: " + text.error().str() + ")";
}

void KillShims(const std::string& dir) {
  std::string tasks = dir + "/state/io.containerd.runtime.v2.task";
  Result<std::vector<std::string>> namespaces = ListDir(tasks);
  if (!namespaces.ok()) return;
  for (const std::string& ns : *namespaces) {
    Result<std::vector<std::string>> ids = ListDir(tasks + "/" + ns);
    if (!ids.ok()) continue;
    for (const std::string& id : *ids) {
      Result<std::string> text = ReadFile(tasks + "/" + ns + "/" + id + "/shim.pid");
      if (!text.ok()) continue;
      Result<pid_t> pid = ParseInt<pid_t>(Trim(*text), "shim.pid");
      if (pid.ok() && *pid > 1) ::kill(*pid, SIGKILL);
    }
  }
}

Result<std::vector<std::string>> MountsUnder(const std::string& dir) {
  std::string text = BERTH_TRY(ReadFile("/proc/self/mountinfo"));
  std::vector<std::string> out;
  for (const std::string& line : SplitNonEmpty(text, '\n')) {
    std::vector<std::string> fields = SplitNonEmpty(line, ' ');
    if (fields.size() < 5) continue;
    std::string point = UnescapeMountPath(fields[4]);
    if (IsAtOrBelow(point, dir)) out.push_back(point);
  }
  // Deepest first; later mounts over the same point come out first too.
  std::reverse(out.begin(), out.end());
  std::stable_sort(out.begin(), out.end(),
                   [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  return out;
}

Status UnmountUnder(const std::string& dir) {
  for (int pass = 0; pass < 5; ++pass) {
    std::vector<std::string> mounts = BERTH_TRY(MountsUnder(dir));
    if (mounts.empty()) return Ok();
    for (const std::string& m : mounts)
      (void)::umount2(m.c_str(), MNT_DETACH);
  }
  std::vector<std::string> left = BERTH_TRY(MountsUnder(dir));
  if (left.empty()) return Ok();
  return Error(Errc::kFailedPrecondition,
               "umount: still mounted under " + dir + ": " + Join(left, ", "));
}

}  // namespace berth::integration
