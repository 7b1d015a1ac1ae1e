#pragma once
// One accepted WebSocket connection (Beast) carrying k8s channel frames:
// a message queue on the way out (Beast allows one write at a time), a read
// loop that waits for the consumer before reading on, and a graceful close
// after the queue drained.

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <deque>
#include <functional>
#include <memory>
#include <string>

namespace berth::cri::streaming {

class WsConnection : public std::enable_shared_from_this<WsConnection> {
 public:
  using Ws = boost::beast::websocket::stream<boost::beast::tcp_stream>;
  // `next` must be called to read the next message.
  using OnMessage = std::function<void(std::string message, std::function<void()> next)>;

  // `text`: send text messages (the base64 protocols), else binary.
  WsConnection(Ws ws, bool text);
  void Start(OnMessage on_message, std::function<void()> on_closed);
  // Queues one message; `sent` runs once written (or dropped on close).
  void Send(std::string payload, std::function<void()> sent = {});
  // Sends a close frame (1000) once the queue drained.
  void Close();
  // Drops the TCP connection now.
  void Abort();
  bool closed() const { return closed_; }

 private:
  struct Out {
    std::string payload;
    std::function<void()> sent;
  };
  void ReadMore();
  void WriteMore();
  void Closed();
  Ws ws_;
  boost::beast::flat_buffer rbuf_;
  OnMessage on_message_;
  std::function<void()> on_closed_;
  std::deque<Out> out_;
  bool writing_ = false;
  bool closing_ = false;
  bool close_sent_ = false;
  bool closed_ = false;
};

}  // namespace berth::cri::streaming
