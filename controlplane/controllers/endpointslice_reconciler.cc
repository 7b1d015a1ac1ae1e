#include "controlplane/controllers/endpointslice_reconciler.h"

#include <algorithm>
#include <initializer_list>
#include <map>
#include <set>
#include <string_view>
#include <utility>

#include "controlplane/controllers/api_util.h"
#include "controlplane/controllers/pod_readiness.h"
#include "controlplane/controllers/service_pods.h"
#include "controlplane/controllers/service_ports.h"

namespace berth::controlplane::controllers {
namespace {

namespace bj = boost::json;

constexpr char kLabelZone[] = "topology.kubernetes.io/zone";

const bj::array& ArrayAt(const bj::object& obj, std::string_view key) {
  static const bj::array kNone;
  const bj::value* v = obj.if_contains(key);
  return v != nullptr && v->is_array() ? v->as_array() : kNone;
}

const bj::object& ObjectAt(const bj::object& obj, std::initializer_list<std::string_view> path) {
  static const bj::object kNone;
  const bj::value* v = ValueAt(obj, path);
  return v != nullptr && v->is_object() ? v->as_object() : kNone;
}

bool SameAt(const bj::object& a, const bj::object& b,
            std::initializer_list<std::string_view> path) {
  const bj::value* x = ValueAt(a, path);
  const bj::value* y = ValueAt(b, path);
  if (x == nullptr || y == nullptr) return x == y;
  return *x == *y;
}

std::string Name(const bj::object& obj) {
  return StringAt(obj, {"metadata", "name"});
}

// The address types the Service's endpoints are published in.
std::set<std::string> AddressTypes(const bj::object& service) {
  std::set<std::string> types;
  for (const std::string& family : StringsAt(service, {"spec", "ipFamilies"})) {
    if (family == "IPv4" || family == "IPv6") types.insert(family);
  }
  if (!types.empty()) return types;
  // An apiserver that sets no ipFamilies (upstream's upgrade path): the
  // ClusterIP's family, or both for a headless Service.
  if (IsServiceIpSet(service)) {
    return {IsIpv6(StringAt(service, {"spec", "clusterIP"})) ? "IPv6" : "IPv4"};
  }
  return {"IPv4", "IPv6"};
}

// The ports a pod serves the Service on (discovery/v1 EndpointPorts).
bj::array EndpointPorts(const bj::object& service, const bj::object& pod) {
  bj::array ports;
  for (const bj::value& p : ArrayAt(ObjectAt(service, {"spec"}), "ports")) {
    if (!p.is_object()) continue;
    const bj::object& port = p.as_object();
    std::optional<int64_t> number = FindPort(pod, port);
    if (!number) continue;
    bj::object out{
        {"name", StringAt(port, {"name"})}, {"port", *number}, {"protocol", PortProtocol(port)}};
    if (std::string app = StringAt(port, {"appProtocol"}); !app.empty()) out["appProtocol"] = app;
    ports.emplace_back(std::move(out));
  }
  return ports;
}

// Identifies a group of ports whatever their order.
std::string PortMapKey(const bj::array& ports) {
  std::vector<std::string> parts;
  for (const bj::value& p : ports) {
    if (!p.is_object()) continue;
    const bj::object& port = p.as_object();
    const bj::value* number = port.if_contains("port");
    parts.push_back(StringAt(port, {"name"}) + '\x1f' +
                    (number != nullptr ? bj::serialize(*number) : "") + '\x1f' +
                    StringAt(port, {"protocol"}) + '\x1f' + StringAt(port, {"appProtocol"}));
  }
  std::sort(parts.begin(), parts.end());
  std::string key;
  for (const std::string& part : parts)
    key += part + '\x1e';
  return key;
}

// What identifies an endpoint across syncs (upstream's endpoint hash):
// its addresses, hostname and target.
std::string EndpointKey(const bj::object& endpoint) {
  std::vector<std::string> addresses;
  for (const bj::value& a : ArrayAt(endpoint, "addresses")) {
    if (a.is_string()) addresses.emplace_back(a.as_string());
  }
  std::sort(addresses.begin(), addresses.end());
  std::string key;
  for (const std::string& a : addresses)
    key += a + ',';
  return key + '\x1f' + StringAt(endpoint, {"hostname"}) + '\x1f' +
         StringAt(endpoint, {"targetRef", "namespace"}) + '/' +
         StringAt(endpoint, {"targetRef", "name"});
}

// Upstream's EndpointsEqualBeyondHash: what EndpointKey leaves out.
bool EqualBeyondKey(const bj::object& a, const bj::object& b) {
  if (!SameAt(a, b, {"nodeName"}) || !SameAt(a, b, {"zone"})) return false;
  for (const char* condition : {"ready", "serving", "terminating"}) {
    if (!SameAt(a, b, {"conditions", condition})) return false;
  }
  bj::object ta = ObjectAt(a, {"targetRef"});
  bj::object tb = ObjectAt(b, {"targetRef"});
  ta.erase("resourceVersion");
  tb.erase("resourceVersion");
  return ta == tb;
}

bj::object PodToEndpoint(const bj::object& pod, const std::optional<bj::object>& node,
                         const bj::object& service, const std::string& address_type) {
  bool serving = IsPodReady(pod);
  bool terminating = IsPodTerminating(pod);
  const bj::value* publish = ValueAt(service, {"spec", "publishNotReadyAddresses"});
  bool ready =
      (publish != nullptr && publish->is_bool() && publish->as_bool()) || (serving && !terminating);
  bj::array addresses;
  for (const std::string& ip : PodIps(pod)) {
    if (IsIpv6(ip) == (address_type == "IPv6")) addresses.emplace_back(ip);
  }
  bj::object endpoint{
      {"addresses", std::move(addresses)},
      {"conditions",
       bj::object{{"ready", ready}, {"serving", serving}, {"terminating", terminating}}},
      {"targetRef", bj::object{{"kind", "Pod"},
                               {"namespace", StringAt(pod, {"metadata", "namespace"})},
                               {"name", Name(pod)},
                               {"uid", StringAt(pod, {"metadata", "uid"})}}}};
  if (std::string node_name = StringAt(pod, {"spec", "nodeName"}); !node_name.empty()) {
    endpoint["nodeName"] = node_name;
  }
  if (node) {
    if (std::string zone = StringAt(*node, {"metadata", "labels", kLabelZone}); !zone.empty()) {
      endpoint["zone"] = zone;
    }
  }
  if (ShouldSetHostname(pod, service)) endpoint["hostname"] = StringAt(pod, {"spec", "hostname"});
  return endpoint;
}

bool IsReservedLabel(std::string_view key) {
  return key == kLabelServiceName || key == kLabelManagedBy || key == kLabelHeadless;
}

// The labels the slice should carry (the Service's, but for the reserved
// ones, which the controller sets) and whether its other labels differ
// from the Service's.
std::pair<bj::object, bool> SliceLabels(const bj::object& slice, const bj::object& service) {
  bj::object have, want;
  for (const auto& [key, value] : ObjectAt(slice, {"metadata", "labels"})) {
    if (!IsReservedLabel(key)) have[key] = value;
  }
  for (const auto& [key, value] : ObjectAt(service, {"metadata", "labels"})) {
    if (!IsReservedLabel(key)) want[key] = value;
  }
  bool changed = have != want;
  if (!IsServiceIpSet(service)) want[kLabelHeadless] = "";
  want[kLabelServiceName] = Name(service);
  want[kLabelManagedBy] = kEndpointSliceControllerName;
  return {std::move(want), changed};
}

bj::object NewSlice(const bj::object& service, const bj::array& ports,
                    const std::string& address_type) {
  bj::object owner{{"apiVersion", "v1"},    {"kind", "Service"},
                   {"name", Name(service)}, {"uid", StringAt(service, {"metadata", "uid"})},
                   {"controller", true},    {"blockOwnerDeletion", true}};
  bj::object slice{
      {"apiVersion", "discovery.k8s.io/v1"},
      {"kind", "EndpointSlice"},
      {"metadata", bj::object{{"generateName", Name(service) + "-"},
                              {"namespace", StringAt(service, {"metadata", "namespace"})},
                              {"labels", SliceLabels(bj::object(), service).first},
                              {"ownerReferences", bj::array{std::move(owner)}}}},
      {"addressType", address_type},
      {"endpoints", bj::array()}};
  if (!ports.empty()) slice["ports"] = ports;
  return slice;
}

void SetLabels(bj::object& slice, bj::object labels) {
  bj::value& meta = slice["metadata"];
  if (!meta.is_object()) meta = bj::object();
  meta.as_object()["labels"] = std::move(labels);
}

// An existing slice is the placeholder the Service would get: same
// labels, owners, type, and no ports or endpoints.
bool IsPlaceholder(const bj::object& slice, const bj::object& placeholder) {
  return ObjectAt(slice, {"metadata", "labels"}) == ObjectAt(placeholder, {"metadata", "labels"}) &&
         SameAt(slice, placeholder, {"metadata", "ownerReferences"}) &&
         StringAt(slice, {"addressType"}) == StringAt(placeholder, {"addressType"}) &&
         ArrayAt(slice, "endpoints").empty() && ArrayAt(slice, "ports").empty();
}

struct DesiredGroup {
  bj::array ports;
  std::map<std::string, bj::object> endpoints;  // by EndpointKey
};

struct Changes {
  std::vector<bj::object> create, update, remove;
};

void Append(std::vector<bj::object>& to, std::vector<bj::object> from) {
  for (bj::object& o : from)
    to.push_back(std::move(o));
}

// Moves endpoints from `desired` into `slice` until it is full.
void Fill(bj::object& slice, std::map<std::string, bj::object>& desired, size_t max) {
  bj::value& list = slice["endpoints"];
  if (!list.is_array()) list = bj::array();
  while (!desired.empty() && list.as_array().size() < max) {
    list.as_array().emplace_back(std::move(desired.begin()->second));
    desired.erase(desired.begin());
  }
}

// Upstream's reconcileByPortMapping for one group of ports.
Changes ReconcileGroup(const bj::object& service, const std::vector<bj::object>& existing,
                       DesiredGroup desired, const std::string& address_type, size_t max) {
  std::map<std::string, bj::object> by_name;
  std::set<std::string> unchanged, to_update, to_delete;
  // 1. Keep the endpoints still desired where they are, as desired now.
  for (const bj::object& slice : existing) {
    const std::string name = Name(slice);
    by_name[name] = slice;
    bj::array kept;
    bool endpoint_changed = false;
    const bj::array& endpoints = ArrayAt(slice, "endpoints");
    for (const bj::value& e : endpoints) {
      if (!e.is_object()) continue;
      auto want = desired.endpoints.find(EndpointKey(e.as_object()));
      if (want == desired.endpoints.end()) continue;
      if (!EqualBeyondKey(want->second, e.as_object())) endpoint_changed = true;
      kept.emplace_back(std::move(want->second));
      desired.endpoints.erase(want);
    }
    auto [labels, labels_changed] = SliceLabels(slice, service);
    if (endpoint_changed || kept.size() != endpoints.size()) {
      if (kept.empty()) {
        to_delete.insert(name);
      } else {
        bj::object& copy = by_name[name];
        copy["endpoints"] = std::move(kept);
        SetLabels(copy, std::move(labels));
        to_update.insert(name);
      }
    } else if (labels_changed) {
      SetLabels(by_name[name], std::move(labels));
      to_update.insert(name);
    } else {
      unchanged.insert(name);
    }
  }
  // 2. Fill the slices being updated anyway, fullest first.
  if (!desired.endpoints.empty() && !to_update.empty()) {
    std::vector<std::string> names(to_update.begin(), to_update.end());
    std::stable_sort(names.begin(), names.end(), [&](const std::string& a, const std::string& b) {
      return ArrayAt(by_name[a], "endpoints").size() > ArrayAt(by_name[b], "endpoints").size();
    });
    for (const std::string& name : names)
      Fill(by_name[name], desired.endpoints, max);
  }
  // 3. The rest into the unchanged slice they fit best, else new slices.
  Changes out;
  while (!desired.endpoints.empty()) {
    std::string fill;
    if (desired.endpoints.size() < max) {
      size_t closest = max;
      for (const std::string& name : unchanged) {
        size_t size = ArrayAt(by_name[name], "endpoints").size();
        if (size + desired.endpoints.size() > max) continue;
        size_t diff = max - (size + desired.endpoints.size());
        if (diff < closest) {
          closest = diff;
          fill = name;
        }
      }
    }
    if (fill.empty()) {
      bj::object slice = NewSlice(service, desired.ports, address_type);
      Fill(slice, desired.endpoints, max);
      out.create.push_back(std::move(slice));
    } else {
      Fill(by_name[fill], desired.endpoints, max);
      to_update.insert(fill);
      unchanged.erase(fill);
    }
  }
  for (const std::string& name : to_update)
    out.update.push_back(by_name[name]);
  for (const std::string& name : to_delete)
    out.remove.push_back(by_name[name]);
  return out;
}

// Upstream's reconcileByAddressType, up to the writes.
Changes ReconcileAddressType(const bj::object& service, const std::vector<bj::object>& pods,
                             const std::vector<bj::object>& existing, const NodeLookup& nodes,
                             const std::string& address_type, size_t max,
                             std::vector<std::string>& errors) {
  Changes out;
  std::map<std::string, std::vector<bj::object>> existing_by_ports;
  for (const bj::object& slice : existing) {
    if (OwnedBy(slice, service)) {
      existing_by_ports[PortMapKey(ArrayAt(slice, "ports"))].push_back(slice);
    } else {
      out.remove.push_back(slice);
    }
  }
  const bj::value* publish = ValueAt(service, {"spec", "publishNotReadyAddresses"});
  bool publish_not_ready = publish != nullptr && publish->is_bool() && publish->as_bool();
  std::map<std::string, DesiredGroup> desired;
  for (const bj::object& pod : pods) {
    if (!ShouldPodBeInEndpoints(pod, true)) continue;
    bj::array ports = EndpointPorts(service, pod);
    DesiredGroup& group = desired[PortMapKey(ports)];
    group.ports = std::move(ports);
    std::string node_name = StringAt(pod, {"spec", "nodeName"});
    std::optional<bj::object> node = nodes(node_name);
    if (!node && !publish_not_ready) {
      errors.push_back("skipping Pod " + Name(pod) + " for Service " +
                       StringAt(service, {"metadata", "namespace"}) + "/" + Name(service) +
                       ": Node " + node_name + " Not Found");
      continue;
    }
    bj::object endpoint = PodToEndpoint(pod, node, service, address_type);
    if (ArrayAt(endpoint, "addresses").empty()) continue;
    group.endpoints[EndpointKey(endpoint)] = std::move(endpoint);
  }
  for (auto& [key, group] : desired) {
    Changes c =
        ReconcileGroup(service, existing_by_ports[key], std::move(group), address_type, max);
    Append(out.create, std::move(c.create));
    Append(out.update, std::move(c.update));
    Append(out.remove, std::move(c.remove));
  }
  for (auto& [key, slices] : existing_by_ports) {
    if (!desired.contains(key)) Append(out.remove, std::move(slices));
  }
  // No endpoints at all: one empty placeholder slice stands for them.
  if (existing.size() == out.remove.size() && out.create.empty()) {
    bj::object placeholder = NewSlice(service, bj::array(), address_type);
    if (out.remove.size() == 1 && IsPlaceholder(out.remove.front(), placeholder)) {
      out.remove.clear();
    } else {
      out.create.push_back(std::move(placeholder));
    }
  }
  // A slice to create and one to delete become an update of the latter
  // (only one of this Service: an old Service's are being collected).
  for (size_t i = 0; i < out.remove.size() && !out.create.empty();) {
    const bj::object& gone = out.remove[i];
    bj::object& slice = out.create.back();
    if (StringAt(gone, {"addressType"}) != StringAt(slice, {"addressType"}) ||
        !OwnedBy(gone, service)) {
      ++i;
      continue;
    }
    bj::object& meta = slice["metadata"].as_object();
    meta["name"] = Name(gone);
    meta["resourceVersion"] = StringAt(gone, {"metadata", "resourceVersion"});
    out.update.push_back(std::move(slice));
    out.create.pop_back();
    out.remove.erase(out.remove.begin() + static_cast<std::ptrdiff_t>(i));
  }
  return out;
}

}  // namespace

bool OwnedBy(const bj::object& slice, const bj::object& service) {
  const std::string uid = StringAt(service, {"metadata", "uid"});
  const bj::value* owners = ValueAt(slice, {"metadata", "ownerReferences"});
  if (owners == nullptr || !owners->is_array()) return false;
  for (const bj::value& o : owners->as_array()) {
    if (!o.is_object()) continue;
    if (StringAt(o.as_object(), {"uid"}) == uid && StringAt(o.as_object(), {"kind"}) == "Service" &&
        StringAt(o.as_object(), {"apiVersion"}) == "v1") {
      return true;
    }
  }
  return false;
}

EndpointSlicePlan PlanEndpointSlices(const bj::object& service, const std::vector<bj::object>& pods,
                                     const std::vector<bj::object>& existing,
                                     const NodeLookup& nodes, size_t max_endpoints_per_slice) {
  EndpointSlicePlan plan;
  std::set<std::string> types = AddressTypes(service);
  std::map<std::string, std::vector<bj::object>> by_type;
  std::vector<bj::object> other_types;
  for (const bj::object& slice : existing) {
    std::string type = StringAt(slice, {"addressType"});
    if (types.contains(type)) {
      by_type[type].push_back(slice);
    } else {
      other_types.push_back(slice);
    }
  }
  size_t max = std::max<size_t>(max_endpoints_per_slice, 1);
  for (const std::string& type : types) {
    Changes c = ReconcileAddressType(service, pods, by_type[type], nodes, type, max, plan.errors);
    Append(plan.create, std::move(c.create));
    Append(plan.update, std::move(c.update));
    Append(plan.remove, std::move(c.remove));
  }
  Append(plan.remove, std::move(other_types));
  return plan;
}

}  // namespace berth::controlplane::controllers
