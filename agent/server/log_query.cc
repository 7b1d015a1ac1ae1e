#include "agent/server/log_query.h"

#include <optional>

#include "common/strings.h"

namespace berth::agent::kubelet {
namespace {

constexpr int64_t kNanos = 1'000'000'000;

Error Undecodable(const std::string& why) {
  return Error(Errc::kInvalidArgument, why);
}

Error Invalid(const std::string& why) {
  return Error(Errc::kFailedPrecondition, why);
}

// An optional integer parameter: absent or "" is none.
Result<std::optional<int64_t>> QueryInt(const Query& q, const std::string& key) {
  std::string v = q.Get(key);
  if (v.empty()) return std::optional<int64_t>();
  int64_t n = BERTH_TRY(ParseInt<int64_t>(v, key));
  return std::optional<int64_t>(n);
}

}  // namespace

bool QueryBool(const Query& query, const std::string& key) {
  if (!query.Has(key)) return false;
  std::string v = query.Get(key);
  for (char& c : v)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return v != "0" && v != "false";
}

Result<PodLogRequest> ParsePodLogQuery(const Query& query, int64_t now_unix_nanos) {
  PodLogRequest r;
  r.options.follow = QueryBool(query, "follow");
  r.options.timestamps = QueryBool(query, "timestamps");
  r.previous = QueryBool(query, "previous");

  std::string tail_key = "tailLines";
  if (std::string tail = query.Get("tail"); !tail.empty()) {
    tail_key = tail == "all" ? "" : "tail";  // backwards compatibility, as kubelet
  }
  Result<std::optional<int64_t>> tail =
      tail_key.empty() ? std::optional<int64_t>() : QueryInt(query, tail_key);
  Result<std::optional<int64_t>> limit = QueryInt(query, "limitBytes");
  Result<std::optional<int64_t>> since_seconds = QueryInt(query, "sinceSeconds");
  if (!tail.ok() || !limit.ok() || !since_seconds.ok()) {
    return Undecodable(!tail.ok()    ? tail.error().str()
                       : !limit.ok() ? limit.error().str()
                                     : since_seconds.error().str());
  }
  std::optional<LogTime> since_time;
  if (std::string t = query.Get("sinceTime"); !t.empty() && t != "null") {
    Result<LogTime> parsed = ParseRfc3339(t);
    if (!parsed.ok()) return Undecodable("sinceTime: " + parsed.error().str());
    since_time = *parsed;
  }

  if (*tail && **tail < 0) return Invalid("tailLines: must be greater than or equal to 0");
  if (*limit && **limit < 1) return Invalid("limitBytes: must be greater than 0");
  if (*since_seconds && since_time) {
    return Invalid("at most one of `sinceTime` or `sinceSeconds` may be specified");
  }
  if (*since_seconds && **since_seconds < 1) return Invalid("sinceSeconds: must be greater than 0");

  if (*tail) r.options.tail_lines = **tail;
  if (*limit) r.options.limit_bytes = **limit;
  if (*since_seconds) r.options.since_unix_nanos = now_unix_nanos - **since_seconds * kNanos;
  if (since_time) r.options.since_unix_nanos = since_time->unix_nanos;
  return r;
}

}  // namespace berth::agent::kubelet
