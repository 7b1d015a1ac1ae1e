#pragma once
// Go duration strings, as metav1.Duration fields carry them in
// KubeletConfiguration ("1m", "1m30s", "1.5h", "300ms", "0").

#include <chrono>
#include <string>
#include <string_view>

#include "common/error.h"

namespace berth::agent {

// time.ParseDuration: a signed sequence of decimal numbers, each with a
// unit (ns, us, µs, ms, s, m, h); "0" alone needs none. `what` names the
// field in errors.
Result<std::chrono::nanoseconds> ParseGoDuration(std::string_view text, std::string_view what);

}  // namespace berth::agent
