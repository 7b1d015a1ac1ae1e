#pragma once
// Names and negotiation rules of the streaming subprotocols (apimachinery
// util/remotecommand, util/httpstream, util/httpstream/wsstream).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/cri/streaming/backend.h"

namespace berth::cri::streaming {

// Remote command (exec/attach) over SPDY: X-Stream-Protocol-Version.
inline constexpr std::string_view kStreamProtocolV1 = "channel.k8s.io";
inline constexpr std::string_view kStreamProtocolV2 = "v2.channel.k8s.io";
inline constexpr std::string_view kStreamProtocolV3 = "v3.channel.k8s.io";
inline constexpr std::string_view kStreamProtocolV4 = "v4.channel.k8s.io";
inline constexpr std::string_view kStreamProtocolV5 = "v5.channel.k8s.io";
// Port forward over SPDY.
inline constexpr std::string_view kPortForwardProtocolV1 = "portforward.k8s.io";
// WebSocket subprotocols (Sec-WebSocket-Protocol).
inline constexpr std::string_view kWsBase64ChannelProtocol = "base64.channel.k8s.io";
inline constexpr std::string_view kWsV4BinaryProtocol = "v4.channel.k8s.io";
inline constexpr std::string_view kWsV4Base64Protocol = "v4.base64.channel.k8s.io";

// HTTP headers.
inline constexpr std::string_view kHeaderProtocolVersion = "X-Stream-Protocol-Version";
inline constexpr std::string_view kHeaderAcceptedProtocolVersions =
    "X-Accepted-Stream-Protocol-Versions";
// SPDY stream headers (sent lowercase on the wire).
inline constexpr std::string_view kStreamTypeHeader = "streamtype";
inline constexpr std::string_view kPortHeader = "port";
inline constexpr std::string_view kRequestIdHeader = "requestid";

// Remote command channel numbers (WebSocket) and stream roles (SPDY).
enum class Channel : uint8_t { kStdin = 0, kStdout = 1, kStderr = 2, kError = 3, kResize = 4 };
inline constexpr uint8_t kWsCloseSignal = 255;  // v5: [255, channel] half-closes a channel

// Protocol generations of remote command: what the error stream carries and
// whether terminal resizing exists.
enum class CommandVersion { kV1 = 1, kV2, kV3, kV4, kV5 };

std::vector<std::string> SpdyCommandProtocols();      // v5, v4, v3, v2, v1
std::vector<std::string> SpdyPortForwardProtocols();  // portforward.k8s.io
std::optional<CommandVersion> CommandVersionOf(std::string_view protocol);

// The first client protocol (in the client's order) the server supports;
// nullopt when none. Header values are comma-separated lists, trimmed.
std::optional<std::string> Negotiate(const std::vector<std::string>& client_header_values,
                                     const std::vector<std::string>& server_protocols);
std::vector<std::string> SplitProtocolList(const std::vector<std::string>& header_values);

// WebSocket remote command and port forward subprotocols a server accepts
// ("" = no subprotocol requested, which means binary channel.k8s.io).
struct WsProtocol {
  std::string name;
  bool base64 = false;
  CommandVersion version = CommandVersion::kV1;
};
std::vector<WsProtocol> WsCommandProtocols();
std::vector<WsProtocol> WsPortForwardProtocols();

}  // namespace berth::cri::streaming
