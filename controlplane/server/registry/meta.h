#pragma once
// What the server writes into every object's metadata: uids, names from
// generateName, timestamps.

#include <string>

namespace berth::controlplane::registry {

// A random (version 4) UUID.
std::string NewUid();
// generateName's suffix: five characters from upstream's alphabet
// (no vowels, no look-alikes).
std::string NameSuffix();
// Now, as "2006-01-02T15:04:05Z" (metav1.Time has second precision).
std::string NowRfc3339();
std::string Rfc3339After(int64_t seconds);

}  // namespace berth::controlplane::registry
