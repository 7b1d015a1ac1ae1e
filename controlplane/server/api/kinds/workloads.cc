// apps/v1 Deployment, ReplicaSet, StatefulSet, DaemonSet and batch/v1 Job:
// upstream's defaults, the selector rules (required, must match the
// template's labels, immutable), the pod template's defaults and
// validation, and each kind's `kubectl get` columns.

#include <algorithm>
#include <charconv>
#include <cstdint>

#include "controlplane/server/api/kinds.h"
#include "controlplane/server/api/selectors.h"

namespace berth::controlplane::api {
namespace {

namespace bj = boost::json;

enum class Workload { kDeployment, kReplicaSet, kStatefulSet, kDaemonSet, kJob };

std::string Int(const bj::object& obj, std::initializer_list<std::string_view> path) {
  return std::to_string(LookupInt(obj, path));
}

std::string TemplateList(const bj::object& obj, std::string_view key) {
  const bj::value* cs = Lookup(obj, {"spec", "template", "spec", "containers"});
  if (cs == nullptr || !cs->is_array()) return "";
  std::string out;
  for (const bj::value& c : cs->as_array())
    if (c.is_object()) out += (out.empty() ? "" : ",") + LookupString(c.as_object(), {key});
  return out;
}

std::string SelectorText(const bj::object& obj) {
  const bj::value* sel = Lookup(obj, {"spec", "selector"});
  if (sel == nullptr || !sel->is_object()) return "<none>";
  std::string out;
  if (const bj::value* ml = sel->as_object().if_contains("matchLabels"); ml && ml->is_object()) {
    for (const auto& [k, v] : ml->as_object())
      out += (out.empty() ? "" : ",") + std::string(k) + "=" +
             (v.is_string() ? std::string(v.as_string()) : "");
  }
  if (const bj::value* me = sel->as_object().if_contains("matchExpressions");
      me && me->is_array()) {
    for (const bj::value& e : me->as_array()) {
      if (!e.is_object()) continue;
      std::string op = LookupString(e.as_object(), {"operator"});
      std::string key = LookupString(e.as_object(), {"key"});
      std::string term = op == "Exists" ? key : op == "DoesNotExist" ? "!" + key : key;
      if (op == "In" || op == "NotIn") {
        term += op == "In" ? " in (" : " notin (";
        const bj::value* vs = e.as_object().if_contains("values");
        std::string list;
        if (vs && vs->is_array())
          for (const bj::value& v : vs->as_array())
            if (v.is_string()) list += (list.empty() ? "" : ",") + std::string(v.as_string());
        term += list + ")";
      }
      out += (out.empty() ? "" : ",") + term;
    }
  }
  return out.empty() ? "<none>" : out;
}

TableColumn Col(std::string name, std::string description, int priority = 0) {
  return {std::move(name), "string", "", std::move(description), priority};
}

// An IntOrString of a rolling update: a non-negative int or "<digits>%";
// its number (-1 when invalid, after reporting it).
int64_t IntOrPercent(const bj::value& v, const std::string& field, FieldErrors& errors) {
  if (v.is_int64()) {
    if (v.as_int64() < 0) errors.Invalid(field, v, "must be greater than or equal to 0");
    return v.as_int64();
  }
  if (v.is_string()) {
    std::string_view s = v.as_string();
    bool digits = s.size() >= 2 && s.back() == '%' &&
                  std::all_of(s.begin(), s.end() - 1, [](char c) { return c >= '0' && c <= '9'; });
    if (digits) {
      int64_t n = INT64_MAX;  // overflowing: far more than 100%
      std::from_chars(s.data(), s.data() + s.size() - 1, n);
      return n;
    }
    errors.Invalid(field, v,
                   "a valid percent string must be a numeric string followed by an ending '%' "
                   "(e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')");
    return -1;
  }
  errors.Invalid(field, v, "must be an integer or percentage (e.g '5%')");
  return -1;
}

// Upstream's ValidateDeploymentStrategy.
void ValidateDeploymentStrategy(const bj::object& spec, FieldErrors& errors) {
  const bj::value* strategy = spec.if_contains("strategy");
  if (strategy == nullptr || !strategy->is_object()) return;
  const bj::object& s = strategy->as_object();
  std::string type = LookupString(s, {"type"});
  const bj::value* ru = s.if_contains("rollingUpdate");
  bool has_ru = ru != nullptr && !ru->is_null();
  if (type == "Recreate") {
    if (has_ru) {
      errors.Forbidden("spec.strategy.rollingUpdate",
                       "may not be specified when strategy `type` is 'Recreate'");
    }
    return;
  }
  if (type != "RollingUpdate") {
    errors.NotSupported("spec.strategy.type", bj::string(type), {"Recreate", "RollingUpdate"});
    return;
  }
  if (!has_ru || !ru->is_object()) {
    errors.Required("spec.strategy.rollingUpdate", "this should be defaulted and never be nil");
    return;
  }
  const std::string path = "spec.strategy.rollingUpdate.";
  const bj::value* unavailable = ru->as_object().if_contains("maxUnavailable");
  const bj::value* surge = ru->as_object().if_contains("maxSurge");
  int64_t u = unavailable != nullptr && !unavailable->is_null()
                  ? IntOrPercent(*unavailable, path + "maxUnavailable", errors)
                  : 0;
  int64_t g =
      surge != nullptr && !surge->is_null() ? IntOrPercent(*surge, path + "maxSurge", errors) : 0;
  if (u == 0 && g == 0) {
    errors.Invalid(path + "maxUnavailable", unavailable != nullptr ? *unavailable : bj::value(0),
                   "may not be 0 when `maxSurge` is 0");
  }
  if (unavailable != nullptr && unavailable->is_string() && u > 100) {
    errors.Invalid(path + "maxUnavailable", *unavailable, "must not be greater than 100%");
  }
}

class WorkloadKindImpl : public Kind {
 public:
  explicit WorkloadKindImpl(Workload w) : w_(w) {}

  bool tracks_generation() const override { return true; }

  void Default(bj::object& obj) const override {
    bj::object& spec = Child(obj, "spec");
    if (w_ != Workload::kDaemonSet && w_ != Workload::kJob) SetDefault(spec, "replicas", 1);
    switch (w_) {
      case Workload::kDeployment: {
        SetDefault(spec, "revisionHistoryLimit", 10);
        SetDefault(spec, "progressDeadlineSeconds", 600);
        bj::object& strategy = Child(spec, "strategy");
        SetDefault(strategy, "type", "RollingUpdate");
        if (LookupString(strategy, {"type"}) == "RollingUpdate") {
          bj::object& ru = Child(strategy, "rollingUpdate");
          SetDefault(ru, "maxUnavailable", "25%");
          SetDefault(ru, "maxSurge", "25%");
        }
        break;
      }
      case Workload::kStatefulSet: {
        SetDefault(spec, "podManagementPolicy", "OrderedReady");
        SetDefault(spec, "revisionHistoryLimit", 10);
        bj::object& strategy = Child(spec, "updateStrategy");
        SetDefault(strategy, "type", "RollingUpdate");
        if (LookupString(strategy, {"type"}) == "RollingUpdate") {
          SetDefault(Child(strategy, "rollingUpdate"), "partition", 0);
        }
        bj::object& retention = Child(spec, "persistentVolumeClaimRetentionPolicy");
        SetDefault(retention, "whenDeleted", "Retain");
        SetDefault(retention, "whenScaled", "Retain");
        break;
      }
      case Workload::kDaemonSet: {
        SetDefault(spec, "revisionHistoryLimit", 10);
        bj::object& strategy = Child(spec, "updateStrategy");
        SetDefault(strategy, "type", "RollingUpdate");
        if (LookupString(strategy, {"type"}) == "RollingUpdate") {
          bj::object& ru = Child(strategy, "rollingUpdate");
          SetDefault(ru, "maxUnavailable", 1);
          SetDefault(ru, "maxSurge", 0);
        }
        break;
      }
      case Workload::kJob: {
        // Both unset: one pod; completions alone unset: a work queue Job.
        auto unset = [&](const char* f) {
          const bj::value* v = spec.if_contains(f);
          return v == nullptr || v->is_null();
        };
        if (unset("completions") && unset("parallelism")) SetDefault(spec, "completions", 1);
        SetDefault(spec, "parallelism", 1);
        SetDefault(spec, "backoffLimit", 6);
        SetDefault(spec, "completionMode", "NonIndexed");
        SetDefault(spec, "suspend", false);
        SetDefault(spec, "manualSelector", nullptr);
        SetDefault(spec, "podReplacementPolicy",
                   unset("podFailurePolicy") ? "TerminatingOrFailed" : "Failed");
        break;
      }
      case Workload::kReplicaSet:
        break;
    }
    if (bj::value* t = spec.if_contains("template"); t != nullptr && t->is_object()) {
      bj::object& tmpl = t->as_object();
      // A job's template has no restartPolicy default: it must be chosen.
      bool had_policy = Lookup(tmpl, {"spec", "restartPolicy"}) != nullptr;
      DefaultPodSpec(Child(tmpl, "spec"));
      if (w_ == Workload::kJob && !had_policy) tmpl["spec"].as_object().erase("restartPolicy");
    }
  }

  void PrepareForCreate(bj::object& obj) const override {
    obj["status"] = bj::object();
    if (w_ != Workload::kJob) return;
    // Jobs pick their own selector: the controller-uid labels.
    const bj::value* manual = Lookup(obj, {"spec", "manualSelector"});
    if (manual != nullptr && manual->is_bool() && manual->as_bool()) return;
    std::string uid = LookupString(obj, {"metadata", "uid"});
    std::string name = NameOf(obj);
    bj::object& spec = Child(obj, "spec");
    spec["selector"] =
        bj::object{{"matchLabels", bj::object{{"batch.kubernetes.io/controller-uid", uid}}}};
    bj::object& labels = Child(Child(Child(spec, "template"), "metadata"), "labels");
    labels["batch.kubernetes.io/controller-uid"] = uid;
    labels["batch.kubernetes.io/job-name"] = name;
    labels["controller-uid"] = uid;
    labels["job-name"] = name;
  }

  void Validate(const bj::object& obj, const bj::object* old, FieldErrors& errors) const override {
    const bj::value* specv = obj.if_contains("spec");
    if (specv == nullptr || !specv->is_object()) return errors.Required("spec");
    const bj::object& spec = specv->as_object();
    const bj::value* selector = spec.if_contains("selector");
    if (selector == nullptr || selector->is_null()) {
      errors.Required("spec.selector");
    } else {
      Result<LabelSelector> parsed = LabelSelector::FromJson(*selector, "spec.selector");
      if (!parsed.ok()) {
        errors.Invalid("spec.selector", *selector, parsed.error().message());
      } else if (parsed->empty()) {
        errors.Invalid("spec.selector", *selector, "empty selector is invalid for deployment");
      } else {
        const bj::value* labels = Lookup(spec, {"template", "metadata", "labels"});
        if (!parsed->Matches(labels != nullptr ? labels->if_object() : nullptr)) {
          errors.Invalid("spec.template.metadata.labels",
                         labels != nullptr ? *labels : bj::value(bj::object()),
                         "`selector` does not match template `labels`");
        }
      }
      if (old != nullptr) {
        errors.Immutable("spec.selector", selector, Lookup(*old, {"spec", "selector"}));
      }
    }
    if (const bj::value* r = spec.if_contains("replicas"); r != nullptr && !r->is_null()) {
      if (!r->is_int64() || r->as_int64() < 0) {
        errors.Invalid("spec.replicas", *r, "must be greater than or equal to 0");
      }
    }
    if (w_ == Workload::kDeployment) ValidateDeploymentStrategy(spec, errors);
    const bj::value* tmpl = Lookup(spec, {"template", "spec"});
    if (tmpl == nullptr || !tmpl->is_object()) {
      errors.Required("spec.template.spec.containers");
      return;
    }
    ValidatePodSpec(tmpl->as_object(), "spec.template.spec", errors);
    std::string policy = LookupString(tmpl->as_object(), {"restartPolicy"});
    if (w_ == Workload::kJob) {
      if (policy.empty()) {
        errors.Required("spec.template.spec.restartPolicy");
      } else if (policy != "OnFailure" && policy != "Never") {
        errors.NotSupported("spec.template.spec.restartPolicy", bj::string(policy),
                            {"OnFailure", "Never"});
      }
    } else if (!policy.empty() && policy != "Always") {
      errors.NotSupported("spec.template.spec.restartPolicy", bj::string(policy), {"Always"});
    }
  }

  std::optional<std::string> Field(const bj::object& obj, std::string_view field) const override {
    if (w_ == Workload::kReplicaSet && field == "status.replicas") {
      return Int(obj, {"status", "replicas"});
    }
    if (w_ == Workload::kJob && field == "status.successful") {
      return Int(obj, {"status", "succeeded"});
    }
    return Kind::Field(obj, field);
  }

  std::vector<TableColumn> Columns() const override {
    std::vector<TableColumn> cols = {NameColumn()};
    switch (w_) {
      case Workload::kDeployment:
        cols.push_back(Col("Ready", "Number of the pod with ready state"));
        cols.push_back(Col("Up-to-date",
                           "Total number of non-terminated pods targeted by this "
                           "deployment that have the desired template spec."));
        cols.push_back(Col("Available",
                           "Total number of available pods (ready for at least "
                           "minReadySeconds) targeted by this deployment."));
        break;
      case Workload::kReplicaSet:
        cols.push_back(Col("Desired", "Replicas is the number of desired replicas."));
        cols.push_back(Col("Current",
                           "Replicas is the most recently observed number of "
                           "replicas."));
        cols.push_back(Col("Ready", "The number of ready replicas for this replica set."));
        break;
      case Workload::kStatefulSet:
        cols.push_back(Col("Ready", "Number of the pod with ready state"));
        break;
      case Workload::kDaemonSet:
        cols.push_back(Col("Desired",
                           "The total number of nodes that should be running the "
                           "daemon pod."));
        cols.push_back(Col("Current",
                           "The number of nodes that are running at least 1 daemon "
                           "pod and are supposed to run the daemon pod."));
        cols.push_back(Col("Ready",
                           "The number of nodes that should be running the daemon pod "
                           "and have one or more of the daemon pod running and ready."));
        cols.push_back(Col("Up-to-date",
                           "The total number of nodes that are running updated "
                           "daemon pod"));
        cols.push_back(Col("Available",
                           "The number of nodes that should be running the daemon "
                           "pod and have one or more of the daemon pod running and "
                           "available (ready for at least spec.minReadySeconds)"));
        cols.push_back(Col("Node Selector",
                           "NodeSelector is a selector which must be true for "
                           "the pod to fit on a node."));
        break;
      case Workload::kJob:
        cols.push_back(Col("Status", "Status of the job."));
        cols.push_back(Col("Completions",
                           "The desired number of successfully finished pods the "
                           "job should be run with."));
        cols.push_back(Col("Duration", "Time required to complete the job."));
        break;
    }
    cols.push_back(AgeColumn());
    cols.push_back(Col("Containers", "Names of each container in the template.", 1));
    cols.push_back(Col("Images", "Images referenced by each container in the template.", 1));
    if (w_ != Workload::kStatefulSet) {
      cols.push_back(Col("Selector", "Label selector for pods.", 1));
    }
    return cols;
  }

  bj::array Cells(const bj::object& obj, time_t now) const override {
    bj::array row = {NameOf(obj)};
    switch (w_) {
      case Workload::kDeployment:
        row.emplace_back(Int(obj, {"status", "readyReplicas"}) + "/" +
                         Int(obj, {"spec", "replicas"}));
        row.emplace_back(LookupInt(obj, {"status", "updatedReplicas"}));
        row.emplace_back(LookupInt(obj, {"status", "availableReplicas"}));
        break;
      case Workload::kReplicaSet:
        row.emplace_back(LookupInt(obj, {"spec", "replicas"}));
        row.emplace_back(LookupInt(obj, {"status", "replicas"}));
        row.emplace_back(LookupInt(obj, {"status", "readyReplicas"}));
        break;
      case Workload::kStatefulSet:
        row.emplace_back(Int(obj, {"status", "readyReplicas"}) + "/" +
                         Int(obj, {"spec", "replicas"}));
        break;
      case Workload::kDaemonSet: {
        for (const char* f : {"desiredNumberScheduled", "currentNumberScheduled", "numberReady",
                              "updatedNumberScheduled", "numberAvailable"})
          row.emplace_back(LookupInt(obj, {"status", f}));
        std::string sel;
        if (const bj::value* ns = Lookup(obj, {"spec", "template", "spec", "nodeSelector"});
            ns && ns->is_object()) {
          for (const auto& [k, v] : ns->as_object())
            sel += (sel.empty() ? "" : ",") + std::string(k) + "=" +
                   (v.is_string() ? std::string(v.as_string()) : "");
        }
        row.emplace_back(sel.empty() ? "<none>" : sel);
        break;
      }
      case Workload::kJob:
        row.emplace_back(JobStatus(obj));
        row.emplace_back(Int(obj, {"status", "succeeded"}) + "/" +
                         Int(obj, {"spec", "completions"}));
        row.emplace_back(JobDuration(obj, now));
        break;
    }
    row.emplace_back(Age(obj, now));
    row.emplace_back(TemplateList(obj, "name"));
    row.emplace_back(TemplateList(obj, "image"));
    if (w_ != Workload::kStatefulSet) row.emplace_back(SelectorText(obj));
    return row;
  }

 private:
  static std::string JobStatus(const bj::object& obj) {
    const bj::value* conditions = Lookup(obj, {"status", "conditions"});
    if (conditions != nullptr && conditions->is_array()) {
      for (const bj::value& c : conditions->as_array()) {
        if (!c.is_object() || LookupString(c.as_object(), {"status"}) != "True") continue;
        std::string type = LookupString(c.as_object(), {"type"});
        if (type == "Complete" || type == "Failed" || type == "Suspended") return type;
        if (type == "FailureTarget") return "FailureTarget";
      }
    }
    return "Running";
  }
  static std::string JobDuration(const bj::object& obj, time_t now) {
    time_t start = ParseRfc3339(LookupString(obj, {"status", "startTime"}));
    if (start < 0) return "";
    time_t end = ParseRfc3339(LookupString(obj, {"status", "completionTime"}));
    return HumanDuration((end < 0 ? now : end) - start);
  }

  Workload w_;
};

}  // namespace

const Kind& DeploymentKind() {
  static const WorkloadKindImpl kind(Workload::kDeployment);
  return kind;
}
const Kind& ReplicaSetKind() {
  static const WorkloadKindImpl kind(Workload::kReplicaSet);
  return kind;
}
const Kind& StatefulSetKind() {
  static const WorkloadKindImpl kind(Workload::kStatefulSet);
  return kind;
}
const Kind& DaemonSetKind() {
  static const WorkloadKindImpl kind(Workload::kDaemonSet);
  return kind;
}
const Kind& JobKind() {
  static const WorkloadKindImpl kind(Workload::kJob);
  return kind;
}

}  // namespace berth::controlplane::api
