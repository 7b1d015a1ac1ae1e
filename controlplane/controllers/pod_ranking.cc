#include "controlplane/controllers/pod_ranking.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <optional>
#include <string>

#include "controlplane/controllers/api_util.h"
#include "controlplane/controllers/pod_state.h"
#include "controlplane/server/api/kinds.h"

namespace berth::controlplane::controllers {
namespace {

namespace bj = boost::json;

constexpr char kDeletionCost[] = "controller.kubernetes.io/pod-deletion-cost";

struct Ranked {
  const bj::object* pod;
  std::string node, uid;
  int phase;  // Pending 0 < Unknown 1 < Running 2 (others 0, as a Go map's zero value)
  bool ready;
  int64_t cost;
  int rank;                     // related active pods on the same node
  time_t ready_since, created;  // -1: unknown
  int64_t restarts;
};

int PhaseOrdinal(const std::string& phase) {
  if (phase == "Unknown") return 1;
  if (phase == "Running") return 2;
  return 0;
}

int64_t DeletionCost(const bj::object& pod) {
  std::string text = StringAt(pod, {"metadata", "annotations", kDeletionCost});
  int32_t cost = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), cost);
  return ec == std::errc() && end == text.data() + text.size() ? cost : 0;
}

int64_t MaxRestarts(const bj::object& pod) {
  int64_t most = 0;
  const bj::value* statuses = nullptr;
  if (const bj::value* s = pod.if_contains("status"); s != nullptr && s->is_object()) {
    statuses = s->as_object().if_contains("containerStatuses");
  }
  if (statuses == nullptr || !statuses->is_array()) return 0;
  for (const bj::value& c : statuses->as_array()) {
    const bj::value* n = c.is_object() ? c.as_object().if_contains("restartCount") : nullptr;
    if (n != nullptr && n->is_int64()) most = std::max(most, n->as_int64());
  }
  return most;
}

// Upstream's afterOrZero: an unknown time sorts first, then the later one.
bool AfterOrZero(time_t a, time_t b) {
  if (a < 0 || b < 0) return a < 0;
  return a > b;
}

int64_t LogRank(time_t t, const timespec& now) {
  double nanos = (static_cast<double>(now.tv_sec) - static_cast<double>(t)) * 1e9 +
                 static_cast<double>(now.tv_nsec);
  return nanos > 0 ? static_cast<int64_t>(std::log2(nanos)) : -1;
}

// Rules 6 and 8: the later (or unknown) time first, on the log scale.
std::optional<bool> CompareTimes(time_t a, time_t b, const Ranked& x, const Ranked& y,
                                 const timespec& now) {
  if (a == b) return std::nullopt;
  if (a < 0 || b < 0) return AfterOrZero(a, b);
  int64_t diff = LogRank(a, now) - LogRank(b, now);
  if (diff == 0) return x.uid < y.uid;
  return diff < 0;
}

bool Less(const Ranked& x, const Ranked& y, const timespec& now) {
  if (x.node != y.node && (x.node.empty() || y.node.empty())) return x.node.empty();
  if (x.phase != y.phase) return x.phase < y.phase;
  if (x.ready != y.ready) return !x.ready;
  if (x.cost != y.cost) return x.cost < y.cost;
  if (x.rank != y.rank) return x.rank > y.rank;
  if (x.ready && y.ready) {
    if (std::optional<bool> r = CompareTimes(x.ready_since, y.ready_since, x, y, now)) return *r;
  }
  if (x.restarts != y.restarts) return x.restarts > y.restarts;
  if (std::optional<bool> r = CompareTimes(x.created, y.created, x, y, now)) return *r;
  return false;
}

}  // namespace

std::vector<bj::object> PodsToDelete(std::vector<bj::object> pods,
                                     const std::vector<bj::object>& related, size_t count,
                                     const timespec& now) {
  if (count >= pods.size()) return pods;
  std::map<std::string, int> on_node;
  for (const bj::object& p : related)
    if (IsPodActive(p)) ++on_node[StringAt(p, {"spec", "nodeName"})];
  std::vector<Ranked> ranked;
  ranked.reserve(pods.size());
  for (const bj::object& p : pods) {
    std::string node = StringAt(p, {"spec", "nodeName"});
    int rank = on_node[node];
    ranked.push_back({&p, std::move(node), StringAt(p, {"metadata", "uid"}),
                      PhaseOrdinal(StringAt(p, {"status", "phase"})), IsPodReady(p),
                      DeletionCost(p), rank, PodReadyTime(p),
                      api::ParseRfc3339(StringAt(p, {"metadata", "creationTimestamp"})),
                      MaxRestarts(p)});
  }
  // Stable: the order need not be a strict weak one (log buckets).
  std::stable_sort(ranked.begin(), ranked.end(),
                   [&](const Ranked& a, const Ranked& b) { return Less(a, b, now); });
  std::vector<bj::object> out;
  out.reserve(count);
  for (size_t i = 0; i < count; ++i)
    out.push_back(*ranked[i].pod);
  return out;
}

}  // namespace berth::controlplane::controllers
