#pragma once
// Per-netns sysctls under /proc/sys/net, for the netns the calling thread
// is in when the file is opened.

#include <string>

#include "common/error.h"

namespace berth::cni::bridge {

// key as a path below /proc/sys: "net/ipv4/ip_forward".
Status WriteSysctl(const std::string& key, const std::string& value);
Result<std::string> ReadSysctl(const std::string& key);

}  // namespace berth::cni::bridge
