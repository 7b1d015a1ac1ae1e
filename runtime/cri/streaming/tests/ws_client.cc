#include "runtime/cri/streaming/tests/ws_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <thread>

#include "common/strings.h"

namespace berth::cri::streaming::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

struct WsClient::Impl {
  asio::io_context io;
  websocket::stream<tcp::socket> ws{io};
  beast::flat_buffer buf;
  std::thread thread;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<WsMessage> inbox;
  bool closed = false;
  std::deque<std::pair<std::string, bool>> outbox;
  bool writing = false;

  void ReadMore() {
    ws.async_read(buf, [this](beast::error_code ec, size_t) {
      std::lock_guard lock(mu);
      if (ec) {
        closed = true;
        cv.notify_all();
        return;
      }
      inbox.push_back({ws.got_text(), beast::buffers_to_string(buf.data())});
      buf.consume(buf.size());
      cv.notify_all();
      ReadMore();
    });
  }

  void WriteMore() {
    if (writing || outbox.empty()) return;
    writing = true;
    ws.text(outbox.front().second);
    ws.async_write(asio::buffer(outbox.front().first), [this](beast::error_code, size_t) {
      writing = false;
      outbox.pop_front();
      WriteMore();
    });
  }
};

Result<std::unique_ptr<WsClient>> WsClient::Connect(const std::string& url,
                                                    const std::vector<std::string>& protocols,
                                                    Handshake* handshake) {
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0) return Error(Errc::kInvalidArgument, "not http: " + url);
  std::string rest = url.substr(scheme.size());
  auto slash = rest.find('/');
  std::string hostport = rest.substr(0, slash);
  std::string target = slash == std::string::npos ? "/" : rest.substr(slash);
  auto colon = hostport.rfind(':');
  auto impl = std::make_unique<Impl>();
  beast::error_code ec;
  tcp::resolver resolver(impl->io);
  auto results = resolver.resolve(hostport.substr(0, colon), hostport.substr(colon + 1), ec);
  if (ec) return Error(Errc::kUnavailable, "resolve: " + ec.message());
  asio::connect(impl->ws.next_layer(), results, ec);
  if (ec) return Error(Errc::kUnavailable, "connect: " + ec.message());
  std::string offered = Join(protocols, ", ");
  impl->ws.set_option(websocket::stream_base::decorator([offered](websocket::request_type& req) {
    if (!offered.empty()) req.set(beast::http::field::sec_websocket_protocol, offered);
  }));
  websocket::response_type res;
  impl->ws.handshake(res, hostport, target, ec);
  if (handshake) {
    handshake->status = static_cast<int>(res.result_int());
    handshake->protocol = std::string(res[beast::http::field::sec_websocket_protocol]);
    handshake->body = res.body();
  }
  if (ec) {
    if (res.result_int() != 0) return std::unique_ptr<WsClient>();
    return Error(Errc::kUnavailable, "websocket handshake: " + ec.message());
  }
  Impl* raw = impl.get();
  raw->ReadMore();
  raw->thread = std::thread([raw] { raw->io.run(); });
  return std::unique_ptr<WsClient>(new WsClient(std::move(impl)));
}

WsClient::WsClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

WsClient::~WsClient() {
  asio::post(impl_->io, [impl = impl_.get()] {
    beast::error_code ec;
    impl->ws.next_layer().close(ec);
  });
  impl_->thread.join();
}

void WsClient::Send(std::string data, bool text) {
  asio::post(impl_->io, [impl = impl_.get(), data = std::move(data), text]() mutable {
    impl->outbox.emplace_back(std::move(data), text);
    impl->WriteMore();
  });
}

void WsClient::Close() {
  asio::post(impl_->io, [impl = impl_.get()] {
    impl->ws.async_close(websocket::close_code::normal, [](beast::error_code) {});
  });
}

std::optional<WsMessage> WsClient::Read(std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->mu);
  impl_->cv.wait_for(lock, timeout, [&] { return !impl_->inbox.empty() || impl_->closed; });
  if (impl_->inbox.empty()) return std::nullopt;
  WsMessage m = std::move(impl_->inbox.front());
  impl_->inbox.pop_front();
  return m;
}

bool WsClient::WaitClosed(std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->mu);
  return impl_->cv.wait_for(lock, timeout, [&] { return impl_->closed; });
}

}  // namespace berth::cri::streaming::testing
