// grpc probes (upstream pkg/probe/grpc): grpc.health.v1.Health/Check over
// a plaintext connection of its own.

#include <grpcpp/grpcpp.h>

#include "agent/container/object_fields.h"
#include "agent/probes/go_format.h"
#include "agent/probes/health.grpc.pb.h"
#include "agent/probes/net_client.h"
#include "agent/probes/runners.h"

namespace berth::agent::runners {

namespace health = ::grpc::health::v1;

ProbeOutcome Grpc(const boost::json::object& action, const ProbeTarget& target,
                  std::chrono::seconds timeout) {
  int port = static_cast<int>(fields::IntAt(&action, "port").value_or(0));
  std::string service = fields::StringAt(&action, "service");
  std::string address = JoinHostPort(target.pod_ip, port);
  auto deadline = std::chrono::system_clock::now() + timeout;
  std::string within = gofmt::Duration(timeout.count());

  grpc::ChannelArguments args;
  args.SetUserAgentPrefix("kube-probe/" + std::string(gofmt::kKubeVersion));
  // A connection of its own each time, as upstream dials per probe.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt(GRPC_ARG_ENABLE_HTTP_PROXY, 0);
  auto channel = grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
  if (!channel->WaitForConnected(deadline)) {
    return {ProbeResult::kFailure, "timeout: failed to connect service " + gofmt::Quote(address) +
                                       " within " + within + ": context deadline exceeded"};
  }
  auto stub = health::Health::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(deadline);
  health::HealthCheckRequest req;
  req.set_service(service);
  health::HealthCheckResponse resp;
  grpc::Status status = stub->Check(&ctx, req, &resp);
  if (!status.ok()) {
    switch (status.error_code()) {
      case grpc::StatusCode::UNIMPLEMENTED:
        return {ProbeResult::kFailure,
                "error: this server does not implement the grpc health protocol "
                "(grpc.health.v1.Health): " +
                    status.error_message()};
      case grpc::StatusCode::DEADLINE_EXCEEDED:
        return {ProbeResult::kFailure, "timeout: health rpc did not complete within " + within};
      default:
        return {ProbeResult::kFailure,
                "error: health rpc probe failed: " +
                    gofmt::GrpcError(status.error_code(), status.error_message())};
    }
  }
  if (resp.status() != health::HealthCheckResponse::SERVING) {
    return {ProbeResult::kFailure,
            "service unhealthy (responded with " +
                gofmt::Quote(health::HealthCheckResponse::ServingStatus_Name(resp.status())) + ")"};
  }
  return {ProbeResult::kSuccess, "service healthy"};
}

}  // namespace berth::agent::runners
