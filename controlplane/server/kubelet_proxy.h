#pragma once
// pods/log, exec, attach and portforward: proxied to the kubelet API of
// the pod's node (https://<InternalIP>:<daemonEndpoints.kubeletEndpoint
// port, 10250 by default>) with the apiserver's kubelet client
// certificate, as kube-apiserver does. Logs stream back (follow);
// exec/attach/portforward pass their SPDY or WebSocket upgrade through and
// then copy bytes both ways until either side closes. The kubelet's
// serving certificate is not verified (kube-apiserver's default without
// --kubelet-certificate-authority).

#include <boost/json.hpp>
#include <string>

#include "common/pki/pki.h"
#include "controlplane/server/registry/call.h"
#include "controlplane/storage/store.h"

namespace berth::controlplane {

class KubeletProxy {
 public:
  KubeletProxy(storage::Store& store, pki::Credential client) : store_(store), client_(client) {}

  static bool Handles(const api::RequestInfo& info);
  void Serve(registry::Call& c);

 private:
  // The kubelet path for the call ("/containerLogs/ns/pod/c?..."), or a
  // Status to answer instead.
  registry::ApiResult<std::string> KubeletTarget(const registry::Call& c,
                                                 const boost::json::object& pod);
  // host:port of the pod's node's kubelet.
  registry::ApiResult<std::pair<std::string, uint16_t>> KubeletOf(const boost::json::object& pod);

  storage::Store& store_;
  pki::Credential client_;
};

}  // namespace berth::controlplane
