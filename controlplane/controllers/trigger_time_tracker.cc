#include "controlplane/controllers/trigger_time_tracker.h"

#include <ctime>

#include "common/time.h"
#include "controlplane/client/informer.h"
#include "controlplane/controllers/api_util.h"
#include "controlplane/controllers/pod_readiness.h"

namespace berth::controlplane::controllers {
namespace {

namespace bj = boost::json;

bool Digits(std::string_view text, size_t at, size_t n, int64_t& out) {
  if (at + n > text.size()) return false;
  out = 0;
  for (size_t i = at; i < at + n; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    out = out * 10 + (text[i] - '0');
  }
  return true;
}

// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

}  // namespace

std::optional<std::pair<int64_t, int64_t>> ParseRfc3339Time(std::string_view text) {
  int64_t year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!Digits(text, 0, 4, year) || text.size() < 20 || text[4] != '-' ||
      !Digits(text, 5, 2, month) || text[7] != '-' || !Digits(text, 8, 2, day) ||
      (text[10] != 'T' && text[10] != 't') || !Digits(text, 11, 2, hour) || text[13] != ':' ||
      !Digits(text, 14, 2, minute) || text[16] != ':' || !Digits(text, 17, 2, second)) {
    return std::nullopt;
  }
  size_t at = 19;
  int64_t nanos = 0;
  if (text[at] == '.') {
    int64_t scale = 100000000;
    for (++at; at < text.size() && text[at] >= '0' && text[at] <= '9'; ++at) {
      nanos += (text[at] - '0') * scale;
      scale /= 10;
    }
  }
  int64_t offset = 0;
  if (at < text.size() && (text[at] == 'Z' || text[at] == 'z')) {
    ++at;
  } else if (at < text.size() && (text[at] == '+' || text[at] == '-')) {
    int64_t oh = 0, om = 0;
    if (!Digits(text, at + 1, 2, oh) || at + 3 >= text.size() || text[at + 3] != ':' ||
        !Digits(text, at + 4, 2, om)) {
      return std::nullopt;
    }
    offset = (text[at] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
    at += 6;
  } else {
    return std::nullopt;
  }
  if (at != text.size()) return std::nullopt;
  int64_t seconds =
      DaysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offset;
  return std::make_pair(seconds, nanos);
}

std::string TriggerTimeTracker::Compute(const bj::object& service,
                                        const std::vector<bj::object>& pods) {
  const std::string key = client::ObjectKey(service);
  auto parse = [](const std::string& text) { return ParseRfc3339Time(text).value_or(Time{}); };
  State seen;
  bool known = false;
  {
    std::lock_guard lock(mu_);
    if (auto it = states_.find(key); it != states_.end()) {
      seen = it->second;
      known = true;
    }
  }
  Time earliest{};
  auto consider = [&](Time t) {
    if (earliest == Time{} || t < earliest) earliest = t;
  };
  State now;
  for (const bj::object& pod : pods) {
    Time t = parse(PodReadyTransitionTime(pod));
    if (t == Time{}) continue;
    std::string name = StringAt(pod, {"metadata", "name"});
    auto before = seen.pods.find(name);
    if (before == seen.pods.end() || t > before->second) consider(t);
    now.pods[name] = t;
  }
  now.service = parse(StringAt(service, {"metadata", "creationTimestamp"}));
  if (now.service > seen.service) consider(now.service);
  {
    std::lock_guard lock(mu_);
    states_[key] = std::move(now);
  }
  Time result = known ? earliest : parse(StringAt(service, {"metadata", "creationTimestamp"}));
  if (result == Time{}) return "";
  timespec ts{};
  ts.tv_sec = static_cast<time_t>(result.first);
  ts.tv_nsec = static_cast<long>(result.second);
  return FormatRfc3339Nano(ts);
}

void TriggerTimeTracker::DeleteService(const std::string& key) {
  std::lock_guard lock(mu_);
  states_.erase(key);
}

}  // namespace berth::controlplane::controllers
