#pragma once
// The apiserver's storage, in the spirit of etcd v3 (ARCHITECTURE.md,
// "Storage behind the apiserver"): a flat, ordered key space of byte
// values; one revision counter for the whole store, bumped by every write
// (it is what the API calls resourceVersion); writes guarded by a key's mod
// revision; watches that start from a revision; compaction of history.
//
// Implementations: SqliteStore (embedded, the default) and, later, an etcd
// v3 client. tests/store_suite.h holds the behaviour both must share.
//
// Errors: kNotFound (no such key), kAlreadyExists (create of a live key),
// kAborted (the key's mod revision is not the expected one: a conflict),
// kOutOfRange (the revision asked for has been compacted: HTTP 410 Gone).

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

namespace berth::controlplane::storage {

struct KeyValue {
  std::string key;
  std::string value;
  int64_t create_revision = 0;  // the revision that created this incarnation
  int64_t mod_revision = 0;     // the revision of the last write
};

struct ListOptions {
  std::string prefix;       // keys that start with it ("" = every key)
  std::string start_after;  // only keys after this one (a continue token's key)
  int64_t revision = 0;     // the store as of this revision; 0 = now
  int64_t limit = 0;        // at most this many items; 0 = no limit
};

struct ListResult {
  std::vector<KeyValue> items;  // in key order
  int64_t revision = 0;         // the revision the list was read at
  bool more = false;            // `limit` cut it short: continue after the last item
};

enum class EventType { kCreated, kModified, kDeleted };

struct Event {
  EventType type = EventType::kCreated;
  // kDeleted: the key's last value, with the deletion's revision as
  // mod_revision.
  KeyValue kv;
  std::optional<KeyValue> prev;  // the value before this event (kModified, kDeleted)
};

// Events in revision order, each once.
class WatchStream {
 public:
  virtual ~WatchStream() = default;
  // The events that arrived, waiting up to `timeout` for the first; empty
  // on timeout. kResourceExhausted once the reader fell too far behind
  // (the stream is then dead: re-list and watch again); kCancelled when the
  // store closes.
  virtual Result<std::vector<Event>> Next(std::chrono::milliseconds timeout) = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  // The key as of `revision` (0 = now); nullopt when it did not exist then.
  virtual Result<std::optional<KeyValue>> Get(const std::string& key, int64_t revision = 0) = 0;
  virtual Result<ListResult> List(const ListOptions& options) = 0;
  virtual Result<KeyValue> Create(const std::string& key, const std::string& value) = 0;
  // Replaces the value when the key's mod revision is `expected` (0 = any).
  virtual Result<KeyValue> Update(const std::string& key, const std::string& value,
                                  int64_t expected) = 0;
  // Deletes the key when its mod revision is `expected` (0 = any); returns
  // its last value with the deletion's revision as mod_revision.
  virtual Result<KeyValue> Delete(const std::string& key, int64_t expected = 0) = 0;
  // Every change to keys under `prefix` after revision `after` (0 = from
  // now on): history first, then live events.
  virtual Result<std::unique_ptr<WatchStream>> Watch(const std::string& prefix, int64_t after) = 0;
  // Forgets the history up to `revision`: reads and watches before it
  // answer kOutOfRange. The newest value of every key stays.
  virtual Status Compact(int64_t revision) = 0;
  virtual Result<int64_t> CurrentRevision() = 0;
  virtual Result<int64_t> CompactedRevision() = 0;
};

// The smallest key after every key that starts with `prefix` (etcd's
// range_end for a prefix); "" when there is none (no upper bound).
std::string PrefixEnd(std::string_view prefix);

}  // namespace berth::controlplane::storage
