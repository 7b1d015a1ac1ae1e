#include "runtime/oci/device_rules.h"

namespace berth::runtime::oci {
namespace {

cgroups::DeviceRule Allow(char type, std::optional<int64_t> major, std::optional<int64_t> minor,
                          const char* access) {
  cgroups::DeviceRule r;
  r.allow = true;
  r.type = type;
  r.major = major;
  r.minor = minor;
  r.access = access;
  return r;
}

std::vector<cgroups::DeviceRule> DefaultAllowed() {
  return {
      Allow('c', std::nullopt, std::nullopt, "m"),  // mknod of any device
      Allow('b', std::nullopt, std::nullopt, "m"),
      Allow('c', 1, 3, "rwm"),                      // /dev/null
      Allow('c', 1, 8, "rwm"),                      // /dev/random
      Allow('c', 1, 7, "rwm"),                      // /dev/full
      Allow('c', 5, 0, "rwm"),                      // /dev/tty
      Allow('c', 1, 5, "rwm"),                      // /dev/zero
      Allow('c', 1, 9, "rwm"),                      // /dev/urandom
      Allow('c', 136, std::nullopt, "rwm"),         // /dev/pts/*
      Allow('c', 5, 2, "rwm"),                      // /dev/ptmx
      Allow('c', 10, 200, "rwm"),                   // /dev/net/tun
  };
}

}  // namespace

cgroups::Resources EffectiveResources(const Spec& spec) {
  cgroups::Resources r = spec.linux_config.resources;
  // Without rules the cgroup allows every device already.
  if (r.devices.empty()) return r;
  for (const Device& d : spec.linux_config.devices) {
    char type = d.type == 'u' ? 'c' : d.type;
    if (type == 'p') continue;  // fifos are not device-controlled
    r.devices.push_back(Allow(type, d.major, d.minor, "rwm"));
  }
  for (cgroups::DeviceRule& rule : DefaultAllowed()) r.devices.push_back(std::move(rule));
  return r;
}

}  // namespace berth::runtime::oci
