#pragma once
// The store on an etcd v3 cluster (`--datastore-endpoint`), over its gRPC
// KV and Watch services. Writes are transactions guarded the way
// kube-apiserver guards them: create = "create_revision == 0", update and
// delete = "mod_revision == expected" (or "the key exists"), with a read of
// the key on the failure branch to tell NotFound from Conflict. Every key is
// stored under `key_prefix`, so several stores (or tests) can share a
// cluster; revisions are the cluster's.

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>

#include "controlplane/storage/etcd/rpc.grpc.pb.h"
#include "controlplane/storage/store.h"

namespace berth::controlplane::storage {

struct EtcdStoreOptions {
  std::string endpoint;                      // host:port, or http://host:port
  std::string key_prefix;                    // prepended to every key ("" = none)
  std::chrono::milliseconds timeout{10000};  // per call
  size_t watch_queue = 100000;               // events a watcher may fall behind
};

class EtcdStore : public Store {
 public:
  // Connects and checks that the endpoint answers.
  static Result<std::unique_ptr<EtcdStore>> Open(const EtcdStoreOptions& options);

  Result<std::optional<KeyValue>> Get(const std::string& key, int64_t revision) override;
  Result<ListResult> List(const ListOptions& options) override;
  Result<KeyValue> Create(const std::string& key, const std::string& value) override;
  Result<KeyValue> Update(const std::string& key, const std::string& value,
                          int64_t expected) override;
  Result<KeyValue> Delete(const std::string& key, int64_t expected) override;
  Result<std::unique_ptr<WatchStream>> Watch(const std::string& prefix, int64_t after) override;
  Status Compact(int64_t revision) override;
  Result<int64_t> CurrentRevision() override;
  Result<int64_t> CompactedRevision() override;

 private:
  class Stream;
  explicit EtcdStore(EtcdStoreOptions options, std::shared_ptr<grpc::Channel> channel);

  std::unique_ptr<grpc::ClientContext> Context() const;
  // A guarded write: `guard` on the key, `op` if it holds, a read if not.
  Result<etcdserverpb::TxnResponse> GuardedTxn(const std::string& stored_key,
                                               const etcdserverpb::Compare& guard,
                                               etcdserverpb::RequestOp op);
  KeyValue FromEtcd(const mvccpb::KeyValue& kv) const;

  EtcdStoreOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<etcdserverpb::KV::Stub> kv_;
  std::unique_ptr<etcdserverpb::Watch::Stub> watch_;
};

}  // namespace berth::controlplane::storage
