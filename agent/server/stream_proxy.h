#pragma once
// Exec, attach and port-forward: the runtime answers the CRI call with a
// URL on its streaming server (http://127.0.0.1:PORT/exec/TOKEN) and
// kubelet proxies the client's upgrade request there (apimachinery's
// UpgradeAwareHandler, upgrade required): the client's headers
// (Connection/Upgrade, X-Stream-Protocol-Version, Sec-WebSocket-*) go to
// the runtime, its 101 comes back as is, then bytes are copied both ways
// until either side closes. A refusal (4xx/5xx) is relayed to the client
// unchanged; any other answer is a 500.

#include <string>

#include "agent/server/https_front.h"

namespace berth::agent::kubelet {

// Whether the request asks for a protocol upgrade (Connection: Upgrade
// and an Upgrade header).
bool IsUpgradeRequest(const Request& req);

// Serves `req` by proxying it to `url` (http only, as CRI streaming
// servers speak).
void ProxyUpgrade(const Request& req, Response& w, const std::string& url);

}  // namespace berth::agent::kubelet
