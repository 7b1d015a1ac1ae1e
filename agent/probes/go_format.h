#pragma once
// The few Go renderings kubelet's probe and hook messages contain, so that
// berth's events read like kubelet's: time.Duration ("1s", "1m30s"),
// strconv.Quote / %q, and the lowercase errno text of Go's syscall errors.

#include <boost/json.hpp>
#include <cstdint>
#include <string>
#include <string_view>

namespace berth::agent::gofmt {

// The Kubernetes minor version whose prober berth implements, for the
// User-Agent "kube-probe/1.33" / "kube-lifecycle/1.33".
inline constexpr std::string_view kKubeVersion = "1.33";

// time.Duration(seconds * time.Second).String().
std::string Duration(int64_t seconds);
// strconv.Quote: double-quoted with Go's escapes.
std::string Quote(std::string_view s);
// "Connection refused" -> "connection refused", as Go prints errnos.
std::string ErrnoText(std::string text);
// A gRPC status code's Go name ("Unavailable", "DeadlineExceeded").
std::string_view GrpcCodeName(int code);
// A gRPC error as grpc-go prints it: "rpc error: code = Unavailable desc = ...".
std::string GrpcError(int code, std::string_view message);
// kubelet's format.Pod: "name_namespace(uid)"; "<nil>" for no pod.
std::string PodDesc(const boost::json::object* pod);

}  // namespace berth::agent::gofmt
