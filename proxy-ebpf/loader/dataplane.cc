#include "proxy-ebpf/loader/dataplane.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <set>
#include <string_view>

#include "common/fd.h"
#include "common/log.h"
#include "proxy-ebpf/loader/libbpf_log.h"
#include "proxy-ebpf/loader/requirements.h"
#include "proxy-ebpf/loader/tc_attach.h"
#include "proxy-ebpf/maps/bpf_map.h"
#include "proxy-ebpf/sock_lb.skel.h"
#include "proxy-ebpf/tc_lb.skel.h"

namespace berth::proxy {
namespace {

constexpr uint32_t kMaglevMax = 131071;  // BERTH_LB_MAGLEV_MAX

bool IsPrime(uint32_t n) {
  if (n < 2) return false;
  for (uint32_t d = 2; d * d <= n; ++d)
    if (n % d == 0) return false;
  return true;
}

Error LibbpfError(const std::string& what, int err) {
  std::string log = TakeLibbpfLog();
  Error error(ErrcFromErrno(err), what + ": " + std::strerror(err) +
                                      (log.empty() ? "" : "\nlibbpf and verifier log:\n" + log));
  return error;
}

std::string LinksDir(const std::string& pin_dir) {
  return pin_dir + "/links";
}

// Maps only the TC object declares (not in kMapNames: a dataplane without
// uplinks never creates them).
constexpr const char* kTcMapNames[] = {"lb_ct", "lb_tc_devices"};

// Sizes the shared maps of `object` as configured: every object that
// declares them must agree with the pinned ones.
Status SizeSharedMaps(bpf_object* object, const DataplaneConfig& config) {
  const LbLimits& limits = config.limits;
  struct Size {
    const char* name;
    uint32_t entries;
  };
  for (const Size& size :
       {Size{"lb4_services", limits.max_services}, Size{"lb6_services", limits.max_services},
        Size{"lb_slots", limits.max_slots}, Size{"lb_maglev", limits.max_services},
        Size{"lb4_backends", limits.max_backends}, Size{"lb6_backends", limits.max_backends},
        Size{"lb_affinity", limits.affinity_entries}, Size{"lb4_rev_sock", limits.reverse_entries},
        Size{"lb6_rev_sock", limits.reverse_entries}, Size{"lb_stats", limits.max_services},
        Size{"lb_names", limits.max_services}, Size{"lb_ct", limits.connection_entries}}) {
    bpf_map* map = bpf_object__find_map_by_name(object, size.name);
    if (map == nullptr) {
      // Only the TC object has the connection table; any other name
      // missing is a map renamed on one side.
      if (std::string_view(size.name) == "lb_ct") continue;
      return Error(Errc::kInternal, std::string("BPF object has no map ") + size.name);
    }
    if (int err = bpf_map__set_max_entries(map, size.entries); err != 0)
      return LibbpfError(std::string("size map ") + size.name, -err);
  }
  bpf_map* maglev = bpf_object__find_map_by_name(object, "lb_maglev");
  if (int err = bpf_map__set_value_size(maglev, sizeof(uint32_t) * config.maglev_size); err != 0)
    return LibbpfError("size map lb_maglev", -err);
  return {};
}

// The devices the TC programs were attached to (lb_tc_devices).
Result<std::vector<int>> RecordedDevices(int devices_fd) {
  std::vector<int> out;
  for (const std::vector<uint8_t>& key :
       BERTH_TRY(MapKeys(devices_fd, sizeof(uint32_t), "lb_tc_devices"))) {
    uint32_t ifindex = 0;
    std::memcpy(&ifindex, key.data(), sizeof(ifindex));
    out.push_back(static_cast<int>(ifindex));
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<Dataplane>> Dataplane::Open(const DataplaneConfig& config) {
  RouteLibbpfLogs();
  if (!IsPrime(config.maglev_size) || config.maglev_size > kMaglevMax)
    return Error(Errc::kInvalidArgument, "maglev table size " + std::to_string(config.maglev_size) +
                                             " must be a prime no larger than " +
                                             std::to_string(kMaglevMax));
  if (config.limits.max_services < 2)
    return Error(Errc::kInvalidArgument, "max services must be at least 2");
  if (Status ok = CheckRequirements(config.cgroups); !ok.ok()) return ok.error();
  if (Status ok = PreparePinDir(config.pin_dir); !ok.ok()) return ok.error();

  std::unique_ptr<Dataplane> dataplane(new Dataplane());
  dataplane->config_ = config;
  dataplane->adopted_ = access((config.pin_dir + "/lb4_services").c_str(), F_OK) == 0;
  if (Status ok = dataplane->Load(); !ok.ok()) return ok.error();
  if (Status ok = dataplane->AttachSocketPrograms(); !ok.ok()) return ok.error();
  if (Status ok = dataplane->AttachTcPrograms(); !ok.ok()) return ok.error();
  return dataplane;
}

Dataplane::~Dataplane() {
  if (sock_ != nullptr) sock_lb__destroy(sock_);
  if (tc_ != nullptr) tc_lb__destroy(tc_);
}

Status Dataplane::Load() {
  bpf_object_open_opts opts{};
  opts.sz = sizeof(opts);
  opts.pin_root_path = config_.pin_dir.c_str();
  sock_ = sock_lb__open_opts(&opts);
  if (sock_ == nullptr) return LibbpfError("open BPF object sock_lb", errno);

  if (Status ok = SizeSharedMaps(sock_->obj, config_); !ok.ok()) return ok;
  sock_->rodata->lb_selection = static_cast<uint32_t>(config_.selection);
  sock_->rodata->lb_maglev_size = config_.maglev_size;

  if (int err = sock_lb__load(sock_); err != 0)
    return LibbpfError("load BPF programs (sock_lb) with maps pinned in `" + config_.pin_dir + "`",
                       -err);

  auto& m = sock_->maps;
  maps_.services4 = bpf_map__fd(m.lb4_services);
  maps_.services6 = bpf_map__fd(m.lb6_services);
  maps_.slots = bpf_map__fd(m.lb_slots);
  maps_.maglev = bpf_map__fd(m.lb_maglev);
  maps_.backends4 = bpf_map__fd(m.lb4_backends);
  maps_.backends6 = bpf_map__fd(m.lb6_backends);
  maps_.affinity = bpf_map__fd(m.lb_affinity);
  maps_.reverse4 = bpf_map__fd(m.lb4_rev_sock);
  maps_.reverse6 = bpf_map__fd(m.lb6_rev_sock);
  maps_.stats = bpf_map__fd(m.lb_stats);
  maps_.names = bpf_map__fd(m.lb_names);
  return config_.tc_devices.empty() ? Status() : LoadTc();
}

Status Dataplane::LoadTc() {
  bpf_object_open_opts opts{};
  opts.sz = sizeof(opts);
  opts.pin_root_path = config_.pin_dir.c_str();
  tc_ = tc_lb__open_opts(&opts);
  if (tc_ == nullptr) return LibbpfError("open BPF object tc_lb", errno);
  if (Status ok = SizeSharedMaps(tc_->obj, config_); !ok.ok()) return ok;
  tc_->rodata->lb_selection = static_cast<uint32_t>(config_.selection);
  tc_->rodata->lb_maglev_size = config_.maglev_size;
  tc_->rodata->lb_snat4 = config_.snat_ipv4;
  std::memcpy(tc_->rodata->lb_snat6, config_.snat_ipv6.data(), 16);
  if (int err = tc_lb__load(tc_); err != 0)
    return LibbpfError("load BPF programs (tc_lb) with maps pinned in `" + config_.pin_dir + "`",
                       -err);
  return {};
}

Status Dataplane::AttachSocketPrograms() {
  const std::string links = LinksDir(config_.pin_dir);
  if (mkdir(links.c_str(), 0700) != 0 && errno != EEXIST) return Error::Sys("mkdir", links);

  std::set<std::string> wanted;
  for (const std::string& cgroup : config_.cgroups) {
    UniqueFd cgroup_fd(open(cgroup.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!cgroup_fd) return Error::Sys("open", cgroup);
    struct stat st {};
    if (fstat(cgroup_fd.get(), &st) != 0) return Error::Sys("fstat", cgroup);

    for (const char* name : kSocketPrograms) {
      bpf_program* program = bpf_object__find_program_by_name(sock_->obj, name);
      if (program == nullptr)
        return Error(Errc::kInternal, std::string("BPF program ") + name + " missing from sock_lb");
      // bpffs refuses names with a dot.
      std::string pin = links + "/" + name + "_cgroup" + std::to_string(st.st_ino);
      wanted.insert(pin);

      // A restart: point the live link at the new program in one step.
      if (int link_fd = bpf_obj_get(pin.c_str()); link_fd >= 0) {
        int err = bpf_link_update(link_fd, bpf_program__fd(program), nullptr);
        close(link_fd);
        if (err == 0) continue;
        BLOG(kWarn) << "re-pointing pinned link " << pin << " failed (" << std::strerror(-err)
                    << "); attaching anew";
        unlink(pin.c_str());
      }
      bpf_link* link = bpf_program__attach_cgroup(program, cgroup_fd.get());
      if (link == nullptr)
        return LibbpfError(std::string("attach ") + name + " to cgroup `" + cgroup + "`", errno);
      int err = bpf_link__pin(link, pin.c_str());
      bpf_link__destroy(link);  // the pin keeps the attachment
      if (err != 0) return LibbpfError("pin link `" + pin + "`", -err);
    }
  }

  // Links of cgroups no longer configured go (unpinning detaches them).
  if (DIR* dir = opendir(links.c_str())) {
    while (dirent* entry = readdir(dir)) {
      if (entry->d_name[0] == '.') continue;
      std::string pin = links + "/" + entry->d_name;
      if (!wanted.count(pin)) unlink(pin.c_str());
    }
    closedir(dir);
  }
  return {};
}

Status Dataplane::AttachTcPrograms() {
  std::set<int> wanted;
  if (tc_ != nullptr) {
    int devices = bpf_map__fd(tc_->maps.lb_tc_devices);
    for (const std::string& device : config_.tc_devices) {
      int ifindex = BERTH_TRY(DeviceIndex(device));
      // Recorded first: a crash between the two still leaves it findable.
      uint32_t key = static_cast<uint32_t>(ifindex);
      uint32_t one = 1;
      if (bpf_map_update_elem(devices, &key, &one, BPF_ANY) != 0)
        return Error::Sys("bpf_map_update_elem lb_tc_devices", device);
      BERTH_TRY(AttachTc(ifindex, device, bpf_program__fd(tc_->progs.berth_tc_ingress),
                         bpf_program__fd(tc_->progs.berth_tc_egress)));
      wanted.insert(ifindex);
    }
  }
  // Devices no longer configured lose berth's filters.
  UniqueFd devices(bpf_obj_get((config_.pin_dir + "/lb_tc_devices").c_str()));
  if (!devices) return {};
  for (int ifindex : BERTH_TRY(RecordedDevices(devices.get()))) {
    if (wanted.count(ifindex)) continue;
    BERTH_TRY(DetachTc(ifindex));
    uint32_t key = static_cast<uint32_t>(ifindex);
    bpf_map_delete_elem(devices.get(), &key);
  }
  return {};
}

Status Dataplane::Remove(const std::string& pin_dir) {
  if (UniqueFd devices(bpf_obj_get((pin_dir + "/lb_tc_devices").c_str())); devices) {
    for (int ifindex : BERTH_TRY(RecordedDevices(devices.get())))
      BERTH_TRY(DetachTc(ifindex));
  }
  const std::string links = LinksDir(pin_dir);
  if (DIR* dir = opendir(links.c_str())) {
    while (dirent* entry = readdir(dir)) {
      if (entry->d_name[0] == '.') continue;
      std::string pin = links + "/" + entry->d_name;
      if (unlink(pin.c_str()) != 0 && errno != ENOENT) {
        Error error = Error::Sys("unlink", pin);
        closedir(dir);
        return error;
      }
    }
    closedir(dir);
  }
  if (rmdir(links.c_str()) != 0 && errno != ENOENT) return Error::Sys("rmdir", links);
  std::vector<const char*> maps(std::begin(kMapNames), std::end(kMapNames));
  maps.insert(maps.end(), std::begin(kTcMapNames), std::end(kTcMapNames));
  for (const char* name : maps) {
    std::string pin = pin_dir + "/" + name;
    if (unlink(pin.c_str()) != 0 && errno != ENOENT) return Error::Sys("unlink", pin);
  }
  if (rmdir(pin_dir.c_str()) != 0 && errno != ENOENT) return Error::Sys("rmdir", pin_dir);
  return {};
}

}  // namespace berth::proxy
