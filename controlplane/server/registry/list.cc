// list: resourceVersion semantics (unset: most recent; "0": any; with
// resourceVersionMatch=Exact: that revision; NotOlderThan), limit and
// continue tokens (upstream's format: base64 of {"v","rv","start"}), and
// selectors applied while paging so a page holds `limit` matches.

#include <boost/json.hpp>

#include "common/base64.h"
#include "common/time.h"
#include "controlplane/server/api/kinds.h"
#include "controlplane/server/api/table.h"
#include "controlplane/server/registry/rest.h"
#include "controlplane/server/registry/selection.h"

namespace berth::controlplane::registry {
namespace {

namespace bj = boost::json;

constexpr int64_t kPageRead = 500;  // rows read from the store per step

std::string ContinueToken(int64_t revision, const std::string& start_after_relative) {
  bj::object token{{"v", "meta.k8s.io/v1"},
                   {"rv", revision},
                   {"start", start_after_relative + std::string(1, '\0')}};
  return Base64Encode(bj::serialize(token));
}

struct ContinueAt {
  int64_t revision = 0;
  std::string start_after;  // relative to the list's prefix
};

std::optional<ContinueAt> ParseContinue(const std::string& token) {
  std::optional<std::string> text = Base64Decode(token);
  if (!text) return std::nullopt;
  boost::system::error_code ec;
  bj::value v = bj::parse(*text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const bj::object& o = v.as_object();
  const bj::value* rv = o.if_contains("rv");
  const bj::value* start = o.if_contains("start");
  if (rv == nullptr || !rv->is_int64() || start == nullptr || !start->is_string()) {
    return std::nullopt;
  }
  std::string s(start->as_string());
  if (!s.empty() && s.back() == '\0') s.pop_back();
  if (s.find("..") != std::string::npos) return std::nullopt;
  return ContinueAt{rv->as_int64(), s};
}

struct Page {
  std::vector<bj::object> items;
  int64_t revision = 0;
  std::string continue_token;
};

}  // namespace

ApiResult<std::vector<bj::object>> Rest::Select(const Call& c) {
  ApiResult<Selection> sel = SelectionFor(c);
  if (const api::ApiStatus* e = std::get_if<api::ApiStatus>(&sel)) return *e;
  const Selection& s = std::get<Selection>(sel);
  Result<storage::ListResult> list = store_.List({s.prefix, "", 0, 0});
  if (!list.ok()) return StoreError(c, list.error());
  std::vector<bj::object> out;
  for (const storage::KeyValue& kv : list->items) {
    Result<bj::object> obj = Decode(c.type, kv);
    if (obj.ok() && s.Matches(c.type, *obj)) out.push_back(std::move(*obj));
  }
  return out;
}

void Rest::List(Call& c) {
  ApiResult<Selection> sel = SelectionFor(c);
  if (const api::ApiStatus* e = std::get_if<api::ApiStatus>(&sel)) return c.Fail(*e);
  const Selection& s = std::get<Selection>(sel);

  int64_t limit = 0;
  if (std::string l = c.Param("limit"); !l.empty()) {
    std::optional<int64_t> v = ParseResourceVersion(l);
    if (!v) return c.Fail(api::BadRequest("limit: not a non-negative integer: " + l));
    limit = *v;
  }
  std::string rv_text = c.Param("resourceVersion");
  std::string match = c.Param("resourceVersionMatch");
  std::string token = c.Param("continue");
  int64_t revision = 0;
  std::string start_after;
  if (!token.empty()) {
    if (!rv_text.empty() && rv_text != "0") {
      return c.Fail(
          api::BadRequest("specifying resource version is not allowed when using continue"));
    }
    std::optional<ContinueAt> at = ParseContinue(token);
    if (!at) return c.Fail(api::BadRequest("continue key is not valid: " + token));
    revision = at->revision;
    start_after = s.prefix + at->start_after;
  } else if (!rv_text.empty()) {
    std::optional<int64_t> rv = ParseResourceVersion(rv_text);
    if (!rv) return c.Fail(api::BadRequest("invalid resource version: " + rv_text));
    if (!match.empty() && match != "Exact" && match != "NotOlderThan") {
      return c.Fail(api::BadRequest("resourceVersionMatch: Unsupported value: \"" + match +
                                    "\": supported values: \"Exact\", \"NotOlderThan\""));
    }
    if (match == "Exact") {
      if (*rv == 0) {
        return c.Fail(api::BadRequest(
            "resourceVersionMatch \"Exact\" is forbidden for resourceVersion \"0\""));
      }
      revision = *rv;
    } else if (*rv > 0) {
      // NotOlderThan: this store's newest state always is, unless the
      // client names a revision the store has not reached.
      Result<int64_t> current = store_.CurrentRevision();
      if (!current.ok()) return c.Fail(StoreError(c, current.error()));
      if (*rv > *current) {
        return c.Fail(api::Timeout("Too large resource version: " + rv_text +
                                   ", current: " + std::to_string(*current)));
      }
    }
  } else if (!match.empty()) {
    return c.Fail(
        api::BadRequest("resourceVersionMatch is forbidden unless resourceVersion is provided"));
  }

  Page page;
  page.revision = revision;
  bool more = false;
  std::string last_key;
  while (true) {
    storage::ListOptions options{s.prefix, start_after, page.revision, kPageRead};
    if (limit > 0)
      options.limit = std::max<int64_t>(limit - static_cast<int64_t>(page.items.size()), 1);
    if (limit > 0 && !s.labels.empty()) options.limit = kPageRead;
    if (limit > 0 && !s.fields.empty()) options.limit = kPageRead;
    Result<storage::ListResult> chunk = store_.List(options);
    if (!chunk.ok()) {
      if (chunk.error().code() == Errc::kOutOfRange && !token.empty()) {
        return c.Fail(api::Expired(
            "The provided continue parameter is too old to display a consistent list result. "
            "You can start a new list without the continue parameter, or use the continue token "
            "in this response to retrieve the remainder of the results. Continuing with the "
            "provided token results in an inconsistent list - objects that were created, "
            "modified, or deleted between the time the first chunk was returned and now may "
            "show up in the list."));
      }
      if (chunk.error().code() == Errc::kOutOfRange) {
        return c.Fail(api::Expired("too old resource version: " + rv_text));
      }
      return c.Fail(StoreError(c, chunk.error()));
    }
    page.revision = chunk->revision;
    bool filled = false;
    for (const storage::KeyValue& kv : chunk->items) {
      last_key = kv.key;
      Result<bj::object> obj = Decode(c.type, kv);
      if (!obj.ok()) return c.Fail(api::Internal(obj.error().str()));
      if (!s.Matches(c.type, *obj)) continue;
      page.items.push_back(std::move(*obj));
      if (limit > 0 && static_cast<int64_t>(page.items.size()) == limit) {
        filled = true;
        break;
      }
    }
    if (filled) {
      // More only if something is left after the last returned key.
      more = chunk->more || last_key != chunk->items.back().key;
      break;
    }
    if (!chunk->more) break;
    start_after = last_key;
  }
  if (more) page.continue_token = ContinueToken(page.revision, last_key.substr(s.prefix.size()));
  std::string rv = std::to_string(page.revision);

  if (api::WantsTable(c.req.Header("accept"))) {
    api::TableOptions options;
    options.include = api::ParseIncludeObject(c.Param("includeObject"));
    options.resource_version = rv;
    options.continue_token = page.continue_token;
    std::vector<const bj::object*> rows;
    for (const bj::object& o : page.items)
      rows.push_back(&o);
    return c.ReplyJson(200, api::ToTable(*c.type.behaviour, rows, options, WallClockNow().tv_sec));
  }
  bj::object metadata{{"resourceVersion", rv}};
  if (!page.continue_token.empty()) metadata["continue"] = page.continue_token;
  bj::array items;
  items.reserve(page.items.size());
  for (bj::object& o : page.items)
    items.emplace_back(std::move(o));
  c.ReplyJson(200, bj::object{{"kind", c.type.kind + "List"},
                              {"apiVersion", c.type.GroupVersion()},
                              {"metadata", std::move(metadata)},
                              {"items", std::move(items)}});
}

}  // namespace berth::controlplane::registry
