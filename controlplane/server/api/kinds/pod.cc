// core/v1 Pod: upstream's pod spec defaults (restartPolicy, dnsPolicy,
// terminationGracePeriodSeconds, schedulerName, per-container
// imagePullPolicy and terminationMessagePath), the validation users meet
// first, spec immutability, the pod field labels and `kubectl get pods`
// columns.

#include <algorithm>
#include <set>

#include "controlplane/server/api/kinds.h"

namespace berth::controlplane::api {
namespace {

namespace bj = boost::json;

const bj::array* ArrayAt(const bj::object& obj, std::string_view key) {
  const bj::value* v = obj.if_contains(key);
  return v != nullptr ? v->if_array() : nullptr;
}

// Always for :latest or an untagged image, else IfNotPresent.
std::string DefaultPullPolicy(std::string_view image) {
  std::string_view tail = image;
  if (size_t at = tail.find('@'); at != std::string_view::npos) return "IfNotPresent";
  if (size_t slash = tail.rfind('/'); slash != std::string_view::npos)
    tail = tail.substr(slash + 1);
  size_t colon = tail.find(':');
  if (colon == std::string_view::npos || tail.substr(colon + 1) == "latest") return "Always";
  return "IfNotPresent";
}

void DefaultContainer(bj::object& c) {
  if (const bj::value* image = c.if_contains("image"); image != nullptr && image->is_string()) {
    SetDefault(c, "imagePullPolicy", bj::string(DefaultPullPolicy(image->as_string())));
  }
  SetDefault(c, "terminationMessagePath", "/dev/termination-log");
  SetDefault(c, "terminationMessagePolicy", "File");
  SetDefault(c, "resources", bj::object());
  if (bj::value* ports = c.if_contains("ports"); ports != nullptr && ports->is_array()) {
    for (bj::value& p : ports->as_array())
      if (p.is_object()) SetDefault(p.as_object(), "protocol", "TCP");
  }
}

void ValidateContainers(const bj::object& spec, std::string_view key, const std::string& path,
                        bool required, std::set<std::string>& names, FieldErrors& errors) {
  const bj::value* v = spec.if_contains(key);
  std::string field = path + "." + std::string(key);
  if (v == nullptr || v->is_null() || (v->is_array() && v->as_array().empty())) {
    if (required) errors.Required(field);
    return;
  }
  if (!v->is_array()) return errors.Invalid(field, *v, "must be a list of containers");
  const bj::array& list = v->as_array();
  for (size_t i = 0; i < list.size(); ++i) {
    std::string at = field + "[" + std::to_string(i) + "]";
    if (!list[i].is_object()) {
      errors.Invalid(at, list[i], "must be a container");
      continue;
    }
    const bj::object& c = list[i].as_object();
    std::string name = LookupString(c, {"name"});
    if (name.empty()) {
      errors.Required(at + ".name");
    } else if (std::string e = Dns1123LabelError(name); !e.empty()) {
      errors.Invalid(at + ".name", bj::string(name), e);
    } else if (!names.insert(name).second) {
      errors.Duplicate(at + ".name", bj::string(name));
    }
    if (LookupString(c, {"image"}).empty()) errors.Required(at + ".image");
    if (const bj::array* ports = ArrayAt(c, "ports")) {
      for (size_t p = 0; p < ports->size(); ++p) {
        const bj::value& port = (*ports)[p];
        std::string pat = at + ".ports[" + std::to_string(p) + "]";
        if (!port.is_object()) continue;
        int64_t n = LookupInt(port.as_object(), {"containerPort"});
        if (n < 1 || n > 65535) {
          errors.Invalid(pat + ".containerPort",
                         port.as_object().contains("containerPort")
                             ? port.as_object().at("containerPort")
                             : bj::value(0),
                         "must be between 1 and 65535, inclusive");
        }
      }
    }
  }
}

// The spec with what an update may change masked out.
bj::object MutableMasked(const bj::object& spec) {
  bj::object out = spec;
  for (const char* key : {"containers", "initContainers"}) {
    if (bj::value* list = out.if_contains(key); list != nullptr && list->is_array()) {
      for (bj::value& c : list->as_array())
        if (c.is_object()) c.as_object().erase("image");
    }
  }
  out.erase("activeDeadlineSeconds");
  out.erase("tolerations");
  out.erase("terminationGracePeriodSeconds");
  return out;
}

int RestartsOf(const bj::object& pod, int& ready, int& total) {
  int restarts = 0;
  ready = 0;
  total = 0;
  if (const bj::value* spec = Lookup(pod, {"spec", "containers"}); spec && spec->is_array()) {
    total = static_cast<int>(spec->as_array().size());
  }
  if (const bj::value* st = Lookup(pod, {"status", "containerStatuses"}); st && st->is_array()) {
    for (const bj::value& c : st->as_array()) {
      if (!c.is_object()) continue;
      restarts += static_cast<int>(LookupInt(c.as_object(), {"restartCount"}));
      const bj::value* r = c.as_object().if_contains("ready");
      if (r != nullptr && r->is_bool() && r->as_bool()) ++ready;
    }
  }
  return restarts;
}

// What the STATUS column shows, following upstream's printPod.
std::string PodReason(const bj::object& pod) {
  std::string reason = LookupString(pod, {"status", "phase"});
  if (std::string r = LookupString(pod, {"status", "reason"}); !r.empty()) reason = r;
  if (const bj::value* st = Lookup(pod, {"status", "containerStatuses"}); st && st->is_array()) {
    for (const bj::value& c : st->as_array()) {
      if (!c.is_object()) continue;
      const bj::object& co = c.as_object();
      if (std::string w = LookupString(co, {"state", "waiting", "reason"}); !w.empty()) {
        reason = w;
      } else if (Lookup(co, {"state", "terminated"}) != nullptr) {
        std::string t = LookupString(co, {"state", "terminated", "reason"});
        if (!t.empty()) {
          reason = t;
        } else if (int64_t sig = LookupInt(co, {"state", "terminated", "signal"}); sig != 0) {
          reason = "Signal:" + std::to_string(sig);
        } else {
          reason = "ExitCode:" + std::to_string(LookupInt(co, {"state", "terminated", "exitCode"}));
        }
      }
    }
  }
  if (Lookup(pod, {"metadata", "deletionTimestamp"}) != nullptr) {
    reason = LookupString(pod, {"status", "reason"}) == "NodeLost" ? "Unknown" : "Terminating";
  }
  return reason;
}

std::string OrNone(const std::string& s) {
  return s.empty() ? "<none>" : s;
}

class Pod : public Kind {
 public:
  bool tracks_generation() const override { return true; }

  void Default(bj::object& obj) const override { DefaultPodSpec(Child(obj, "spec")); }

  void PrepareForCreate(bj::object& obj) const override {
    obj["status"] = bj::object{{"phase", "Pending"}, {"qosClass", QosClass(obj)}};
    Child(obj, "spec");
    SetDefault(obj["spec"].as_object(), "serviceAccountName", "default");
    SetDefault(obj["spec"].as_object(), "serviceAccount",
               obj["spec"].as_object()["serviceAccountName"]);
  }

  void Validate(const bj::object& obj, const bj::object* old, FieldErrors& errors) const override {
    const bj::value* spec = obj.if_contains("spec");
    if (spec == nullptr || !spec->is_object()) return errors.Required("spec");
    ValidatePodSpec(spec->as_object(), "spec", errors);
    if (old == nullptr) return;
    const bj::value* old_spec = old->if_contains("spec");
    if (old_spec != nullptr && old_spec->is_object() &&
        MutableMasked(spec->as_object()) != MutableMasked(old_spec->as_object())) {
      errors.Forbidden("spec",
                       "pod updates may not change fields other than `spec.containers[*].image`,"
                       "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,"
                       "`spec.tolerations` (only additions to existing tolerations),"
                       "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was "
                       "previously negative)");
    }
  }

  std::optional<std::string> Field(const bj::object& obj, std::string_view field) const override {
    for (std::string_view spec :
         {"nodeName", "restartPolicy", "schedulerName", "serviceAccountName", "hostNetwork"}) {
      if (field.starts_with("spec.") && field.substr(5) == spec) {
        std::string v = LookupString(obj, {"spec", spec});
        return spec == "hostNetwork" && v.empty() ? "false" : v;
      }
    }
    for (std::string_view status : {"phase", "podIP", "nominatedNodeName"}) {
      if (field.starts_with("status.") && field.substr(7) == status) {
        return LookupString(obj, {"status", status});
      }
    }
    return Kind::Field(obj, field);
  }

  std::vector<TableColumn> Columns() const override {
    return {NameColumn(),
            {"Ready", "string", "",
             "The aggregate readiness state of this pod for accepting "
             "traffic.",
             0},
            {"Status", "string", "", "The aggregate status of the containers in this pod.", 0},
            {"Restarts", "string", "",
             "The number of times the containers in this pod have "
             "been restarted and when the last container in this pod "
             "has restarted.",
             0},
            AgeColumn(),
            {"IP", "string", "",
             "IP address allocated to the pod. Routable at least within the "
             "cluster. Empty if not yet allocated.",
             1},
            {"Node", "string", "", "Name of the Node this pod is scheduled on.", 1},
            {"Nominated Node", "string", "",
             "Name of the node that the pod is nominated to run "
             "on.",
             1},
            {"Readiness Gates", "string", "", "The pod's readiness gates.", 1}};
  }

  bj::array Cells(const bj::object& obj, time_t now) const override {
    int ready = 0, total = 0;
    int restarts = RestartsOf(obj, ready, total);
    return {NameOf(obj),
            std::to_string(ready) + "/" + std::to_string(total),
            PodReason(obj),
            std::to_string(restarts),
            Age(obj, now),
            OrNone(LookupString(obj, {"status", "podIP"})),
            OrNone(LookupString(obj, {"spec", "nodeName"})),
            OrNone(LookupString(obj, {"status", "nominatedNodeName"})),
            "<none>"};
  }

 private:
  // Guaranteed when every container's requests equal its limits for cpu
  // and memory, BestEffort when none sets any, else Burstable.
  static std::string QosClass(const bj::object& pod) {
    const bj::value* containers = Lookup(pod, {"spec", "containers"});
    if (containers == nullptr || !containers->is_array()) return "BestEffort";
    bool any = false, guaranteed = true;
    for (const bj::value& c : containers->as_array()) {
      if (!c.is_object()) continue;
      const bj::value* limits = Lookup(c.as_object(), {"resources", "limits"});
      const bj::value* requests = Lookup(c.as_object(), {"resources", "requests"});
      bool has_limits = limits && limits->is_object() && !limits->as_object().empty();
      bool has_requests = requests && requests->is_object() && !requests->as_object().empty();
      any = any || has_limits || has_requests;
      for (const char* r : {"cpu", "memory"}) {
        const bj::value* l = has_limits ? limits->as_object().if_contains(r) : nullptr;
        const bj::value* q = has_requests ? requests->as_object().if_contains(r) : nullptr;
        if (l == nullptr || (q != nullptr && *q != *l)) guaranteed = false;
      }
    }
    if (!any) return "BestEffort";
    return guaranteed ? "Guaranteed" : "Burstable";
  }
};

}  // namespace

void DefaultPodSpec(bj::object& spec) {
  SetDefault(spec, "restartPolicy", "Always");
  SetDefault(spec, "dnsPolicy", "ClusterFirst");
  SetDefault(spec, "terminationGracePeriodSeconds", 30);
  SetDefault(spec, "schedulerName", "default-scheduler");
  SetDefault(spec, "securityContext", bj::object());
  SetDefault(spec, "enableServiceLinks", true);
  for (const char* key : {"containers", "initContainers"}) {
    if (bj::value* list = spec.if_contains(key); list != nullptr && list->is_array()) {
      for (bj::value& c : list->as_array())
        if (c.is_object()) DefaultContainer(c.as_object());
    }
  }
}

void ValidatePodSpec(const bj::object& spec, const std::string& path, FieldErrors& errors) {
  std::set<std::string> names;
  ValidateContainers(spec, "containers", path, true, names, errors);
  ValidateContainers(spec, "initContainers", path, false, names, errors);
  if (const bj::value* r = spec.if_contains("restartPolicy"); r != nullptr && !r->is_null()) {
    static const std::vector<std::string> kPolicies = {"Always", "OnFailure", "Never"};
    if (!r->is_string() ||
        std::find(kPolicies.begin(), kPolicies.end(), r->as_string()) == kPolicies.end()) {
      errors.NotSupported(path + ".restartPolicy", *r, kPolicies);
    }
  }
  if (const bj::value* d = spec.if_contains("dnsPolicy"); d != nullptr && !d->is_null()) {
    static const std::vector<std::string> kPolicies = {"ClusterFirstWithHostNet", "ClusterFirst",
                                                       "Default", "None"};
    if (!d->is_string() ||
        std::find(kPolicies.begin(), kPolicies.end(), d->as_string()) == kPolicies.end()) {
      errors.NotSupported(path + ".dnsPolicy", *d, kPolicies);
    }
  }
  if (const bj::array* volumes = ArrayAt(spec, "volumes")) {
    std::set<std::string> seen;
    for (size_t i = 0; i < volumes->size(); ++i) {
      if (!(*volumes)[i].is_object()) continue;
      std::string name = LookupString((*volumes)[i].as_object(), {"name"});
      std::string at = path + ".volumes[" + std::to_string(i) + "].name";
      if (name.empty()) {
        errors.Required(at);
      } else if (std::string e = Dns1123LabelError(name); !e.empty()) {
        errors.Invalid(at, bj::string(name), e);
      } else if (!seen.insert(name).second) {
        errors.Duplicate(at, bj::string(name));
      }
    }
  }
}

const Kind& PodKind() {
  static const Pod kind;
  return kind;
}

}  // namespace berth::controlplane::api
