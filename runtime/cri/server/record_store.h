#pragma once
// Sandbox and container records: one protobuf file per object under
// <root>/cri/{sandboxes,containers}/<id>/record.pb (written atomically), with
// an in-memory copy. The store's mutex guards the maps only; callers
// serialize operations on one object with its per-object lock (LockObject).

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/file.h"
#include "runtime/cri/server/records.pb.h"

namespace berth::cri {

using records::ContainerRecord;
using records::SandboxRecord;

class RecordStore {
 public:
  // Loads every record under `dir` (<root>/cri).
  static Result<std::unique_ptr<RecordStore>> Open(const std::string& dir);

  std::string SandboxDir(const std::string& id) const { return dir_ + "/sandboxes/" + id; }
  std::string ContainerDir(const std::string& id) const { return dir_ + "/containers/" + id; }

  std::optional<SandboxRecord> Sandbox(const std::string& id) const;
  std::optional<ContainerRecord> Container(const std::string& id) const;
  std::vector<SandboxRecord> Sandboxes() const;
  std::vector<ContainerRecord> Containers() const;
  // Copies of only the records `keep` accepts (the List calls: filtering
  // first spares copying every record). `keep` runs under the store's
  // lock and must not call back into the store.
  std::vector<SandboxRecord> Sandboxes(const std::function<bool(const SandboxRecord&)>& keep) const;
  std::vector<ContainerRecord> Containers(
      const std::function<bool(const ContainerRecord&)>& keep) const;
  std::vector<ContainerRecord> ContainersOf(const std::string& sandbox_id) const;
  // A unique id by prefix (as crictl accepts); NotFound / InvalidArgument.
  Result<std::string> ResolveSandboxId(const std::string& id_or_prefix) const;
  Result<std::string> ResolveContainerId(const std::string& id_or_prefix) const;
  // Whether `name` (metadata + attempt key) is taken.
  std::optional<std::string> SandboxNamed(const std::string& key) const;
  std::optional<std::string> ContainerNamed(const std::string& key) const;

  // A record that only describes processes (state, exit) needs no more
  // than kProcessCrash: after a power loss those processes are gone anyway.
  Status Put(const SandboxRecord& record, Durability durability = Durability::kPowerLoss);
  Status Put(const ContainerRecord& record, Durability durability = Durability::kPowerLoss);
  Status RemoveSandbox(const std::string& id);
  Status RemoveContainer(const std::string& id);

  // The lock that serializes operations on object `id`.
  std::shared_ptr<std::mutex> LockObject(const std::string& id);

 private:
  explicit RecordStore(std::string dir) : dir_(std::move(dir)) {}

  std::string dir_;
  mutable std::mutex mu_;
  std::map<std::string, SandboxRecord> sandboxes_;
  std::map<std::string, ContainerRecord> containers_;
  std::map<std::string, std::shared_ptr<std::mutex>> locks_;
};

// Every label of `want` is in `have` with the same value (CRI list filters).
bool LabelsMatch(const google::protobuf::Map<std::string, std::string>& have,
                 const google::protobuf::Map<std::string, std::string>& want);
// A record passes a ListPodSandbox / ListContainers filter: id (and
// sandbox id) by prefix, state, every selector label.
bool FilterMatches(const SandboxRecord& r, const ::runtime::v1::PodSandboxFilter& f);
bool FilterMatches(const ContainerRecord& r, const ::runtime::v1::ContainerFilter& f);

// "<name>_<namespace>_<uid>_<attempt>" as kubelet's names are unique.
std::string SandboxKey(const ::runtime::v1::PodSandboxMetadata& m);
std::string ContainerKey(const std::string& sandbox_id, const ::runtime::v1::ContainerMetadata& m);

}  // namespace berth::cri
