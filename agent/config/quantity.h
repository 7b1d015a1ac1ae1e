#pragma once
// resource.Quantity as the agent reads and writes it: "100m", "1.5",
// "64Mi", "1G", "2e3" parsed exactly into integers, and written back in
// the canonical form Kubernetes prints (node capacity, allocatable).

#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.h"

namespace berth::agent {

// In thousandths ("100m" -> 100, "2" -> 2000), rounded away from zero;
// `what` names the value in errors. kOutOfRange beyond int64.
Result<int64_t> ParseQuantityMilli(std::string_view text, std::string_view what);
// In whole units ("64Mi" -> 67108864, "100m" -> 1), rounded away from zero.
Result<int64_t> ParseQuantity(std::string_view text, std::string_view what);

// Quantity.String() of a DecimalSI quantity given in thousandths (cpu,
// pods): the largest SI suffix that keeps it whole: 3900 -> "3900m",
// 4000 -> "4", 110000 -> "110", 1000000 -> "1k".
std::string FormatDecimalMilli(int64_t milli);
// Quantity.String() of a BinarySI quantity (memory, storage, hugepages):
// under 1024 as a decimal number, else the largest power of 1024 that
// divides it: 2147483648 -> "2Gi", 1536 -> "1536", 1048576000 -> "1000Mi".
std::string FormatBinarySI(int64_t value);

}  // namespace berth::agent
