#include "controlplane/scheduler/resources.h"

#include <array>
#include <cstdlib>
#include <limits>

#include "common/json.h"

namespace berth::controlplane::scheduler {
namespace {

namespace bj = boost::json;
using json::Field;
using Int128 = __int128;

// Suffixes of resource.Quantity: decimal SI (power of ten) and binary SI
// (power of two).
struct Suffix {
  std::string_view text;
  int exp10;
  int exp2;
};
constexpr std::array<Suffix, 16> kSuffixes = {{{"", 0, 0},
                                               {"n", -9, 0},
                                               {"u", -6, 0},
                                               {"m", -3, 0},
                                               {"k", 3, 0},
                                               {"M", 6, 0},
                                               {"G", 9, 0},
                                               {"T", 12, 0},
                                               {"P", 15, 0},
                                               {"E", 18, 0},
                                               {"Ki", 0, 10},
                                               {"Mi", 0, 20},
                                               {"Gi", 0, 30},
                                               {"Ti", 0, 40},
                                               {"Pi", 0, 50},
                                               {"Ei", 0, 60}}};

// The exponent of a suffix ("k", "Mi", "e3"), false when it is none.
bool ReadSuffix(std::string_view s, int& exp10, int& exp2) {
  for (const Suffix& suffix : kSuffixes) {
    if (s == suffix.text) {
      exp10 = suffix.exp10;
      exp2 = suffix.exp2;
      return true;
    }
  }
  if (s.size() < 2 || (s[0] != 'e' && s[0] != 'E')) return false;
  size_t i = 1;
  bool negative = false;
  if (s[i] == '+' || s[i] == '-') negative = s[i++] == '-';
  if (i == s.size()) return false;
  int value = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    // Beyond any int64 either way; the caller reports range or rounds.
    value = std::min(value * 10 + (s[i] - '0'), 100000);
  }
  exp10 = negative ? -value : value;
  exp2 = 0;
  return true;
}

Int128 Pow10(int n) {
  Int128 p = 1;
  while (n-- > 0)
    p *= 10;
  return p;
}

// Resources as an array, for the per-resource arithmetic of PodRequests.
enum Res { kCpu, kMemory, kEphemeral, kResCount };
constexpr std::array<std::string_view, kResCount> kResNames = {"cpu", "memory",
                                                               "ephemeral-storage"};
struct List {
  std::array<int64_t, kResCount> v{};
  std::array<bool, kResCount> set{};
};

void Add(List& to, const List& from) {
  for (int r = 0; r < kResCount; ++r) {
    to.v[r] += from.v[r];
    to.set[r] = to.set[r] || from.set[r];
  }
}

void Max(List& to, const List& from) {
  for (int r = 0; r < kResCount; ++r) {
    if (from.v[r] > to.v[r]) to.v[r] = from.v[r];
    to.set[r] = to.set[r] || from.set[r];
  }
}

// A quantity field: a string ("500m") or, as Quantity's JSON decoding
// allows, a number. Negative amounts are refused: neither requests nor
// capacity can be.
Result<int64_t> QuantityField(const Field& f, bool milli) {
  const bj::value& v = *f.raw();
  std::string text;
  if (v.is_string()) {
    text = std::string(v.get_string());
  } else if (v.is_number()) {
    text = bj::serialize(v);
  } else {
    return f.TypeError("quantity");
  }
  Result<int64_t> q = ParseQuantity(text, milli);
  if (!q.ok()) return f.Invalid(q.error().message());
  if (*q < 0)
    return f.Invalid("Invalid value: \"" + text + "\": must be greater than or equal to 0");
  return *q;
}

// A v1.ResourceList (requests, limits, overhead, allocatable): the
// resources berth schedules by; others (extended resources, hugepages) are
// ignored.
Result<List> ReadList(const Field& f) {
  List out;
  BERTH_TRY(f.ExpectObject());
  for (int r = 0; r < kResCount; ++r) {
    Field item = f[kResNames[r]];
    if (!item.present()) continue;
    out.v[r] = BERTH_TRY(QuantityField(item, r == kCpu));
    out.set[r] = true;
  }
  return out;
}

// A container's requests; a resource with only a limit requests its limit,
// as the apiserver's defaulting makes it.
Result<List> ContainerRequests(const Field& container) {
  BERTH_TRY(container.ExpectObject());
  Field resources = container["resources"];
  BERTH_TRY(resources.ExpectObject());
  List requests = BERTH_TRY(ReadList(resources["requests"]));
  List limits = BERTH_TRY(ReadList(resources["limits"]));
  for (int r = 0; r < kResCount; ++r) {
    if (!requests.set[r] && limits.set[r]) {
      requests.v[r] = limits.v[r];
      requests.set[r] = true;
    }
  }
  return requests;
}

Result<bool> IsRestartable(const Field& container) {
  std::optional<std::string> policy = BERTH_TRY(container["restartPolicy"].OptString());
  return policy && *policy == "Always";
}

Resources ToResources(const List& list) {
  Resources out;
  out.milli_cpu = list.v[kCpu];
  out.memory = list.v[kMemory];
  out.ephemeral_storage = list.v[kEphemeral];
  return out;
}

}  // namespace

Result<int64_t> ParseQuantity(std::string_view text, bool milli_out) {
  auto bad = [&](std::string_view why) {
    return Error(Errc::kInvalidArgument, "\"" + std::string(text) + "\" " + std::string(why));
  };
  size_t i = 0;
  bool negative = false;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) negative = text[i++] == '-';
  // The mantissa as its significant digits and a power of ten.
  std::string digits;
  int frac_len = 0;
  bool seen_digit = false;
  bool seen_point = false;
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (c == '.' && !seen_point) {
      seen_point = true;
    } else if (c >= '0' && c <= '9') {
      seen_digit = true;
      if (seen_point) ++frac_len;
      if (!digits.empty() || c != '0') digits += c;
    } else {
      break;
    }
  }
  if (!seen_digit) return bad("is not a quantity");
  int exp10 = 0;
  int exp2 = 0;
  if (!ReadSuffix(text.substr(i), exp10, exp2)) return bad("is not a quantity");
  exp10 += (milli_out ? 3 : 0) - frac_len;
  while (!digits.empty() && digits.back() == '0') {
    digits.pop_back();
    ++exp10;
  }
  if (digits.empty()) return int64_t{0};

  // value = digits * 10^exp10 * 2^exp2, rounded up. It is at least
  // 10^(size + exp10 - 1), so past 19 digits it cannot fit an int64.
  auto size = static_cast<int>(digits.size());
  if (size + exp10 > 19) return bad("is out of range");
  bool sticky = false;  // digits dropped below: round up
  if (size > 20) {
    // Then exp10 < 0: keep 20 digits so that digits * 2^60 fits 128 bits.
    exp10 += size - 20;
    digits.resize(20);
    sticky = true;
  }
  Int128 mantissa = 0;
  for (char c : digits)
    mantissa = mantissa * 10 + (c - '0');
  Int128 value = 0;
  if (exp10 >= 0) {
    value = (mantissa * Pow10(exp10)) << exp2;
  } else if (-exp10 > 38) {
    value = 1;  // below one, above zero
  } else {
    Int128 scaled = mantissa << exp2;
    Int128 divisor = Pow10(-exp10);
    value = scaled / divisor + ((scaled % divisor != 0 || sticky) ? 1 : 0);
  }
  if (value > std::numeric_limits<int64_t>::max()) return bad("is out of range");
  auto out = static_cast<int64_t>(value);
  return negative ? -out : out;
}

Resources& Resources::operator+=(const Resources& o) {
  milli_cpu += o.milli_cpu;
  memory += o.memory;
  ephemeral_storage += o.ephemeral_storage;
  pods += o.pods;
  return *this;
}

Resources& Resources::operator-=(const Resources& o) {
  milli_cpu -= o.milli_cpu;
  memory -= o.memory;
  ephemeral_storage -= o.ephemeral_storage;
  pods -= o.pods;
  return *this;
}

// As upstream's resourcehelper.AggregateContainerRequests: the sum over
// containers and restartable init containers ("sidecars"), raised to what
// any init container needs while it runs (itself plus the sidecars started
// before it), plus the pod's overhead.
Result<Resources> PodRequests(const boost::json::object& pod) {
  Field spec(pod.if_contains("spec"), "spec");
  BERTH_TRY(spec.ExpectObject());
  List sum;
  for (const Field& container : BERTH_TRY(spec["containers"].Items()))
    Add(sum, BERTH_TRY(ContainerRequests(container)));

  List sidecars;  // restartable init containers so far
  List init_max;
  for (const Field& container : BERTH_TRY(spec["initContainers"].Items())) {
    List requests = BERTH_TRY(ContainerRequests(container));
    if (BERTH_TRY(IsRestartable(container))) {
      Add(sum, requests);
      Add(sidecars, requests);
      Max(init_max, sidecars);
    } else {
      Add(requests, sidecars);
      Max(init_max, requests);
    }
  }
  Max(sum, init_max);
  Add(sum, BERTH_TRY(ReadList(spec["overhead"])));
  Resources out = ToResources(sum);
  out.pods = 1;
  return out;
}

// A node with no "pods" in either list takes no pods, as upstream's
// NodeInfo (AllowedPodNumber 0) has it; kubelets always report it.
Result<Resources> NodeAllocatable(const boost::json::object& node) {
  Field status(node.if_contains("status"), "status");
  BERTH_TRY(status.ExpectObject());
  Field allocatable = status["allocatable"];
  Field capacity = status["capacity"];
  BERTH_TRY(allocatable.ExpectObject());
  BERTH_TRY(capacity.ExpectObject());
  auto read = [&](std::string_view name, bool milli) -> Result<int64_t> {
    Field f = allocatable[name];
    if (!f.present()) f = capacity[name];
    if (!f.present()) return int64_t{0};
    return QuantityField(f, milli);
  };
  Resources out;
  out.milli_cpu = BERTH_TRY(read("cpu", true));
  out.memory = BERTH_TRY(read("memory", false));
  out.ephemeral_storage = BERTH_TRY(read("ephemeral-storage", false));
  out.pods = BERTH_TRY(read("pods", false));
  return out;
}

}  // namespace berth::controlplane::scheduler
