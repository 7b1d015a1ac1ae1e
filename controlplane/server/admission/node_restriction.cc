#include "controlplane/server/admission/node_restriction.h"

#include "controlplane/server/api/kinds.h"

namespace berth::controlplane::admission {

namespace bj = boost::json;

namespace {

const bj::array* ArrayAt(const bj::object& obj, std::initializer_list<std::string_view> path) {
  const bj::value* v = api::Lookup(obj, path);
  return v != nullptr && v->is_array() ? &v->get_array() : nullptr;
}

bool Names(const bj::object& pod, std::string_view kind) {
  bool found = false;
  const bj::array* volumes = ArrayAt(pod, {"spec", "volumes"});
  if (volumes != nullptr) {
    for (const bj::value& v : *volumes) {
      if (!v.is_object()) continue;
      const bj::object& vol = v.get_object();
      if (kind == "secrets" && vol.contains("secret")) found = true;
      if (kind == "configmaps" && vol.contains("configMap")) found = true;
      if (kind == "persistentvolumeclaims" && vol.contains("persistentVolumeClaim")) found = true;
      if (const bj::value* projected = vol.if_contains("projected");
          projected != nullptr && projected->is_object()) {
        const bj::value* sources = projected->get_object().if_contains("sources");
        if (sources != nullptr && sources->is_array()) {
          for (const bj::value& s : sources->get_array()) {
            if (!s.is_object()) continue;
            if (kind == "secrets" && s.get_object().contains("secret")) found = true;
            if (kind == "configmaps" && s.get_object().contains("configMap")) found = true;
          }
        }
      }
    }
  }
  for (std::string_view list : {"containers", "initContainers", "ephemeralContainers"}) {
    const bj::array* containers = ArrayAt(pod, {"spec", list});
    if (containers == nullptr) continue;
    for (const bj::value& c : *containers) {
      if (!c.is_object()) continue;
      std::string text = bj::serialize(c);
      if (kind == "secrets" && (text.find("\"secretKeyRef\"") != std::string::npos ||
                                text.find("\"secretRef\"") != std::string::npos)) {
        found = true;
      }
      if (kind == "configmaps" && (text.find("\"configMapKeyRef\"") != std::string::npos ||
                                   text.find("\"configMapRef\"") != std::string::npos)) {
        found = true;
      }
    }
  }
  return found;
}

}  // namespace

std::optional<std::string> NodeRestrictPodCreate(const bj::object& pod, const std::string& node) {
  if (api::LookupString(pod, {"metadata", "annotations", "kubernetes.io/config.mirror"}).empty()) {
    return "pod does not have \"kubernetes.io/config.mirror\" annotation, node \"" + node +
           "\" can only create mirror pods";
  }
  if (api::LookupString(pod, {"spec", "nodeName"}) != node) {
    return "node \"" + node + "\" can only create pods with spec.nodeName set to itself";
  }
  if (const bj::array* owners = ArrayAt(pod, {"metadata", "ownerReferences"})) {
    for (const bj::value& o : *owners) {
      if (!o.is_object() || api::LookupString(o.get_object(), {"kind"}) != "Node" ||
          api::LookupString(o.get_object(), {"name"}) != node) {
        return "node \"" + node + "\" can only create pods with an owner reference set to itself";
      }
    }
  }
  if (!api::LookupString(pod, {"spec", "serviceAccountName"}).empty()) {
    return "node \"" + node + "\" can not create pods that use service accounts";
  }
  for (const char* kind : {"secrets", "configmaps", "persistentvolumeclaims"}) {
    if (Names(pod, kind)) {
      return "node \"" + node + "\" can not create pods that reference " + kind;
    }
  }
  return std::nullopt;
}

}  // namespace berth::controlplane::admission
