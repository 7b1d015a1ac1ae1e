// Checks api.proto against facts read from the upstream cri-api file (see the
// header of api.proto for the version): field numbers that implementers get
// wrong, every RPC of both services, a few enum values, and bytes on the wire.

// The generated headers come after <csignal> on purpose: its SIGTERM/SIGKILL
// macros must not clash with the Signal enumerators (hence upstream's SIGNAL_
// prefix).
#include <google/protobuf/descriptor.h>
#include <gtest/gtest.h>

#include <csignal>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

#include "runtime/cri/proto/api.grpc.pb.h"
#include "runtime/cri/proto/api.pb.h"

namespace berth::cri {
namespace {

namespace pb = google::protobuf;
namespace v1 = ::runtime::v1;
using FD = pb::FieldDescriptor;

const pb::FileDescriptor* File() {
  return v1::VersionRequest::descriptor()->file();
}

const pb::Descriptor* Message(const std::string& name) {
  return File()->pool()->FindMessageTypeByName("runtime.v1." + name);
}

struct FieldFact {
  const char* message;
  const char* field;
  int number;
  FD::Type type;
  FD::Label label;
  bool map = false;
};

// From upstream, chosen where numbers are out of order or were added late.
const FieldFact kFields[] = {
    {"LinuxContainerSecurityContext", "run_as_username", 6, FD::TYPE_STRING, FD::LABEL_OPTIONAL},
    {"LinuxContainerSecurityContext", "run_as_user", 5, FD::TYPE_MESSAGE, FD::LABEL_OPTIONAL},
    {"LinuxContainerSecurityContext", "run_as_group", 12, FD::TYPE_MESSAGE, FD::LABEL_OPTIONAL},
    {"LinuxContainerSecurityContext", "no_new_privs", 11, FD::TYPE_BOOL, FD::LABEL_OPTIONAL},
    {"LinuxContainerSecurityContext", "supplemental_groups", 8, FD::TYPE_INT64, FD::LABEL_REPEATED},
    {"LinuxContainerSecurityContext", "supplemental_groups_policy", 17, FD::TYPE_ENUM,
     FD::LABEL_OPTIONAL},
    {"LinuxContainerSecurityContext", "seccomp", 15, FD::TYPE_MESSAGE, FD::LABEL_OPTIONAL},
    {"LinuxContainerSecurityContext", "seccomp_profile_path", 10, FD::TYPE_STRING,
     FD::LABEL_OPTIONAL},
    {"LinuxSandboxSecurityContext", "run_as_group", 8, FD::TYPE_MESSAGE, FD::LABEL_OPTIONAL},
    {"LinuxSandboxSecurityContext", "supplemental_groups_policy", 11, FD::TYPE_ENUM,
     FD::LABEL_OPTIONAL},
    {"LinuxSandboxSecurityContext", "seccomp", 9, FD::TYPE_MESSAGE, FD::LABEL_OPTIONAL},
    {"LinuxPodSandboxConfig", "sysctls", 3, FD::TYPE_MESSAGE, FD::LABEL_REPEATED, true},
    {"ImageSpec", "user_specified_image", 18, FD::TYPE_STRING, FD::LABEL_OPTIONAL},
    {"ImageSpec", "runtime_handler", 19, FD::TYPE_STRING, FD::LABEL_OPTIONAL},
    {"ImageSpec", "image_ref", 20, FD::TYPE_STRING, FD::LABEL_OPTIONAL},
    {"Namespace", "options", 2, FD::TYPE_MESSAGE, FD::LABEL_OPTIONAL},
    {"Mount", "uidMappings", 6, FD::TYPE_MESSAGE, FD::LABEL_REPEATED},
    {"Mount", "image_sub_path", 10, FD::TYPE_STRING, FD::LABEL_OPTIONAL},
    {"ContainerConfig", "CDI_devices", 17, FD::TYPE_MESSAGE, FD::LABEL_REPEATED},
    {"ContainerConfig", "stop_signal", 18, FD::TYPE_ENUM, FD::LABEL_OPTIONAL},
    {"ContainerStatus", "image_id", 17, FD::TYPE_STRING, FD::LABEL_OPTIONAL},
    {"ContainerStatus", "user", 18, FD::TYPE_MESSAGE, FD::LABEL_OPTIONAL},
    {"Container", "image_id", 10, FD::TYPE_STRING, FD::LABEL_OPTIONAL},
    {"LinuxContainerResources", "memory_swap_limit_in_bytes", 10, FD::TYPE_INT64,
     FD::LABEL_OPTIONAL},
    {"PodSandboxStatusResponse", "containers_statuses", 3, FD::TYPE_MESSAGE, FD::LABEL_REPEATED},
    {"ExecRequest", "audit_request_id", 7, FD::TYPE_STRING, FD::LABEL_OPTIONAL},
    {"AttachRequest", "tty", 3, FD::TYPE_BOOL, FD::LABEL_OPTIONAL},
    {"AttachRequest", "stdout", 4, FD::TYPE_BOOL, FD::LABEL_OPTIONAL},
    {"ExecSyncResponse", "stdout", 1, FD::TYPE_BYTES, FD::LABEL_OPTIONAL},
    {"PsiStats", "Full", 1, FD::TYPE_MESSAGE, FD::LABEL_OPTIONAL},
    {"PsiData", "Avg10", 2, FD::TYPE_DOUBLE, FD::LABEL_OPTIONAL},
    {"Image", "size", 4, FD::TYPE_UINT64, FD::LABEL_OPTIONAL},
    {"ImageFsInfoResponse", "container_filesystems", 2, FD::TYPE_MESSAGE, FD::LABEL_REPEATED},
    {"StatusResponse", "features", 4, FD::TYPE_MESSAGE, FD::LABEL_OPTIONAL},
};

TEST(CriProtoTest, PackageIsRuntimeV1) {
  EXPECT_EQ(File()->package(), "runtime.v1");
  EXPECT_EQ(File()->syntax(), pb::FileDescriptor::SYNTAX_PROTO3);
}

TEST(CriProtoTest, FieldNumbersTypesAndLabels) {
  for (const FieldFact& f : kFields) {
    SCOPED_TRACE(std::string(f.message) + "." + f.field);
    const pb::Descriptor* m = Message(f.message);
    ASSERT_NE(m, nullptr);
    const FD* field = m->FindFieldByName(f.field);
    ASSERT_NE(field, nullptr);
    EXPECT_EQ(field->number(), f.number);
    EXPECT_EQ(field->type(), f.type);
    EXPECT_EQ(field->label(), f.label);
    EXPECT_EQ(field->is_map(), f.map);
    EXPECT_EQ(field->containing_oneof(), nullptr);
  }
}

TEST(CriProtoTest, FieldTypesReferToTheRightMessages) {
  auto type_of = [](const char* message, const char* field) {
    return Message(message)->FindFieldByName(field)->message_type()->full_name();
  };
  EXPECT_EQ(type_of("LinuxContainerSecurityContext", "run_as_user"), "runtime.v1.Int64Value");
  EXPECT_EQ(type_of("ContainerConfig", "CDI_devices"), "runtime.v1.CDIDevice");
  EXPECT_EQ(type_of("ImageStatusResponse", "image"), "runtime.v1.Image");
  EXPECT_EQ(type_of("CpuUsage", "usage_nano_cores"), "runtime.v1.UInt64Value");
  EXPECT_EQ(Message("ContainerConfig")->FindFieldByName("stop_signal")->enum_type()->full_name(),
            "runtime.v1.Signal");
}

TEST(CriProtoTest, EnumValues) {
  const pb::EnumDescriptor* signal = v1::Signal_descriptor();
  EXPECT_EQ(signal->value_count(), 66);
  EXPECT_EQ(signal->FindValueByName("SIGNAL_RUNTIME_DEFAULT")->number(), 0);
  EXPECT_EQ(signal->FindValueByName("SIGNAL_SIGKILL")->number(), 13);
  EXPECT_EQ(signal->FindValueByName("SIGNAL_SIGTERM")->number(), 23);
  EXPECT_EQ(signal->FindValueByName("SIGNAL_SIGRTMAX")->number(), 65);
  // The generated enumerators compile next to <csignal>'s macros.
  EXPECT_EQ(v1::SIGNAL_SIGTERM, 23);
  EXPECT_NE(v1::SIGNAL_SIGTERM, SIGTERM);  // CRI numbers, not Linux ones

  EXPECT_EQ(v1::TARGET, 3);
  EXPECT_EQ(v1::Strict, 1);
  EXPECT_EQ(v1::CGROUPFS, 1);
  EXPECT_EQ(v1::SANDBOX_NOTREADY, 1);
  EXPECT_EQ(v1::CONTAINER_UNKNOWN, 3);
  EXPECT_EQ(v1::PROPAGATION_BIDIRECTIONAL, 2);
  EXPECT_EQ(v1::CONTAINER_DELETED_EVENT, 3);
  EXPECT_EQ(v1::SecurityProfile::Localhost, 2);
}

struct RpcFact {
  const char* name;
  bool server_streaming = false;
};

// Every RPC upstream, in upstream's order.
const RpcFact kRuntimeRpcs[] = {
    {"Version"},
    {"RunPodSandbox"},
    {"StopPodSandbox"},
    {"RemovePodSandbox"},
    {"PodSandboxStatus"},
    {"ListPodSandbox"},
    {"StreamPodSandboxes", true},
    {"CreateContainer"},
    {"StartContainer"},
    {"StopContainer"},
    {"RemoveContainer"},
    {"ListContainers"},
    {"StreamContainers", true},
    {"ContainerStatus"},
    {"UpdateContainerResources"},
    {"ReopenContainerLog"},
    {"ExecSync"},
    {"Exec"},
    {"Attach"},
    {"PortForward"},
    {"ContainerStats"},
    {"ListContainerStats"},
    {"StreamContainerStats", true},
    {"PodSandboxStats"},
    {"ListPodSandboxStats"},
    {"StreamPodSandboxStats", true},
    {"UpdateRuntimeConfig"},
    {"Status"},
    {"CheckpointContainer"},
    {"GetContainerEvents", true},
    {"ListMetricDescriptors"},
    {"ListPodSandboxMetrics"},
    {"StreamPodSandboxMetrics", true},
    {"RuntimeConfig"},
    {"UpdatePodSandboxResources"},
};

const RpcFact kImageRpcs[] = {
    {"ListImages"}, {"StreamImages", true}, {"ImageStatus"},
    {"PullImage"},  {"RemoveImage"},        {"ImageFsInfo"},
};

template <size_t N>
void ExpectService(const std::string& service, const RpcFact (&rpcs)[N]) {
  const pb::ServiceDescriptor* s = File()->pool()->FindServiceByName("runtime.v1." + service);
  ASSERT_NE(s, nullptr) << service;
  EXPECT_EQ(s->method_count(), static_cast<int>(N)) << service;
  std::set<std::string> seen;
  for (const RpcFact& rpc : rpcs) {
    SCOPED_TRACE(service + "/" + rpc.name);
    const pb::MethodDescriptor* m = s->FindMethodByName(rpc.name);
    ASSERT_NE(m, nullptr);
    seen.insert(rpc.name);
    EXPECT_FALSE(m->client_streaming());
    EXPECT_EQ(m->server_streaming(), rpc.server_streaming);
    // The usual Foo -> FooRequest/FooResponse pairing, except where upstream
    // departs from it.
    std::string name = rpc.name;
    if (name == "GetContainerEvents") {
      EXPECT_EQ(m->input_type()->name(), "GetEventsRequest");
      EXPECT_EQ(m->output_type()->name(), "ContainerEventResponse");
    } else {
      EXPECT_EQ(m->input_type()->name(), name + "Request");
      EXPECT_EQ(m->output_type()->name(), name + "Response");
    }
  }
  EXPECT_EQ(seen.size(), N);
}

TEST(CriProtoTest, RuntimeServiceRpcs) {
  ExpectService("RuntimeService", kRuntimeRpcs);
}

TEST(CriProtoTest, ImageServiceRpcs) {
  ExpectService("ImageService", kImageRpcs);
}

TEST(CriProtoTest, GrpcStubsExist) {
  // The generated stub types are there for both services (compile-time check).
  using RuntimeStub = v1::RuntimeService::Stub;
  using ImageStub = v1::ImageService::Stub;
  EXPECT_STREQ(v1::RuntimeService::service_full_name(), "runtime.v1.RuntimeService");
  EXPECT_STREQ(v1::ImageService::service_full_name(), "runtime.v1.ImageService");
  EXPECT_TRUE((std::is_class_v<RuntimeStub> && std::is_class_v<ImageStub>));
}

TEST(CriProtoTest, WireBytes) {
  // Field 6, length-delimited: tag (6 << 3) | 2 = 0x32.
  v1::LinuxContainerSecurityContext sc;
  sc.set_run_as_username("nobody");
  EXPECT_EQ(sc.SerializeAsString(), std::string("\x32\x06nobody", 8));

  // Field 18 (varint): tag (18 << 3) | 0 = 144 = 0x90 0x01; SIGTERM is 23.
  v1::ContainerConfig cfg;
  cfg.set_stop_signal(v1::SIGNAL_SIGTERM);
  EXPECT_EQ(cfg.SerializeAsString(), std::string("\x90\x01\x17", 3));

  // And back: a VersionResponse as a peer would send it.
  v1::VersionResponse v;
  ASSERT_TRUE(
      v.ParseFromString(std::string("\x12\x0a"
                                    "containerd"
                                    "\x22\x02v1",
                                    16)));
  EXPECT_EQ(v.runtime_name(), "containerd");
  EXPECT_EQ(v.runtime_api_version(), "v1");
}

}  // namespace
}  // namespace berth::cri
