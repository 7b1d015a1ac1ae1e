#include "agent/cri/cri_client.h"

namespace berth::agent {

Result<std::unique_ptr<CriClient>> CriClient::Dial(const std::string& endpoint) {
  if (endpoint.empty()) return Error(Errc::kInvalidArgument, "CRI endpoint is empty");
  std::string target = endpoint;
  if (target.starts_with("/")) target = "unix://" + target;
  if (!target.starts_with("unix://")) {
    return Error(Errc::kInvalidArgument,
                 "CRI endpoint \"" + endpoint + "\": only unix:// sockets are supported");
  }
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(16 * 1024 * 1024);
  auto channel = grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
  return std::make_unique<CriClient>(std::move(channel));
}

CriClient::CriClient(std::shared_ptr<grpc::Channel> channel)
    : channel_(std::move(channel)),
      runtime_(v1::RuntimeService::NewStub(channel_)),
      images_(v1::ImageService::NewStub(channel_)) {}

Result<v1::ExecSyncResponse> CriClient::ExecSync(const std::string& container_id,
                                                 const std::vector<std::string>& cmd,
                                                 std::chrono::seconds timeout) {
  v1::ExecSyncRequest req;
  req.set_container_id(container_id);
  for (const std::string& arg : cmd)
    req.add_cmd(arg);
  req.set_timeout(timeout.count());
  v1::ExecSyncResponse out;
  // The runtime enforces `timeout`; the call's own deadline only guards
  // against a runtime that does not.
  BERTH_TRY(Call(
      &v1::RuntimeService::Stub::ExecSync, req, &out, "ExecSync in container " + container_id,
      std::chrono::duration_cast<std::chrono::milliseconds>(timeout) + std::chrono::seconds(5)));
  return out;
}

Error CriClient::FromGrpc(const grpc::Status& s, const std::string& what) {
  int code = static_cast<int>(s.error_code());
  Errc errc = code >= 1 && code <= 16 ? static_cast<Errc>(code) : Errc::kUnknown;
  return Error(errc, what + ": " + s.error_message());
}

}  // namespace berth::agent
