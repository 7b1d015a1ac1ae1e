#include "integration/priv/harness/runtime.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/file.h"
#include "common/strings.h"

namespace berth::priv {

namespace bj = boost::json;

bool Runtime::available() const {
  return ::access(path.c_str(), X_OK) == 0;
}

Runtime Runc() {
  return {"runc", "/usr/bin/runc"};
}
Runtime BerthRunc() {
  return {"berth-runc", testing::BuiltBinary("cmd/berth-runc")};
}
std::vector<Runtime> AllRuntimes() {
  return {Runc(), BerthRunc()};
}

void PrintTo(const Runtime& rt, std::ostream* os) {
  *os << rt.name;
}

std::string RuntimeParamName(const Runtime& rt) {
  std::string name = rt.name;
  for (char& c : name) {
    if (c == '-') c = '_';
  }
  return name;
}

std::string FixtureRootfs() {
  return testing::BuiltBinary("integration/fixtures/busybox-rootfs");
}

bool FixturesBuilt() {
  return ::access((FixtureRootfs() + "/bin/berth-probe").c_str(), X_OK) == 0;
}

const bj::object& RuncDefaultSpec() {
  static const bj::object spec = [] {
    testing::TempDir dir("berth-priv-spec");
    RunResult r = Run({Runc().path, "spec", "--bundle", dir.path()});
    if (r.exit_code() != 0) {
      ADD_FAILURE() << "runc spec: " << r.Describe();
      return bj::object();
    }
    Result<std::string> text = ReadFile(dir / "config.json");
    if (!text.ok()) return bj::object();
    return bj::parse(*text).as_object();
  }();
  return spec;
}

Session::Session(Runtime runtime) : runtime_(std::move(runtime)) {}

std::vector<std::string> Session::Argv(const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {runtime_.path, "--root", root_.path()};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

RunResult Session::Cmd(const std::vector<std::string>& args, const RunOptions& options) const {
  return priv::Run(Argv(args), options);
}

Bundle::Bundle() {
  // Reachable by a container's root mapped to another host uid.
  ::chmod(dir_.path().c_str(), 0755);
  RunResult cp = priv::Run({"/bin/cp", "-a", FixtureRootfs(), rootfs()});
  EXPECT_EQ(cp.exit_code(), 0) << "copy rootfs: " << cp.Describe();
}

void Bundle::WriteConfig(const bj::object& config) const {
  Status s = WriteFile(dir_ / "config.json", bj::serialize(config));
  EXPECT_TRUE(s.ok()) << s.error().str();
}

bj::object& Process(bj::object& config) {
  return config["process"].as_object();
}
bj::object& Linux(bj::object& config) {
  return config["linux"].as_object();
}

bj::object BaseConfig(const std::vector<std::string>& args, const std::string& cgroups_path) {
  bj::object config = RuncDefaultSpec();
  bj::object& process = config["process"].as_object();
  process["terminal"] = false;
  bj::array a;
  for (const std::string& arg : args)
    a.emplace_back(arg);
  process["args"] = std::move(a);
  if (!cgroups_path.empty()) config["linux"].as_object()["cgroupsPath"] = cgroups_path;
  return config;
}

Container::Container(const Session& session, std::string id, std::string bundle)
    : session_(session), id_(std::move(id)), bundle_(std::move(bundle)) {}

Container::~Container() {
  if (!deleted_) {
    RunResult r = Delete(true);
    EXPECT_EQ(r.exit_code(), 0) << "cleanup: delete --force " << id_ << ": " << r.Describe();
  }
  // Whatever the runtime did, the init this test made must not survive it.
  if (pid_ > 0 && !exit_status_) {
    if (!WaitExit(std::chrono::milliseconds(0))) {
      ::kill(pid_, SIGKILL);
      WaitExit(std::chrono::seconds(10));
    }
  }
}

RunResult Container::Create(const std::vector<std::string>& extra) {
  std::string pid_file = bundle_ + "/init.pid";
  std::vector<std::string> args = {"create", "--bundle", bundle_, "--pid-file", pid_file};
  args.insert(args.end(), extra.begin(), extra.end());
  args.push_back(id_);
  RunResult r = RunWithFiles(session_.Argv(args), out_, err_);
  create_messages_ = err_.Read();
  r.err = create_messages_;
  deleted_ = false;  // a failed create must leave nothing; delete --force is harmless
  if (r.exit_code() != 0) return r;
  Result<std::string> text = ReadFile(pid_file);
  if (text.ok()) {
    Result<pid_t> pid = ParseInt<pid_t>(Trim(*text), "pid file");
    if (pid.ok()) pid_ = *pid;
  }
  EXPECT_GT(pid_, 0) << "no pid in " << pid_file;
  if (pid_ > 0) ClaimPid(pid_);
  return r;
}

RunResult Container::Run(const std::vector<std::string>& args, const RunOptions& options) const {
  return session_.Cmd(args, options);
}

RunResult Container::Start() const {
  return Run({"start", id_});
}

RunResult Container::Kill(const std::string& signal, bool all) const {
  std::vector<std::string> args = {"kill"};
  if (all) args.emplace_back("--all");
  args.push_back(id_);
  args.push_back(signal);
  return Run(args);
}

RunResult Container::Delete(bool force) {
  std::vector<std::string> args = {"delete"};
  if (force) args.emplace_back("--force");
  args.push_back(id_);
  RunResult r = Run(args);
  if (r.exit_code() == 0) deleted_ = true;
  return r;
}

RunResult Container::Exec(const std::vector<std::string>& argv,
                          const std::vector<std::string>& flags) const {
  std::vector<std::string> args = {"exec"};
  args.insert(args.end(), flags.begin(), flags.end());
  args.push_back(id_);
  args.insert(args.end(), argv.begin(), argv.end());
  return Run(args);
}

bj::value Container::State() const {
  RunResult r = Run({"state", id_});
  if (r.exit_code() != 0) return nullptr;
  boost::system::error_code ec;
  bj::value v = bj::parse(r.out, ec);
  return ec ? bj::value(nullptr) : v;
}

std::string Container::Status() const {
  RunResult r = Run({"state", id_});
  if (r.exit_code() != 0) return "error: " + ErrorMessage(r.err);
  boost::system::error_code ec;
  bj::value v = bj::parse(r.out, ec);
  if (ec || !v.is_object() || !v.as_object().contains("status")) return "error: bad state JSON";
  return std::string(v.as_object().at("status").as_string());
}

std::optional<int> Container::WaitExit(std::chrono::milliseconds timeout) {
  if (exit_status_) return exit_status_;
  if (pid_ <= 0) return std::nullopt;
  exit_status_ = WaitStatus(pid_, timeout);
  return exit_status_;
}

std::string ErrorMessage(const std::string& stderr_text) {
  std::string msg;
  for (const std::string& line : Split(stderr_text, '\n')) {
    size_t at = line.find("level=error msg=");
    if (at == std::string::npos) continue;
    std::string_view rest = std::string_view(line).substr(at + 16);
    std::string text;
    if (!rest.empty() && rest.front() == '"') {
      for (size_t i = 1; i < rest.size() && rest[i] != '"'; ++i) {
        if (rest[i] == '\\' && i + 1 < rest.size()) {
          ++i;
          text += rest[i] == 'n' ? '\n' : rest[i];
        } else {
          text += rest[i];
        }
      }
    } else {
      text = std::string(rest);
    }
    msg = text;
  }
  if (msg.empty()) msg = std::string(Trim(stderr_text));
  for (const char* prog : {"runc ", "berth "}) {
    if (msg.rfind(prog, 0) == 0) msg = "<runtime> " + msg.substr(std::string(prog).size());
  }
  return msg;
}

}  // namespace berth::priv
