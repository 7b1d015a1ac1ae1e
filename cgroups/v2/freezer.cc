// The cgroup v2 freezer (Linux 5.2+): write 1 or 0 to cgroup.freeze, then
// wait for cgroup.events to report "frozen 1" (a change of cgroup.events
// wakes poll(2) with POLLPRI, see cgroup-v2.rst "Core Interface Files").

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include "cgroups/cgroupfs.h"
#include "cgroups/v2/controllers.h"
#include "common/fd.h"
#include "common/strings.h"
#include "common/time.h"

namespace berth::cgroups::v2 {

namespace {

constexpr int64_t kFreezeTimeoutNs = 10'000'000'000;  // a stuck task gets 10 s

Result<bool> ParseFrozen(std::string_view text, const std::string& what) {
  std::map<std::string, uint64_t> events = BERTH_TRY(ParseKeyValues(text, what));
  return events["frozen"] == 1;
}

Result<bool> EventsFrozen(const std::string& dir) {
  std::string text = BERTH_TRY(ReadKnob(dir, "cgroup.events"));
  return ParseFrozen(text, KnobPath(dir, "cgroup.events"));
}

// Reads through the polled fd: kernfs re-arms the POLLPRI notification only
// when the file is read through the same open file.
Result<bool> EventsFrozenAt(int fd, const std::string& path) {
  char buf[512];
  ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  if (n < 0) return Error::Sys("read", path);
  return ParseFrozen(std::string_view(buf, static_cast<size_t>(n)), path);
}

Status RequireFreezer(const std::string& dir) {
  if (KnobExists(dir, "cgroup.freeze")) return Ok();
  return Error(Errc::kUnimplemented,
               "freeze `" + dir + "`: no cgroup.freeze (the v2 freezer needs Linux 5.2)");
}

// Waits until cgroup.events shows frozen == want.
Status WaitFrozen(const std::string& dir, bool want) {
  std::string events = KnobPath(dir, "cgroup.events");
  UniqueFd fd(::open(events.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return Error::Sys("open", events);
  int64_t deadline = MonotonicNanos() + kFreezeTimeoutNs;
  while (true) {
    if (BERTH_TRY(EventsFrozenAt(fd.get(), events)) == want) return Ok();
    if (MonotonicNanos() > deadline) {
      return Error(Errc::kDeadlineExceeded, std::string(want ? "freeze" : "thaw") + " `" + dir +
                                                "`: cgroup.events did not report frozen " +
                                                (want ? "1" : "0") + " within 10 s");
    }
    // Poll for the change notification; re-read at least every 10 ms in
    // case the file system does not deliver it (fake trees in tests).
    pollfd p{fd.get(), POLLPRI, 0};
    int ready = ::poll(&p, 1, 10);
    if (ready > 0 && (p.revents & POLLPRI) == 0) SleepMs(10);  // a plain file: always ready
  }
}

}  // namespace

Status Freeze(const std::string& dir) {
  BERTH_TRY(RequireFreezer(dir));
  BERTH_TRY(WriteKnob(dir, "cgroup.freeze", "1"));
  Status waited = WaitFrozen(dir, true);
  if (!waited.ok()) (void)WriteKnob(dir, "cgroup.freeze", "0");  // leave it running
  return waited;
}

Status Thaw(const std::string& dir) {
  BERTH_TRY(RequireFreezer(dir));
  BERTH_TRY(WriteKnob(dir, "cgroup.freeze", "0"));
  return WaitFrozen(dir, false);
}

Result<FreezerState> GetFreezerState(const std::string& dir) {
  if (!KnobExists(dir, "cgroup.freeze")) return FreezerState::kThawed;
  std::string want = std::string(Trim(BERTH_TRY(ReadKnob(dir, "cgroup.freeze"))));
  if (want != "1") return FreezerState::kThawed;
  return BERTH_TRY(EventsFrozen(dir)) ? FreezerState::kFrozen : FreezerState::kFreezing;
}

}  // namespace berth::cgroups::v2
