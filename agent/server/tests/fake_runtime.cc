#include "agent/server/tests/fake_runtime.h"

#include "agent/server/pod_runtime.h"
#include "common/strings.h"

namespace berth::agent::kubelet::testing {
namespace {

bool Matches(const google::protobuf::Map<std::string, std::string>& labels,
             const google::protobuf::Map<std::string, std::string>& selector) {
  for (const auto& [k, v] : selector) {
    auto it = labels.find(k);
    if (it == labels.end() || it->second != v) return false;
  }
  return true;
}

grpc::Status FromResult(const Result<std::string>& url, std::string* out) {
  if (!url.ok()) {
    return grpc::Status(static_cast<grpc::StatusCode>(url.error().code()), url.error().message());
  }
  *out = *url;
  return grpc::Status::OK;
}

}  // namespace

void FakeRuntime::AddSandbox(FakeSandbox s) {
  std::lock_guard lock(mu_);
  sandboxes_[s.id] = std::move(s);
}

void FakeRuntime::AddContainer(FakeContainer c) {
  std::lock_guard lock(mu_);
  containers_[c.id] = std::move(c);
}

void FakeRuntime::SetState(const std::string& id, v1::ContainerState state, int exit_code) {
  std::lock_guard lock(mu_);
  containers_.at(id).state = state;
  containers_.at(id).exit_code = exit_code;
}

std::vector<std::vector<std::string>> FakeRuntime::exec_syncs() {
  std::lock_guard lock(mu_);
  return exec_syncs_;
}

v1::Container FakeRuntime::ToCri(const FakeContainer& c) const {
  const FakeSandbox& s = sandboxes_.at(c.sandbox_id);
  v1::Container out;
  out.set_id(c.id);
  out.set_pod_sandbox_id(c.sandbox_id);
  out.mutable_metadata()->set_name(c.name);
  out.mutable_metadata()->set_attempt(static_cast<uint32_t>(c.restart_count));
  out.mutable_image()->set_image("busybox");
  out.set_state(c.state);
  out.set_created_at(c.created_at);
  auto& labels = *out.mutable_labels();
  labels[kPodNamespaceLabel] = s.ns;
  labels[kPodNameLabel] = s.name;
  labels[kPodUidLabel] = s.uid;
  labels[kContainerNameLabel] = c.name;
  (*out.mutable_annotations())[kRestartCountAnnotation] = std::to_string(c.restart_count);
  return out;
}

v1::ContainerStats FakeRuntime::StatsOf(const FakeContainer& c) const {
  v1::ContainerStats s;
  v1::Container meta = ToCri(c);
  s.mutable_attributes()->set_id(c.id);
  *s.mutable_attributes()->mutable_metadata() = meta.metadata();
  *s.mutable_attributes()->mutable_labels() = meta.labels();
  s.mutable_cpu()->set_timestamp(c.created_at + 1'000'000'000);
  s.mutable_cpu()->mutable_usage_core_nano_seconds()->set_value(c.cpu_nanos);
  s.mutable_memory()->set_timestamp(c.created_at + 1'000'000'000);
  s.mutable_memory()->mutable_working_set_bytes()->set_value(c.working_set);
  s.mutable_memory()->mutable_usage_bytes()->set_value(c.working_set * 2);
  return s;
}

grpc::Status FakeRuntime::ListPodSandbox(grpc::ServerContext*, const v1::ListPodSandboxRequest* req,
                                         v1::ListPodSandboxResponse* resp) {
  std::lock_guard lock(mu_);
  for (const auto& [id, s] : sandboxes_) {
    v1::PodSandbox out;
    out.set_id(id);
    out.mutable_metadata()->set_name(s.name);
    out.mutable_metadata()->set_namespace_(s.ns);
    out.mutable_metadata()->set_uid(s.uid);
    out.set_state(s.ready ? v1::SANDBOX_READY : v1::SANDBOX_NOTREADY);
    out.set_created_at(s.created_at);
    auto& labels = *out.mutable_labels();
    labels[kPodNamespaceLabel] = s.ns;
    labels[kPodNameLabel] = s.name;
    labels[kPodUidLabel] = s.uid;
    const v1::PodSandboxFilter& f = req->filter();
    if (f.has_state() && f.state().state() != out.state()) continue;
    if (!Matches(out.labels(), f.label_selector())) continue;
    *resp->add_items() = std::move(out);
  }
  return grpc::Status::OK;
}

grpc::Status FakeRuntime::ListContainers(grpc::ServerContext*, const v1::ListContainersRequest* req,
                                         v1::ListContainersResponse* resp) {
  std::lock_guard lock(mu_);
  for (const auto& [id, c] : containers_) {
    v1::Container out = ToCri(c);
    const v1::ContainerFilter& f = req->filter();
    if (f.has_state() && f.state().state() != out.state()) continue;
    if (!f.pod_sandbox_id().empty() && f.pod_sandbox_id() != out.pod_sandbox_id()) continue;
    if (!Matches(out.labels(), f.label_selector())) continue;
    *resp->add_containers() = std::move(out);
  }
  return grpc::Status::OK;
}

grpc::Status FakeRuntime::ContainerStatus(grpc::ServerContext*,
                                          const v1::ContainerStatusRequest* req,
                                          v1::ContainerStatusResponse* resp) {
  std::lock_guard lock(mu_);
  auto it = containers_.find(req->container_id());
  if (it == containers_.end()) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "container " + req->container_id());
  }
  v1::Container c = ToCri(it->second);
  v1::ContainerStatus* s = resp->mutable_status();
  s->set_id(c.id());
  *s->mutable_metadata() = c.metadata();
  s->set_state(c.state());
  s->set_created_at(c.created_at());
  s->set_exit_code(it->second.exit_code);
  *s->mutable_labels() = c.labels();
  *s->mutable_annotations() = c.annotations();
  s->set_log_path(it->second.log_path);
  return grpc::Status::OK;
}

grpc::Status FakeRuntime::ExecSync(grpc::ServerContext*, const v1::ExecSyncRequest* req,
                                   v1::ExecSyncResponse* resp) {
  std::vector<std::string> cmd(req->cmd().begin(), req->cmd().end());
  {
    std::lock_guard lock(mu_);
    exec_syncs_.push_back(cmd);
  }
  // "echo a b" prints "a b"; "fail" exits 3 with a complaint.
  if (!cmd.empty() && cmd[0] == "fail") {
    resp->set_stderr("it failed\n");
    resp->set_exit_code(3);
  } else if (!cmd.empty() && cmd[0] == "echo") {
    resp->set_stdout(Join(std::vector<std::string>(cmd.begin() + 1, cmd.end()), " ") + "\n");
  }
  return grpc::Status::OK;
}

grpc::Status FakeRuntime::Exec(grpc::ServerContext*, const v1::ExecRequest* req,
                               v1::ExecResponse* resp) {
  cri::streaming::ExecRequest r;
  r.container_id = req->container_id();
  r.cmd.assign(req->cmd().begin(), req->cmd().end());
  r.tty = req->tty();
  r.stdin = req->stdin();
  r.stdout = req->stdout();
  r.stderr = req->stderr();
  return FromResult(streaming_->GetExec(r), resp->mutable_url());
}

grpc::Status FakeRuntime::Attach(grpc::ServerContext*, const v1::AttachRequest* req,
                                 v1::AttachResponse* resp) {
  cri::streaming::AttachRequest r;
  r.container_id = req->container_id();
  r.tty = req->tty();
  r.stdin = req->stdin();
  r.stdout = req->stdout();
  r.stderr = req->stderr();
  return FromResult(streaming_->GetAttach(r), resp->mutable_url());
}

grpc::Status FakeRuntime::PortForward(grpc::ServerContext*, const v1::PortForwardRequest* req,
                                      v1::PortForwardResponse* resp) {
  cri::streaming::PortForwardRequest r;
  r.pod_sandbox_id = req->pod_sandbox_id();
  r.port.assign(req->port().begin(), req->port().end());
  return FromResult(streaming_->GetPortForward(r), resp->mutable_url());
}

grpc::Status FakeRuntime::ListContainerStats(grpc::ServerContext*,
                                             const v1::ListContainerStatsRequest*,
                                             v1::ListContainerStatsResponse* resp) {
  std::lock_guard lock(mu_);
  for (const auto& [id, c] : containers_) {
    if (c.cpu_nanos > 0) *resp->add_stats() = StatsOf(c);
  }
  return grpc::Status::OK;
}

grpc::Status FakeRuntime::ListPodSandboxStats(grpc::ServerContext*,
                                              const v1::ListPodSandboxStatsRequest*,
                                              v1::ListPodSandboxStatsResponse* resp) {
  if (pod_stats_unimplemented) return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "no");
  std::lock_guard lock(mu_);
  for (const auto& [id, s] : sandboxes_) {
    v1::PodSandboxStats* p = resp->add_stats();
    p->mutable_attributes()->set_id(id);
    p->mutable_attributes()->mutable_metadata()->set_name(s.name);
    p->mutable_attributes()->mutable_metadata()->set_namespace_(s.ns);
    p->mutable_attributes()->mutable_metadata()->set_uid(s.uid);
    v1::LinuxPodSandboxStats* linux = p->mutable_linux();
    uint64_t cpu = 1'000'000;  // the pause process
    uint64_t memory = 4096;
    for (const auto& [cid, c] : containers_) {
      if (c.sandbox_id != id || c.state != v1::CONTAINER_RUNNING) continue;
      cpu += c.cpu_nanos;
      memory += c.working_set;
      *linux->add_containers() = StatsOf(c);
    }
    linux->mutable_cpu()->set_timestamp(s.created_at + 1'000'000'000);
    linux->mutable_cpu()->mutable_usage_core_nano_seconds()->set_value(cpu);
    linux->mutable_memory()->set_timestamp(s.created_at + 1'000'000'000);
    linux->mutable_memory()->mutable_working_set_bytes()->set_value(memory);
    v1::NetworkUsage* net = linux->mutable_network();
    net->set_timestamp(s.created_at + 1'000'000'000);
    net->mutable_default_interface()->set_name("eth0");
    net->mutable_default_interface()->mutable_rx_bytes()->set_value(1234);
    net->mutable_default_interface()->mutable_tx_bytes()->set_value(5678);
    linux->mutable_process()->mutable_process_count()->set_value(2);
  }
  return grpc::Status::OK;
}

InProcessCri::InProcessCri(FakeRuntime& runtime) {
  grpc::ServerBuilder builder;
  builder.RegisterService(&runtime);
  server_ = builder.BuildAndStart();
  client_ = std::make_unique<CriClient>(server_->InProcessChannel(grpc::ChannelArguments()));
}

InProcessCri::~InProcessCri() {
  server_->Shutdown();
}

}  // namespace berth::agent::kubelet::testing
