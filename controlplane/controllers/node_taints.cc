#include "controlplane/controllers/node_taints.h"

#include <algorithm>

#include "controlplane/controllers/api_time.h"
#include "controlplane/controllers/api_util.h"
#include "controlplane/controllers/taints.h"

namespace berth::controlplane::controllers {
namespace {

namespace bj = boost::json;

// Upstream retries a taint update on conflict 5 times (UpdateTaintBackoff).
constexpr int kAttempts = 5;

// The taints `node` should have; nullopt when they are what it has.
std::optional<bj::array> Swapped(const bj::object& node, const std::vector<bj::object>& add,
                                 const std::vector<bj::object>& remove) {
  bool changed = false;
  bj::array out;
  for (const bj::object& t : TaintsOf(node)) {
    bool removed = std::any_of(remove.begin(), remove.end(),
                               [&](const bj::object& r) { return MatchTaint(r, t); });
    if (removed) {
      changed = true;
    } else {
      out.push_back(t);
    }
  }
  WallTime now = WallClock::now();
  for (const bj::object& a : add) {
    auto same = std::find_if(out.begin(), out.end(),
                             [&](const bj::value& t) { return MatchTaint(t.as_object(), a); });
    if (same != out.end() && StringAt(same->as_object(), {"value"}) == StringAt(a, {"value"})) {
      continue;
    }
    bj::object stamped = a;
    stamped["timeAdded"] = ApiTime(now);
    if (same != out.end()) {
      *same = std::move(stamped);
    } else {
      out.push_back(std::move(stamped));
    }
    changed = true;
  }
  if (!changed) return std::nullopt;
  return out;
}

}  // namespace

Status SwapNodeTaints(client::ApiClient& api, const bj::object& cached,
                      const std::vector<bj::object>& add, const std::vector<bj::object>& remove) {
  const std::string url = "/api/v1/nodes/" + StringAt(cached, {"metadata", "name"});
  bj::object node = cached;
  for (int attempt = 1;; ++attempt) {
    std::optional<bj::array> taints = Swapped(node, add, remove);
    if (!taints) return Ok();
    bj::value list = taints->empty() ? bj::value(nullptr) : bj::value(std::move(*taints));
    bj::object patch{
        {"metadata", {{"resourceVersion", StringAt(node, {"metadata", "resourceVersion"})}}},
        {"spec", {{"taints", std::move(list)}}}};
    client::ApiResponse r =
        BERTH_TRY(api.Do("PATCH", url, bj::serialize(patch), "application/merge-patch+json"));
    if (r.status == 200) return Ok();
    if (r.status != 409 || attempt == kAttempts) return HttpError("PATCH", url, r);
    client::ApiResponse got = BERTH_TRY(api.Do("GET", url));
    if (got.status != 200) return HttpError("GET", url, got);
    bj::value fresh = got.Json();
    if (!fresh.is_object()) return Error(Errc::kDataLoss, "GET " + url + ": not a JSON object");
    node = std::move(fresh.as_object());
  }
}

}  // namespace berth::controlplane::controllers
