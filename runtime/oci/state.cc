#include "runtime/oci/state.h"

#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>

#include "common/file.h"
#include "common/json.h"
#include "common/json_pretty.h"
#include "common/strings.h"

namespace berth::runtime::oci {

namespace bj = boost::json;

const char* StatusName(ContainerStatus status) {
  switch (status) {
    case ContainerStatus::kCreating:
      return "creating";
    case ContainerStatus::kCreated:
      return "created";
    case ContainerStatus::kRunning:
      return "running";
    case ContainerStatus::kPaused:
      return "paused";
    case ContainerStatus::kStopped:
      return "stopped";
  }
  return "unknown";
}

bool ContainerState::OwnsNamespace(ns::Kind kind) const {
  for (const std::string& n : own_namespaces) {
    if (n == ns::OciName(kind)) return true;
  }
  return false;
}

Status ValidateId(const std::string& id) {
  if (id.empty()) return Error(Errc::kInvalidArgument, "container id cannot be empty");
  bool ok = id != "." && id != "..";
  for (char c : id) {
    ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '+' || c == '-' ||
                c == '.');
  }
  if (!ok) return Error(Errc::kInvalidArgument, "invalid container ID format: " + id);
  return Ok();
}

Result<StateDir> StateDir::Create(const std::string& root, const std::string& id) {
  BERTH_TRY(ValidateId(id));
  BERTH_TRY(MkdirAll(root, 0700));
  std::string path = PathJoin(root, id);
  if (::mkdir(path.c_str(), 0711) != 0) {
    if (errno == EEXIST)
      return Error(Errc::kAlreadyExists, "container with given ID already exists");
    return Error::Sys("mkdir", path);
  }
  return StateDir(path);
}

Result<StateDir> StateDir::Open(const std::string& root, const std::string& id) {
  BERTH_TRY(ValidateId(id));
  std::string path = PathJoin(root, id);
  if (!PathExists(path + "/state.json")) {
    return Error(Errc::kNotFound, "container does not exist");
  }
  return StateDir(path);
}

Status StateDir::Save(const ContainerState& s) const {
  bj::object o;
  o["id"] = s.id;
  o["bundle"] = s.bundle;
  o["rootfs"] = s.rootfs;
  o["created"] = s.created;
  o["pid"] = s.pid;
  o["pidStartTime"] = s.pid_start_time;
  bj::object ann;
  for (const auto& [k, v] : s.annotations)
    ann[k] = v;
  o["annotations"] = std::move(ann);
  if (s.has_cgroup) o["cgroup"] = bj::parse(cgroups::PlacementToJson(s.cgroup));
  bj::array owned;
  for (const std::string& n : s.own_namespaces)
    owned.emplace_back(n);
  o["ownNamespaces"] = std::move(owned);
  return WriteFileAtomic(path_ + "/state.json", bj::serialize(o), 0600, Durability::kProcessCrash);
}

Result<ContainerState> StateDir::Load() const {
  std::string file = path_ + "/state.json";
  std::string text = BERTH_TRY(ReadFile(file));
  bj::value doc = BERTH_TRY(json::Parse(text, file));
  json::Field root(&doc, "");
  auto load = [&]() -> Result<ContainerState> {
    ContainerState s;
    s.id = BERTH_TRY(root["id"].String());
    s.bundle = BERTH_TRY(root["bundle"].String());
    s.rootfs = BERTH_TRY(root["rootfs"].String());
    s.created = BERTH_TRY(root["created"].String());
    s.pid = BERTH_TRY(root["pid"].Int<pid_t>());
    s.pid_start_time = BERTH_TRY(root["pidStartTime"].Int<uint64_t>());
    s.annotations = BERTH_TRY(root["annotations"].StringMap());
    if (root["cgroup"].present()) {
      s.cgroup = BERTH_TRY(cgroups::PlacementFromJson(bj::serialize(*root["cgroup"].raw())));
      s.has_cgroup = true;
    }
    s.own_namespaces = BERTH_TRY(root["ownNamespaces"].StringArray());
    return s;
  };
  Result<ContainerState> state = load();
  if (!state.ok()) return std::move(state).error().Wrap("corrupt state " + file);
  return state;
}

Result<Spec> StateDir::LoadSpec() const {
  std::string text = BERTH_TRY(ReadFile(ConfigPath()));
  return ParseSpec(text, ConfigPath());
}

Status StateDir::Remove() const {
  return RemoveAll(path_);
}

Result<std::vector<std::string>> ListContainerIds(const std::string& root) {
  if (!PathExists(root)) return std::vector<std::string>{};
  std::vector<std::string> out;
  for (std::string& name : BERTH_TRY(ListDir(root))) {
    if (PathExists(PathJoin(root, name) + "/state.json")) out.push_back(std::move(name));
  }
  std::sort(out.begin(), out.end());
  return out;
}

namespace {

struct ProcStat {
  char state = '?';
  uint64_t start_time = 0;
};

Result<ProcStat> ReadProcStat(pid_t pid) {
  std::string path = "/proc/" + std::to_string(pid) + "/stat";
  std::string text = BERTH_TRY(ReadFile(path));
  // comm may contain spaces and parentheses: fields resume after the last ')'.
  size_t close = text.rfind(')');
  if (close == std::string::npos) return Error(Errc::kDataLoss, "malformed " + path);
  std::vector<std::string> fields = SplitNonEmpty(std::string_view(text).substr(close + 1), ' ');
  // fields[0] is field 3 (state); starttime is field 22.
  if (fields.size() < 20) return Error(Errc::kDataLoss, "malformed " + path);
  ProcStat st;
  st.state = fields[0][0];
  st.start_time = BERTH_TRY(ParseInt<uint64_t>(fields[19], path + " starttime"));
  return st;
}

}  // namespace

Result<uint64_t> ProcessStartTime(pid_t pid) {
  ProcStat st = BERTH_TRY(ReadProcStat(pid));
  return st.start_time;
}

bool ProcessAlive(pid_t pid, uint64_t start_time) {
  if (pid <= 0) return false;
  Result<ProcStat> st = ReadProcStat(pid);
  if (!st.ok()) return false;
  return st->start_time == start_time && st->state != 'Z' && st->state != 'X';
}

ContainerStatus ComputeStatus(const ContainerState& state, const StateDir& dir) {
  if (!ProcessAlive(state.pid, state.pid_start_time)) return ContainerStatus::kStopped;
  // Frozen first: a paused created container reads as paused, as in runc.
  if (state.has_cgroup) {
    Result<cgroups::DriverPtr> driver = cgroups::Open(state.cgroup);
    if (driver.ok()) {
      Result<cgroups::FreezerState> fs = (*driver)->GetFreezerState();
      if (fs.ok() && *fs == cgroups::FreezerState::kFrozen) return ContainerStatus::kPaused;
    }
  }
  if (PathExists(dir.FifoPath())) return ContainerStatus::kCreated;
  return ContainerStatus::kRunning;
}

namespace {

bj::object AnnotationsObject(const ContainerState& s) {
  bj::object ann;
  for (const auto& [k, v] : s.annotations)
    ann[k] = v;
  return ann;
}

}  // namespace

std::string OciStateJson(const ContainerState& s, ContainerStatus status) {
  bj::object o;
  o["ociVersion"] = "1.1.0";
  o["id"] = s.id;
  o["status"] = StatusName(status);
  if (status != ContainerStatus::kStopped) o["pid"] = s.pid;
  o["bundle"] = s.bundle;
  if (!s.annotations.empty()) o["annotations"] = AnnotationsObject(s);
  return bj::serialize(o);
}

std::string RuncStateJson(const ContainerState& s, ContainerStatus status, const std::string& owner,
                          bool indent) {
  bj::object o;
  o["ociVersion"] = "1.1.0";
  o["id"] = s.id;
  o["pid"] = status == ContainerStatus::kStopped ? 0 : s.pid;
  o["status"] = StatusName(status);
  o["bundle"] = s.bundle;
  o["rootfs"] = s.rootfs;
  o["created"] = s.created;
  if (!s.annotations.empty()) o["annotations"] = AnnotationsObject(s);
  o["owner"] = owner;
  return indent ? json::Pretty(o) : bj::serialize(o);
}

}  // namespace berth::runtime::oci
