#pragma once
// The behaviour every Store implementation shares, as value-parametrized
// gtest cases. A test binary compiles store_suite.cc in and instantiates it:
//
//   INSTANTIATE_TEST_SUITE_P(Sqlite, StoreSuite, ::testing::Values(StoreFactory{...}));

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "common/testing/testkit.h"
#include "controlplane/storage/store.h"

namespace berth::controlplane::storage::testing {

struct StoreFactory {
  std::string name;
  // Opens the store kept in `dir`: empty the first time, the same data when
  // opened again on the same dir.
  std::function<Result<std::unique_ptr<Store>>(const std::string& dir)> open;
};

inline void PrintTo(const StoreFactory& factory, std::ostream* out) {
  *out << factory.name;
}

class StoreSuite : public ::testing::TestWithParam<StoreFactory> {
 protected:
  void SetUp() override;
  // Closes the store and opens it again on the same data.
  void Reopen();

  berth::testing::TempDir dir_{"berth-store"};
  std::unique_ptr<Store> store_;
};

}  // namespace berth::controlplane::storage::testing
