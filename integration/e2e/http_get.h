#pragma once
// A plain HTTP/1.0 GET from the test process (it shares the network
// namespace of the pods' bridge), with a deadline on every step.

#include <chrono>
#include <cstdint>
#include <string>

#include "common/error.h"

namespace berth::e2e {

struct HttpAnswer {
  int status = 0;
  std::string body;
};

Result<HttpAnswer> HttpGet(const std::string& ipv4, uint16_t port, const std::string& path,
                           std::chrono::milliseconds timeout = std::chrono::seconds(3));

}  // namespace berth::e2e
