#pragma once
// Timestamps as the API writes them: metav1.Time ("2006-01-02T15:04:05Z")
// and metav1.MicroTime (with a fraction of a second, as Lease renewTime).

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace berth::controlplane::controllers {

using WallClock = std::chrono::system_clock;
using WallTime = WallClock::time_point;

// An RFC 3339 time ("Z" or a "+hh:mm" offset, any fraction); nullopt when
// `text` is not one.
std::optional<WallTime> ParseApiTime(std::string_view text);
// metav1.Time: whole seconds, UTC.
std::string ApiTime(WallTime t);

}  // namespace berth::controlplane::controllers
