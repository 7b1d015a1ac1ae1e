#pragma once
// Clocks and the RFC 3339 timestamps Kubernetes, CRI and runc print.

#include <cstdint>
#include <ctime>
#include <string>

namespace berth {

// Wall clock as a timespec (CLOCK_REALTIME).
timespec WallClockNow();
// Monotonic nanoseconds (CLOCK_MONOTONIC), for durations and timeouts.
int64_t MonotonicNanos();

// "2006-01-02T15:04:05.999999999Z" with trailing zeros of the fraction
// trimmed, as Go's time.RFC3339Nano prints UTC times.
std::string FormatRfc3339Nano(const timespec& ts);
// "2006-01-02T15:04:05Z".
std::string FormatRfc3339(time_t seconds);

}  // namespace berth
