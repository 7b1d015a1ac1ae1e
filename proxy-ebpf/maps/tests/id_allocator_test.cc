#include "proxy-ebpf/maps/id_allocator.h"

#include <gtest/gtest.h>

namespace berth::proxy {
namespace {

TEST(IdAllocatorTest, LowestFreeIdFirstAndExhaustionIsAnError) {
  IdAllocator ids(4, "service");
  EXPECT_EQ(*ids.Allocate(), 1u);
  EXPECT_EQ(*ids.Allocate(), 2u);
  EXPECT_EQ(*ids.Allocate(), 3u);
  Result<uint32_t> none = ids.Allocate();
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().str().find("all 3 service ids are in use"), std::string::npos);
  ids.Release(2);
  EXPECT_EQ(*ids.Allocate(), 2u);
  ids.Release(3);
  ids.Release(2);
  EXPECT_EQ(*ids.Allocate(), 2u);
}

TEST(IdAllocatorTest, ClaimedIdsAreNotHandedOut) {
  IdAllocator ids(100, "backend");
  ids.Claim(5);
  ids.Claim(2);
  std::vector<uint32_t> got;
  for (int i = 0; i < 4; ++i)
    got.push_back(*ids.Allocate());
  EXPECT_EQ(got, (std::vector<uint32_t>{1, 3, 4, 6}));
}

}  // namespace
}  // namespace berth::proxy
