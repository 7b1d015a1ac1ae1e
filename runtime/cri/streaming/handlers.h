#pragma once
// Entry points of the upgraded connections, called by the HTTP front end
// once the token, the protocol and the upgrade have been checked.

#include <boost/asio/ip/tcp.hpp>
#include <string>
#include <vector>

#include "runtime/cri/streaming/command_session.h"
#include "runtime/cri/streaming/context.h"
#include "runtime/cri/streaming/protocol.h"
#include "runtime/cri/streaming/ws_connection.h"

namespace berth::cri::streaming {

// SPDY/3.1 after "101 Switching Protocols"; `already_read` are bytes that
// followed the request.
void ServeSpdyCommand(ServerContext& ctx, asio::ip::tcp::socket socket, std::string already_read,
                      CommandVersion version, CommandRequest req);
void ServeSpdyPortForward(ServerContext& ctx, asio::ip::tcp::socket socket,
                          std::string already_read, PortForwardRequest req);

// An accepted WebSocket.
void ServeWsCommand(ServerContext& ctx, WsConnection::Ws ws, const WsProtocol& protocol,
                    CommandRequest req);
void ServeWsPortForward(ServerContext& ctx, WsConnection::Ws ws, const WsProtocol& protocol,
                        PortForwardRequest req, std::vector<int32_t> ports);

// "error forwarding port 80 to pod <sandbox>, uid : <error>" (kubelet's
// wording; CRI has no pod UID).
std::string PortForwardError(int32_t port, const std::string& sandbox, const std::string& err);

}  // namespace berth::cri::streaming
