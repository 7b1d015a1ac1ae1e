#include "agent/node/node_lease.h"

#include <cstdio>

namespace berth::agent {
namespace {

namespace bj = boost::json;

constexpr char kLeases[] = "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases";
constexpr int kMaxUpdateRetries = 5;  // upstream maxUpdateRetries

std::string Why(const controlplane::client::ApiResponse& r) {
  bj::value v = r.Json();
  const bj::value* m = v.is_object() ? v.as_object().if_contains("message") : nullptr;
  return "HTTP " + std::to_string(r.status) + ": " +
         (m != nullptr && m->is_string() ? std::string(m->as_string()) : r.body);
}

bj::array OwnerReferences(const std::string& node, const std::string& uid) {
  return bj::array{
      bj::object{{"apiVersion", "v1"}, {"kind", "Node"}, {"name", node}, {"uid", uid}}};
}

}  // namespace

std::string FormatMicroTime(const timespec& ts) {
  std::tm tm{};
  gmtime_r(&ts.tv_sec, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                (ts.tv_nsec / 1000) % 1000000);
  return buf;
}

NodeLease::NodeLease(controlplane::client::ApiClient& api, std::string node_name,
                     int duration_seconds)
    : api_(api), node_(std::move(node_name)), duration_seconds_(duration_seconds) {}

Status NodeLease::Ensure(const std::string& node_uid, const timespec& now, bool* created) {
  *created = false;
  std::string path = std::string(kLeases) + "/" + node_;
  auto got = api_.Do("GET", path);
  if (!got.ok()) return std::move(got).error().Wrap("get lease " + node_);
  if (got->status == 200) {
    bj::value v = got->Json();
    if (v.is_object()) {
      lease_ = v.as_object();
      return Ok();
    }
  }
  if (got->status != 404) return Error(Errc::kUnavailable, "get lease " + node_ + ": " + Why(*got));
  bj::object metadata{{"name", node_}, {"namespace", "kube-node-lease"}};
  if (!node_uid.empty()) metadata["ownerReferences"] = OwnerReferences(node_, node_uid);
  bj::object lease{{"apiVersion", "coordination.k8s.io/v1"},
                   {"kind", "Lease"},
                   {"metadata", std::move(metadata)},
                   {"spec", bj::object{{"holderIdentity", node_},
                                       {"leaseDurationSeconds", duration_seconds_},
                                       {"renewTime", FormatMicroTime(now)}}}};
  auto made = api_.Do("POST", kLeases, bj::serialize(lease));
  if (!made.ok()) return std::move(made).error().Wrap("create lease " + node_);
  if (made->status == 201 && made->Json().is_object()) {
    lease_ = made->Json().as_object();
    *created = true;
    return Ok();
  }
  if (made->status == 409) return Ok();  // someone made it first: renew on the next pass
  return Error(Errc::kUnavailable, "create lease " + node_ + ": " + Why(*made));
}

Status NodeLease::Renew(const std::string& node_uid, const timespec& now) {
  for (int attempt = 0; attempt < kMaxUpdateRetries; ++attempt) {
    if (!lease_) {
      bool created = false;
      BERTH_TRY(Ensure(node_uid, now, &created));
      if (created) return Ok();  // renewed as of now already
      if (!lease_) continue;     // made by someone else meanwhile: read it again
    }
    bj::object next = *lease_;
    bj::object& spec =
        next["spec"].is_object() ? next["spec"].as_object() : next["spec"].emplace_object();
    spec["holderIdentity"] = node_;
    spec["leaseDurationSeconds"] = duration_seconds_;
    spec["renewTime"] = FormatMicroTime(now);
    bj::object& metadata = next["metadata"].as_object();
    if (!node_uid.empty() && !metadata.contains("ownerReferences")) {
      metadata["ownerReferences"] = OwnerReferences(node_, node_uid);
    }
    auto put = api_.Do("PUT", std::string(kLeases) + "/" + node_, bj::serialize(next));
    if (!put.ok()) {
      lease_.reset();
      return std::move(put).error().Wrap("renew lease " + node_);
    }
    if (put->status == 200 && put->Json().is_object()) {
      lease_ = put->Json().as_object();
      return Ok();
    }
    lease_.reset();  // read it again: a conflict, or it was deleted
    if (put->status != 409 && put->status != 404) {
      return Error(Errc::kUnavailable, "renew lease " + node_ + ": " + Why(*put));
    }
  }
  return Error(Errc::kAborted, "renew lease " + node_ + ": still conflicting after " +
                                   std::to_string(kMaxUpdateRetries) + " attempts");
}

}  // namespace berth::agent
