// RLIMIT_* names and the parsing of process.rlimits / process.oomScoreAdj.

#include "runtime/oci/security/rlimits.h"

#include <algorithm>
#include <iterator>
#include <map>
#include <string_view>

namespace berth::runtime::security {
namespace {

struct RlimitEntry {
  std::string_view name;
  int resource;
};

// getrlimit(2)'s list.
constexpr RlimitEntry kRlimits[] = {
    {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_NPROC", RLIMIT_NPROC},
    {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
    {"RLIMIT_RTTIME", RLIMIT_RTTIME},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_STACK", RLIMIT_STACK},
};

constexpr int kOomScoreAdjMin = -1000;
constexpr int kOomScoreAdjMax = 1000;

Result<Rlimit> ParseRlimit(const json::Field& field) {
  BERTH_TRY(field.ExpectObject());
  Rlimit limit;
  limit.name = BERTH_TRY(field["type"].String());
  limit.resource = RlimitFromName(limit.name);
  if (limit.resource < 0) return field["type"].Invalid("unknown rlimit \"" + limit.name + "\"");
  limit.soft = BERTH_TRY(field["soft"].Int<uint64_t>());
  limit.hard = BERTH_TRY(field["hard"].Int<uint64_t>());
  if (limit.soft > limit.hard) {
    return field.Invalid(limit.name + ": soft limit " + std::to_string(limit.soft) +
                         " is greater than hard limit " + std::to_string(limit.hard));
  }
  return limit;
}

}  // namespace

int RlimitFromName(const std::string& name) {
  for (const RlimitEntry& entry : kRlimits) {
    if (entry.name == name) return entry.resource;
  }
  return -1;
}

std::string RlimitName(int resource) {
  for (const RlimitEntry& entry : kRlimits) {
    if (entry.resource == resource) return std::string(entry.name);
  }
  return std::to_string(resource);
}

std::vector<std::string> KnownRlimits() {
  std::vector<std::string> out;
  for (const RlimitEntry& entry : kRlimits)
    out.emplace_back(entry.name);
  return out;
}

Result<std::vector<Rlimit>> ParseRlimits(const json::Field& field) {
  std::vector<Rlimit> out;
  std::map<int, std::string> seen;  // resource -> path of its entry
  for (const json::Field& item : BERTH_TRY(field.Items())) {
    Rlimit limit = BERTH_TRY(ParseRlimit(item));
    auto [it, inserted] = seen.emplace(limit.resource, item.path());
    if (!inserted) {
      return item["type"].Invalid("duplicate rlimit \"" + limit.name + "\" (also at " + it->second +
                                  ")");
    }
    out.push_back(std::move(limit));
  }
  return out;
}

Result<std::optional<int>> ParseOomScoreAdj(const json::Field& field) {
  std::optional<int> value = BERTH_TRY(field.OptInt<int>());
  if (value && (*value < kOomScoreAdjMin || *value > kOomScoreAdjMax)) {
    return field.Invalid("value " + std::to_string(*value) + " out of range (-1000 to 1000)");
  }
  return value;
}

}  // namespace berth::runtime::security
