#include "cmd/malloc_arenas.h"

#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "common/log.h"

namespace berth::cli {

void LimitMallocArenas() {
  if (std::getenv("MALLOC_ARENA_MAX") != nullptr) return;
  long cores = ::sysconf(_SC_NPROCESSORS_ONLN);
  int arenas = static_cast<int>(std::max(2L, cores));
  if (::mallopt(M_ARENA_MAX, arenas) != 1)
    BLOG(kWarn) << "mallopt(M_ARENA_MAX, " << arenas << ") failed";
}

}  // namespace berth::cli
