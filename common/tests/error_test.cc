#include "common/error.h"

#include <gtest/gtest.h>

namespace berth {
namespace {

Result<int> Half(int v) {
  if (v % 2 != 0) return Error(Errc::kInvalidArgument, "odd value " + std::to_string(v));
  return v / 2;
}

Result<int> Quarter(int v) {
  int h = BERTH_TRY_CTX(Half(v), "quarter of " + std::to_string(v));
  return BERTH_TRY(Half(h));
}

TEST(Error, RendersContextOpObjectAndErrno) {
  Error e = Error::Sys("open", "/no/such", ENOENT);
  EXPECT_EQ(e.code(), Errc::kNotFound);
  EXPECT_EQ(e.str(), "open `/no/such`: No such file or directory");
  e.Wrap("load bundle").Wrap("create container `x`");
  EXPECT_EQ(e.str(),
            "create container `x`: load bundle: open `/no/such`: No such file or directory");
}

TEST(Error, TryPropagatesWithContext) {
  EXPECT_EQ(*Quarter(8), 2);
  Result<int> r = Quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().str(), "odd value 3");
  Result<int> r2 = Quarter(5);
  EXPECT_EQ(r2.error().str(), "quarter of 5: odd value 5");
  EXPECT_EQ(r2.error().code(), Errc::kInvalidArgument);
}

TEST(Error, ErrnoCategories) {
  EXPECT_EQ(ErrcFromErrno(EEXIST), Errc::kAlreadyExists);
  EXPECT_EQ(ErrcFromErrno(EPERM), Errc::kPermissionDenied);
  EXPECT_EQ(ErrcFromErrno(ENOSYS), Errc::kUnimplemented);
  EXPECT_EQ(ErrcFromErrno(EIO), Errc::kInternal);
}

}  // namespace
}  // namespace berth

namespace berth {
namespace {

TEST(ErrorDeathTest, ReadingAFailedResultAbortsWithTheError) {
  Result<int> r = Error(Errc::kNotFound, "no such thing");
  EXPECT_DEATH((void)*r, "no such thing");
  Result<int> good = 1;
  EXPECT_DEATH((void)good.error(), "error\\(\\) of a successful Result");
}

}  // namespace
}  // namespace berth
