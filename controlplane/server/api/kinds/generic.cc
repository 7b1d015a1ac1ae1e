// The behaviour every kind starts from, and the helpers the kinds share.

#include <cstdio>
#include <string>

#include "controlplane/server/api/kinds.h"

namespace berth::controlplane::api {

std::optional<std::string> Kind::Field(const boost::json::object& obj,
                                       std::string_view field) const {
  if (field == "metadata.name") return LookupString(obj, {"metadata", "name"});
  if (field == "metadata.namespace") return LookupString(obj, {"metadata", "namespace"});
  return std::nullopt;
}

std::vector<TableColumn> Kind::Columns() const {
  return {NameColumn(), AgeColumn()};
}

boost::json::array Kind::Cells(const boost::json::object& obj, time_t now) const {
  return {NameOf(obj), Age(obj, now)};
}

TableColumn NameColumn() {
  return {"Name", "string", "name",
          "Name must be unique within a namespace. Is required when creating resources, although "
          "some resources may allow a client to request the generation of an appropriate name "
          "automatically.",
          0};
}

TableColumn AgeColumn() {
  return {"Age", "string", "",
          "CreationTimestamp is a timestamp representing the server time when this object was "
          "created.",
          0};
}

std::string NameOf(const boost::json::object& obj) {
  return LookupString(obj, {"metadata", "name"});
}

const Kind& GenericKind() {
  static const Kind kind;
  return kind;
}

const Kind& PathSegmentNamedKind() {
  class PathSegmentNamed : public Kind {
   public:
    NameRule name_rule() const override { return NameRule::kPathSegment; }
  };
  static const PathSegmentNamed kind;
  return kind;
}

namespace {

// "<major><unit>" and, unless zero, "<minor><unit>" after it.
std::string Units(long long major, char major_unit, long long minor = 0, char minor_unit = 0) {
  std::string out = std::to_string(major) + major_unit;
  if (minor != 0) out += std::to_string(minor) + minor_unit;
  return out;
}

}  // namespace

std::string HumanDuration(int64_t s) {
  if (s < -1) return "<invalid>";
  if (s < 0) return "0s";
  if (s < 120) return Units(s, 's');
  long long minutes = s / 60, hours = s / 3600, days = hours / 24;
  if (minutes < 10) return Units(minutes, 'm', s % 60, 's');
  if (minutes < 180) return Units(minutes, 'm');
  if (hours < 8) return Units(hours, 'h', minutes % 60, 'm');
  if (hours < 48) return Units(hours, 'h');
  if (hours < 24LL * 8) return Units(days, 'd', hours % 24, 'h');
  if (hours < 24LL * 365 * 2) return Units(days, 'd');
  if (hours < 24LL * 365 * 8) return Units(days / 365, 'y', days % 365, 'd');
  return Units(days / 365, 'y');
}

time_t ParseRfc3339(std::string_view text) {
  int y, mo, d, h, mi, s;
  if (text.size() < 20 || std::sscanf(std::string(text.substr(0, 19)).c_str(),
                                      "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &s) != 6) {
    return -1;
  }
  // Days from the civil date (Howard Hinnant's algorithm); UTC only, as
  // the apiserver writes every timestamp.
  y -= mo <= 2;
  long era = (y >= 0 ? y : y - 399) / 400;
  long yoe = y - era * 400;
  long doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  long days = era * 146097 + doe - 719468;
  return static_cast<time_t>(days * 86400 + h * 3600L + mi * 60L + s);
}

std::string Age(const boost::json::object& obj, time_t now) {
  time_t created = ParseRfc3339(LookupString(obj, {"metadata", "creationTimestamp"}));
  if (created < 0) return "<unknown>";
  return HumanDuration(now - created);
}

const boost::json::value* Lookup(const boost::json::object& obj,
                                 std::initializer_list<std::string_view> path) {
  const boost::json::object* at = &obj;
  const boost::json::value* v = nullptr;
  for (std::string_view key : path) {
    if (at == nullptr) return nullptr;
    v = at->if_contains(key);
    if (v == nullptr) return nullptr;
    at = v->if_object();
  }
  return v;
}

std::string LookupString(const boost::json::object& obj,
                         std::initializer_list<std::string_view> path) {
  const boost::json::value* v = Lookup(obj, path);
  if (v == nullptr) return "";
  if (v->is_string()) return std::string(v->as_string());
  if (v->is_bool()) return v->as_bool() ? "true" : "false";
  if (v->is_int64()) return std::to_string(v->as_int64());
  return "";
}

int64_t LookupInt(const boost::json::object& obj, std::initializer_list<std::string_view> path) {
  const boost::json::value* v = Lookup(obj, path);
  if (v == nullptr) return 0;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64()) return static_cast<int64_t>(v->as_uint64());
  return 0;
}

boost::json::object& Child(boost::json::object& obj, std::string_view key) {
  boost::json::value& v = obj[key];
  if (!v.is_object()) v = boost::json::object();
  return v.as_object();
}

void SetDefault(boost::json::object& obj, std::string_view key, boost::json::value value) {
  boost::json::value* v = obj.if_contains(key);
  if (v == nullptr || v->is_null()) obj[key] = std::move(value);
}

}  // namespace berth::controlplane::api
