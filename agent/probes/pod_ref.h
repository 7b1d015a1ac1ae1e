#pragma once
// The involvedObject of kubelet's events about a pod or one of its
// containers (upstream GenerateContainerRef): apiVersion v1, kind Pod, and
// "spec.containers{name}" / "spec.initContainers{name}" for a container.

#include <boost/json.hpp>
#include <string>

#include "agent/container/object_fields.h"
#include "controlplane/client/event_recorder.h"

namespace berth::agent {

inline controlplane::client::ObjectRef PodObjectRef(const boost::json::object& pod,
                                                    std::string field_path = "") {
  const boost::json::object* meta = fields::ObjectAt(&pod, "metadata");
  return {"v1",
          "Pod",
          fields::StringAt(meta, "namespace"),
          fields::StringAt(meta, "name"),
          fields::StringAt(meta, "uid"),
          std::move(field_path)};
}

inline std::string ContainerFieldPath(const std::string& name, bool init) {
  return (init ? "spec.initContainers{" : "spec.containers{") + name + "}";
}

}  // namespace berth::agent
