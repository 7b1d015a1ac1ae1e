#include "runtime/cri/server/record_store.h"

#include <cerrno>

#include "common/file.h"

namespace berth::cri {
namespace {

constexpr char kRecordFile[] = "/record.pb";

template <class Record>
Result<std::map<std::string, Record>> LoadAll(const std::string& dir) {
  std::map<std::string, Record> out;
  Result<std::vector<std::string>> names = ListDir(dir);
  if (!names.ok()) return std::move(names).error();
  for (const std::string& name : *names) {
    std::string path = dir + "/" + name + kRecordFile;
    Result<std::string> bytes = ReadFile(path);
    if (!bytes.ok()) {
      if (bytes.error().sys_errno() == ENOENT) continue;  // a create that never finished
      return std::move(bytes).error();
    }
    Record r;
    if (!r.ParseFromString(*bytes)) {
      return Error(Errc::kDataLoss, "record " + path + " does not parse");
    }
    out[r.id()] = std::move(r);
  }
  return out;
}

template <class Record>
Status Save(const std::string& dir, const Record& record, Durability durability) {
  BERTH_TRY(MkdirAll(dir, 0700));
  std::string bytes;
  if (!record.SerializeToString(&bytes)) {
    return Error(Errc::kInternal, "serialize record of " + record.id());
  }
  return WriteFileAtomic(dir + kRecordFile, bytes, 0600, durability);
}

template <class Map>
Result<std::string> Resolve(const Map& map, const std::string& id, const char* kind) {
  if (id.empty()) return Error(Errc::kInvalidArgument, std::string(kind) + " id is empty");
  if (map.count(id) != 0) return id;
  std::string found;
  for (auto it = map.lower_bound(id); it != map.end() && it->first.starts_with(id); ++it) {
    if (!found.empty()) {
      return Error(Errc::kInvalidArgument,
                   std::string(kind) + " id prefix `" + id + "` is ambiguous");
    }
    found = it->first;
  }
  if (found.empty()) return Error(Errc::kNotFound, std::string(kind) + " `" + id + "` not found");
  return found;
}

}  // namespace

bool LabelsMatch(const google::protobuf::Map<std::string, std::string>& have,
                 const google::protobuf::Map<std::string, std::string>& want) {
  for (const auto& [k, v] : want) {
    auto it = have.find(k);
    if (it == have.end() || it->second != v) return false;
  }
  return true;
}

bool FilterMatches(const SandboxRecord& r, const ::runtime::v1::PodSandboxFilter& f) {
  if (!f.id().empty() && !r.id().starts_with(f.id())) return false;
  if (f.has_state() && (f.state().state() == ::runtime::v1::SANDBOX_READY) != r.ready()) {
    return false;
  }
  return LabelsMatch(r.config().labels(), f.label_selector());
}

bool FilterMatches(const ContainerRecord& r, const ::runtime::v1::ContainerFilter& f) {
  if (!f.id().empty() && !r.id().starts_with(f.id())) return false;
  if (!f.pod_sandbox_id().empty() && !r.sandbox_id().starts_with(f.pod_sandbox_id())) return false;
  if (f.has_state() && f.state().state() != r.state()) return false;
  return LabelsMatch(r.config().labels(), f.label_selector());
}

std::string SandboxKey(const ::runtime::v1::PodSandboxMetadata& m) {
  return m.name() + "_" + m.namespace_() + "_" + m.uid() + "_" + std::to_string(m.attempt());
}

std::string ContainerKey(const std::string& sandbox_id, const ::runtime::v1::ContainerMetadata& m) {
  return sandbox_id + "_" + m.name() + "_" + std::to_string(m.attempt());
}

Result<std::unique_ptr<RecordStore>> RecordStore::Open(const std::string& dir) {
  std::unique_ptr<RecordStore> s(new RecordStore(dir));
  BERTH_TRY(MkdirAll(dir + "/sandboxes", 0700));
  BERTH_TRY(MkdirAll(dir + "/containers", 0700));
  s->sandboxes_ = BERTH_TRY(LoadAll<SandboxRecord>(dir + "/sandboxes"));
  s->containers_ = BERTH_TRY(LoadAll<ContainerRecord>(dir + "/containers"));
  return s;
}

std::optional<SandboxRecord> RecordStore::Sandbox(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = sandboxes_.find(id);
  if (it == sandboxes_.end()) return std::nullopt;
  return it->second;
}

std::optional<ContainerRecord> RecordStore::Container(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = containers_.find(id);
  if (it == containers_.end()) return std::nullopt;
  return it->second;
}

std::vector<SandboxRecord> RecordStore::Sandboxes() const {
  std::lock_guard lock(mu_);
  std::vector<SandboxRecord> out;
  for (auto& [id, r] : sandboxes_)
    out.push_back(r);
  return out;
}

std::vector<ContainerRecord> RecordStore::Containers() const {
  std::lock_guard lock(mu_);
  std::vector<ContainerRecord> out;
  for (auto& [id, r] : containers_)
    out.push_back(r);
  return out;
}

std::vector<SandboxRecord> RecordStore::Sandboxes(
    const std::function<bool(const SandboxRecord&)>& keep) const {
  std::lock_guard lock(mu_);
  std::vector<SandboxRecord> out;
  for (auto& [id, r] : sandboxes_) {
    if (keep(r)) out.push_back(r);
  }
  return out;
}

std::vector<ContainerRecord> RecordStore::Containers(
    const std::function<bool(const ContainerRecord&)>& keep) const {
  std::lock_guard lock(mu_);
  std::vector<ContainerRecord> out;
  for (auto& [id, r] : containers_) {
    if (keep(r)) out.push_back(r);
  }
  return out;
}

std::vector<ContainerRecord> RecordStore::ContainersOf(const std::string& sandbox_id) const {
  std::lock_guard lock(mu_);
  std::vector<ContainerRecord> out;
  for (auto& [id, r] : containers_) {
    if (r.sandbox_id() == sandbox_id) out.push_back(r);
  }
  return out;
}

Result<std::string> RecordStore::ResolveSandboxId(const std::string& id) const {
  std::lock_guard lock(mu_);
  return Resolve(sandboxes_, id, "pod sandbox");
}

Result<std::string> RecordStore::ResolveContainerId(const std::string& id) const {
  std::lock_guard lock(mu_);
  return Resolve(containers_, id, "container");
}

std::optional<std::string> RecordStore::SandboxNamed(const std::string& key) const {
  std::lock_guard lock(mu_);
  for (auto& [id, r] : sandboxes_) {
    if (SandboxKey(r.config().metadata()) == key) return id;
  }
  return std::nullopt;
}

std::optional<std::string> RecordStore::ContainerNamed(const std::string& key) const {
  std::lock_guard lock(mu_);
  for (auto& [id, r] : containers_) {
    if (ContainerKey(r.sandbox_id(), r.config().metadata()) == key) return id;
  }
  return std::nullopt;
}

Status RecordStore::Put(const SandboxRecord& record, Durability durability) {
  BERTH_TRY(Save(SandboxDir(record.id()), record, durability));
  std::lock_guard lock(mu_);
  sandboxes_[record.id()] = record;
  return Ok();
}

Status RecordStore::Put(const ContainerRecord& record, Durability durability) {
  BERTH_TRY(Save(ContainerDir(record.id()), record, durability));
  std::lock_guard lock(mu_);
  containers_[record.id()] = record;
  return Ok();
}

Status RecordStore::RemoveSandbox(const std::string& id) {
  BERTH_TRY(RemoveAll(SandboxDir(id)));
  std::lock_guard lock(mu_);
  sandboxes_.erase(id);
  locks_.erase(id);
  return Ok();
}

Status RecordStore::RemoveContainer(const std::string& id) {
  BERTH_TRY(RemoveAll(ContainerDir(id)));
  std::lock_guard lock(mu_);
  containers_.erase(id);
  locks_.erase(id);
  return Ok();
}

std::shared_ptr<std::mutex> RecordStore::LockObject(const std::string& id) {
  std::lock_guard lock(mu_);
  auto& m = locks_[id];
  if (!m) m = std::make_shared<std::mutex>();
  return m;
}

}  // namespace berth::cri
