#include "proxy-ebpf/maps/bpf_map.h"

#include <bpf/bpf.h>

#include <algorithm>
#include <cerrno>

namespace berth::proxy {
namespace {

// Elements per batch call: bounded so one call's kernel copy stays small.
constexpr size_t kBatchElements = 8192;

Error MapError(const char* op, const char* map, int err) {
  return Error::Sys(op, std::string("map ") + map, err);
}

}  // namespace

Result<bool> MapLookup(int fd, const void* key, void* value, const char* map) {
  if (bpf_map_lookup_elem(fd, key, value) == 0) return true;
  if (errno == ENOENT) return false;
  return MapError("bpf_map_lookup_elem", map, errno);
}

Result<std::vector<std::vector<uint8_t>>> MapKeys(int fd, size_t key_size, const char* map) {
  std::vector<std::vector<uint8_t>> keys;
  std::vector<uint8_t> next(key_size);
  const void* previous = nullptr;
  while (bpf_map_get_next_key(fd, previous, next.data()) == 0) {
    keys.push_back(next);
    previous = keys.back().data();
  }
  if (errno != ENOENT) return MapError("bpf_map_get_next_key", map, errno);
  return keys;
}

Result<MapContents> MapDump(int fd, size_t key_size, size_t value_size, const char* map) {
  MapContents out;
  out.key_size = key_size;
  out.value_size = value_size;
  bpf_map_batch_opts opts{};
  opts.sz = sizeof(opts);
  // The batch position token: a bucket index for hash maps, a key for
  // arrays; key-sized (at least 8 bytes) fits both.
  std::vector<uint8_t> in(std::max<size_t>(key_size, 8));
  std::vector<uint8_t> next(in.size());
  bool first = true;
  while (true) {
    size_t have = out.size();
    out.keys.resize((have + kBatchElements) * key_size);
    out.values.resize((have + kBatchElements) * value_size);
    auto count = static_cast<uint32_t>(kBatchElements);
    int rc = bpf_map_lookup_batch(fd, first ? nullptr : in.data(), next.data(),
                                  out.keys.data() + have * key_size,
                                  out.values.data() + have * value_size, &count, &opts);
    int err = rc == 0 ? 0 : errno;
    // Every map type berth dumps supports batches (kernel 5.6+; berth
    // needs 5.19), so EINVAL here is a real error too.
    if (rc != 0 && err != ENOENT) return MapError("bpf_map_lookup_batch", map, err);
    out.keys.resize((have + count) * key_size);
    out.values.resize((have + count) * value_size);
    if (err == ENOENT) return out;  // the last batch
    in.swap(next);
    first = false;
  }
}

Status MapBatch::Flush() {
  bpf_map_batch_opts opts{};
  opts.sz = sizeof(opts);
  opts.elem_flags = BPF_ANY;
  size_t total = update_keys_.size() / key_size_;
  for (size_t done = 0; done < total;) {
    uint32_t count = static_cast<uint32_t>(std::min(kBatchElements, total - done));
    if (bpf_map_update_batch(fd_, update_keys_.data() + done * key_size_,
                             values_.data() + done * value_size_, &count, &opts) != 0) {
      // Batches are all-or-some: `count` were written; the rest one by one
      // so that the error names the element's errno.
      done += count;
      if (done >= total) break;
      if (bpf_map_update_elem(fd_, update_keys_.data() + done * key_size_,
                              values_.data() + done * value_size_, BPF_ANY) != 0)
        return MapError("bpf_map_update_elem", map_, errno);
      ++done;
      continue;
    }
    done += count;
  }

  size_t deletes = delete_keys_.size() / key_size_;
  for (size_t i = 0; i < deletes; ++i) {
    // Deleting one by one: a batch delete stops at the first absent key.
    if (bpf_map_delete_elem(fd_, delete_keys_.data() + i * key_size_) != 0 && errno != ENOENT)
      return MapError("bpf_map_delete_elem", map_, errno);
  }
  update_keys_.clear();
  values_.clear();
  delete_keys_.clear();
  return {};
}

}  // namespace berth::proxy
