#include "runtime/cri/streaming/ws_connection.h"

#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/buffers_to_string.hpp>

namespace berth::cri::streaming {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;

WsConnection::WsConnection(Ws ws, bool text) : ws_(std::move(ws)) {
  ws_.text(text);
  ws_.read_message_max(64 * 1024 * 1024);
}

void WsConnection::Start(OnMessage on_message, std::function<void()> on_closed) {
  on_message_ = std::move(on_message);
  on_closed_ = std::move(on_closed);
  ReadMore();
}

void WsConnection::ReadMore() {
  if (closed_) return;
  ws_.async_read(rbuf_, [self = shared_from_this()](beast::error_code ec, size_t) {
    if (ec) {
      self->Closed();
      return;
    }
    std::string msg = beast::buffers_to_string(self->rbuf_.data());
    self->rbuf_.consume(self->rbuf_.size());
    std::weak_ptr<WsConnection> weak = self;
    if (self->on_message_) {
      self->on_message_(std::move(msg), [weak] {
        if (auto s = weak.lock()) s->ReadMore();
      });
    } else {
      self->ReadMore();
    }
  });
}

void WsConnection::Send(std::string payload, std::function<void()> sent) {
  if (closed_ || closing_) {
    if (sent) asio::post(ws_.get_executor(), std::move(sent));
    return;
  }
  out_.push_back({std::move(payload), std::move(sent)});
  WriteMore();
}

void WsConnection::WriteMore() {
  if (writing_ || closed_) return;
  if (out_.empty()) {
    if (closing_ && !close_sent_) {
      close_sent_ = true;
      writing_ = true;
      ws_.async_close(websocket::close_code::normal,
                      [self = shared_from_this()](beast::error_code) {
                        self->writing_ = false;
                        // The read loop sees the peer's close reply (or the
                        // error) and finishes.
                      });
    }
    return;
  }
  writing_ = true;
  ws_.async_write(asio::buffer(out_.front().payload),
                  [self = shared_from_this()](beast::error_code ec, size_t) {
                    self->writing_ = false;
                    if (self->out_.empty()) return;
                    auto sent = std::move(self->out_.front().sent);
                    self->out_.pop_front();
                    if (sent) sent();
                    if (ec) {
                      self->Abort();
                      return;
                    }
                    self->WriteMore();
                  });
}

void WsConnection::Close() {
  if (closing_ || closed_) return;
  closing_ = true;
  WriteMore();
}

void WsConnection::Abort() {
  if (closed_) return;
  beast::error_code ec;
  beast::get_lowest_layer(ws_).socket().close(ec);
  Closed();
}

void WsConnection::Closed() {
  if (closed_) return;
  closed_ = true;
  beast::error_code ec;
  beast::get_lowest_layer(ws_).socket().close(ec);
  for (auto& o : out_) {
    if (o.sent) asio::post(ws_.get_executor(), std::move(o.sent));
  }
  out_.clear();
  auto cb = std::move(on_closed_);
  on_message_ = nullptr;
  if (cb) cb();
}

}  // namespace berth::cri::streaming
