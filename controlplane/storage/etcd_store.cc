#include "controlplane/storage/etcd_store.h"

#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <thread>

namespace berth::controlplane::storage {
namespace {

namespace pb = etcdserverpb;

// etcd reports both as OUT_OF_RANGE; only the message tells them apart.
constexpr char kCompacted[] = "required revision has been compacted";
constexpr char kFuture[] = "required revision is a future revision";

// etcd does not tell the revision it was compacted to: Compact records it
// here, outside any store's key prefix (one etcd compaction covers every
// key).
constexpr char kCompactedKey[] = "/berth/compacted-revision";

Error FromGrpc(const grpc::Status& s, const std::string& what) {
  const std::string& message = s.error_message();
  Errc code = Errc::kInternal;
  if (message.find(kCompacted) != std::string::npos) {
    code = Errc::kOutOfRange;
  } else if (message.find(kFuture) != std::string::npos ||
             s.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
    code = Errc::kInvalidArgument;
  } else if (s.error_code() == grpc::StatusCode::UNAVAILABLE) {
    code = Errc::kUnavailable;
  } else if (s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    code = Errc::kDeadlineExceeded;
  }
  return Error(code, "etcd " + what + ": " + message);
}

Status ValidKey(const std::string& key) {
  if (key.empty()) return Error(Errc::kInvalidArgument, "storage key is empty");
  return Ok();
}

// etcd's "every key from here on" range end.
std::string RangeEndOf(const std::string& prefix) {
  std::string end = PrefixEnd(prefix);
  return end.empty() ? std::string(1, '\0') : end;
}

pb::Compare Guard(const std::string& stored_key, int64_t expected_mod) {
  pb::Compare c;
  c.set_key(stored_key);
  if (expected_mod != 0) {
    c.set_target(pb::Compare::MOD);
    c.set_result(pb::Compare::EQUAL);
    c.set_mod_revision(expected_mod);
  } else {  // the key exists
    c.set_target(pb::Compare::CREATE);
    c.set_result(pb::Compare::GREATER);
    c.set_create_revision(0);
  }
  return c;
}

// Why a guarded write's guard failed, from the read on its failure branch.
Error GuardFailed(const std::string& key, int64_t expected, const pb::TxnResponse& resp) {
  const pb::RangeResponse& now = resp.responses(0).response_range();
  if (now.kvs_size() == 0) return Error(Errc::kNotFound, "key `" + key + "` not found");
  return Error(Errc::kAborted, "key `" + key + "` is at revision " +
                                   std::to_string(now.kvs(0).mod_revision()) + ", not " +
                                   std::to_string(expected));
}

}  // namespace

class EtcdStore::Stream : public WatchStream {
 public:
  using Rpc = grpc::ClientReaderWriter<pb::WatchRequest, pb::WatchResponse>;

  Stream(const EtcdStore* store, std::unique_ptr<grpc::ClientContext> ctx, std::unique_ptr<Rpc> rpc)
      : store_(store), ctx_(std::move(ctx)), rpc_(std::move(rpc)) {}

  ~Stream() override {
    ctx_->TryCancel();
    if (reader_.joinable()) reader_.join();
  }

  void Start() {
    reader_ = std::thread([this] { Read(); });
  }

  Result<std::vector<Event>> Next(std::chrono::milliseconds timeout) override {
    std::unique_lock lock(mu_);
    ready_.wait_for(lock, timeout, [&] { return !queue_.empty() || failed_; });
    std::vector<Event> out(std::make_move_iterator(queue_.begin()),
                           std::make_move_iterator(queue_.end()));
    queue_.clear();
    if (out.empty() && failed_) return *failed_;
    return out;
  }

  // The events of one response (the first one included).
  void Take(const pb::WatchResponse& resp) {
    std::lock_guard lock(mu_);
    if (failed_) return;
    if (resp.canceled()) {
      failed_ = resp.compact_revision() > 0
                    ? Error(Errc::kOutOfRange, "etcd watch: compacted at revision " +
                                                   std::to_string(resp.compact_revision()))
                    : Error(Errc::kCancelled, "etcd watch canceled: " + resp.cancel_reason());
    }
    for (const mvccpb::Event& e : resp.events()) {
      if (failed_) break;
      if (queue_.size() >= store_->options_.watch_queue) {
        failed_ = Error(Errc::kResourceExhausted, "etcd watch fell too far behind");
        queue_.clear();
        break;
      }
      queue_.push_back(Convert(e));
    }
    ready_.notify_all();
  }

 private:
  // Until the stream ends (the destructor cancels it).
  void Read() {
    pb::WatchResponse resp;
    while (rpc_->Read(&resp))
      Take(resp);
    (void)rpc_->Finish();
    std::lock_guard lock(mu_);
    if (!failed_) failed_ = Error(Errc::kCancelled, "etcd watch stream ended");
    ready_.notify_all();
  }

  Event Convert(const mvccpb::Event& e) const {
    Event out;
    if (e.type() == mvccpb::Event::DELETE) {
      out.type = EventType::kDeleted;
      // etcd's delete carries only the key; ours carries the last value.
      out.kv = store_->FromEtcd(e.has_prev_kv() ? e.prev_kv() : e.kv());
      out.kv.mod_revision = e.kv().mod_revision();
    } else {
      out.kv = store_->FromEtcd(e.kv());
      out.type = e.kv().create_revision() == e.kv().mod_revision() ? EventType::kCreated
                                                                   : EventType::kModified;
    }
    if (out.type != EventType::kCreated && e.has_prev_kv())
      out.prev = store_->FromEtcd(e.prev_kv());
    return out;
  }

  const EtcdStore* store_;
  std::unique_ptr<grpc::ClientContext> ctx_;
  std::unique_ptr<Rpc> rpc_;
  std::thread reader_;
  std::mutex mu_;
  std::condition_variable ready_;
  std::deque<Event> queue_;
  std::optional<Error> failed_;
};

EtcdStore::EtcdStore(EtcdStoreOptions options, std::shared_ptr<grpc::Channel> channel)
    : options_(std::move(options)),
      channel_(std::move(channel)),
      kv_(pb::KV::NewStub(channel_)),
      watch_(pb::Watch::NewStub(channel_)) {}

Result<std::unique_ptr<EtcdStore>> EtcdStore::Open(const EtcdStoreOptions& options) {
  std::string target = options.endpoint;
  for (const char* scheme : {"http://", "https://"}) {
    if (target.starts_with(scheme)) target = target.substr(std::string(scheme).size());
  }
  if (target.empty()) return Error(Errc::kInvalidArgument, "--datastore-endpoint is empty");
  auto channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  std::unique_ptr<EtcdStore> store(new EtcdStore(options, std::move(channel)));
  BERTH_TRY_CTX(store->CurrentRevision(), "connect to etcd at " + options.endpoint);
  return store;
}

std::unique_ptr<grpc::ClientContext> EtcdStore::Context() const {
  auto ctx = std::make_unique<grpc::ClientContext>();
  ctx->set_deadline(std::chrono::system_clock::now() + options_.timeout);
  return ctx;
}

KeyValue EtcdStore::FromEtcd(const mvccpb::KeyValue& kv) const {
  KeyValue out;
  out.key = kv.key().substr(std::min(kv.key().size(), options_.key_prefix.size()));
  out.value = kv.value();
  out.create_revision = kv.create_revision();
  out.mod_revision = kv.mod_revision();
  return out;
}

Result<std::optional<KeyValue>> EtcdStore::Get(const std::string& key, int64_t revision) {
  BERTH_TRY(ValidKey(key));
  pb::RangeRequest req;
  req.set_key(options_.key_prefix + key);
  req.set_revision(revision);
  pb::RangeResponse resp;
  grpc::Status s = kv_->Range(Context().get(), req, &resp);
  if (!s.ok()) return FromGrpc(s, "get " + key);
  if (resp.kvs_size() == 0) return std::optional<KeyValue>();
  return std::optional<KeyValue>(FromEtcd(resp.kvs(0)));
}

Result<ListResult> EtcdStore::List(const ListOptions& options) {
  std::string prefix = options_.key_prefix + options.prefix;
  pb::RangeRequest req;
  req.set_key(options.start_after.empty()
                  ? (prefix.empty() ? std::string(1, '\0') : prefix)
                  : options_.key_prefix + options.start_after + std::string(1, '\0'));
  req.set_range_end(RangeEndOf(prefix));
  req.set_limit(options.limit);
  req.set_revision(options.revision);
  pb::RangeResponse resp;
  grpc::Status s = kv_->Range(Context().get(), req, &resp);
  if (!s.ok()) return FromGrpc(s, "list " + options.prefix);
  ListResult out;
  out.revision = options.revision != 0 ? options.revision : resp.header().revision();
  out.more = resp.more();
  for (const mvccpb::KeyValue& kv : resp.kvs())
    out.items.push_back(FromEtcd(kv));
  return out;
}

Result<pb::TxnResponse> EtcdStore::GuardedTxn(const std::string& stored_key,
                                              const pb::Compare& guard, pb::RequestOp op) {
  pb::TxnRequest req;
  *req.add_compare() = guard;
  *req.add_success() = std::move(op);
  req.add_failure()->mutable_request_range()->set_key(stored_key);
  pb::TxnResponse resp;
  grpc::Status s = kv_->Txn(Context().get(), req, &resp);
  if (!s.ok()) return FromGrpc(s, "write " + stored_key);
  return resp;
}

Result<KeyValue> EtcdStore::Create(const std::string& key, const std::string& value) {
  BERTH_TRY(ValidKey(key));
  std::string stored = options_.key_prefix + key;
  pb::Compare absent;
  absent.set_key(stored);
  absent.set_target(pb::Compare::CREATE);
  absent.set_result(pb::Compare::EQUAL);
  absent.set_create_revision(0);
  pb::RequestOp put;
  put.mutable_request_put()->set_key(stored);
  put.mutable_request_put()->set_value(value);
  pb::TxnResponse resp = BERTH_TRY(GuardedTxn(stored, absent, std::move(put)));
  if (!resp.succeeded()) return Error(Errc::kAlreadyExists, "key `" + key + "` already exists");
  int64_t revision = resp.header().revision();
  return KeyValue{key, value, revision, revision};
}

Result<KeyValue> EtcdStore::Update(const std::string& key, const std::string& value,
                                   int64_t expected) {
  BERTH_TRY(ValidKey(key));
  std::string stored = options_.key_prefix + key;
  pb::RequestOp put;
  put.mutable_request_put()->set_key(stored);
  put.mutable_request_put()->set_value(value);
  put.mutable_request_put()->set_prev_kv(true);
  pb::TxnResponse resp = BERTH_TRY(GuardedTxn(stored, Guard(stored, expected), std::move(put)));
  if (!resp.succeeded()) return GuardFailed(key, expected, resp);
  const mvccpb::KeyValue& prev = resp.responses(0).response_put().prev_kv();
  return KeyValue{key, value, prev.create_revision(), resp.header().revision()};
}

Result<KeyValue> EtcdStore::Delete(const std::string& key, int64_t expected) {
  BERTH_TRY(ValidKey(key));
  std::string stored = options_.key_prefix + key;
  pb::RequestOp del;
  del.mutable_request_delete_range()->set_key(stored);
  del.mutable_request_delete_range()->set_prev_kv(true);
  pb::TxnResponse resp = BERTH_TRY(GuardedTxn(stored, Guard(stored, expected), std::move(del)));
  if (!resp.succeeded()) return GuardFailed(key, expected, resp);
  const pb::DeleteRangeResponse& deleted = resp.responses(0).response_delete_range();
  if (deleted.prev_kvs_size() == 0) return Error(Errc::kNotFound, "key `" + key + "` not found");
  KeyValue out = FromEtcd(deleted.prev_kvs(0));
  out.mod_revision = resp.header().revision();
  return out;
}

Result<std::unique_ptr<WatchStream>> EtcdStore::Watch(const std::string& prefix, int64_t after) {
  // etcd accepts a watch from a compacted revision and cancels it in a
  // later response (which Next reports); refuse it up front when we can.
  if (after > 0) {
    int64_t compacted = BERTH_TRY(CompactedRevision());
    if (after < compacted) {
      return Error(Errc::kOutOfRange, "watch from revision " + std::to_string(after) +
                                          ": compacted (oldest kept: " + std::to_string(compacted) +
                                          ")");
    }
  }
  std::string stored = options_.key_prefix + prefix;
  auto ctx =
      std::make_unique<grpc::ClientContext>();  // no deadline: it lives as long as the stream
  std::unique_ptr<Stream::Rpc> rpc = watch_->Watch(ctx.get());
  pb::WatchRequest req;
  pb::WatchCreateRequest* create = req.mutable_create_request();
  create->set_key(stored.empty() ? std::string(1, '\0') : stored);
  create->set_range_end(RangeEndOf(stored));
  create->set_start_revision(after == 0 ? 0 : after + 1);
  create->set_prev_kv(true);
  if (!rpc->Write(req))
    return Error(Errc::kUnavailable, "etcd watch on " + prefix + ": stream closed");
  pb::WatchResponse first;
  if (!rpc->Read(&first)) {
    return FromGrpc(rpc->Finish(), "watch " + prefix);
  }
  if (first.canceled()) {
    if (first.compact_revision() > 0) {
      return Error(Errc::kOutOfRange, "watch from revision " + std::to_string(after) +
                                          ": compacted (oldest kept: " +
                                          std::to_string(first.compact_revision()) + ")");
    }
    return Error(Errc::kInternal,
                 "etcd refused the watch on " + prefix + ": " + first.cancel_reason());
  }
  auto stream = std::make_unique<Stream>(this, std::move(ctx), std::move(rpc));
  stream->Take(first);
  stream->Start();
  return std::unique_ptr<WatchStream>(std::move(stream));
}

Status EtcdStore::Compact(int64_t revision) {
  pb::CompactionRequest req;
  req.set_revision(revision);
  req.set_physical(true);
  pb::CompactionResponse resp;
  grpc::Status s = kv_->Compact(Context().get(), req, &resp);
  if (!s.ok()) {
    Error e = FromGrpc(s, "compact to revision " + std::to_string(revision));
    if (e.code() != Errc::kOutOfRange) return e;  // else: compacted that far already
  }
  if (BERTH_TRY(CompactedRevision()) >= revision) return Ok();
  pb::PutRequest put;
  put.set_key(kCompactedKey);
  put.set_value(std::to_string(revision));
  pb::PutResponse put_resp;
  s = kv_->Put(Context().get(), put, &put_resp);
  if (!s.ok()) return FromGrpc(s, "record the compacted revision");
  return Ok();
}

Result<int64_t> EtcdStore::CurrentRevision() {
  pb::RangeRequest req;
  req.set_key(options_.key_prefix.empty() ? std::string(1, '\0') : options_.key_prefix);
  req.set_count_only(true);
  pb::RangeResponse resp;
  grpc::Status s = kv_->Range(Context().get(), req, &resp);
  if (!s.ok()) return FromGrpc(s, "read the revision");
  return resp.header().revision();
}

Result<int64_t> EtcdStore::CompactedRevision() {
  pb::RangeRequest req;
  req.set_key(kCompactedKey);
  pb::RangeResponse resp;
  grpc::Status s = kv_->Range(Context().get(), req, &resp);
  if (!s.ok()) return FromGrpc(s, "read the compacted revision");
  if (resp.kvs_size() == 0) return int64_t{0};
  const std::string& text = resp.kvs(0).value();
  char* end = nullptr;
  long long revision = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || revision < 0) {
    return Error(Errc::kDataLoss, std::string("etcd key ") + kCompactedKey + " holds `" + text +
                                      "`, not a revision");
  }
  return static_cast<int64_t>(revision);
}

}  // namespace berth::controlplane::storage
