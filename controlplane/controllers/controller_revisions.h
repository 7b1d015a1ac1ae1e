#pragma once
// ControllerRevisions, the history DaemonSets and StatefulSets keep of
// their pod templates (upstream's pkg/controller/history and the two
// controllers' snapshot code). A revision's data is the patch that
// restores the template, {"spec":{"template":{...,"$patch":"replace"}}};
// its name is "<owner>-<hash>". Hashes are FNV-32 as upstream's, encoded
// with rand.SafeEncodeString, over the JSON with sorted keys (upstream
// hashes Go's serialization, so the values differ from a kube cluster's;
// they are stable and distinct all the same).

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "controlplane/client/api_client.h"
#include "controlplane/client/informer.h"
#include "controlplane/controllers/workload_pods.h"

namespace berth::controlplane::controllers {

// JSON with object keys sorted, as Go's encoding/json writes maps.
std::string CanonicalJson(const boost::json::value& v);
// rand.SafeEncodeString: each byte as one of "bcdfghjklmnpqrstvwxz2456789".
std::string SafeEncodeString(std::string_view s);

// controller.ComputeHash: FNV-32a of the pod template, the collision
// count mixed in (the DaemonSet's controller-revision-hash).
std::string TemplateHash(const boost::json::object& pod_template,
                         std::optional<int64_t> collision_count);
// history.HashControllerRevision: FNV-32 of the data, then the decimal
// collision count (the StatefulSet's revision names).
std::string RevisionDataHash(const boost::json::value& data,
                             std::optional<int64_t> collision_count);

// The patch a revision of `workload` stores (its spec.template).
boost::json::object TemplatePatch(const boost::json::object& workload);
// The pod template a revision holds.
boost::json::object RevisionTemplate(const boost::json::object& revision);
int64_t RevisionNumber(const boost::json::object& revision);
// `workload` with the template of `revision` (ApplyRevision).
boost::json::object ApplyRevision(const boost::json::object& workload,
                                  const boost::json::object& revision);

// A revision of `owner` (not yet stored).
boost::json::object NewRevision(const boost::json::object& owner, OwnerKind kind,
                                const std::string& name, boost::json::object labels,
                                boost::json::object data, int64_t revision);

// The owner's revisions in the informer, by revision number (then name).
std::vector<boost::json::object> OwnedRevisions(const client::Informer& revisions,
                                                const boost::json::object& owner);

std::string RevisionsUrl(const std::string& ns);
// POSTs `revision`: the stored one, or kAlreadyExists.
Result<boost::json::object> CreateRevision(client::ApiClient& api,
                                           const boost::json::object& revision);
// GET of one revision; kNotFound when it is not there.
Result<boost::json::object> GetRevision(client::ApiClient& api, const std::string& ns,
                                        const std::string& name);
// PUTs the revision with `number` (guarded by its resourceVersion).
Result<boost::json::object> RenumberRevision(client::ApiClient& api, boost::json::object revision,
                                             int64_t number);
// Deletes it (gone already is fine).
Status DeleteRevision(client::ApiClient& api, const boost::json::object& revision);

}  // namespace berth::controlplane::controllers
