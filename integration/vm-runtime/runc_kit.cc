#include "integration/vm-runtime/runc_kit.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <thread>

#include "common/file.h"
#include "common/json.h"

namespace berth::integration {

namespace bj = boost::json;

// --- Bundle ------------------------------------------------------------------

Result<Bundle> Bundle::Make(const std::string& runc, const std::string& dir,
                            const std::string& rootfs) {
  BERTH_TRY(MkdirAll(dir, 0755));
  Command spec;
  spec.argv = {runc, "spec", "--bundle", dir};
  spec.timeout = std::chrono::seconds(60);
  CommandResult r = BERTH_TRY(RunCommand(spec));
  if (!r.success())
    return Error(Errc::kInternal, "berth-runc spec: " + r.Describe() + ": " + r.err);
  std::string path = dir + "/config.json";
  std::string text = BERTH_TRY(ReadFile(path));
  bj::value doc = BERTH_TRY(json::Parse(text, path));
  Bundle b;
  b.dir_ = dir;
  b.spec_ = std::move(doc.as_object());
  bj::object& process = b.spec_["process"].as_object();
  process["terminal"] = false;
  bj::object& root = b.spec_["root"].as_object();
  root["path"] = rootfs;
  root["readonly"] = true;
  bj::object tmp;
  tmp["destination"] = "/tmp";
  tmp["type"] = "tmpfs";
  tmp["source"] = "tmpfs";
  tmp["options"] = bj::array{"nosuid", "nodev", "mode=1777", "size=16m"};
  b.spec_["mounts"].as_array().push_back(std::move(tmp));
  return b;
}

bj::object& Bundle::linux_section() {
  return spec_["linux"].as_object();
}

bj::object& Bundle::resources() {
  bj::value& r = linux_section()["resources"];
  if (!r.is_object()) r = bj::object();
  return r.as_object();
}

void Bundle::SetArgs(const std::vector<std::string>& args) {
  bj::array a;
  for (const std::string& s : args)
    a.emplace_back(s);
  spec_["process"].as_object()["args"] = std::move(a);
}

void Bundle::SetCgroupsPath(const std::string& path) {
  linux_section()["cgroupsPath"] = path;
}

void Bundle::AddBind(const std::string& source, const std::string& destination) {
  bj::object m;
  m["destination"] = destination;
  m["type"] = "bind";
  m["source"] = source;
  m["options"] = bj::array{"rbind", "rw"};
  spec_["mounts"].as_array().push_back(std::move(m));
}

Status Bundle::Write() const {
  return WriteFileAtomic(dir_ + "/config.json", bj::serialize(spec_), 0644);
}

// --- Background ----------------------------------------------------------------

Result<Background> Background::Start(const std::vector<std::string>& argv,
                                     const std::string& output) {
  UniqueFd out(::open(output.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (!out) return Error::Sys("open", output);
  UniqueFd null(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!null) return Error::Sys("open", "/dev/null");
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const std::string& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) return Error::Sys("fork", argv[0]);
  if (pid == 0) {
    if (::dup2(null.get(), 0) < 0 || ::dup2(out.get(), 1) < 0 || ::dup2(out.get(), 2) < 0)
      _exit(127);
    ::execv(args[0], args.data());
    dprintf(2, "exec %s: %s\n", args[0], std::strerror(errno));
    _exit(127);
  }
  Background b;
  b.pid_ = pid;
  b.output_ = output;
  return b;
}

Background::Background(Background&& o) noexcept
    : pid_(std::exchange(o.pid_, -1)), output_(std::move(o.output_)) {}

Background& Background::operator=(Background&& o) noexcept {
  if (this != &o) {
    this->~Background();
    pid_ = std::exchange(o.pid_, -1);
    output_ = std::move(o.output_);
  }
  return *this;
}

Background::~Background() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  (void)WaitPid(pid_);
  pid_ = -1;
}

std::optional<int> Background::Wait(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return std::nullopt;
  std::optional<int> status = WaitChild(pid_, timeout);
  if (status) pid_ = -1;
  return status;
}

std::string Background::Output() const {
  Result<std::string> text = ReadFile(output_);
  return text.ok() ? *text : "";
}

// --- BerthRunc -----------------------------------------------------------------

std::vector<std::string> BerthRunc::Argv(const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {binary_, "--root", root_, "--cgroup-root", cgroup_root_};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

Result<CommandResult> BerthRunc::Run(const std::vector<std::string>& args,
                                     std::chrono::seconds timeout) const {
  Command cmd;
  cmd.argv = Argv(args);
  cmd.timeout = timeout;
  return RunCommand(cmd);
}

Status BerthRunc::Create(const std::string& bundle, const std::string& id,
                         const std::string& output) const {
  Background create =
      BERTH_TRY(Background::Start(Argv({"create", "--bundle", bundle, id}), output));
  std::optional<int> status = create.Wait(std::chrono::seconds(120));
  if (!status)
    return Error(Errc::kDeadlineExceeded, "berth-runc create " + id + ": no exit within 120 s");
  if (*status != 0) {
    return Error(Errc::kInternal, "berth-runc create " + id + ": exit " +
                                      std::to_string(ExitCodeFromWaitStatus(*status)) + ": " +
                                      create.Output());
  }
  return Ok();
}

Result<std::string> BerthRunc::ContainerStatus(const std::string& id) const {
  CommandResult r = BERTH_TRY(Run({"state", id}));
  if (!r.success()) return Error(Errc::kNotFound, "berth-runc state " + id + ": " + r.err);
  bj::value doc = BERTH_TRY(json::Parse(r.out, "state"));
  return std::string(doc.at("status").as_string());
}

Result<pid_t> BerthRunc::InitPid(const std::string& id) const {
  CommandResult r = BERTH_TRY(Run({"state", id}));
  if (!r.success()) return Error(Errc::kNotFound, "berth-runc state " + id + ": " + r.err);
  bj::value doc = BERTH_TRY(json::Parse(r.out, "state"));
  return static_cast<pid_t>(doc.at("pid").to_number<int64_t>());
}

// --- helpers -------------------------------------------------------------------

std::optional<int> WaitChild(pid_t pid, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int status = 0;
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (r < 0 && errno != EINTR) return std::nullopt;
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

void ReapChildren() {
  while (::waitpid(-1, nullptr, WNOHANG) > 0) {
  }
}

bool WaitUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return done();
}

}  // namespace berth::integration
