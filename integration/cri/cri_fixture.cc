#include "integration/cri/cri_fixture.h"

#include <cstdlib>

#include "common/strings.h"
#include "integration/fixtures/image_layout.h"

namespace berth::integration {

using image::registry::testing::PushLayout;
using image::registry::testing::RegistryProcess;

std::string CniName(const ::testing::TestParamInfo<Cni>& info) {
  return info.param == Cni::kDebianPlugins ? "DebianPlugins" : "BerthCniBridge";
}

SharedImage& Image() {
  static SharedImage* shared = [] {
    auto* s = new SharedImage;
    // At exit: the registry is killed by pid and its directory removed.
    std::atexit([] { delete shared; });
    std::string rootfs = testing::BuiltBinary("integration/fixtures/busybox-rootfs");
    if (!PathExists(rootfs + "/bin/busybox")) {
      s->error = "the busybox fixture rootfs";
      return s;
    }
    if (!MkdirAll(s->dir / "registry").ok()) return s;
    auto registry = RegistryProcess::Start(s->dir / "registry");
    if (!registry.ok()) {
      s->error = registry.error().str();
      return s;
    }
    s->registry = std::move(*registry);
    auto layout = BuildOciLayout(rootfs, s->dir.path(), {"/bin/sh"});
    if (!layout.ok()) {
      s->error = layout.error().str();
      return s;
    }
    s->image = s->registry->host() + "/test/busybox:latest";
    Status pushed = PushLayout(*layout, "latest", s->image);
    if (!pushed.ok()) s->error = pushed.error().str();
    return s;
  }();
  return *shared;
}

}  // namespace berth::integration
