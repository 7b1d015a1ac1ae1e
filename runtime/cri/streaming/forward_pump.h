#pragma once
// One forwarded TCP connection of a port-forward session: bytes between
// the socket the backend connected and one remote data stream/channel.
//
// It ends like containerd's portForward: when one direction has finished
// (the target closed, or the client half-closed), the other gets `linger`
// to finish too; then the socket is closed. The client half-closing shuts
// down the socket's write side; the target closing sends FIN on the data
// stream (SPDY).

#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "runtime/cri/streaming/fd_pump.h"

namespace berth::cri::streaming {

class ForwardPump : public std::enable_shared_from_this<ForwardPump> {
 public:
  struct Remote {
    // Sends target bytes to the client; `sent` when gone to the socket.
    std::function<void(std::string data, std::function<void()> sent)> send;
    // The target closed its side (SPDY: FIN on the data stream).
    std::function<void()> send_fin;
  };
  // Runs once; `error` is empty for a normal end.
  using Done = std::function<void(std::string error)>;

  ForwardPump(asio::io_context& io, UniqueFd socket, Remote remote, Done done,
              std::chrono::milliseconds linger);
  void Start();
  void OnRemoteData(std::string data, std::function<void()> consumed);
  void OnRemoteFin();
  // Ends now (stream reset, connection gone); `done` runs with no error.
  void Abort();

 private:
  void DirectionDone();
  void Finish(std::string error);
  Descriptor fd_;
  Remote remote_;
  Done done_;
  std::chrono::milliseconds linger_;
  std::shared_ptr<FdReader> reader_;
  std::shared_ptr<FdWriter> writer_;
  asio::steady_timer linger_timer_;
  int directions_done_ = 0;
  bool upstream_done_ = false;    // client -> target
  bool downstream_done_ = false;  // target -> client
  bool finished_ = false;
};

}  // namespace berth::cri::streaming
