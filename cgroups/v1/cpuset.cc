// cpuset on cgroup v1: cpus -> cpuset.cpus, mems -> cpuset.mems.
// A new v1 cpuset starts empty and an empty cpuset refuses tasks (ENOSPC),
// so Create copies the parent's values into every empty level from the
// berth root down, as runc's cpuset ensureParent does (mems first: the
// kernel checks cpus against them on some versions).

#include "cgroups/cgroupfs.h"
#include "cgroups/v1/controllers.h"
#include "common/file.h"
#include "common/strings.h"

namespace berth::cgroups::v1 {

namespace {

std::string F(const char* name) {
  return std::string(kField) + "cpu." + name;
}

Status InheritOne(const std::string& dir, const char* file) {
  std::string current(Trim(BERTH_TRY(ReadKnob(dir, file))));
  if (!current.empty()) return Ok();
  std::string parent(Trim(BERTH_TRY(ReadKnob(Dirname(dir), file))));
  return WriteKnob(dir, file, parent);
}

}  // namespace

Status ApplyCpuset(const std::string& dir, const CpuLimits& c) {
  if (!c.cpus.empty()) BERTH_TRY_CTX(WriteKnob(dir, "cpuset.cpus", c.cpus), F("cpus"));
  if (!c.mems.empty()) BERTH_TRY_CTX(WriteKnob(dir, "cpuset.mems", c.mems), F("mems"));
  return Ok();
}

Status InheritCpuset(const std::string& root, const std::string& dir) {
  for (const std::string& level : DirsFromRoot(root, dir)) {
    BERTH_TRY(InheritOne(level, "cpuset.mems"));
    BERTH_TRY(InheritOne(level, "cpuset.cpus"));
  }
  return Ok();
}

Status ReadCpusetStats(const std::string& dir, Stats* s) {
  CpusetStats& c = s->cpuset;
  c.cpus = BERTH_TRY(ParseCpuList(BERTH_TRY(ReadKnob(dir, "cpuset.cpus"))));
  c.mems = BERTH_TRY(ParseCpuList(BERTH_TRY(ReadKnob(dir, "cpuset.mems"))));
  struct Flag {
    const char* file;
    uint64_t* value;
  };
  for (Flag f : {Flag{"cpuset.cpu_exclusive", &c.cpu_exclusive},
                 Flag{"cpuset.mem_hardwall", &c.mem_hardwall},
                 Flag{"cpuset.mem_exclusive", &c.mem_exclusive},
                 Flag{"cpuset.memory_migrate", &c.memory_migrate},
                 Flag{"cpuset.memory_spread_page", &c.memory_spread_page},
                 Flag{"cpuset.memory_spread_slab", &c.memory_spread_slab},
                 Flag{"cpuset.memory_pressure", &c.memory_pressure},
                 Flag{"cpuset.sched_load_balance", &c.sched_load_balance}}) {
    if (KnobExists(dir, f.file)) *f.value = BERTH_TRY(ReadKnobUint(dir, f.file));
  }
  if (KnobExists(dir, "cpuset.sched_relax_domain_level")) {
    c.sched_relax_domain_level = BERTH_TRY(ReadKnobInt(dir, "cpuset.sched_relax_domain_level"));
  }
  return Ok();
}

}  // namespace berth::cgroups::v1
