// Events: core/v1, and events.k8s.io/v1 stored in core/v1's shape (one
// store, as upstream: an event written through either API reads through
// both). The field labels kubectl and controllers select on, and `kubectl
// get events`' columns (no Name column but with -o wide).

#include <utility>

#include "controlplane/server/api/kinds.h"

namespace berth::controlplane::api {
namespace {

namespace bj = boost::json;

class Event : public Kind {
 public:
  std::optional<std::string> Field(const bj::object& obj, std::string_view field) const override {
    constexpr std::string_view kInvolved = "involvedObject.";
    if (field.starts_with(kInvolved)) {
      std::string_view key = field.substr(kInvolved.size());
      for (std::string_view k :
           {"kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath"}) {
        if (key == k) return LookupString(obj, {"involvedObject", k});
      }
      return std::nullopt;
    }
    if (field == "reason" || field == "type" || field == "reportingComponent") {
      return LookupString(obj, {field});
    }
    if (field == "source") return LookupString(obj, {"source", "component"});
    return Kind::Field(obj, field);
  }

  std::vector<TableColumn> Columns() const override {
    return {{"Last Seen", "string", "", "Time when this Event was last seen", 0},
            {"Type", "string", "",
             "Type of this event (Normal, Warning), new types could be "
             "added in the future.",
             0},
            {"Reason", "string", "",
             "This should be a short, machine understandable string "
             "that gives the reason for this event being generated.",
             0},
            {"Object", "string", "", "The object this Event is about.", 0},
            {"Subobject", "string", "", "The subobject this Event is about.", 1},
            {"Source", "string", "", "The component reporting this event.", 1},
            {"Message", "string", "",
             "A human-readable description of the status of this "
             "operation.",
             0},
            {"First Seen", "string", "", "The time at which the event was first recorded.", 1},
            {"Count", "string", "", "The number of times this event has occurred.", 1},
            NameColumn()};
  }

  bj::array Cells(const bj::object& obj, time_t now) const override {
    std::string last = LookupString(obj, {"lastTimestamp"});
    if (last.empty()) last = LookupString(obj, {"eventTime"});
    if (last.empty()) last = LookupString(obj, {"metadata", "creationTimestamp"});
    std::string first = LookupString(obj, {"firstTimestamp"});
    if (first.empty()) first = last;
    auto since = [&](const std::string& t) {
      time_t at = ParseRfc3339(t);
      return at < 0 ? std::string("<unknown>") : HumanDuration(now - at);
    };
    std::string kind = LookupString(obj, {"involvedObject", "kind"});
    for (char& c : kind)
      c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    int64_t count = LookupInt(obj, {"count"});
    return {since(last),
            LookupString(obj, {"type"}),
            LookupString(obj, {"reason"}),
            kind + "/" + LookupString(obj, {"involvedObject", "name"}),
            LookupString(obj, {"involvedObject", "fieldPath"}),
            LookupString(obj, {"source", "component"}),
            LookupString(obj, {"message"}),
            since(first),
            std::to_string(count == 0 ? 1 : count),
            NameOf(obj)};
  }
};

// events.k8s.io/v1 field -> core/v1 field.
constexpr std::pair<std::string_view, std::string_view> kRenames[] = {
    {"regarding", "involvedObject"},
    {"note", "message"},
    {"deprecatedSource", "source"},
    {"deprecatedFirstTimestamp", "firstTimestamp"},
    {"deprecatedLastTimestamp", "lastTimestamp"},
    {"deprecatedCount", "count"},
    {"reportingController", "reportingComponent"},
};

void Rename(bj::object& obj, std::string_view from, std::string_view to) {
  auto it = obj.find(from);
  if (it == obj.end()) return;
  bj::value v = std::move(it->value());
  obj.erase(it);
  obj[to] = std::move(v);
}

bj::object AsCore(bj::object obj) {
  for (const auto& [v1, core] : kRenames)
    Rename(obj, v1, core);
  return obj;
}

class EventsV1 : public Kind {
 public:
  void ToStorage(bj::object& obj) const override { obj = AsCore(std::move(obj)); }
  void FromStorage(bj::object& obj) const override {
    for (const auto& [v1, core] : kRenames)
      Rename(obj, core, v1);
  }
  std::optional<std::string> Field(const bj::object& obj, std::string_view field) const override {
    std::string core(field);
    for (const auto& [v1, c] : kRenames) {
      if (field == v1 ||
          (field.starts_with(v1) && field.size() > v1.size() && field[v1.size()] == '.')) {
        core = std::string(c) + std::string(field.substr(v1.size()));
      }
    }
    return EventKind().Field(AsCore(obj), core);
  }
  std::vector<TableColumn> Columns() const override { return EventKind().Columns(); }
  bj::array Cells(const bj::object& obj, time_t now) const override {
    return EventKind().Cells(AsCore(obj), now);
  }
};

}  // namespace

const Kind& EventKind() {
  static const Event kind;
  return kind;
}

const Kind& EventsV1Kind() {
  static const EventsV1 kind;
  return kind;
}

}  // namespace berth::controlplane::api
