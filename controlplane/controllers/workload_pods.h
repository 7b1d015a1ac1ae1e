#pragma once
// What the workload controllers (DaemonSet, Job, StatefulSet) share about
// the pods they own, beyond controller_ref.h and pod_state.h, as
// upstream's pkg/controller/controller_utils.go has it: a pod made from a
// template (GetPodFromTemplate), creating and deleting pods with the
// events upstream's RealPodControl records on the owner ("Created pod:
// web-x7k2p", "Deleted pod: ..."), and claiming pods through RefManager.

#include <boost/json.hpp>
#include <ctime>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "controlplane/client/api_client.h"
#include "controlplane/client/event_recorder.h"
#include "controlplane/client/informer.h"
#include "controlplane/server/api/selectors.h"

namespace berth::controlplane::controllers {

// The kind of a controlling object, as its ownerReferences name it.
struct OwnerKind {
  std::string_view api_version;  // "apps/v1"
  std::string_view kind;         // "DaemonSet"
};

// metav1.NewControllerRef.
boost::json::object ControllerRef(const boost::json::object& owner, OwnerKind kind);
// `obj`'s controller is `owner` (by uid).
bool IsControlledBy(const boost::json::object& obj, const boost::json::object& owner);
// The event reference of `owner` (cached objects may lack apiVersion/kind).
client::ObjectRef RefOf(const boost::json::object& owner, OwnerKind kind);

// A pod for `pod_template` (a PodTemplateSpec): its labels, annotations,
// finalizers and spec, generateName "<owner>-", `controller_ref`.
boost::json::object PodFromTemplate(const boost::json::object& pod_template,
                                    const boost::json::object& owner,
                                    const boost::json::object& controller_ref);

std::string PodPhase(const boost::json::object& pod);
// metadata.creationTimestamp in seconds (0 when unset).
time_t CreationTime(const boost::json::object& obj);
// obj[a][b]... as an integer; nullopt when missing or not one.
std::optional<int64_t> IntAt(const boost::json::object& obj,
                             std::initializer_list<std::string_view> path);
// The object's labels as a JSON object (null when it has none).
const boost::json::object* LabelsOf(const boost::json::object& obj);
// spec.selector of a workload; kInvalidArgument when malformed.
Result<api::LabelSelector> WorkloadSelector(const boost::json::object& workload);

// The informer's objects in `ns`.
std::vector<boost::json::object> InNamespace(const client::Informer& informer,
                                             const std::string& ns);

// Upstream's ClaimPods (controller_ref.h's RefManager) over `pods` of the
// owner's namespace: the pods it controls after adopting and releasing.
Result<std::vector<boost::json::object>> ClaimPods(client::ApiClient& api,
                                                   const boost::json::object& owner, OwnerKind kind,
                                                   const std::string& owner_url,
                                                   const api::LabelSelector& selector,
                                                   const std::vector<boost::json::object>& pods);

// Creates and deletes pods for an owner, recording upstream's events on
// it through `events`.
class PodControl {
 public:
  PodControl(client::EventRecorder& events, OwnerKind kind) : events_(events), kind_(kind) {}

  // POSTs `pod` into the owner's namespace; the stored pod. A refusal
  // because the namespace is terminating is kFailedPrecondition and
  // records no event (upstream).
  Result<boost::json::object> Create(client::ApiClient& api, const boost::json::object& owner,
                                     const boost::json::object& pod);
  // DELETEs the pod; kNotFound when it is gone already (no event then).
  Status Delete(client::ApiClient& api, const boost::json::object& owner, const std::string& name);

 private:
  client::EventRecorder& events_;
  OwnerKind kind_;
};

}  // namespace berth::controlplane::controllers
