#pragma once
// Boost.Asio/Beast with TLS under the short names common/https uses.

#include "common/https/beast.h"

namespace berth::controlplane::http {

namespace net = https::net;
namespace ssl = https::ssl;
namespace beast = https::beast;
namespace bhttp = https::bhttp;
using https::tcp;

}  // namespace berth::controlplane::http
