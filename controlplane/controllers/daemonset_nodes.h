#pragma once
// Where a DaemonSet's pods belong, as upstream's daemon controller
// decides it (NodeShouldRunDaemonPod, pkg/controller/daemon/util): a
// node fits when the template's nodeName (if any) names it, its labels
// satisfy the template's nodeSelector and required node affinity, and
// the pod, with the tolerations every daemon pod gets, tolerates the
// node's NoSchedule and NoExecute taints. A pod already there may stay
// while only NoSchedule taints are untolerated.

#include <boost/json.hpp>
#include <string>

namespace berth::controlplane::controllers {

struct DaemonNodeFit {
  bool should_run = false;               // a pod should be created here
  bool should_continue_running = false;  // a pod here may stay
};

// `ds`: the DaemonSet; `node`: a Node.
DaemonNodeFit NodeShouldRunDaemonPod(const boost::json::object& node,
                                     const boost::json::object& ds);

// AddOrUpdateDaemonPodTolerations: not-ready and unreachable (NoExecute,
// no tolerationSeconds: pods stay on a failing node), disk-, memory- and
// pid-pressure and unschedulable (NoSchedule), and network-unavailable
// (NoSchedule) for a hostNetwork pod. A toleration of the same key,
// operator, value and effect is replaced.
void AddDaemonPodTolerations(boost::json::object& pod_spec);

// ReplaceDaemonSetPodNodeNameNodeAffinity: the pod's required node
// affinity becomes the one term matchFields metadata.name In [node], so
// the scheduler places it there.
void PinToNode(boost::json::object& pod_spec, const std::string& node);

// The node a daemon pod is for: spec.nodeName, else the node its pinning
// affinity names; "" when neither says.
std::string TargetNodeName(const boost::json::object& pod);

}  // namespace berth::controlplane::controllers
