// Capability names and ParseCapabilities.

#include "runtime/oci/security/capabilities.h"

#include <gtest/gtest.h>
#include <linux/capability.h>

#include <algorithm>
#include <string>

#include "common/file.h"
#include "common/strings.h"

namespace berth::runtime::security {
namespace {

Result<CapabilitySets> ParseText(const std::string& text) {
  auto doc = json::Parse(text, "caps");
  if (!doc) return std::move(doc).error();
  return ParseCapabilities(json::Field(&doc.value(), "process.capabilities"));
}

uint64_t Bit(int cap) {
  return uint64_t{1} << cap;
}

TEST(CapabilitiesTest, LastCapabilityIsTheKernels) {
  auto text = ReadFile("/proc/sys/kernel/cap_last_cap");
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(LastCapability(), *ParseInt<int>(*text, "cap_last_cap"));
}

TEST(CapabilitiesTest, Names) {
  EXPECT_EQ(CapabilityFromName("CAP_CHOWN"), CAP_CHOWN);
  EXPECT_EQ(CapabilityFromName("CAP_NET_ADMIN"), CAP_NET_ADMIN);
  EXPECT_EQ(CapabilityFromName("CAP_SYS_ADMIN"), CAP_SYS_ADMIN);
  EXPECT_EQ(CapabilityFromName("CAP_AUDIT_READ"), CAP_AUDIT_READ);
  // runc's spelling only: upper case with the prefix.
  EXPECT_EQ(CapabilityFromName("cap_chown"), -1);
  EXPECT_EQ(CapabilityFromName("CHOWN"), -1);
  EXPECT_EQ(CapabilityFromName("0"), -1);
  EXPECT_EQ(CapabilityFromName("CAP_BOGUS"), -1);
  EXPECT_EQ(CapabilityName(CAP_NET_ADMIN), "CAP_NET_ADMIN");
  EXPECT_EQ(CapabilityName(CAP_DAC_READ_SEARCH), "CAP_DAC_READ_SEARCH");
  EXPECT_EQ(CapabilityName(63), "63");
  EXPECT_EQ(CapabilityNames(Bit(CAP_CHOWN) | Bit(CAP_KILL)),
            (std::vector<std::string>{"CAP_CHOWN", "CAP_KILL"}));
}

TEST(CapabilitiesTest, KnownCapabilitiesRoundTrip) {
  std::vector<std::string> known = KnownCapabilities();
  ASSERT_FALSE(known.empty());
  EXPECT_EQ(known.front(), "CAP_CHOWN");
  EXPECT_LE(static_cast<int>(known.size()), LastCapability() + 1);
  for (size_t i = 0; i < known.size(); ++i) {
    EXPECT_EQ(CapabilityFromName(known[i]), static_cast<int>(i)) << known[i];
    EXPECT_EQ(CapabilityName(static_cast<int>(i)), known[i]);
  }
}

TEST(CapabilitiesTest, AbsentMeansUnspecified) {
  auto sets = ParseCapabilities(json::Field(nullptr, "process.capabilities"));
  ASSERT_TRUE(sets.ok());
  EXPECT_FALSE(sets->specified);
  EXPECT_EQ(sets->bounding | sets->effective | sets->permitted | sets->inheritable | sets->ambient,
            0u);
}

TEST(CapabilitiesTest, EmptyObjectDropsEverything) {
  auto sets = ParseText("{}");
  ASSERT_TRUE(sets.ok());
  EXPECT_TRUE(sets->specified);
  EXPECT_EQ(sets->bounding, 0u);
}

TEST(CapabilitiesTest, AllFiveSets) {
  auto sets = ParseText(R"({
    "bounding": ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
    "effective": ["CAP_KILL"],
    "inheritable": ["CAP_NET_BIND_SERVICE"],
    "permitted": ["CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_KILL"],
    "ambient": ["CAP_NET_BIND_SERVICE"]})");
  ASSERT_TRUE(sets.ok()) << sets.error().str();
  EXPECT_TRUE(sets->specified);
  EXPECT_EQ(sets->bounding, Bit(CAP_CHOWN) | Bit(CAP_KILL) | Bit(CAP_NET_BIND_SERVICE));
  EXPECT_EQ(sets->effective, Bit(CAP_KILL));
  EXPECT_EQ(sets->inheritable, Bit(CAP_NET_BIND_SERVICE));
  EXPECT_EQ(sets->permitted, Bit(CAP_KILL) | Bit(CAP_NET_BIND_SERVICE));
  EXPECT_EQ(sets->ambient, Bit(CAP_NET_BIND_SERVICE));
  EXPECT_TRUE(sets->unknown.empty());
}

TEST(CapabilitiesTest, UnknownNamesAreSkipped) {
  auto sets = ParseText(R"({
    "bounding": ["CAP_CHOWN", "CAP_FROB", "cap_kill"],
    "effective": ["CAP_FROB", "CAP_ZAP"]})");
  ASSERT_TRUE(sets.ok()) << sets.error().str();
  EXPECT_EQ(sets->bounding, Bit(CAP_CHOWN));
  EXPECT_EQ(sets->effective, 0u);
  EXPECT_EQ(sets->unknown, (std::vector<std::string>{"CAP_FROB", "CAP_ZAP", "cap_kill"}));
}

TEST(CapabilitiesTest, Errors) {
  auto not_object = ParseText("[]");
  ASSERT_FALSE(not_object.ok());
  EXPECT_EQ(not_object.error().str(), "process.capabilities: expected object, got array");
  auto not_array = ParseText(R"({"effective": "CAP_KILL"})");
  ASSERT_FALSE(not_array.ok());
  EXPECT_EQ(not_array.error().str(), "process.capabilities.effective: expected array, got string");
  auto not_string = ParseText(R"({"ambient": ["CAP_KILL", 3]})");
  ASSERT_FALSE(not_string.ok());
  EXPECT_EQ(not_string.error().str(),
            "process.capabilities.ambient[1]: expected string, got number");
}

TEST(CapabilitiesTest, UnspecifiedSetsAreNotApplied) {
  // Nothing happens (no privilege needed) when process.capabilities is absent.
  CapabilitySets unspecified;
  EXPECT_TRUE(DropBounding(unspecified).ok());
  EXPECT_TRUE(ApplyCapabilities(unspecified).ok());
}

}  // namespace
}  // namespace berth::runtime::security
