#pragma once
// The kubelet API's HTTPS listener is common/https's server (shared with
// the apiserver); the kubelet API's code names it here.

#include "common/https/https_server.h"

namespace berth::agent::kubelet {

using https::Handler;
using https::PeerCertificate;
using https::RawStream;
using https::Request;
using https::Response;

}  // namespace berth::agent::kubelet
