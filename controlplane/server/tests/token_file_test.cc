#include "controlplane/server/token_file.h"

#include <gtest/gtest.h>

namespace berth::controlplane {
namespace {

TEST(TokenFileTest, ReadsUsersUidsAndQuotedGroups) {
  Result<TokenFile> f = TokenFile::Parse(
      "s3cret,alice,uid-1,\"devs,ops\"\n"
      "\n"
      "t0ken,bob,uid-2\r\n"
      "q,\"carol \"\"c\"\"\",uid-3,admins\n",
      "tokens.csv");
  ASSERT_TRUE(f.ok()) << f.error().str();
  EXPECT_EQ(f->size(), 3u);
  std::optional<TokenUser> alice = f->Lookup("s3cret");
  ASSERT_TRUE(alice);
  EXPECT_EQ(alice->name, "alice");
  EXPECT_EQ(alice->uid, "uid-1");
  EXPECT_EQ(alice->groups, (std::vector<std::string>{"devs", "ops"}));
  std::optional<TokenUser> bob = f->Lookup("t0ken");
  ASSERT_TRUE(bob);
  EXPECT_TRUE(bob->groups.empty());
  EXPECT_EQ(f->Lookup("q")->name, "carol \"c\"");
  EXPECT_FALSE(f->Lookup("nope"));
}

TEST(TokenFileTest, BadLinesAreNamed) {
  for (const char* text : {"a,b\n", "ok,u,1\n,user,2\n", "x,\"unterminated,1\n", "t,,1\n"}) {
    Result<TokenFile> f = TokenFile::Parse(text, "tokens.csv");
    ASSERT_FALSE(f.ok()) << text;
    EXPECT_NE(f.error().str().find("tokens.csv line "), std::string::npos) << f.error().str();
  }
  Result<TokenFile> missing = TokenFile::Load("/nonexistent/tokens.csv");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().str().find("--token-auth-file"), std::string::npos);
}

}  // namespace
}  // namespace berth::controlplane
