#include "agent/config/eviction.h"

#include <algorithm>
#include <cstdlib>

#include "agent/config/quantity.h"

namespace berth::agent {
namespace {

constexpr std::string_view kSignals[] = {
    kSignalMemoryAvailable,       kSignalNodeFsAvailable,   kSignalNodeFsInodesFree,
    kSignalImageFsAvailable,      kSignalImageFsInodesFree, kSignalContainerFsAvailable,
    kSignalContainerFsInodesFree, kSignalPidAvailable,      kSignalAllocatableMemoryAvailable,
};

}  // namespace

int64_t EvictionThreshold::Resolve(int64_t capacity) const {
  if (!is_percentage) return quantity;
  return static_cast<int64_t>(static_cast<double>(capacity) * static_cast<double>(percentage));
}

std::vector<EvictionThreshold> DefaultEvictionHard() {
  return {
      {kSignalMemoryAvailable, 100LL << 20, 0, false},
      {kSignalNodeFsAvailable, 0, 0.1F, true},
      {kSignalImageFsAvailable, 0, 0.15F, true},
      {kSignalNodeFsInodesFree, 0, 0.05F, true},
  };
}

Result<std::vector<EvictionThreshold>> ParseEvictionThresholds(
    const std::vector<std::pair<std::string, std::string>>& entries, std::string_view what) {
  std::vector<EvictionThreshold> out;
  for (const auto& [signal, value] : entries) {
    std::string field = std::string(what) + "[" + signal + "]";
    if (std::find(std::begin(kSignals), std::end(kSignals), signal) == std::end(kSignals)) {
      return Error(Errc::kInvalidArgument, field + ": unsupported eviction signal \"" + signal +
                                               "\" (supported: memory.available, "
                                               "nodefs.available, nodefs.inodesFree, "
                                               "imagefs.available, imagefs.inodesFree, "
                                               "containerfs.available, containerfs.inodesFree, "
                                               "pid.available)");
    }
    EvictionThreshold t;
    t.signal = signal;
    if (value.ends_with('%')) {
      if (value == "0%" || value == "100%") continue;
      std::string number = value.substr(0, value.size() - 1);
      char* end = nullptr;
      float p = std::strtof(number.c_str(), &end);
      if (number.empty() || *end != '\0') {
        return Error(Errc::kInvalidArgument, field + ": invalid percentage \"" + value + "\"");
      }
      if (p < 0 || p > 100) {
        return Error(Errc::kInvalidArgument,
                     field + ": a percentage must be within 0% and 100%, got \"" + value + "\"");
      }
      t.percentage = p / 100;
      t.is_percentage = true;
    } else {
      t.quantity = BERTH_TRY(ParseQuantity(value, field));
      if (t.quantity < 0) {
        return Error(Errc::kInvalidArgument,
                     field + ": eviction threshold must be positive, got \"" + value + "\"");
      }
      if (t.quantity == 0) continue;
    }
    out.push_back(std::move(t));
  }
  return out;
}

const EvictionThreshold* FindThreshold(const std::vector<EvictionThreshold>& thresholds,
                                       std::string_view signal) {
  for (const EvictionThreshold& t : thresholds)
    if (t.signal == signal) return &t;
  return nullptr;
}

}  // namespace berth::agent
