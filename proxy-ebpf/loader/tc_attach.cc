#include "proxy-ebpf/loader/tc_attach.h"

#include <bpf/libbpf.h>
#include <net/if.h>

#include <cerrno>
#include <cstring>

namespace berth::proxy {
namespace {

bpf_tc_hook Hook(int ifindex, bpf_tc_attach_point point) {
  bpf_tc_hook hook{};
  hook.sz = sizeof(hook);
  hook.ifindex = ifindex;
  hook.attach_point = point;
  return hook;
}

bpf_tc_opts Filter(int prog_fd, uint32_t flags) {
  bpf_tc_opts opts{};
  opts.sz = sizeof(opts);
  opts.handle = kTcHandle;
  opts.priority = kTcPriority;
  opts.prog_fd = prog_fd;
  opts.flags = flags;
  return opts;
}

Error TcError(const char* what, const std::string& device, int err) {
  return Error(ErrcFromErrno(err),
               std::string(what) + " on device `" + device + "`: " + std::strerror(err));
}

}  // namespace

Result<int> DeviceIndex(const std::string& name) {
  unsigned index = if_nametoindex(name.c_str());
  if (index == 0)
    return Error(Errc::kNotFound, "network device `" + name + "`: " + std::strerror(errno));
  return static_cast<int>(index);
}

Status AttachTc(int ifindex, const std::string& device, int ingress_fd, int egress_fd) {
  bpf_tc_hook clsact =
      Hook(ifindex, static_cast<bpf_tc_attach_point>(BPF_TC_INGRESS | BPF_TC_EGRESS));
  if (int err = bpf_tc_hook_create(&clsact); err != 0 && err != -EEXIST)
    return TcError("tc: add clsact qdisc", device, -err);
  struct Side {
    bpf_tc_attach_point point;
    int prog_fd;
    const char* what;
  };
  for (const Side& side : {Side{BPF_TC_INGRESS, ingress_fd, "tc: attach ingress filter"},
                           Side{BPF_TC_EGRESS, egress_fd, "tc: attach egress filter"}}) {
    bpf_tc_hook hook = Hook(ifindex, side.point);
    bpf_tc_opts filter = Filter(side.prog_fd, BPF_TC_F_REPLACE);
    if (int err = bpf_tc_attach(&hook, &filter); err != 0) return TcError(side.what, device, -err);
  }
  return {};
}

Status DetachTc(int ifindex) {
  for (bpf_tc_attach_point point : {BPF_TC_INGRESS, BPF_TC_EGRESS}) {
    bpf_tc_hook hook = Hook(ifindex, point);
    bpf_tc_opts filter = Filter(0, 0);
    int err = bpf_tc_detach(&hook, &filter);
    if (err != 0 && err != -ENOENT && err != -ENODEV && err != -EINVAL)
      return TcError("tc: detach filter", "ifindex " + std::to_string(ifindex), -err);
  }
  return {};
}

}  // namespace berth::proxy
