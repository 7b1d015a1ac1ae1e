#include "proxy-ebpf/maps/maglev.h"

#include <gtest/gtest.h>

#include <map>

namespace berth::proxy {
namespace {

std::vector<MaglevBackend> Backends(int n, int first_id = 1) {
  std::vector<MaglevBackend> out;
  for (int i = 0; i < n; ++i)
    out.push_back(
        {"10.0.0." + std::to_string(i + 1) + ":80/TCP", static_cast<uint32_t>(first_id + i)});
  return out;
}

std::map<uint32_t, int> Shares(const std::vector<uint32_t>& table) {
  std::map<uint32_t, int> shares;
  for (uint32_t id : table)
    ++shares[id];
  return shares;
}

TEST(MaglevTest, EveryEntryIsABackendAndSharesAreNearEqual) {
  std::vector<uint32_t> table = MaglevTable(Backends(10), 1021);
  ASSERT_EQ(table.size(), 1021u);
  std::map<uint32_t, int> shares = Shares(table);
  ASSERT_EQ(shares.size(), 10u);
  for (const auto& [id, count] : shares) {
    EXPECT_GE(id, 1u);
    EXPECT_LE(id, 10u);
    // Maglev's guarantee: shares differ by little (here within 5% of M/N).
    EXPECT_NEAR(count, 102, 6) << "backend " << id;
  }
}

TEST(MaglevTest, TheTableDoesNotDependOnInputOrder) {
  std::vector<MaglevBackend> forward = Backends(7);
  std::vector<MaglevBackend> backward(forward.rbegin(), forward.rend());
  EXPECT_EQ(MaglevTable(forward, 251), MaglevTable(backward, 251));
}

TEST(MaglevTest, RemovingOneBackendMovesLittleMoreThanItsShare) {
  std::vector<MaglevBackend> all = Backends(10);
  std::vector<uint32_t> before = MaglevTable(all, 1021);
  all.erase(all.begin() + 3);  // id 4 goes
  std::vector<uint32_t> after = MaglevTable(all, 1021);
  int moved = 0;
  for (size_t i = 0; i < before.size(); ++i)
    if (before[i] != 4 && before[i] != after[i]) ++moved;
  // Entries of surviving backends mostly stay (the paper reports a few %).
  EXPECT_LT(moved, 1021 / 10);
}

TEST(MaglevTest, NoBackendsNoTable) {
  EXPECT_TRUE(MaglevTable({}, 1021).empty());
}

}  // namespace
}  // namespace berth::proxy
