#include "integration/containerd/image_archive.h"

#include <chrono>

#include "common/process.h"

namespace berth::integration {
namespace {

Status Run(std::vector<std::string> argv) {
  Command cmd;
  cmd.argv = std::move(argv);
  cmd.timeout = std::chrono::seconds(120);
  CommandResult r = BERTH_TRY(RunCommand(cmd));
  if (r.success()) return Ok();
  return Error(Errc::kInternal,
               cmd.argv[0] + " " + cmd.argv[1] + ": " + r.Describe() + ": " + r.err);
}

}  // namespace

Result<std::string> BuildImageArchive(const std::string& rootfs, const std::string& work_dir) {
  std::string layout = work_dir + "/layout";
  std::string image = layout + ":latest";
  std::string archive = work_dir + "/image.tar";
  BERTH_TRY(Run({"umoci", "init", "--layout", layout}));
  BERTH_TRY(Run({"umoci", "new", "--image", image}));
  BERTH_TRY(Run({"umoci", "insert", "--image", image, rootfs, "/"}));
  BERTH_TRY(Run({"umoci", "config", "--image", image, "--config.cmd", "/bin/sh", "--config.env",
                 "PATH=/usr/sbin:/usr/bin:/sbin:/bin"}));
  BERTH_TRY(Run({"tar", "-C", layout, "-cf", archive, "."}));
  return archive;
}

}  // namespace berth::integration
