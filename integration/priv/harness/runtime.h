#pragma once
// Driving an OCI runtime through the runc command line, as containerd's shim
// does: a Runtime (which binary), a Session (one fresh --root), a Bundle
// (config.json + a private rootfs copy) and a Container (one id in one
// session, deleted with --force on destruction whatever happened).

#include <sys/types.h>

#include <boost/json.hpp>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "common/testing/testkit.h"
#include "integration/priv/harness/process.h"

namespace berth::priv {

struct Runtime {
  std::string name;  // "runc", "berth-runc": also the gtest parameter name
  std::string path;
  bool available() const;
};
Runtime Runc();       // Debian's runc (1.1.5)
Runtime BerthRunc();  // <build>/cmd/berth-runc
std::vector<Runtime> AllRuntimes();
void PrintTo(const Runtime& rt, std::ostream* os);  // gtest: parameter values by name
// For INSTANTIATE_TEST_SUITE_P: "runc", "berth_runc".
std::string RuntimeParamName(const Runtime& rt);

// <build>/integration/fixtures/busybox-rootfs (with /bin/berth-probe).
std::string FixtureRootfs();
bool FixturesBuilt();

// The config `runc spec` writes, read once per process.
const boost::json::object& RuncDefaultSpec();

class Session {
 public:
  explicit Session(Runtime runtime);
  const Runtime& runtime() const { return runtime_; }
  const std::string& root() const { return root_.path(); }
  // `<runtime> --root <root> <args...>`.
  RunResult Cmd(const std::vector<std::string>& args, const RunOptions& options = {}) const;
  std::vector<std::string> Argv(const std::vector<std::string>& args) const;

 private:
  Runtime runtime_;
  testing::TempDir root_{"berth-priv-root"};
};

// A bundle directory: config.json from `config`, rootfs/ a copy of the
// fixture rootfs (so containers may write to it and tests may read what
// they wrote from the host).
class Bundle {
 public:
  Bundle();
  const std::string& path() const { return dir_.path(); }
  std::string rootfs() const { return dir_ / "rootfs"; }
  // (Re)writes config.json.
  void WriteConfig(const boost::json::object& config) const;

 private:
  testing::TempDir dir_{"berth-priv-bundle"};
};

// The default spec as the suite uses it: `runc spec`, no terminal, the
// given args, and a cgroups path below the fixture's cgroup tree.
boost::json::object BaseConfig(const std::vector<std::string>& args,
                               const std::string& cgroups_path);
// The config's "process" and "linux" objects, for cases to edit.
boost::json::object& Process(boost::json::object& config);
boost::json::object& Linux(boost::json::object& config);

class Container {
 public:
  Container(const Session& session, std::string id, std::string bundle);
  Container(const Container&) = delete;
  Container& operator=(const Container&) = delete;
  ~Container();

  const std::string& id() const { return id_; }
  const std::string& bundle() const { return bundle_; }

  // `create --bundle B --pid-file P [extra] id`, stdio to this container's
  // output files; on success the init pid is known and claimed.
  RunResult Create(const std::vector<std::string>& extra = {});
  RunResult Start() const;
  RunResult Run(const std::vector<std::string>& args, const RunOptions& options = {}) const;
  RunResult Kill(const std::string& signal, bool all = false) const;
  RunResult Delete(bool force = false);
  RunResult Exec(const std::vector<std::string>& argv,
                 const std::vector<std::string>& flags = {}) const;
  RunResult Pause() const { return Run({"pause", id_}); }
  RunResult Resume() const { return Run({"resume", id_}); }

  // `state` parsed (null on failure).
  boost::json::value State() const;
  std::string Status() const;  // "created", "running", ... or "error: <msg>"

  pid_t pid() const { return pid_; }
  // The init's wait status (reaped by this process, its subreaper).
  std::optional<int> WaitExit(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  const std::optional<int>& exit_status() const { return exit_status_; }

  // Everything the container (and the runtime during create) wrote so far.
  std::string Stdout() const { return out_.Read(); }
  std::string Stderr() const { return err_.Read(); }
  // What the runtime itself printed during create.
  const std::string& create_messages() const { return create_messages_; }

 private:
  const Session& session_;
  std::string id_, bundle_;
  OutputFile out_{"container-stdout"}, err_{"container-stderr"};
  std::string create_messages_;
  pid_t pid_ = 0;
  bool deleted_ = true;
  std::optional<int> exit_status_;
};

// The message of a runtime's error line: logrus text (time=... level=error
// msg="...") or berth's identical format, unquoted, with the program prefix
// ("runc create failed: ", "berth create failed: ") made neutral.
std::string ErrorMessage(const std::string& stderr_text);

}  // namespace berth::priv
