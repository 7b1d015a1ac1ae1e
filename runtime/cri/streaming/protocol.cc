#include "runtime/cri/streaming/protocol.h"

#include "common/strings.h"

namespace berth::cri::streaming {

std::vector<std::string> SpdyCommandProtocols() {
  return {std::string(kStreamProtocolV5), std::string(kStreamProtocolV4),
          std::string(kStreamProtocolV3), std::string(kStreamProtocolV2),
          std::string(kStreamProtocolV1)};
}

std::vector<std::string> SpdyPortForwardProtocols() {
  return {std::string(kPortForwardProtocolV1)};
}

std::optional<CommandVersion> CommandVersionOf(std::string_view p) {
  if (p == kStreamProtocolV5) return CommandVersion::kV5;
  if (p == kStreamProtocolV4) return CommandVersion::kV4;
  if (p == kStreamProtocolV3) return CommandVersion::kV3;
  if (p == kStreamProtocolV2) return CommandVersion::kV2;
  if (p == kStreamProtocolV1) return CommandVersion::kV1;
  return std::nullopt;
}

std::vector<std::string> SplitProtocolList(const std::vector<std::string>& header_values) {
  std::vector<std::string> out;
  for (const auto& value : header_values) {
    for (const auto& part : Split(value, ',')) {
      std::string_view p = Trim(part);
      if (!p.empty()) out.emplace_back(p);
    }
  }
  return out;
}

std::optional<std::string> Negotiate(const std::vector<std::string>& client_header_values,
                                     const std::vector<std::string>& server_protocols) {
  for (const auto& c : SplitProtocolList(client_header_values)) {
    for (const auto& s : server_protocols) {
      if (c == s) return c;
    }
  }
  return std::nullopt;
}

std::vector<WsProtocol> WsCommandProtocols() {
  return {
      {std::string(kStreamProtocolV5), false, CommandVersion::kV5},
      {std::string(kWsV4BinaryProtocol), false, CommandVersion::kV4},
      {std::string(kWsV4Base64Protocol), true, CommandVersion::kV4},
      {std::string(kStreamProtocolV1), false, CommandVersion::kV1},
      {std::string(kWsBase64ChannelProtocol), true, CommandVersion::kV1},
      {"", false, CommandVersion::kV1},
  };
}

std::vector<WsProtocol> WsPortForwardProtocols() {
  return {
      {std::string(kWsV4BinaryProtocol), false, CommandVersion::kV4},
      {std::string(kWsV4Base64Protocol), true, CommandVersion::kV4},
      {"", false, CommandVersion::kV4},
  };
}

}  // namespace berth::cri::streaming
