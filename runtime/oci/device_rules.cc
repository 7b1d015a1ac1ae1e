#include "runtime/oci/device_rules.h"

namespace berth::runtime::oci {

cgroups::Resources EffectiveResources(const Spec& spec) {
  cgroups::Resources r = spec.linux_config.resources;
  // Without rules the cgroup allows every device already.
  if (r.devices.empty()) return r;
  for (const Device& d : spec.linux_config.devices) {
    if (d.type == 'p') continue;  // fifos are not device-controlled
    r.devices.push_back(
        cgroups::DeviceRule{true, d.type == 'u' ? 'c' : d.type, d.major, d.minor, "rwm"});
  }
  for (cgroups::DeviceRule& rule : cgroups::RuncDefaultAllowedDevices())
    r.devices.push_back(std::move(rule));
  return r;
}

}  // namespace berth::runtime::oci
