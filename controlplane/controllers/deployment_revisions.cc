#include "controlplane/controllers/deployment_revisions.h"

#include <algorithm>
#include <charconv>
#include <set>

#include "common/strings.h"
#include "controlplane/controllers/api_util.h"
#include "controlplane/controllers/replicaset_status.h"
#include "controlplane/server/api/kinds.h"

namespace berth::controlplane::controllers {
namespace {

namespace bj = boost::json;

constexpr size_t kMaxRevisionHistoryChars = 2000;

// Not copied from the Deployment to its ReplicaSets (upstream's
// annotationsToSkip).
bool SkipCopy(std::string_view key) {
  static const std::set<std::string_view> skip = {
      "kubectl.kubernetes.io/last-applied-configuration",
      kRevisionAnnotation,
      kRevisionHistoryAnnotation,
      kDesiredReplicasAnnotation,
      kMaxReplicasAnnotation,
      "deprecated.deployment.rollback.to"};
  return skip.contains(key);
}

std::optional<int64_t> ParseInt64(std::string_view text) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return v;
}

// Upstream parses these as int32.
std::optional<int64_t> Int32Annotation(const bj::object& rs, std::string_view key) {
  std::optional<int64_t> v = ParseInt64(Annotation(rs, key));
  if (!v || *v < INT32_MIN || *v > INT32_MAX) return std::nullopt;
  return v;
}

bj::object& Annotations(bj::object& obj) {
  bj::value& meta = obj["metadata"];
  if (!meta.is_object()) meta = bj::object();
  bj::value& annotations = meta.as_object()["annotations"];
  if (!annotations.is_object()) annotations = bj::object();
  return annotations.as_object();
}

bool CopyDeploymentAnnotations(const bj::object& d, bj::object& rs) {
  bool changed = false;
  const bj::value* from = api::Lookup(d, {"metadata", "annotations"});
  bj::object& to = Annotations(rs);
  if (from == nullptr || !from->is_object()) return false;
  for (const auto& [key, value] : from->as_object()) {
    if (SkipCopy(key) || !value.is_string()) continue;
    const bj::value* have = to.if_contains(key);
    if (have != nullptr && *have == value) continue;
    to[key] = value;
    changed = true;
  }
  return changed;
}

// The earlier revision `old` joins the history, the oldest entries making
// room within the length limit.
void AppendHistory(bj::object& rs, const std::string& old) {
  std::string history = Annotation(rs, kRevisionHistoryAnnotation);
  if (history.empty()) {
    SetAnnotation(rs, kRevisionHistoryAnnotation, old);
    return;
  }
  std::vector<std::string> revisions = Split(history, ',');
  size_t total = history.size() + old.size() + 1;
  size_t start = 0;
  while (total > kMaxRevisionHistoryChars && start < revisions.size()) {
    total -= revisions[start].size() + 1;
    ++start;
  }
  if (total > kMaxRevisionHistoryChars) return;  // one revision longer than the limit
  std::vector<std::string> kept(revisions.begin() + static_cast<ptrdiff_t>(start), revisions.end());
  kept.push_back(old);
  SetAnnotation(rs, kRevisionHistoryAnnotation, Join(kept, ","));
}

}  // namespace

std::string Annotation(const bj::object& obj, std::string_view key) {
  const bj::value* annotations = api::Lookup(obj, {"metadata", "annotations"});
  if (annotations == nullptr || !annotations->is_object()) return "";
  const bj::value* v = annotations->as_object().if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : "";
}

void SetAnnotation(bj::object& obj, std::string_view key, std::string_view value) {
  Annotations(obj)[key] = value;
}

int64_t Revision(const bj::object& rs) {
  return ParseInt64(Annotation(rs, kRevisionAnnotation)).value_or(0);
}

int64_t MaxRevision(const ReplicaSetList& rss) {
  int64_t most = 0;
  for (const bj::object* rs : rss)
    most = std::max(most, Revision(*rs));
  return most;
}

void SortByRevision(ReplicaSetList& rss) {
  SortByCreation(rss);
  std::stable_sort(rss.begin(), rss.end(), [](const bj::object* a, const bj::object* b) {
    return Revision(*a) < Revision(*b);
  });
}

bool SetNewReplicaSetAnnotations(const bj::object& d, bj::object& rs,
                                 const std::string& new_revision, bool exists) {
  bool changed = CopyDeploymentAnnotations(d, rs);
  bool had_revision = Has(rs, {"metadata", "annotations", kRevisionAnnotation});
  std::string old_revision = Annotation(rs, kRevisionAnnotation);
  std::optional<int64_t> old_number = ParseInt64(old_revision);
  if (!old_number) {
    if (!old_revision.empty()) return false;  // not a number: left alone, as upstream
    old_number = 0;
  }
  std::optional<int64_t> new_number = ParseInt64(new_revision);
  if (!new_number) return false;
  if (*old_number < *new_number) {
    SetAnnotation(rs, kRevisionAnnotation, new_revision);
    changed = true;
    // Made the new one again: a rollback. Its earlier revision is history.
    if (had_revision) AppendHistory(rs, old_revision);
  }
  if (!exists) {
    int64_t replicas = SpecReplicas(d);
    if (SetReplicasAnnotations(rs, replicas, replicas + MaxSurge(d))) changed = true;
  }
  return changed;
}

bool SetDeploymentRevision(bj::object& d, const std::string& revision) {
  if (Annotation(d, kRevisionAnnotation) == revision) return false;
  SetAnnotation(d, kRevisionAnnotation, revision);
  return true;
}

std::optional<int64_t> DesiredReplicasAnnotation(const bj::object& rs) {
  return Int32Annotation(rs, kDesiredReplicasAnnotation);
}

std::optional<int64_t> MaxReplicasAnnotation(const bj::object& rs) {
  return Int32Annotation(rs, kMaxReplicasAnnotation);
}

bool ReplicasAnnotationsNeedUpdate(const bj::object& rs, int64_t desired, int64_t max) {
  return Annotation(rs, kDesiredReplicasAnnotation) != std::to_string(desired) ||
         Annotation(rs, kMaxReplicasAnnotation) != std::to_string(max);
}

bool SetReplicasAnnotations(bj::object& rs, int64_t desired, int64_t max) {
  bool changed = false;
  for (auto [key, value] :
       {std::pair{kDesiredReplicasAnnotation, desired}, std::pair{kMaxReplicasAnnotation, max}}) {
    std::string text = std::to_string(value);
    if (Annotation(rs, key) == text) continue;
    SetAnnotation(rs, key, text);
    changed = true;
  }
  return changed;
}

}  // namespace berth::controlplane::controllers
