#pragma once
// Static pods: manifests in --pod-manifest-path (staticPodPath) that the
// agent runs without the API, as kubelet's file source reads them. Each
// gets upstream's defaults: name <name>-<node>, namespace "default",
// spec.nodeName, a uid hashed from the node, the file and its content,
// and the kubernetes.io/config.{hash,source,seen} annotations. The API
// sees each through a mirror pod (kubernetes.io/config.mirror = the hash).

#include <boost/json.hpp>
#include <map>
#include <string>
#include <vector>

#include "common/error.h"

namespace berth::agent {

constexpr const char* kConfigMirrorAnnotation = "kubernetes.io/config.mirror";
constexpr const char* kConfigHashAnnotation = "kubernetes.io/config.hash";
constexpr const char* kConfigSourceAnnotation = "kubernetes.io/config.source";

struct StaticPodScan {
  std::map<std::string, boost::json::object> pods;  // by uid
  std::vector<std::string> errors;                  // one per bad file
};

// Reads every *.yaml, *.yml and *.json file of `dir` (hidden files are
// skipped, as upstream does). A file that is not a Pod is reported.
StaticPodScan ScanStaticPods(const std::string& dir, const std::string& node_name);

bool IsStaticPod(const boost::json::object& pod);
bool IsMirrorPod(const boost::json::object& pod);
// The mirror pod to create for a static pod, owned by the Node.
boost::json::object MirrorPodOf(const boost::json::object& static_pod, const std::string& node_uid);

}  // namespace berth::agent
