#pragma once
// Dense ids in [1, limit): the lowest free id first, so that ids index an
// array map (per-service stats) of `limit` entries.

#include <cstdint>
#include <set>

#include "common/error.h"

namespace berth::proxy {

class IdAllocator {
 public:
  explicit IdAllocator(uint32_t limit, const char* what) : limit_(limit), what_(what) {}

  Result<uint32_t> Allocate() {
    if (!free_.empty()) {
      uint32_t id = *free_.begin();
      free_.erase(free_.begin());
      return id;
    }
    if (next_ >= limit_)
      return Error(Errc::kResourceExhausted, std::string("all ") + std::to_string(limit_ - 1) +
                                                 " " + what_ + " ids are in use; raise the limit");
    return next_++;
  }
  // Marks `id` used (adopting what a previous process wrote).
  void Claim(uint32_t id) {
    while (next_ <= id)
      free_.insert(next_++);
    free_.erase(id);
  }
  void Release(uint32_t id) {
    if (id + 1 == next_) {
      --next_;
      while (next_ > 1 && free_.erase(next_ - 1))
        --next_;
    } else {
      free_.insert(id);
    }
  }

 private:
  uint32_t limit_;
  const char* what_;
  uint32_t next_ = 1;
  std::set<uint32_t> free_;
};

}  // namespace berth::proxy
