// watch: a chunked stream of {"type","object"} events. resourceVersion
// unset or "0" starts with the current objects as ADDED; a revision
// replays what came after it; a compacted one ends in an ERROR event
// carrying a 410 Expired Status, as upstream does after a 200. Selectors
// turn an object moving out of (into) the selection into DELETED (ADDED).
// Bookmarks (allowWatchBookmarks) carry the last revision sent; the
// stream ends after timeoutSeconds, when the client hangs up, or on
// shutdown.

#include <boost/json.hpp>
#include <random>

#include "common/time.h"
#include "controlplane/server/api/kinds.h"
#include "controlplane/server/api/table.h"
#include "controlplane/server/registry/rest.h"
#include "controlplane/server/registry/selection.h"

namespace berth::controlplane::registry {
namespace {

namespace bj = boost::json;

constexpr std::chrono::milliseconds kPoll{500};
constexpr int64_t kBookmarkEverySeconds = 60;

class EventWriter {
 public:
  EventWriter(const Call& c, bool table) : c_(c), table_(table) {}

  Status Write(std::string_view type, const bj::object& obj) {
    bj::object event{{"type", type}};
    if (table_ && type != "BOOKMARK" && type != "ERROR") {
      api::TableOptions options;
      options.include = api::ParseIncludeObject(c_.Param("includeObject"));
      options.columns = first_;
      options.resource_version = api::LookupString(obj, {"metadata", "resourceVersion"});
      first_ = false;
      event["object"] = api::ToTable(*c_.type.behaviour, {&obj}, options, WallClockNow().tv_sec);
    } else {
      event["object"] = obj;
    }
    std::string line = bj::serialize(event);
    line += '\n';
    return c_.w.WriteChunk(line);
  }

 private:
  const Call& c_;
  bool table_;
  bool first_ = true;
};

}  // namespace

void Rest::Watch(Call& c) {
  ApiResult<Selection> sel = SelectionFor(c);
  if (const api::ApiStatus* e = std::get_if<api::ApiStatus>(&sel)) return c.Fail(*e);
  const Selection& s = std::get<Selection>(sel);

  int64_t timeout = 0;
  if (std::string t = c.Param("timeoutSeconds"); !t.empty()) {
    std::optional<int64_t> v = ParseResourceVersion(t);
    if (!v) return c.Fail(api::BadRequest("timeoutSeconds: not a non-negative integer: " + t));
    timeout = *v;
  }
  if (timeout == 0) {
    // Upstream spreads watch lifetimes over [min-request-timeout, 2x) so
    // clients do not all reconnect at once.
    thread_local std::mt19937 rng{std::random_device{}()};
    timeout = 1800 + static_cast<int64_t>(rng() % 1800);
  }
  bool bookmarks = c.Param("allowWatchBookmarks") == "true";
  std::string rv_text = c.Param("resourceVersion");
  int64_t after = 0;
  std::vector<bj::object> initial;
  if (rv_text.empty() || rv_text == "0") {
    Result<storage::ListResult> list = store_.List({s.prefix, "", 0, 0});
    if (!list.ok()) return c.Fail(StoreError(c, list.error()));
    for (const storage::KeyValue& kv : list->items) {
      Result<bj::object> obj = Decode(c.type, kv);
      if (obj.ok() && s.Matches(c.type, *obj)) initial.push_back(std::move(*obj));
    }
    after = list->revision;
  } else {
    std::optional<int64_t> rv = ParseResourceVersion(rv_text);
    if (!rv) return c.Fail(api::BadRequest("invalid resource version: " + rv_text));
    after = *rv;
  }

  Result<std::unique_ptr<storage::WatchStream>> stream = store_.Watch(s.prefix, after);
  if (!stream.ok() && stream.error().code() != Errc::kOutOfRange) {
    return c.Fail(StoreError(c, stream.error()));
  }
  if (!c.w.StartStream(200, "application/json").ok()) return;
  EventWriter out(c, api::WantsTable(c.req.Header("accept")));
  if (!stream.ok()) {
    // Compacted: a 410 inside the stream, which clients answer by relisting.
    bj::value status = bj::parse(api::StatusJson(api::Expired(
        "too old resource version: " + rv_text + " (" + stream.error().message() + ")")));
    (void)out.Write("ERROR", status.as_object());
    (void)c.w.EndStream();
    return;
  }
  for (const bj::object& obj : initial)
    if (!out.Write("ADDED", obj).ok()) return;

  int64_t last_sent = after;
  int64_t deadline = MonotonicNanos() + timeout * 1'000'000'000;
  int64_t next_bookmark = MonotonicNanos() + kBookmarkEverySeconds * 1'000'000'000;
  while (!stopping_ && MonotonicNanos() < deadline) {
    Result<std::vector<storage::Event>> events = (*stream)->Next(kPoll);
    if (!events.ok()) {
      // Fell behind or the store closed: end the stream; clients rewatch
      // from their last revision.
      break;
    }
    if (events->empty()) {
      if (c.w.PeerClosed()) return;
      if (bookmarks && MonotonicNanos() >= next_bookmark) {
        bj::object marker{{"kind", c.type.kind},
                          {"apiVersion", c.type.GroupVersion()},
                          {"metadata", bj::object{{"resourceVersion", std::to_string(last_sent)}}}};
        if (!out.Write("BOOKMARK", marker).ok()) return;
        next_bookmark = MonotonicNanos() + kBookmarkEverySeconds * 1'000'000'000;
      }
      continue;
    }
    for (const storage::Event& e : *events) {
      Result<bj::object> now = Decode(c.type, e.kv);
      if (!now.ok()) continue;
      bool matches = s.Matches(c.type, *now);
      bool matched = false;
      if (e.prev) {
        Result<bj::object> before = Decode(c.type, *e.prev);
        matched = before.ok() && s.Matches(c.type, *before);
      }
      std::string_view type;
      switch (e.type) {
        case storage::EventType::kCreated:
          type = matches ? "ADDED" : "";
          break;
        case storage::EventType::kModified:
          type = matches ? (matched ? "MODIFIED" : "ADDED") : (matched ? "DELETED" : "");
          break;
        case storage::EventType::kDeleted:
          type = matches ? "DELETED" : "";
          break;
      }
      last_sent = e.kv.mod_revision;
      if (type.empty()) continue;
      if (!out.Write(type, *now).ok()) return;
    }
  }
  (void)c.w.EndStream();
}

}  // namespace berth::controlplane::registry
