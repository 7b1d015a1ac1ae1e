// Placement <-> JSON for the container state file:
//   {"mode":"hybrid","paths":{"cpu":"/sys/fs/cgroup/cpu/x",...},
//    "relative":{"cpu":"/x",...},"roots":{"cpu":"/sys/fs/cgroup/cpu",...}}

#include <boost/json.hpp>

#include "cgroups/cgroups.h"
#include "common/json.h"

namespace berth::cgroups {

namespace {

namespace bj = boost::json;

bj::object ToObject(const std::map<std::string, std::string>& m) {
  bj::object o;
  for (const auto& [k, v] : m)
    o[k] = v;
  return o;
}

Result<std::map<std::string, std::string>> FromObject(const json::Field& f) {
  std::map<std::string, std::string> out;
  for (auto& [k, v] : BERTH_TRY(f.StringMap()))
    out[k] = std::move(v);
  return out;
}

}  // namespace

std::string PlacementToJson(const Placement& placement) {
  bj::object o;
  o["mode"] = ModeName(placement.mode);
  o["paths"] = ToObject(placement.paths);
  o["relative"] = ToObject(placement.relative);
  o["roots"] = ToObject(placement.roots);
  return bj::serialize(o);
}

Result<Placement> PlacementFromJson(const std::string& text) {
  bj::value doc = BERTH_TRY(json::Parse(text, "cgroup placement"));
  json::Field root(&doc, "cgroupPlacement");
  BERTH_TRY(root.ExpectObject());
  Placement p;
  p.mode = BERTH_TRY(ModeFromName(BERTH_TRY(root["mode"].String())));
  p.paths = BERTH_TRY(FromObject(root["paths"]));
  p.relative = BERTH_TRY(FromObject(root["relative"]));
  p.roots = BERTH_TRY(FromObject(root["roots"]));
  if (p.paths.empty()) return root["paths"].Invalid("no cgroup paths");
  for (const auto& [key, dir] : p.paths) {
    if (p.roots.count(key) == 0) return root["roots"].Invalid("no berth root for `" + key + "`");
  }
  return p;
}

}  // namespace berth::cgroups
