#pragma once
// Parsing test profiles from JSON text.

#include <gtest/gtest.h>

#include <string>

#include "common/json.h"
#include "runtime/oci/security/seccomp.h"

namespace berth::runtime::security::testing {

inline Result<SeccompProfile> ParseProfileText(const std::string& text) {
  auto doc = json::Parse(text, "profile");
  if (!doc) return std::move(doc).error();
  return ParseSeccomp(json::Field(&doc.value(), "linux.seccomp"));
}

// Parses a profile that must be valid.
inline SeccompProfile Profile(const std::string& text) {
  auto profile = ParseProfileText(text);
  EXPECT_TRUE(profile.ok()) << profile.error().str();
  return profile.ok() ? std::move(profile).value() : SeccompProfile{};
}

inline CompiledSeccomp Compile(const std::string& text) {
  auto compiled = CompileSeccomp(Profile(text));
  EXPECT_TRUE(compiled.ok()) << compiled.error().str();
  return compiled.ok() ? std::move(compiled).value() : CompiledSeccomp{};
}

}  // namespace berth::runtime::security::testing
