// ImageFsInfo: one image filesystem, the snapshots directory, with the
// bytes and inodes under it (containerd sums its snapshots' usage).
// Container writable layers live elsewhere; container_filesystems stays
// empty: kubelet then takes the image filesystem for both (KEP-4191).

#include "runtime/cri/images/grpc_status.h"
#include "runtime/cri/images/image_service.h"

namespace berth::cri {

grpc::Status ImageService::ImageFsInfo(grpc::ServerContext* /*context*/,
                                       const ::runtime::v1::ImageFsInfoRequest* /*request*/,
                                       ::runtime::v1::ImageFsInfoResponse* response) {
  Result<UsageSample> sample = usage_.Get();
  if (!sample.ok()) return ToGrpcStatus(Error(sample.error()).Wrap("image filesystem usage"));
  ::runtime::v1::FilesystemUsage* fs = response->add_image_filesystems();
  fs->set_timestamp(sample->timestamp_ns);
  fs->mutable_fs_id()->set_mountpoint(usage_.dir());
  fs->mutable_used_bytes()->set_value(sample->usage.bytes);
  fs->mutable_inodes_used()->set_value(sample->usage.inodes);
  return grpc::Status::OK;
}

}  // namespace berth::cri
