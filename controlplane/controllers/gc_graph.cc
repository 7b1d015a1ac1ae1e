#include "controlplane/controllers/gc_graph.h"

#include <algorithm>
#include <tuple>

#include "controlplane/controllers/api_util.h"

namespace berth::controlplane::controllers::gc {
namespace {

namespace bj = boost::json;

std::optional<bool> BoolAt(const bj::object& obj, std::string_view key) {
  const bj::value* v = obj.if_contains(key);
  if (v == nullptr || !v->is_bool()) return std::nullopt;
  return v->as_bool();
}

// Upstream's deletionStartsWithFinalizer: `now` is being deleted with
// `finalizer`, and `old` (if any) was not.
bool DeletionStartsWithFinalizer(const ObjectState* old, const ObjectState& now,
                                 std::string_view finalizer) {
  if (!now.being_deleted || !now.HasFinalizer(finalizer)) return false;
  return old == nullptr || !old->being_deleted || !old->HasFinalizer(finalizer);
}

struct ReferenceDiffs {
  std::vector<OwnerReference> added;
  std::vector<OwnerReference> removed;
  std::vector<std::pair<OwnerReference, OwnerReference>> changed;  // old, new
};

ReferenceDiffs Diff(const std::vector<OwnerReference>& old,
                    const std::vector<OwnerReference>& now) {
  ReferenceDiffs d;
  std::map<std::string, const OwnerReference*> before;
  for (const OwnerReference& r : old)
    before[r.uid] = &r;
  for (const OwnerReference& r : now) {
    auto it = before.find(r.uid);
    if (it == before.end()) {
      d.added.push_back(r);
      continue;
    }
    if (!(*it->second == r)) d.changed.emplace_back(*it->second, r);
    before.erase(it);
  }
  for (const auto& [uid, r] : before)
    d.removed.push_back(*r);
  return d;
}

// Upstream's referenceLessThan: kind and apiVersion first, so that kinds
// sort together whatever their scope.
bool Less(const ObjectIdentity& a, const ObjectIdentity& b) {
  return std::tie(a.kind, a.api_version, a.namespace_, a.name, a.uid) <
         std::tie(b.kind, b.api_version, b.namespace_, b.name, b.uid);
}

}  // namespace

bj::object OwnerReference::ToJson() const {
  bj::object o{{"apiVersion", api_version}, {"kind", kind}, {"name", name}, {"uid", uid}};
  if (controller) o["controller"] = *controller;
  if (block_owner_deletion) o["blockOwnerDeletion"] = *block_owner_deletion;
  return o;
}

std::vector<OwnerReference> OwnerReferencesOf(const bj::object& obj) {
  std::vector<OwnerReference> out;
  const bj::value* meta = obj.if_contains("metadata");
  if (meta == nullptr || !meta->is_object()) return out;
  const bj::value* refs = meta->as_object().if_contains("ownerReferences");
  if (refs == nullptr || !refs->is_array()) return out;
  for (const bj::value& v : refs->as_array()) {
    if (!v.is_object()) continue;
    const bj::object& r = v.as_object();
    OwnerReference ref{StringAt(r, {"apiVersion"}), StringAt(r, {"kind"}),
                       StringAt(r, {"name"}),       StringAt(r, {"uid"}),
                       BoolAt(r, "controller"),     BoolAt(r, "blockOwnerDeletion")};
    if (!ref.uid.empty()) out.push_back(std::move(ref));
  }
  return out;
}

std::string ObjectIdentity::str() const {
  return "[" + api_version + "/" + kind + ", namespace: " + namespace_ + ", name: " + name +
         ", uid: " + uid + "]";
}

bool MatchesCoordinates(const OwnerReference& ref, const ObjectIdentity& identity) {
  return ref.uid == identity.uid && ref.name == identity.name && ref.kind == identity.kind &&
         ref.api_version == identity.api_version;
}

bool ObjectState::HasFinalizer(std::string_view finalizer) const {
  return std::find(finalizers.begin(), finalizers.end(), finalizer) != finalizers.end();
}

ObjectState ObjectState::Of(const bj::object& obj, const std::string& api_version,
                            const std::string& kind) {
  ObjectState s;
  s.identity = {api_version, kind, StringAt(obj, {"metadata", "name"}),
                StringAt(obj, {"metadata", "uid"}), StringAt(obj, {"metadata", "namespace"})};
  s.owners = OwnerReferencesOf(obj);
  s.being_deleted = BeingDeleted(obj);
  s.finalizers = StringsAt(obj, {"metadata", "finalizers"});
  return s;
}

bool Node::Blocks(const std::string& owner_uid) const {
  return std::any_of(owners.begin(), owners.end(),
                     [&](const OwnerReference& r) { return r.uid == owner_uid && r.Blocks(); });
}

std::string AbsentOwnerCache::Key(const ObjectIdentity& owner) {
  return owner.uid + '\n' + owner.api_version + '\n' + owner.kind + '\n' + owner.namespace_ + '\n' +
         owner.name;
}

void AbsentOwnerCache::Add(const ObjectIdentity& owner) {
  std::string key = Key(owner);
  if (auto it = entries_.find(key); it != entries_.end()) {
    order_.splice(order_.begin(), order_, it->second);
    return;
  }
  order_.push_front(key);
  entries_[key] = order_.begin();
  if (order_.size() > capacity_) {
    entries_.erase(order_.back());
    order_.pop_back();
  }
}

bool AbsentOwnerCache::Has(const ObjectIdentity& owner) {
  auto it = entries_.find(Key(owner));
  if (it == entries_.end()) return false;
  order_.splice(order_.begin(), order_, it->second);
  return true;
}

const Node* Graph::Find(const std::string& uid) const {
  auto it = nodes_.find(uid);
  return it == nodes_.end() ? nullptr : &it->second;
}

std::vector<const Node*> Graph::Dependents(const std::string& uid) const {
  std::vector<const Node*> out;
  const Node* node = Find(uid);
  if (node == nullptr) return out;
  for (const std::string& dep : node->dependents)
    if (const Node* d = Find(dep)) out.push_back(d);
  return out;
}

std::vector<const Node*> Graph::BlockingDependents(const std::string& uid) const {
  std::vector<const Node*> out = Dependents(uid);
  std::erase_if(out, [&](const Node* d) { return !d->Blocks(uid); });
  return out;
}

GraphActions Graph::Observe(Change change, const ObjectState& now, const ObjectState* old) {
  GraphActions actions;
  const std::string& uid = now.identity.uid;
  if (uid.empty()) return actions;
  auto it = nodes_.find(uid);
  Node* existing = it == nodes_.end() ? nullptr : &it->second;
  if (existing != nullptr && !existing->observed) {
    // A virtual node seen at last: dependents that named it by other
    // coordinates may have named something that does not exist.
    if (now.identity != existing->identity) {
      std::vector<std::string> mismatched = PartitionDependents(*existing, now.identity).second;
      for (const std::string& dep : mismatched) {
        const Node* d = Find(dep);
        if (d != nullptr && !now.identity.namespace_.empty() &&
            d->identity.namespace_ != now.identity.namespace_) {
          ReportInvalidNamespace(*d, uid, actions);
        }
        actions.attempt_to_delete.push_back(dep);
      }
      existing->identity = now.identity;
    }
    existing->observed = true;
  }

  if (change == Change::kDeleted) {
    if (existing != nullptr) RemoveNode(uid, now.identity, actions);
    return actions;
  }
  if (existing == nullptr) {
    Node& node = nodes_[uid];
    node.identity = now.identity;
    node.owners = now.owners;
    node.observed = true;
    node.being_deleted = now.being_deleted;
    node.deleting_dependents = now.being_deleted && now.HasFinalizer(kForegroundFinalizer);
    AddDependentToOwners(node, node.owners, actions);
    // An informer may show an object for the first time already deleting.
    ProcessTransitions(old, now, node, actions);
    return actions;
  }
  existing->identity.api_version = now.identity.api_version;
  existing->identity.kind = now.identity.kind;
  ReferenceDiffs diffs = Diff(existing->owners, now.owners);
  if (!diffs.added.empty() || !diffs.removed.empty() || !diffs.changed.empty()) {
    AddUnblockedOwners(diffs.removed, diffs.changed, actions);
    existing->owners = now.owners;
    AddDependentToOwners(*existing, diffs.added, actions);
    RemoveDependentFromOwners(uid, diffs.removed);
  }
  if (now.being_deleted) existing->being_deleted = true;
  ProcessTransitions(old, now, *existing, actions);
  return actions;
}

GraphActions Graph::ObserveAbsent(const ObjectIdentity& identity) {
  GraphActions actions;
  auto it = nodes_.find(identity.uid);
  if (it == nodes_.end()) return actions;
  Node& existing = it->second;
  bool remove = true;
  if (!existing.observed) {
    // Unsure of a virtual node's coordinates: dependents that name it
    // otherwise keep it, under one of their names.
    auto [matching, mismatched] = PartitionDependents(existing, identity);
    if (!mismatched.empty()) {
      remove = false;
      if (!matching.empty()) {
        absent_.Add(identity);
        for (const std::string& dep : matching)
          actions.attempt_to_delete.push_back(dep);
      }
      if (existing.identity == identity) {
        if (std::optional<ObjectIdentity> other = AlternateOwnerIdentity(mismatched, identity)) {
          existing.identity = *other;
          actions.attempt_to_delete_later.push_back(identity.uid);
        }
      }
    }
  } else if (existing.identity != identity) {
    // The object exists as observed; only references by these other
    // coordinates dangle.
    remove = false;
    std::vector<std::string> matching = PartitionDependents(existing, identity).first;
    if (!matching.empty()) {
      absent_.Add(identity);
      for (const std::string& dep : matching)
        actions.attempt_to_delete.push_back(dep);
    }
  }
  if (remove) RemoveNode(identity.uid, identity, actions);
  return actions;
}

void Graph::AddDependentToOwners(Node& node, const std::vector<OwnerReference>& owners,
                                 GraphActions& actions) {
  bool potentially_invalid = false;
  for (const OwnerReference& owner : owners) {
    auto [it, created] = nodes_.try_emplace(owner.uid);
    Node& owner_node = it->second;
    if (created) {
      owner_node.identity = {owner.api_version, owner.kind, owner.name, owner.uid,
                             node.identity.namespace_};
    }
    owner_node.dependents.insert(node.identity.uid);
    if (created) {
      actions.attempt_to_delete.push_back(owner.uid);  // does it exist?
      continue;
    }
    if (potentially_invalid) continue;
    bool owner_namespaced = !owner_node.identity.namespace_.empty();
    if (owner_namespaced && owner_node.identity.namespace_ != node.identity.namespace_) {
      if (owner_node.observed) ReportInvalidNamespace(node, owner.uid, actions);
      potentially_invalid = true;
    } else {
      // Other coordinates than the owner's; or a virtual cluster-scoped
      // owner, which may be a namespaced one a cluster-scoped dependent
      // names wrongly (upstream's issue 98040).
      potentially_invalid =
          !MatchesCoordinates(owner, owner_node.identity) ||
          (!owner_namespaced && owner_node.identity.namespace_ != node.identity.namespace_ &&
           !owner_node.observed);
    }
  }
  if (potentially_invalid) actions.attempt_to_delete.push_back(node.identity.uid);
}

void Graph::RemoveDependentFromOwners(const std::string& uid,
                                      const std::vector<OwnerReference>& owners) {
  for (const OwnerReference& owner : owners) {
    auto it = nodes_.find(owner.uid);
    if (it != nodes_.end()) it->second.dependents.erase(uid);
  }
}

void Graph::RemoveNode(const std::string& uid, const ObjectIdentity& deleted,
                       GraphActions& actions) {
  auto it = nodes_.find(uid);
  if (it == nodes_.end()) return;
  Node node = std::move(it->second);
  nodes_.erase(it);
  RemoveDependentFromOwners(uid, node.owners);
  if (!node.dependents.empty()) absent_.Add(deleted);
  for (const std::string& dep : node.dependents)
    actions.attempt_to_delete.push_back(dep);
  // An owner waiting for its dependents may be done now.
  for (const OwnerReference& owner : node.owners) {
    const Node* o = Find(owner.uid);
    if (o != nullptr && o->deleting_dependents) actions.attempt_to_delete.push_back(owner.uid);
  }
}

void Graph::ProcessTransitions(const ObjectState* old, const ObjectState& now, Node& node,
                               GraphActions& actions) {
  if (DeletionStartsWithFinalizer(old, now, kOrphanFinalizer)) {
    actions.attempt_to_orphan.push_back(node.identity.uid);
    return;
  }
  if (DeletionStartsWithFinalizer(old, now, kForegroundFinalizer)) {
    node.deleting_dependents = true;
    for (const std::string& dep : node.dependents)
      actions.attempt_to_delete.push_back(dep);
    actions.attempt_to_delete.push_back(node.identity.uid);
  }
}

void Graph::AddUnblockedOwners(
    const std::vector<OwnerReference>& removed,
    const std::vector<std::pair<OwnerReference, OwnerReference>>& changed,
    GraphActions& actions) const {
  for (const OwnerReference& ref : removed) {
    if (ref.Blocks() && Find(ref.uid) != nullptr) actions.attempt_to_delete.push_back(ref.uid);
  }
  for (const auto& [was, now] : changed) {
    if (was.Blocks() && !now.Blocks() && Find(now.uid) != nullptr) {
      actions.attempt_to_delete.push_back(now.uid);
    }
  }
}

void Graph::ReportInvalidNamespace(const Node& dependent, const std::string& owner_uid,
                                   GraphActions& actions) const {
  for (const OwnerReference& ref : dependent.owners) {
    if (ref.uid == owner_uid) {
      actions.invalid_namespace_refs.emplace_back(dependent.identity, ref);
      return;
    }
  }
}

std::pair<std::vector<std::string>, std::vector<std::string>> Graph::PartitionDependents(
    const Node& node, const ObjectIdentity& identity) const {
  std::vector<std::string> matching;
  std::vector<std::string> mismatched;
  bool owner_namespaced = !identity.namespace_.empty();
  for (const std::string& uid : node.dependents) {
    const Node* dep = Find(uid);
    if (dep == nullptr) continue;
    bool match = false;
    bool mismatch = false;
    if (owner_namespaced && identity.namespace_ != dep->identity.namespace_) {
      mismatch = true;
    } else {
      for (const OwnerReference& ref : dep->owners) {
        if (ref.uid != identity.uid) continue;
        (MatchesCoordinates(ref, identity) ? match : mismatch) = true;
      }
    }
    if (match) matching.push_back(uid);
    if (mismatch) mismatched.push_back(uid);
  }
  return {std::move(matching), std::move(mismatched)};
}

std::optional<ObjectIdentity> Graph::AlternateOwnerIdentity(
    const std::vector<std::string>& dependents, const ObjectIdentity& absent) const {
  bool cluster_scoped = absent.namespace_.empty();
  std::vector<ObjectIdentity> seen = {absent};
  std::optional<ObjectIdentity> first;
  std::optional<ObjectIdentity> first_following;
  for (const std::string& uid : dependents) {
    const Node* dep = Find(uid);
    if (dep == nullptr) continue;
    for (const OwnerReference& ref : dep->owners) {
      if (ref.uid != absent.uid) continue;
      if (MatchesCoordinates(ref, absent) &&
          (cluster_scoped || absent.namespace_ == dep->identity.namespace_)) {
        continue;
      }
      ObjectIdentity alt{ref.api_version, ref.kind, ref.name, ref.uid, dep->identity.namespace_};
      // This apiVersion and kind are known to be cluster-scoped.
      if (cluster_scoped && alt.api_version == absent.api_version && alt.kind == absent.kind) {
        alt.namespace_.clear();
      }
      if (std::find(seen.begin(), seen.end(), alt) != seen.end()) continue;
      seen.push_back(alt);
      if (!first || Less(alt, *first)) first = alt;
      if (Less(absent, alt) && (!first_following || Less(alt, *first_following))) {
        first_following = alt;
      }
    }
  }
  return first_following ? first_following : first;
}

}  // namespace berth::controlplane::controllers::gc
