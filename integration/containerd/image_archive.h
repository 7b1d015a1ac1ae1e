#pragma once
// An OCI image archive built locally (no registry, no network) from a
// rootfs directory with umoci: one layer, linux/<host arch>, cmd /bin/sh,
// tagged "latest" (index.json's org.opencontainers.image.ref.name), then the
// image layout tarred as `ctr images import` reads it.

#include <string>

#include "common/error.h"

namespace berth::integration {

// Builds <work_dir>/layout and <work_dir>/image.tar from `rootfs`; returns
// the archive's path.
Result<std::string> BuildImageArchive(const std::string& rootfs, const std::string& work_dir);

}  // namespace berth::integration
