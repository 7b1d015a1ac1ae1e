#include "volumes/empty_dir.h"

#include <sys/stat.h>

#include <algorithm>
#include <optional>

#include "common/file.h"
#include "common/quantity.h"

namespace berth::volumes {
namespace {

namespace bj = boost::json;

const bj::object* ObjectAt(const bj::object* obj, std::string_view key) {
  if (obj == nullptr) return nullptr;
  const bj::value* v = obj->if_contains(key);
  return v != nullptr ? v->if_object() : nullptr;
}

// A memory quantity in `list` (resources.limits, spec.overhead); nullopt
// when unset.
Result<std::optional<int64_t>> Memory(const bj::object* list, std::string_view what) {
  const bj::value* v = list != nullptr ? list->if_contains("memory") : nullptr;
  if (v == nullptr || v->is_null()) return std::optional<int64_t>();
  std::string text = v->is_string() ? std::string(v->get_string()) : bj::serialize(*v);
  Result<int64_t> q = ParseQuantity(text, false);
  if (!q.ok()) return Error(Errc::kInvalidArgument, std::string(what) + ": " + q.error().message());
  return std::optional<int64_t>(*q);
}

// The pod's memory limit as the pod cgroup gets it: the larger of the app
// containers plus sidecars and each init container plus the sidecars
// started before it, plus overhead. 0 unless every container has one.
Result<int64_t> PodMemoryLimit(const bj::object& pod) {
  const bj::object* spec = ObjectAt(&pod, "spec");
  int64_t apps = 0;
  int64_t sidecars = 0;
  int64_t init_peak = 0;
  for (std::string_view list : {"initContainers", "containers"}) {
    const bj::value* containers = spec != nullptr ? spec->if_contains(list) : nullptr;
    if (containers == nullptr || !containers->is_array()) continue;
    for (const bj::value& c : containers->get_array()) {
      const bj::object* container = c.if_object();
      std::optional<int64_t> limit = BERTH_TRY(
          Memory(ObjectAt(ObjectAt(container, "resources"), "limits"), "resources.limits.memory"));
      if (!limit || *limit <= 0) return 0;
      if (list == "containers") {
        apps += *limit;
        continue;
      }
      const bj::value* policy = container->if_contains("restartPolicy");
      if (policy != nullptr && policy->is_string() && policy->get_string() == "Always") {
        sidecars += *limit;
      } else {
        init_peak = std::max(init_peak, *limit + sidecars);
      }
    }
  }
  std::optional<int64_t> overhead =
      BERTH_TRY(Memory(ObjectAt(spec, "overhead"), "spec.overhead.memory"));
  return std::max(apps + sidecars, init_peak) + overhead.value_or(0);
}

}  // namespace

Result<int64_t> MemoryVolumeSize(const bj::object& pod, int64_t size_limit, int64_t node_memory) {
  int64_t size = node_memory;
  auto lower_to = [&size](int64_t candidate) {
    if (candidate > 0 && (size <= 0 || candidate <= size)) size = candidate;
  };
  lower_to(BERTH_TRY(PodMemoryLimit(pod)));
  lower_to(size_limit);
  return size;
}

Result<bool> EnsureDiskDir(const std::string& dir) {
  struct stat st {};
  if (::lstat(dir.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) {
      return Error(Errc::kFailedPrecondition, dir + " exists and is not a directory");
    }
    return false;
  }
  if (errno != ENOENT) return Error::Sys("lstat", dir);
  BERTH_TRY(MkdirAll(Dirname(dir), 0750));
  if (::mkdir(dir.c_str(), 0777) != 0) return Error::Sys("mkdir", dir);
  if (::chmod(dir.c_str(), 0777) != 0) return Error::Sys("chmod", dir);
  return true;
}

}  // namespace berth::volumes
