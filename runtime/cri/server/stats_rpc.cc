// ContainerStats / ListContainerStats / PodSandboxStats / ListPodSandboxStats
// from the containers' cgroups (cpu, memory working set as kubelet defines
// it: usage - inactive_file) and the writable layer's disk usage.

#include <sys/stat.h>

#include <string>

#include "common/file.h"
#include "runtime/cri/server/grpc_status.h"
#include "runtime/cri/server/helpers.h"
#include "runtime/cri/server/runtime_service.h"

namespace berth::cri {

namespace {

// Bytes and inodes below `dir`, not crossing into other filesystems.
void DiskUsage(const std::string& dir, uint64_t* bytes, uint64_t* inodes) {
  Result<std::vector<std::string>> names = ListDir(dir);
  if (!names.ok()) return;
  for (const std::string& n : *names) {
    std::string path = dir + "/" + n;
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) continue;
    *bytes += static_cast<uint64_t>(st.st_blocks) * 512;
    *inodes += 1;
    if (S_ISDIR(st.st_mode)) DiskUsage(path, bytes, inodes);
  }
}

uint64_t WorkingSet(const cgroups::MemoryStats& m) {
  uint64_t inactive = 0;
  for (const char* key : {"total_inactive_file", "inactive_file"}) {
    auto it = m.raw.find(key);
    if (it != m.raw.end()) {
      inactive = it->second;
      break;
    }
  }
  return m.usage.usage > inactive ? m.usage.usage - inactive : 0;
}

void FillCpuMemory(const cgroups::Stats& s, int64_t now, v1::CpuUsage* cpu, v1::MemoryUsage* mem) {
  cpu->set_timestamp(now);
  cpu->mutable_usage_core_nano_seconds()->set_value(s.cpu.total);
  mem->set_timestamp(now);
  mem->mutable_working_set_bytes()->set_value(WorkingSet(s.memory));
  mem->mutable_usage_bytes()->set_value(s.memory.usage.usage);
  auto rss = s.memory.raw.find("total_rss");
  if (rss == s.memory.raw.end()) rss = s.memory.raw.find("anon");
  if (rss == s.memory.raw.end()) rss = s.memory.raw.find("rss");
  if (rss != s.memory.raw.end()) mem->mutable_rss_bytes()->set_value(rss->second);
  auto faults = s.memory.raw.find("pgfault");
  if (faults != s.memory.raw.end()) mem->mutable_page_faults()->set_value(faults->second);
  auto major = s.memory.raw.find("pgmajfault");
  if (major != s.memory.raw.end()) mem->mutable_major_page_faults()->set_value(major->second);
}

}  // namespace

Result<v1::ContainerStats> RuntimeService::StatsOf(const ContainerRecord& r) const {
  v1::ContainerStats out;
  v1::ContainerAttributes* a = out.mutable_attributes();
  a->set_id(r.id());
  *a->mutable_metadata() = r.config().metadata();
  *a->mutable_labels() = r.config().labels();
  *a->mutable_annotations() = r.config().annotations();
  int64_t now = NowNs();
  if (r.state() == v1::CONTAINER_RUNNING) {
    Result<cgroups::Stats> s = oci::ContainerStats(OciOptions(), r.id());
    if (s.ok()) FillCpuMemory(*s, now, out.mutable_cpu(), out.mutable_memory());
  }
  uint64_t bytes = 0, inodes = 0;
  std::string upper = store_->ContainerDir(r.id()) + "/upper";
  DiskUsage(upper, &bytes, &inodes);
  v1::FilesystemUsage* fs = out.mutable_writable_layer();
  fs->set_timestamp(now);
  fs->mutable_fs_id()->set_mountpoint(upper);
  fs->mutable_used_bytes()->set_value(bytes);
  fs->mutable_inodes_used()->set_value(inodes);
  return out;
}

grpc::Status RuntimeService::ContainerStats(grpc::ServerContext*,
                                            const v1::ContainerStatsRequest* req,
                                            v1::ContainerStatsResponse* resp) {
  Result<std::string> id = store_->ResolveContainerId(req->container_id());
  if (!id.ok()) return ToGrpc(id.error());
  std::optional<ContainerRecord> r = store_->Container(*id);
  if (!r) return ToGrpc(Error(Errc::kNotFound, "container `" + *id + "` not found"));
  Result<v1::ContainerStats> stats = StatsOf(*r);
  if (!stats.ok()) return ToGrpc(stats.error());
  *resp->mutable_stats() = std::move(*stats);
  return grpc::Status::OK;
}

grpc::Status RuntimeService::ListContainerStats(grpc::ServerContext*,
                                                const v1::ListContainerStatsRequest* req,
                                                v1::ListContainerStatsResponse* resp) {
  const v1::ContainerStatsFilter& f = req->filter();
  auto matches = [&f](const ContainerRecord& r) {
    return (f.id().empty() || r.id().starts_with(f.id())) &&
           (f.pod_sandbox_id().empty() || r.sandbox_id().starts_with(f.pod_sandbox_id())) &&
           LabelsMatch(r.config().labels(), f.label_selector());
  };
  for (const ContainerRecord& r : store_->Containers(matches)) {
    Result<v1::ContainerStats> stats = StatsOf(r);
    if (stats.ok()) *resp->add_stats() = std::move(*stats);
  }
  return grpc::Status::OK;
}

Result<v1::PodSandboxStats> RuntimeService::PodStatsOf(const SandboxRecord& s) const {
  v1::PodSandboxStats out;
  v1::PodSandboxAttributes* a = out.mutable_attributes();
  a->set_id(s.id());
  *a->mutable_metadata() = s.config().metadata();
  *a->mutable_labels() = s.config().labels();
  *a->mutable_annotations() = s.config().annotations();
  int64_t now = NowNs();
  v1::LinuxPodSandboxStats* linux = out.mutable_linux();
  // The pod's usage: its containers' and the pause's, summed.
  uint64_t cpu = 0, working_set = 0, usage = 0;
  std::vector<std::string> ids = {s.id()};
  for (const ContainerRecord& c : store_->ContainersOf(s.id())) {
    if (c.state() == v1::CONTAINER_RUNNING) ids.push_back(c.id());
    Result<v1::ContainerStats> cs = StatsOf(c);
    if (cs.ok()) *linux->add_containers() = std::move(*cs);
  }
  if (s.ready()) {
    for (const std::string& id : ids) {
      Result<cgroups::Stats> st = oci::ContainerStats(OciOptions(), id);
      if (!st.ok()) continue;
      cpu += st->cpu.total;
      working_set += WorkingSet(st->memory);
      usage += st->memory.usage.usage;
    }
  }
  linux->mutable_cpu()->set_timestamp(now);
  linux->mutable_cpu()->mutable_usage_core_nano_seconds()->set_value(cpu);
  linux->mutable_memory()->set_timestamp(now);
  linux->mutable_memory()->mutable_working_set_bytes()->set_value(working_set);
  linux->mutable_memory()->mutable_usage_bytes()->set_value(usage);
  return out;
}

grpc::Status RuntimeService::PodSandboxStats(grpc::ServerContext*,
                                             const v1::PodSandboxStatsRequest* req,
                                             v1::PodSandboxStatsResponse* resp) {
  Result<std::string> id = store_->ResolveSandboxId(req->pod_sandbox_id());
  if (!id.ok()) return ToGrpc(id.error());
  std::optional<SandboxRecord> s = store_->Sandbox(*id);
  if (!s) return ToGrpc(Error(Errc::kNotFound, "pod sandbox `" + *id + "` not found"));
  Result<v1::PodSandboxStats> stats = PodStatsOf(*s);
  if (!stats.ok()) return ToGrpc(stats.error());
  *resp->mutable_stats() = std::move(*stats);
  return grpc::Status::OK;
}

grpc::Status RuntimeService::ListPodSandboxStats(grpc::ServerContext*,
                                                 const v1::ListPodSandboxStatsRequest* req,
                                                 v1::ListPodSandboxStatsResponse* resp) {
  const v1::PodSandboxStatsFilter& f = req->filter();
  auto matches = [&f](const SandboxRecord& s) {
    return (f.id().empty() || s.id().starts_with(f.id())) &&
           LabelsMatch(s.config().labels(), f.label_selector());
  };
  for (const SandboxRecord& s : store_->Sandboxes(matches)) {
    Result<v1::PodSandboxStats> stats = PodStatsOf(s);
    if (stats.ok()) *resp->add_stats() = std::move(*stats);
  }
  return grpc::Status::OK;
}

}  // namespace berth::cri
