#include "controlplane/controllers/deployment_util.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>

#include "controlplane/controllers/api_util.h"
#include "controlplane/controllers/deployment_conditions.h"
#include "controlplane/controllers/deployment_revisions.h"
#include "controlplane/controllers/replicaset_status.h"
#include "controlplane/server/api/kinds.h"

namespace berth::controlplane::controllers {
namespace {

namespace bj = boost::json;

std::optional<int64_t> OptionalInt(const bj::object& obj,
                                   std::initializer_list<std::string_view> path) {
  const bj::value* v = api::Lookup(obj, path);
  if (v == nullptr || !v->is_int64()) return std::nullopt;
  if (v->as_int64() == INT32_MAX) return std::nullopt;
  return v->as_int64();
}

time_t CreationTime(const bj::object* rs) {
  return api::ParseRfc3339(StringAt(*rs, {"metadata", "creationTimestamp"}));
}

bool CreatedBefore(const bj::object* a, const bj::object* b) {
  time_t ta = CreationTime(a);
  time_t tb = CreationTime(b);
  if (ta == tb) return StringAt(*a, {"metadata", "name"}) < StringAt(*b, {"metadata", "name"});
  return ta < tb;
}

// An invalid value counts as 0, as upstream ignores the error.
Fenceposts FencepostsOf(const bj::object& d) {
  Result<Fenceposts> f = ResolveFenceposts(
      api::Lookup(d, {"spec", "strategy", "rollingUpdate", "maxSurge"}),
      api::Lookup(d, {"spec", "strategy", "rollingUpdate", "maxUnavailable"}), SpecReplicas(d));
  return f.ok() ? *f : Fenceposts{};
}

}  // namespace

Result<int64_t> ScaledValue(const bj::value& int_or_percent, int64_t total, bool round_up) {
  if (int_or_percent.is_int64()) return int_or_percent.as_int64();
  if (!int_or_percent.is_string()) {
    return Error(Errc::kInvalidArgument,
                 "invalid value for IntOrString: " + bj::serialize(int_or_percent));
  }
  std::string_view text = int_or_percent.as_string();
  int64_t percent = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), percent);
  if (text.empty() || text.back() != '%' || ec != std::errc() ||
      end != text.data() + text.size() - 1) {
    return Error(Errc::kInvalidArgument,
                 "invalid value for IntOrString: invalid value \"" + std::string(text) + "\"");
  }
  // Upstream computes in float64: ceil/floor of percent*total/100.
  double scaled = static_cast<double>(percent) * static_cast<double>(total) / 100.0;
  return static_cast<int64_t>(round_up ? std::ceil(scaled) : std::floor(scaled));
}

Result<Fenceposts> ResolveFenceposts(const bj::value* max_surge, const bj::value* max_unavailable,
                                     int64_t desired) {
  bj::value zero(0);
  Fenceposts f;
  f.surge = BERTH_TRY(ScaledValue(max_surge != nullptr ? *max_surge : zero, desired, true));
  f.unavailable =
      BERTH_TRY(ScaledValue(max_unavailable != nullptr ? *max_unavailable : zero, desired, false));
  if (f.surge == 0 && f.unavailable == 0) {
    // Both zero would never let the rollout move: one pod may be unavailable.
    f.unavailable = 1;
  }
  return f;
}

bool IsRollingUpdate(const bj::object& d) {
  return StringAt(d, {"spec", "strategy", "type"}) == "RollingUpdate";
}

int64_t MaxSurge(const bj::object& d) {
  if (!IsRollingUpdate(d)) return 0;
  return FencepostsOf(d).surge;
}

int64_t MaxUnavailable(const bj::object& d) {
  int64_t replicas = SpecReplicas(d);
  if (!IsRollingUpdate(d) || replicas == 0) return 0;
  return std::min(FencepostsOf(d).unavailable, replicas);
}

bool Paused(const bj::object& d) {
  const bj::value* p = api::Lookup(d, {"spec", "paused"});
  return p != nullptr && p->is_bool() && p->as_bool();
}

std::optional<int64_t> ProgressDeadlineSeconds(const bj::object& d) {
  return OptionalInt(d, {"spec", "progressDeadlineSeconds"});
}

std::optional<int64_t> RevisionHistoryLimit(const bj::object& d) {
  return OptionalInt(d, {"spec", "revisionHistoryLimit"});
}

int64_t SpecReplicaSum(const ReplicaSetList& rss) {
  int64_t sum = 0;
  for (const bj::object* rs : rss)
    sum += SpecReplicas(*rs);
  return sum;
}

int64_t StatusSum(const ReplicaSetList& rss, std::string_view field) {
  int64_t sum = 0;
  for (const bj::object* rs : rss)
    sum += StatusCount(*rs, field);
  return sum;
}

ReplicaSetList FilterActive(const ReplicaSetList& rss) {
  ReplicaSetList out;
  for (bj::object* rs : rss)
    if (SpecReplicas(*rs) > 0) out.push_back(rs);
  return out;
}

ReplicaSetList AllOf(const ReplicaSetList& old, bj::object* new_rs) {
  ReplicaSetList all = old;
  if (new_rs != nullptr) all.push_back(new_rs);
  return all;
}

void SortByCreation(ReplicaSetList& rss) {
  std::stable_sort(rss.begin(), rss.end(), CreatedBefore);
}

void SortBySizeOlder(ReplicaSetList& rss) {
  std::stable_sort(rss.begin(), rss.end(), [](const bj::object* a, const bj::object* b) {
    int64_t sa = SpecReplicas(*a);
    int64_t sb = SpecReplicas(*b);
    if (sa == sb) return CreatedBefore(a, b);
    return sa > sb;
  });
}

void SortBySizeNewer(ReplicaSetList& rss) {
  std::stable_sort(rss.begin(), rss.end(), [](const bj::object* a, const bj::object* b) {
    int64_t sa = SpecReplicas(*a);
    int64_t sb = SpecReplicas(*b);
    if (sa == sb) return CreatedBefore(b, a);
    return sa > sb;
  });
}

bj::object* FindActiveOrLatest(bj::object* new_rs, ReplicaSetList old) {
  if (new_rs == nullptr && old.empty()) return nullptr;
  SortByCreation(old);
  std::reverse(old.begin(), old.end());
  ReplicaSetList active = FilterActive(AllOf(old, new_rs));
  if (active.size() == 1) return active[0];
  if (!active.empty()) return nullptr;
  return new_rs != nullptr ? new_rs : old[0];
}

bool IsSaturated(const bj::object& d, const bj::object* rs) {
  if (rs == nullptr) return false;
  std::optional<int64_t> desired = DesiredReplicasAnnotation(*rs);
  int64_t replicas = SpecReplicas(d);
  return desired && SpecReplicas(*rs) == replicas && *desired == replicas &&
         StatusCount(*rs, "availableReplicas") == replicas;
}

int64_t NewRSNewReplicas(const bj::object& d, const ReplicaSetList& all, const bj::object& new_rs) {
  int64_t replicas = SpecReplicas(d);
  if (!IsRollingUpdate(d)) return replicas;  // Recreate: all at once
  int64_t current = 0;
  for (const bj::object* rs : all)
    current += std::max(SpecReplicas(*rs), StatusCount(*rs, "replicas"));
  int64_t max_total = replicas + MaxSurge(d);
  int64_t have = SpecReplicas(new_rs);
  if (current >= max_total) return have;
  return have + std::min(max_total - current, replicas - have);
}

int64_t AvailableForScaleDown(const ReplicaSetList& rss) {
  int64_t sum = 0;
  for (const bj::object* rs : rss)
    sum += std::min(SpecReplicas(*rs), StatusCount(*rs, "availableReplicas"));
  return sum;
}

int64_t GetProportion(const bj::object& rs, const bj::object& d, int64_t to_add, int64_t added) {
  int64_t have = SpecReplicas(rs);
  if (have == 0 || to_add == 0 || to_add == added) return 0;
  int64_t fraction = 0;
  int64_t replicas = SpecReplicas(d);
  if (replicas == 0) {
    fraction = -have;
  } else {
    int64_t deployment_replicas = replicas + MaxSurge(d);
    int64_t annotated = MaxReplicasAnnotation(rs).value_or(StatusCount(d, "replicas"));
    // Upstream divides by the annotation unchecked; a zero one means the
    // ReplicaSet gets nothing.
    if (annotated != 0) {
      double size =
          static_cast<double>(have * deployment_replicas) / static_cast<double>(annotated);
      fraction = std::llround(size) - have;
    }
  }
  int64_t allowed = to_add - added;
  return to_add > 0 ? std::min(fraction, allowed) : std::max(fraction, allowed);
}

bool DeploymentComplete(const bj::object& d, const bj::object& status) {
  int64_t replicas = SpecReplicas(d);
  auto count = [&](std::string_view f) {
    const bj::value* v = status.if_contains(f);
    return v != nullptr && v->is_int64() ? v->as_int64() : 0;
  };
  int64_t generation = api::LookupInt(d, {"metadata", "generation"});
  return count("updatedReplicas") == replicas && count("replicas") == replicas &&
         count("availableReplicas") == replicas && count("observedGeneration") >= generation;
}

bool DeploymentProgressing(const bj::object& d, const bj::object& status) {
  auto now = [&](std::string_view f) {
    const bj::value* v = status.if_contains(f);
    return v != nullptr && v->is_int64() ? v->as_int64() : 0;
  };
  auto before = [&](std::string_view f) { return StatusCount(d, f); };
  int64_t old_before = before("replicas") - before("updatedReplicas");
  int64_t old_now = now("replicas") - now("updatedReplicas");
  return now("updatedReplicas") > before("updatedReplicas") || old_now < old_before ||
         now("readyReplicas") > before("readyReplicas") ||
         now("availableReplicas") > before("availableReplicas");
}

bool DeploymentTimedOut(const bj::object& d, const bj::object& status, time_t now) {
  std::optional<int64_t> deadline = ProgressDeadlineSeconds(d);
  if (!deadline) return false;
  const bj::object* cond = GetCondition(status, kDeploymentProgressing);
  if (cond == nullptr) return false;
  std::string reason = StringAt(*cond, {"reason"});
  if (reason == kNewRSAvailableReason) return false;
  if (reason == kTimedOutReason) return true;
  time_t from = api::ParseRfc3339(StringAt(*cond, {"lastUpdateTime"}));
  return from >= 0 && from + *deadline < now;
}

}  // namespace berth::controlplane::controllers
