#pragma once
// The apiserver's HTTPS front is common/https's server (shared with the
// kubelet API); the control plane's code names it here.

#include "common/https/https_server.h"

namespace berth::controlplane::http {

using https::Handler;
using https::HttpsServer;
using https::PeerCertificate;
using https::RawStream;
using https::Request;
using https::Response;
using https::ServerOptions;

}  // namespace berth::controlplane::http
