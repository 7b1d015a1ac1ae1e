#pragma once
// glibc's malloc gives a process up to 8 arenas per core, one per thread
// that meets contention; each keeps what its threads freed. The agent's
// threads mostly wait on I/O, and after a burst of pods 15 arenas held
// about 30 MiB of an agent's 60. One arena per core (at least two) keeps
// that down without making threads wait on each other much.

namespace berth::cli {

// Caps the arenas before the process starts its threads, unless
// MALLOC_ARENA_MAX in the environment already says how many.
void LimitMallocArenas();

}  // namespace berth::cli
