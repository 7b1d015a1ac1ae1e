#include <gtest/gtest.h>

#include "namespaces/idmap.h"
#include "namespaces/namespace.h"

namespace berth::ns {
namespace {

TEST(Namespaces, NamesRoundTrip) {
  for (Kind kind : kAllKinds) {
    EXPECT_EQ(FromOciName(OciName(kind)), kind);
    EXPECT_NE(CloneFlag(kind), 0);
  }
  EXPECT_EQ(ProcName(Kind::kNetwork), "net");
  EXPECT_EQ(ProcName(Kind::kMount), "mnt");
  EXPECT_FALSE(FromOciName("net").has_value());  // the OCI name is "network"
}

TEST(Namespaces, JoinRejectsMissingPath) {
  Status s = Join("/nonexistent/ns/net", Kind::kNetwork);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().str().find("/nonexistent/ns/net"), std::string::npos);
}

TEST(IdMap, FormatAndTranslate) {
  std::vector<IdMapping> maps = {{0, 100000, 1000}, {1000, 5000, 1}};
  EXPECT_EQ(FormatIdMap(maps), "0 100000 1000\n1000 5000 1\n");
  EXPECT_EQ(ToHost(maps, 0), 100000u);
  EXPECT_EQ(ToHost(maps, 999), 100999u);
  EXPECT_EQ(ToHost(maps, 1000), 5000u);
  EXPECT_FALSE(ToHost(maps, 1001).has_value());
}

}  // namespace
}  // namespace berth::ns
