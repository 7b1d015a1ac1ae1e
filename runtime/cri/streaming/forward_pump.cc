#include "runtime/cri/streaming/forward_pump.h"

#include <cstring>

namespace berth::cri::streaming {

ForwardPump::ForwardPump(asio::io_context& io, UniqueFd socket, Remote remote, Done done,
                         std::chrono::milliseconds linger)
    : fd_(MakeDescriptor(io, std::move(socket))),
      remote_(std::move(remote)),
      done_(std::move(done)),
      linger_(linger),
      linger_timer_(io) {}

void ForwardPump::Start() {
  reader_ = std::make_shared<FdReader>(fd_);
  writer_ = std::make_shared<FdWriter>(fd_, FdWriter::EndMode::kShutdownWrite);
  std::weak_ptr<ForwardPump> weak = weak_from_this();
  reader_->Start(
      [weak](std::string chunk, std::function<void()> resume) {
        auto self = weak.lock();
        if (!self || self->finished_) return;
        self->remote_.send(std::move(chunk), std::move(resume));
      },
      [weak](int err) {
        auto self = weak.lock();
        if (!self || self->finished_) return;
        // A reset target is a normal end for the client (kubelet keeps the
        // session for EPIPE/ECONNRESET); other errors are reported.
        if (err != 0 && err != ECONNRESET && err != EPIPE && err != ECANCELED) {
          self->Finish(std::string("read: ") + std::strerror(err));
          return;
        }
        self->downstream_done_ = true;
        if (self->remote_.send_fin) self->remote_.send_fin();
        self->DirectionDone();
      });
}

void ForwardPump::OnRemoteData(std::string data, std::function<void()> consumed) {
  if (finished_ || upstream_done_) {
    if (consumed) consumed();
    return;
  }
  writer_->Write(std::move(data), std::move(consumed));
}

void ForwardPump::OnRemoteFin() {
  if (finished_ || upstream_done_) return;
  upstream_done_ = true;
  writer_->Finish();  // shutdown(SHUT_WR) once the queue drained
  DirectionDone();
}

void ForwardPump::DirectionDone() {
  if (finished_) return;
  if (upstream_done_ && downstream_done_) {
    Finish({});
    return;
  }
  linger_timer_.expires_after(linger_);
  linger_timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
    if (ec) return;
    if (auto self = weak.lock()) self->Finish({});
  });
}

void ForwardPump::Abort() {
  Finish({});
}

void ForwardPump::Finish(std::string error) {
  if (finished_) return;
  finished_ = true;
  auto keep_alive = shared_from_this();  // `done` may drop the last owner
  linger_timer_.cancel();
  if (reader_) reader_->Stop();
  if (writer_) writer_->Close();
  boost::system::error_code ec;
  fd_->close(ec);
  auto done = std::move(done_);
  remote_ = {};
  if (done) done(std::move(error));
}

}  // namespace berth::cri::streaming
