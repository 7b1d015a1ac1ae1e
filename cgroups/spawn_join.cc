#include "cgroups/spawn_join.h"

#include <unistd.h>

#include "cgroups/cgroupfs.h"

namespace berth::cgroups {

Status SpawnJoin::JoinSelf() const {
  for (const File& f : self_join) {
    if (::write(f.fd.get(), "0", 1) != 1) return Error::Sys("write", f.path);
  }
  return Ok();
}

Status SpawnJoin::AddWithoutCloneInto(pid_t pid) const {
  if (!clone_into.fd) return Ok();
  return WriteProc(clone_into.path, pid);
}

}  // namespace berth::cgroups
