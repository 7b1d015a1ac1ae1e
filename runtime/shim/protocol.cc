#include "runtime/shim/protocol.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include "common/unix_socket.h"

namespace berth::shim {

const std::string& Message::field(size_t i) const {
  static const std::string kEmpty;
  return i < fields.size() ? fields[i] : kEmpty;
}

std::string Encode(std::span<const std::string_view> fields) {
  std::string out;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) out.push_back('\0');
    out.append(fields[i]);
  }
  return out;
}

std::vector<std::string> Decode(std::string_view payload, size_t max_fields) {
  std::vector<std::string> out;
  while (out.size() + 1 < max_fields) {
    size_t nul = payload.find('\0');
    if (nul == std::string_view::npos) break;
    out.emplace_back(payload.substr(0, nul));
    payload.remove_prefix(nul + 1);
  }
  out.emplace_back(payload);
  return out;
}

Status Send(int socket, std::initializer_list<std::string_view> fields, std::span<const int> fds) {
  std::string payload = Encode(std::span<const std::string_view>(fields.begin(), fields.size()));
  if (payload.size() > kMaxMessage) {
    return Error(Errc::kInvalidArgument, "shim message `" + std::string(*fields.begin()) + "` is " +
                                             std::to_string(payload.size()) + " bytes, more than " +
                                             std::to_string(kMaxMessage));
  }
  return SendMessageFds(socket, payload, fds, "shim socket");
}

Result<Message> Receive(int socket) {
  // Peek at the record's size first: a 64 KiB buffer per message would be
  // touched (and kept by malloc) in every shim.
  char probe;
  ssize_t size;
  while ((size = ::recv(socket, &probe, 1, MSG_PEEK | MSG_TRUNC)) < 0 && errno == EINTR) {
  }
  if (size < 0) return Error::Sys("recv", "shim socket");
  size_t want = std::clamp<size_t>(static_cast<size_t>(size), 1, kMaxMessage);
  ReceivedFds got = BERTH_TRY(ReceiveMessageFds(socket, want, "shim socket"));
  Message msg;
  msg.fds = std::move(got.fds);
  if (got.payload.empty()) return msg;
  if (got.truncated) {
    return Error(Errc::kDataLoss, "shim message cut short (over " + std::to_string(kMaxMessage) +
                                      " bytes or too many fds)");
  }
  bool data = got.payload.starts_with(std::string_view("data\0", 5));
  msg.fields = Decode(got.payload, data ? 3 : SIZE_MAX);
  return msg;
}

Result<Message> ExpectOk(Message reply, std::string_view what) {
  if (reply.closed()) {
    return Error(Errc::kUnavailable, std::string(what) + ": the shim closed the connection");
  }
  if (reply.verb() == "ok") return reply;
  if (reply.verb() == "err") {
    int code = std::atoi(reply.field(1).c_str());
    Errc errc = code > 0 && code <= 16 ? static_cast<Errc>(code) : Errc::kUnknown;
    return Error(errc, std::string(what) + ": " + reply.field(2));
  }
  return Error(Errc::kInternal,
               std::string(what) + ": unexpected shim reply `" + reply.verb() + "`");
}

Status SendError(int socket, const Error& error) {
  std::string code = std::to_string(static_cast<int>(error.code()));
  std::string text = error.str();
  if (text.size() > kMaxMessage / 2) text.resize(kMaxMessage / 2);
  return Send(socket, {"err", code, text});
}

}  // namespace berth::shim
