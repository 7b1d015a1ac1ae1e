#pragma once
// VolumeManager: the volumes of the pods on this node, laid out as kubelet
// lays them out under <root-dir>/pods/<uid>/volumes/kubernetes.io~<plugin>/
// <name>, so that tools and a restarted agent find them where kubelet
// would.
//
//   emptyDir     a 0777 directory on disk; medium Memory: a tmpfs of
//                size min(sizeLimit, pod memory limit, node allocatable)
//   hostPath     the node's path itself after the `type` check
//   configMap    atomic-writer directory on disk
//   secret, downwardAPI, projected
//                atomic-writer directory on a tmpfs of its own: secrets
//                never touch the node's disk
//
// Anything else (persistentVolumeClaim, csi, ephemeral, ...) fails with
// kUnimplemented, which the agent reports as a FailedMount event.

#include <boost/json.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/error.h"
#include "volumes/field_ref.h"
#include "volumes/sources.h"
#include "volumes/subpath.h"
#include "volumes/token_cache.h"

namespace berth::volumes {

struct MountedVolume {
  std::string name;
  std::string host_path;
  // The plugin requires a read-only mount in containers (configMap,
  // secret, downwardAPI, projected), whatever the volumeMount says.
  bool read_only = false;
};

class VolumeManager {
 public:
  VolumeManager(std::string root_dir, Sources sources);
  VolumeManager(const VolumeManager&) = delete;
  VolumeManager& operator=(const VolumeManager&) = delete;

  // Prepares every volume of the pod. Idempotent: a later call re-projects
  // contents and mounts nothing twice. Volumes that fail do not stop the
  // others; the error carries one FailedMount message per failed volume
  // (`MountVolume.SetUp failed for volume "cfg" : configmap "x" not
  // found`), joined by "; ", with the first failure's code.
  Result<std::map<std::string, MountedVolume>> SetUp(const boost::json::object& pod);

  // Re-projects the configMap, secret, downwardAPI and projected volumes
  // already set up (live updates of changed objects and labels, service
  // account tokens past 80% of their lifetime). Writes only what changed;
  // on an error the previous contents stay.
  Status Refresh(const boost::json::object& pod);

  // Unmounts everything mounted below <root-dir>/pods/<uid> (as
  // /proc/self/mountinfo lists it, so it works after a restart) and
  // removes the pod's directory without following symlinks or crossing
  // into a filesystem still mounted. A pod without a directory is fine.
  Status TearDown(const std::string& pod_uid);

  // The uids with a directory under <root-dir>/pods.
  std::vector<std::string> PodsOnDisk() const;

  const std::string& root_dir() const { return root_dir_; }

 private:
  struct PodContext;
  enum class Kind { kEmptyDir, kHostPath, kConfigMap, kSecret, kDownwardApi, kProjected };

  std::shared_ptr<std::mutex> PodLock(const std::string& uid);
  std::string PodDir(const std::string& uid) const;
  std::string VolumeDir(const std::string& uid, Kind kind, const std::string& name) const;
  Result<MountedVolume> SetUpVolume(PodContext& ctx, const boost::json::value& volume);
  Result<MountedVolume> SetUpEmptyDir(PodContext& ctx, const std::string& name,
                                      const boost::json::value& source);
  // configMap / secret / downwardAPI / projected. `refresh_only`: leave a
  // volume not yet set up alone.
  Result<bool> Project(PodContext& ctx, Kind kind, const std::string& name,
                       const boost::json::value& source, bool refresh_only);

  std::string root_dir_;
  Sources sources_;
  TokenCache tokens_;
  std::mutex locks_mu_;
  std::map<std::string, std::shared_ptr<std::mutex>> pod_locks_;
};

}  // namespace berth::volumes
