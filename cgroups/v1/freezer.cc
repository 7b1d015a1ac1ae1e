// The cgroup v1 freezer: freezer.state takes FROZEN or THAWED and reads
// FREEZING while tasks are still being stopped. A task stuck in an
// uninterruptible sleep can hold FREEZING forever; as runc does, the loop
// thaws briefly now and then so such a task gets to a freezable point.

#include "cgroups/cgroupfs.h"
#include "cgroups/v1/controllers.h"
#include "common/strings.h"

namespace berth::cgroups::v1 {

namespace {

constexpr int kAttempts = 1000;

Error Unexpected(const std::string& dir, const std::string& state) {
  return Error(Errc::kInternal, "freeze `" + dir + "`: unexpected freezer.state \"" + state + "\"");
}

Result<std::string> State(const std::string& dir) {
  return std::string(Trim(BERTH_TRY(ReadKnob(dir, "freezer.state"))));
}

}  // namespace

Status Freeze(const std::string& dir) {
  for (int i = 0; i < kAttempts; ++i) {
    if (i % 50 == 49) {
      BERTH_TRY(WriteKnob(dir, "freezer.state", "THAWED"));
      SleepMs(10);
    }
    BERTH_TRY(WriteKnob(dir, "freezer.state", "FROZEN"));
    std::string state = BERTH_TRY(State(dir));
    if (state == "FROZEN") return Ok();
    if (state != "FREEZING") return Unexpected(dir, state);
    SleepMs(1);
  }
  (void)WriteKnob(dir, "freezer.state", "THAWED");  // leave it running
  return Error(Errc::kDeadlineExceeded, "freeze `" + dir + "`: still FREEZING after " +
                                            std::to_string(kAttempts) +
                                            " attempts (a task in uninterruptible sleep?)");
}

Status Thaw(const std::string& dir) {
  for (int i = 0; i < kAttempts; ++i) {
    BERTH_TRY(WriteKnob(dir, "freezer.state", "THAWED"));
    if (BERTH_TRY(State(dir)) == "THAWED") return Ok();
    SleepMs(1);
  }
  return Error(Errc::kDeadlineExceeded, "thaw `" + dir + "`: freezer.state did not become THAWED");
}

Result<FreezerState> GetFreezerState(const std::string& dir) {
  std::string state = BERTH_TRY(State(dir));
  if (state == "THAWED") return FreezerState::kThawed;
  if (state == "FREEZING") return FreezerState::kFreezing;
  if (state == "FROZEN") return FreezerState::kFrozen;
  return Error(Errc::kInternal,
               KnobPath(dir, "freezer.state") + ": unknown state \"" + state + "\"");
}

}  // namespace berth::cgroups::v1
