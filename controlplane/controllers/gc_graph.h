#pragma once
// The garbage collector's picture of the cluster, upstream's GraphBuilder:
// a node per object uid, with the owners its ownerReferences name and the
// dependents that name it. Informer events change it (Observe); an owner
// named before any informer showed it gets a "virtual" node, which a
// worker checks with the server and reports absent (ObserveAbsent) when
// it is not there. Each change returns what the workers should look at:
// attemptToDelete (is the object garbage now, or is an owner done
// waiting for its dependents?) and attemptToOrphan (an owner deleted
// with the "orphan" finalizer). Not thread-safe: the collector locks.

#include <boost/json.hpp>
#include <list>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace berth::controlplane::controllers::gc {

inline constexpr char kForegroundFinalizer[] = "foregroundDeletion";
inline constexpr char kOrphanFinalizer[] = "orphan";

struct OwnerReference {
  std::string api_version;
  std::string kind;
  std::string name;
  std::string uid;
  std::optional<bool> controller;
  std::optional<bool> block_owner_deletion;

  bool Blocks() const { return block_owner_deletion.value_or(false); }
  bool operator==(const OwnerReference&) const = default;
  boost::json::object ToJson() const;
};

// metadata.ownerReferences (entries without a uid skipped).
std::vector<OwnerReference> OwnerReferencesOf(const boost::json::object& obj);

// Where an object is: upstream's objectReference.
struct ObjectIdentity {
  std::string api_version;
  std::string kind;
  std::string name;
  std::string uid;
  std::string namespace_;  // "" for cluster-scoped objects

  bool operator==(const ObjectIdentity&) const = default;
  // "[apps/v1/Deployment, namespace: ns, name: web, uid: 0f...]", as upstream.
  std::string str() const;
};

// The reference names the identity's uid, apiVersion, kind and name.
bool MatchesCoordinates(const OwnerReference& ref, const ObjectIdentity& identity);

// What the collector keeps of an object an informer showed.
struct ObjectState {
  ObjectIdentity identity;
  std::vector<OwnerReference> owners;
  bool being_deleted = false;
  std::vector<std::string> finalizers;

  bool HasFinalizer(std::string_view finalizer) const;
  // `api_version` and `kind`: the informer's type (list items may lack them).
  static ObjectState Of(const boost::json::object& obj, const std::string& api_version,
                        const std::string& kind);
};

struct Node {
  ObjectIdentity identity;
  std::vector<OwnerReference> owners;
  std::set<std::string> dependents;  // uids
  bool observed = false;             // shown by an informer (else virtual)
  bool being_deleted = false;
  bool deleting_dependents = false;  // being deleted with the foregroundDeletion finalizer

  // The reference of this node's to `owner_uid` has blockOwnerDeletion.
  bool Blocks(const std::string& owner_uid) const;
};

// What a change asks of the workers.
struct GraphActions {
  std::vector<std::string> attempt_to_delete;        // uids, at once
  std::vector<std::string> attempt_to_delete_later;  // uids, after their backoff
  std::vector<std::string> attempt_to_orphan;        // uids
  // Dependents whose reference names an owner seen in another namespace
  // (upstream's OwnerRefInvalidNamespace warning).
  std::vector<std::pair<ObjectIdentity, OwnerReference>> invalid_namespace_refs;
};

// Owners the server said are gone, the last `capacity` of them (upstream's
// absentOwnerCache): a uid never comes back, so they need no second look.
class AbsentOwnerCache {
 public:
  explicit AbsentOwnerCache(size_t capacity = 500) : capacity_(capacity) {}
  void Add(const ObjectIdentity& owner);
  bool Has(const ObjectIdentity& owner);

 private:
  static std::string Key(const ObjectIdentity& owner);
  size_t capacity_;
  std::list<std::string> order_;  // most recent first
  std::map<std::string, std::list<std::string>::iterator> entries_;
};

class Graph {
 public:
  enum class Change { kAdded, kUpdated, kDeleted };

  // An informer event; `old` is the object before an update, if known.
  GraphActions Observe(Change change, const ObjectState& now, const ObjectState* old);
  // A worker found no object of `identity` on the server (404, or
  // another uid under that name).
  GraphActions ObserveAbsent(const ObjectIdentity& identity);

  const Node* Find(const std::string& uid) const;
  std::vector<const Node*> Dependents(const std::string& uid) const;
  // The dependents whose reference to `uid` has blockOwnerDeletion.
  std::vector<const Node*> BlockingDependents(const std::string& uid) const;
  size_t size() const { return nodes_.size(); }
  AbsentOwnerCache& absent_owners() { return absent_; }

 private:
  void AddDependentToOwners(Node& node, const std::vector<OwnerReference>& owners,
                            GraphActions& actions);
  void RemoveDependentFromOwners(const std::string& uid, const std::vector<OwnerReference>& owners);
  void RemoveNode(const std::string& uid, const ObjectIdentity& deleted, GraphActions& actions);
  void ProcessTransitions(const ObjectState* old, const ObjectState& now, Node& node,
                          GraphActions& actions);
  void AddUnblockedOwners(const std::vector<OwnerReference>& removed,
                          const std::vector<std::pair<OwnerReference, OwnerReference>>& changed,
                          GraphActions& actions) const;
  void ReportInvalidNamespace(const Node& dependent, const std::string& owner_uid,
                              GraphActions& actions) const;
  // The dependents of `node` whose references to it match `identity`,
  // and those with one that does not (a dependent may be in both).
  std::pair<std::vector<std::string>, std::vector<std::string>> PartitionDependents(
      const Node& node, const ObjectIdentity& identity) const;
  std::optional<ObjectIdentity> AlternateOwnerIdentity(const std::vector<std::string>& dependents,
                                                       const ObjectIdentity& absent) const;

  std::unordered_map<std::string, Node> nodes_;  // by uid
  AbsentOwnerCache absent_;
};

}  // namespace berth::controlplane::controllers::gc
