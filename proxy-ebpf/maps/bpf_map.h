#pragma once
// Thin, error-carrying calls on a BPF map fd (bpf(2) through libbpf's
// low-level API), and a writer that queues updates and deletes and sends
// them with the batch commands: a full sync of 10,000 services is a few
// hundred syscalls, not a few hundred thousand.

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "common/error.h"

namespace berth::proxy {

// bpf_map_lookup_elem: false when the key is absent.
Result<bool> MapLookup(int fd, const void* key, void* value, const char* map);
// Every key of a hash map (bpf_map_get_next_key), key_size bytes each.
Result<std::vector<std::vector<uint8_t>>> MapKeys(int fd, size_t key_size, const char* map);

// Every entry of a map, read with BPF_MAP_LOOKUP_BATCH (hash, LRU and
// array maps; not LPM tries): `keys` and `values` hold key_size /
// value_size bytes per entry.
struct MapContents {
  size_t key_size = 0;
  size_t value_size = 0;
  std::vector<uint8_t> keys;
  std::vector<uint8_t> values;
  size_t size() const { return key_size == 0 ? 0 : keys.size() / key_size; }
  const uint8_t* key(size_t i) const { return keys.data() + i * key_size; }
  const uint8_t* value(size_t i) const { return values.data() + i * value_size; }
};
Result<MapContents> MapDump(int fd, size_t key_size, size_t value_size, const char* map);

class MapBatch {
 public:
  MapBatch(int fd, size_t key_size, size_t value_size, const char* map)
      : fd_(fd), key_size_(key_size), value_size_(value_size), map_(map) {}

  void Update(const void* key, const void* value) {
    Append(update_keys_, key, key_size_);
    Append(values_, value, value_size_);
  }
  void Delete(const void* key) { Append(delete_keys_, key, key_size_); }
  bool empty() const { return update_keys_.empty() && delete_keys_.empty(); }

  // Sends the queued updates, then the deletes (absent keys are not an
  // error), and clears the queue. The error names the map.
  Status Flush();

 private:
  static void Append(std::vector<uint8_t>& out, const void* data, size_t size) {
    const auto* bytes = static_cast<const uint8_t*>(data);
    out.insert(out.end(), bytes, bytes + size);
  }

  int fd_;
  size_t key_size_;
  size_t value_size_;
  const char* map_;
  std::vector<uint8_t> update_keys_;
  std::vector<uint8_t> values_;
  std::vector<uint8_t> delete_keys_;
};

}  // namespace berth::proxy
