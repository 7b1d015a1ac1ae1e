#pragma once
// resource.Quantity text ("100m", "1.5", "64Mi", "1G", "2e3") as integers.

#include <cstdint>
#include <string_view>

#include "common/error.h"

namespace berth {

// A resource.Quantity in units of 1/1000 (milli_out = true: "100m" -> 100,
// "2" -> 2000; Quantity.MilliValue) or whole units rounded up ("64Mi" ->
// 67108864, "100m" -> 1; Quantity.Value). kInvalidArgument for text that is
// not a quantity or out of the int64 range.
Result<int64_t> ParseQuantity(std::string_view text, bool milli_out);

}  // namespace berth
