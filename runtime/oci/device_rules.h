#pragma once
// The cgroup device rules a container really gets. As runc's specconv does,
// the spec's linux.resources.devices rules are followed by an allow rule for
// every node in linux.devices and by runc's default allowed devices (mknod
// of anything, the default nodes, ptys, ptmx and tun), so a deny-all spec
// still has a working /dev.

#include "cgroups/resources.h"
#include "runtime/oci/spec.h"

namespace berth::runtime::oci {

cgroups::Resources EffectiveResources(const Spec& spec);

}  // namespace berth::runtime::oci
