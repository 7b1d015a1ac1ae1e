#pragma once
// Serves one accepted TCP connection: reads the HTTP request, checks the
// route and token, negotiates and upgrades (see http_front.cc).

#include <boost/asio/ip/tcp.hpp>
#include <string>

#include "runtime/cri/streaming/context.h"
#include "runtime/cri/streaming/request_cache.h"

namespace berth::cri::streaming {

// `path_prefix` is the directory of the base URL's path ("" for "/").
void ServeHttp(ServerContext& ctx, RequestCache& cache, const std::string& path_prefix,
               asio::ip::tcp::socket socket);

}  // namespace berth::cri::streaming
