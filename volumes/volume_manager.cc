#include "volumes/volume_manager.h"

#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <climits>
#include <cstdlib>
#include <utility>

#include "common/file.h"
#include "common/json.h"
#include "common/log.h"
#include "common/quantity.h"
#include "volumes/atomic_writer.h"
#include "volumes/empty_dir.h"
#include "volumes/host_path.h"
#include "volumes/mounts.h"
#include "volumes/ownership.h"
#include "volumes/projection.h"
#include "volumes/remove_tree.h"

namespace berth::volumes {
namespace {

namespace bj = boost::json;
using json::Field;

const bj::object* ObjectAt(const bj::object* obj, std::string_view key) {
  if (obj == nullptr) return nullptr;
  const bj::value* v = obj->if_contains(key);
  return v != nullptr ? v->if_object() : nullptr;
}

std::string StringAt(const bj::object* obj, std::string_view key) {
  if (obj == nullptr) return {};
  const bj::value* v = obj->if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

bool ValidUid(const std::string& uid) {
  return !uid.empty() && uid != "." && uid != ".." && uid.find('/') == std::string::npos &&
         uid.find('\0') == std::string::npos;
}

// The message of the FailedMount event for a volume.
Error SetUpFailed(const std::string& volume, const Error& cause) {
  return Error(cause.code(),
               "MountVolume.SetUp failed for volume \"" + volume + "\" : " + cause.str());
}

Error Combine(const std::vector<Error>& errors) {
  std::string text;
  for (const Error& e : errors) {
    if (!text.empty()) text += "; ";
    text += e.message();
  }
  return Error(errors.front().code(), text);
}

// What a first set-up of a volume directory made, undone when dropped
// unless committed: a failed set-up leaves nothing mounted or behind.
class SetUpRollback {
 public:
  explicit SetUpRollback(std::string dir) : dir_(std::move(dir)) {}
  SetUpRollback(const SetUpRollback&) = delete;
  SetUpRollback& operator=(const SetUpRollback&) = delete;
  ~SetUpRollback() {
    if (mounted_) {
      if (Status s = Unmount(dir_); !s.ok()) {
        BLOG(kWarn) << "undoing a failed volume set-up: " << s.error().str();
        return;  // never remove below a mount
      }
    }
    if (created_) {
      if (Status s = RemoveTreeOnOneFilesystem(Dirname(dir_), Basename(dir_)); !s.ok()) {
        BLOG(kWarn) << "undoing a failed volume set-up: " << s.error().str();
      }
    }
  }
  // The directory exists (created when missing), with a tmpfs on it when
  // `memory` (mounted unless one is there).
  Status Prepare(bool memory, int64_t tmpfs_size) {
    created_ = BERTH_TRY(EnsureDiskDir(dir_));
    if (memory && !BERTH_TRY(IsMountPoint(dir_))) {
      BERTH_TRY(MountTmpfs(dir_, tmpfs_size));
      mounted_ = true;
    }
    return Ok();
  }
  bool fresh() const { return created_ || mounted_; }
  void Commit() { created_ = mounted_ = false; }

 private:
  std::string dir_;
  bool created_ = false;
  bool mounted_ = false;
};

// Volume sources kubelet has plugins for that berth does not.
constexpr std::array<std::string_view, 24> kUnsupportedSources = {"persistentVolumeClaim",
                                                                  "csi",
                                                                  "ephemeral",
                                                                  "image",
                                                                  "nfs",
                                                                  "iscsi",
                                                                  "rbd",
                                                                  "cephfs",
                                                                  "glusterfs",
                                                                  "gitRepo",
                                                                  "fc",
                                                                  "flexVolume",
                                                                  "flocker",
                                                                  "cinder",
                                                                  "azureDisk",
                                                                  "azureFile",
                                                                  "awsElasticBlockStore",
                                                                  "gcePersistentDisk",
                                                                  "vsphereVolume",
                                                                  "quobyte",
                                                                  "photonPersistentDisk",
                                                                  "portworxVolume",
                                                                  "scaleIO",
                                                                  "storageos"};

}  // namespace

struct VolumeManager::PodContext {
  const bj::object& pod;
  std::string uid;
  std::string ns;
  std::string name;
  std::optional<gid_t> fs_group;
  Projector projector;
};

VolumeManager::VolumeManager(std::string root_dir, Sources sources)
    : root_dir_(std::move(root_dir)), sources_(std::move(sources)) {
  // Mount points in /proc/self/mountinfo are canonical paths: so must be
  // the root, for a volume's mount to be recognised.
  if (Status s = MkdirAll(PathJoin(root_dir_, "pods"), 0750); !s.ok()) {
    BLOG(kWarn) << "volume root: " << s.error().str();
  }
  char buf[PATH_MAX];
  if (::realpath(root_dir_.c_str(), buf) != nullptr) root_dir_ = buf;
}

std::shared_ptr<std::mutex> VolumeManager::PodLock(const std::string& uid) {
  std::lock_guard lock(locks_mu_);
  std::shared_ptr<std::mutex>& mu = pod_locks_[uid];
  if (!mu) mu = std::make_shared<std::mutex>();
  return mu;
}

std::string VolumeManager::PodDir(const std::string& uid) const {
  return root_dir_ + "/pods/" + uid;
}

std::string VolumeManager::VolumeDir(const std::string& uid, Kind kind,
                                     const std::string& name) const {
  std::string_view plugin;
  switch (kind) {
    case Kind::kEmptyDir:
      plugin = "kubernetes.io~empty-dir";
      break;
    case Kind::kHostPath:
      plugin = "kubernetes.io~host-path";
      break;
    case Kind::kConfigMap:
      plugin = "kubernetes.io~configmap";
      break;
    case Kind::kSecret:
      plugin = "kubernetes.io~secret";
      break;
    case Kind::kDownwardApi:
      plugin = "kubernetes.io~downward-api";
      break;
    case Kind::kProjected:
      plugin = "kubernetes.io~projected";
      break;
  }
  return PodDir(uid) + "/volumes/" + std::string(plugin) + "/" + name;
}

Result<std::map<std::string, MountedVolume>> VolumeManager::SetUp(const bj::object& pod) {
  const bj::object* metadata = ObjectAt(&pod, "metadata");
  std::string uid = StringAt(metadata, "uid");
  if (!ValidUid(uid))
    return Error(Errc::kInvalidArgument,
                 "pod metadata.uid \"" + uid + "\" is not usable as a directory name");
  std::shared_ptr<std::mutex> mu = PodLock(uid);
  std::lock_guard lock(*mu);

  std::optional<gid_t> fs_group = BERTH_TRY(PodFsGroup(pod));
  PodContext ctx{pod,
                 uid,
                 StringAt(metadata, "namespace"),
                 StringAt(metadata, "name"),
                 fs_group,
                 Projector(sources_, tokens_, pod, PodFsUser(pod), fs_group)};
  BERTH_TRY(MkdirAll(PodDir(uid) + "/volumes", 0750));

  std::map<std::string, MountedVolume> mounted;
  std::vector<Error> errors;
  const bj::value* volumes =
      ObjectAt(&pod, "spec") ? ObjectAt(&pod, "spec")->if_contains("volumes") : nullptr;
  if (volumes != nullptr && volumes->is_array()) {
    for (const bj::value& volume : volumes->get_array()) {
      std::string name = volume.is_object() ? StringAt(&volume.get_object(), "name") : "";
      Result<MountedVolume> result = SetUpVolume(ctx, volume);
      if (result.ok()) {
        mounted[name] = std::move(result).value();
      } else {
        errors.push_back(SetUpFailed(name, result.error()));
      }
    }
  }
  if (!errors.empty()) return Combine(errors);
  return mounted;
}

Result<MountedVolume> VolumeManager::SetUpVolume(PodContext& ctx, const bj::value& volume) {
  if (!volume.is_object()) return Error(Errc::kInvalidArgument, "spec.volumes: expected objects");
  const bj::object& spec = volume.get_object();
  std::string name = StringAt(&spec, "name");
  if (!ValidUid(name)) {
    return Error(Errc::kInvalidArgument, "volume name \"" + name + "\" is not a valid name");
  }
  static const bj::value kNoSource;  // a volume without a source is an emptyDir
  static constexpr std::array<std::pair<std::string_view, Kind>, 6> kSupported = {{
      {"emptyDir", Kind::kEmptyDir},
      {"hostPath", Kind::kHostPath},
      {"configMap", Kind::kConfigMap},
      {"secret", Kind::kSecret},
      {"downwardAPI", Kind::kDownwardApi},
      {"projected", Kind::kProjected},
  }};
  for (const auto& [key, value] : spec) {
    if (key == "name" || value.is_null()) continue;
    for (const auto& [source_key, kind] : kSupported) {
      if (key != source_key) continue;
      switch (kind) {
        case Kind::kEmptyDir:
          return SetUpEmptyDir(ctx, name, value);
        case Kind::kHostPath: {
          Field source(&value, "hostPath");
          std::string path = BERTH_TRY(source["path"].String());
          std::string type = BERTH_TRY(source["type"].OptString()).value_or("");
          BERTH_TRY(CheckHostPathType(path, type));
          return MountedVolume{name, path, false};
        }
        default:
          BERTH_TRY(Project(ctx, kind, name, value, false));
          return MountedVolume{name, VolumeDir(ctx.uid, kind, name), true};
      }
    }
    for (std::string_view unsupported : kUnsupportedSources) {
      if (key == unsupported) {
        return Error(Errc::kUnimplemented,
                     std::string(key) + " volumes are not supported by berth yet");
      }
    }
    return Error(Errc::kUnimplemented, "unknown volume source \"" + std::string(key) + "\"");
  }
  return SetUpEmptyDir(ctx, name, kNoSource);
}

Result<MountedVolume> VolumeManager::SetUpEmptyDir(PodContext& ctx, const std::string& name,
                                                   const bj::value& value) {
  Field source(&value, "emptyDir");
  std::string medium = BERTH_TRY(source["medium"].OptString()).value_or("");
  if (medium.rfind("HugePages", 0) == 0) {
    return Error(Errc::kUnimplemented, "emptyDir medium " + medium + " is not supported by berth");
  }
  if (!medium.empty() && medium != "Memory") {
    return Error(Errc::kInvalidArgument, "emptyDir: unknown storage medium \"" + medium + "\"");
  }
  int64_t size_limit = 0;
  if (const bj::value* limit = source["sizeLimit"].raw(); limit != nullptr && !limit->is_null()) {
    std::string text =
        limit->is_string() ? std::string(limit->get_string()) : bj::serialize(*limit);
    Result<int64_t> q = ParseQuantity(text, false);
    if (!q.ok()) return Error(Errc::kInvalidArgument, "emptyDir.sizeLimit: " + q.error().message());
    size_limit = *q;
  }
  std::string dir = VolumeDir(ctx.uid, Kind::kEmptyDir, name);
  const bool memory = medium == "Memory";
  int64_t size =
      memory ? BERTH_TRY(MemoryVolumeSize(ctx.pod, size_limit, sources_.node.memory)) : 0;
  SetUpRollback rollback(dir);
  BERTH_TRY(rollback.Prepare(memory, size));
  // Ownership once, on the empty directory: later the pod owns its files.
  if (rollback.fresh() && ctx.fs_group) {
    BERTH_TRY(SetVolumeOwnership(dir, *ctx.fs_group, false));
  }
  rollback.Commit();
  return MountedVolume{name, dir, false};
}

Result<bool> VolumeManager::Project(PodContext& ctx, Kind kind, const std::string& name,
                                    const bj::value& value, bool refresh_only) {
  std::string dir = VolumeDir(ctx.uid, kind, name);
  // Everything but configMap may hold secrets (downwardAPI holds the
  // pod's own data; upstream keeps it on tmpfs as well).
  const bool memory = kind != Kind::kConfigMap;
  if (refresh_only && !PathExists(dir + "/..data")) return false;

  Payload payload;
  switch (kind) {
    case Kind::kConfigMap:
      payload = BERTH_TRY(ctx.projector.ConfigMap(Field(&value, "configMap")));
      break;
    case Kind::kSecret:
      payload = BERTH_TRY(ctx.projector.Secret(Field(&value, "secret")));
      break;
    case Kind::kDownwardApi:
      payload = BERTH_TRY(ctx.projector.DownwardApi(Field(&value, "downwardAPI")));
      break;
    case Kind::kProjected:
      payload = BERTH_TRY(ctx.projector.Projected(Field(&value, "projected")));
      break;
    default:
      return Error(Errc::kInternal, "volume " + name + " has no projected contents");
  }

  SetUpRollback rollback(dir);
  if (!refresh_only) {
    int64_t size = memory ? BERTH_TRY(MemoryVolumeSize(ctx.pod, 0, sources_.node.memory)) : 0;
    BERTH_TRY(rollback.Prepare(memory, size));
  }
  // The guarantee, whatever happened to the mount since: secret contents
  // go to a tmpfs or nowhere.
  if (memory && !BERTH_TRY(IsTmpfs(dir))) {
    return Error(Errc::kFailedPrecondition, "refusing to write the contents of volume " + name +
                                                " to " + dir + ": it is not on a tmpfs");
  }
  AtomicWriter writer(dir, "pod " + ctx.ns + "/" + ctx.name + " volume " + name);
  AtomicWriter::SetPerms set_perms;
  if (ctx.fs_group) {
    gid_t group = *ctx.fs_group;
    // The whole volume, as upstream: the first write also made dir itself.
    set_perms = [dir, group](const std::string&) { return SetVolumeOwnership(dir, group, true); };
  }
  bool written = BERTH_TRY(writer.Write(payload, set_perms));
  rollback.Commit();
  return written;
}

Status VolumeManager::Refresh(const bj::object& pod) {
  const bj::object* metadata = ObjectAt(&pod, "metadata");
  std::string uid = StringAt(metadata, "uid");
  if (!ValidUid(uid))
    return Error(Errc::kInvalidArgument,
                 "pod metadata.uid \"" + uid + "\" is not usable as a directory name");
  std::shared_ptr<std::mutex> mu = PodLock(uid);
  std::lock_guard lock(*mu);
  if (!PathExists(PodDir(uid))) return Ok();

  std::optional<gid_t> fs_group = BERTH_TRY(PodFsGroup(pod));
  PodContext ctx{pod,
                 uid,
                 StringAt(metadata, "namespace"),
                 StringAt(metadata, "name"),
                 fs_group,
                 Projector(sources_, tokens_, pod, PodFsUser(pod), fs_group)};
  static constexpr std::array<std::pair<std::string_view, Kind>, 4> kProjectedKinds = {{
      {"configMap", Kind::kConfigMap},
      {"secret", Kind::kSecret},
      {"downwardAPI", Kind::kDownwardApi},
      {"projected", Kind::kProjected},
  }};
  std::vector<Error> errors;
  const bj::object* spec = ObjectAt(&pod, "spec");
  const bj::value* volumes = spec != nullptr ? spec->if_contains("volumes") : nullptr;
  if (volumes == nullptr || !volumes->is_array()) return Ok();
  for (const bj::value& volume : volumes->get_array()) {
    const bj::object* v = volume.if_object();
    std::string name = StringAt(v, "name");
    if (v == nullptr || !ValidUid(name)) continue;
    for (const auto& [key, kind] : kProjectedKinds) {
      const bj::value* source = v->if_contains(key);
      if (source == nullptr || source->is_null()) continue;
      Result<bool> written = Project(ctx, kind, name, *source, true);
      if (!written.ok()) errors.push_back(SetUpFailed(name, written.error()));
    }
  }
  if (!errors.empty()) return Combine(errors);
  return Ok();
}

Status VolumeManager::TearDown(const std::string& pod_uid) {
  if (!ValidUid(pod_uid)) {
    return Error(Errc::kInvalidArgument, "pod uid \"" + pod_uid + "\" is not a directory name");
  }
  std::shared_ptr<std::mutex> mu = PodLock(pod_uid);
  {
    std::lock_guard lock(*mu);
    const std::string pod_dir = PodDir(pod_uid);
    struct stat st {};
    if (::lstat(pod_dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      std::vector<Error> errors;
      for (const std::string& point : BERTH_TRY(MountPointsUnder(pod_dir))) {
        if (Status s = Unmount(point); !s.ok()) errors.push_back(std::move(s).error());
      }
      std::vector<std::string> left = BERTH_TRY(MountPointsUnder(pod_dir));
      if (!left.empty()) {
        std::string text = "pod " + pod_uid + ": still mounted after unmounting: " + left.front();
        if (!errors.empty()) text += " (" + errors.front().str() + ")";
        return Error(Errc::kFailedPrecondition, text);
      }
    }
    BERTH_TRY(RemoveTreeOnOneFilesystem(root_dir_ + "/pods", pod_uid));
    tokens_.ForgetPod(pod_uid);
  }
  std::lock_guard lock(locks_mu_);
  pod_locks_.erase(pod_uid);
  return Ok();
}

std::vector<std::string> VolumeManager::PodsOnDisk() const {
  std::vector<std::string> uids;
  Result<std::vector<std::string>> names = ListDir(root_dir_ + "/pods");
  if (!names.ok()) return uids;
  for (std::string& name : *names) {
    struct stat st {};
    std::string path = root_dir_ + "/pods/" + name;
    if (::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) uids.push_back(std::move(name));
  }
  return uids;
}

}  // namespace berth::volumes
