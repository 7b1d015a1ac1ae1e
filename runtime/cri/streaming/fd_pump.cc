#include "runtime/cri/streaming/fd_pump.h"

#include <sys/socket.h>

#include <boost/asio/buffer.hpp>
#include <boost/asio/write.hpp>

namespace berth::cri::streaming {

namespace {
constexpr size_t kReadChunk = 32 * 1024;
}

Descriptor MakeDescriptor(asio::io_context& io, UniqueFd fd) {
  auto d = std::make_shared<asio::posix::stream_descriptor>(io, fd.release());
  boost::system::error_code ec;
  d->non_blocking(true, ec);
  return d;
}

void FdReader::Start(Sink sink, End end) {
  sink_ = std::move(sink);
  end_ = std::move(end);
  ReadMore();
}

void FdReader::Stop() {
  stopped_ = true;
  sink_ = nullptr;
  end_ = nullptr;
}

void FdReader::ReadMore() {
  if (stopped_ || ended_) return;
  buf_.resize(kReadChunk);
  fd_->async_read_some(asio::buffer(buf_),
                       [self = shared_from_this()](boost::system::error_code ec, size_t n) {
                         if (self->stopped_) return;
                         if (ec) {
                           self->ended_ = true;
                           int err = 0;
                           // A pty master reads EIO once the last slave fd closed: that is EOF.
                           if (ec != asio::error::eof && ec.value() != EIO) err = ec.value();
                           if (ec == asio::error::operation_aborted) err = ECANCELED;
                           auto end = std::move(self->end_);
                           self->sink_ = nullptr;
                           if (end) end(err);
                           return;
                         }
                         std::string chunk(self->buf_.data(), n);
                         std::weak_ptr<FdReader> weak = self;
                         self->sink_(std::move(chunk), [weak] {
                           if (auto s = weak.lock()) s->ReadMore();
                         });
                       });
}

void FdWriter::Write(std::string data, std::function<void()> consumed) {
  if (ended_ || finishing_ || error_ != 0 || data.empty()) {
    if (consumed) consumed();
    return;
  }
  pending_bytes_ += data.size();
  queue_.push_back({std::move(data), std::move(consumed)});
  WriteMore();
}

void FdWriter::Finish() {
  if (ended_ || finishing_) return;
  finishing_ = true;
  if (!writing_) End();
}

void FdWriter::Close() {
  finishing_ = true;
  // The chunk being written stays queued: the write op still uses its bytes.
  std::deque<Chunk> dropped;
  while (queue_.size() > (writing_ ? 1u : 0u)) {
    dropped.push_back(std::move(queue_.back()));
    queue_.pop_back();
  }
  pending_bytes_ = queue_.empty() ? 0 : queue_.front().data.size();
  End();
  for (auto& c : dropped) {
    if (c.consumed) c.consumed();
  }
}

void FdWriter::End() {
  if (ended_) return;
  ended_ = true;
  boost::system::error_code ec;
  if (mode_ == EndMode::kShutdownWrite) {
    if (fd_->is_open()) ::shutdown(fd_->native_handle(), SHUT_WR);
  } else {
    fd_->close(ec);
  }
}

void FdWriter::WriteMore() {
  if (writing_ || queue_.empty() || ended_) return;
  writing_ = true;
  asio::async_write(*fd_, asio::buffer(queue_.front().data),
                    [self = shared_from_this()](boost::system::error_code ec, size_t) {
                      self->writing_ = false;
                      if (self->queue_.empty()) return;  // Close() ran meanwhile
                      Chunk done = std::move(self->queue_.front());
                      self->queue_.pop_front();
                      self->pending_bytes_ -= done.data.size();
                      if (ec) {
                        self->error_ = ec.value();
                        // Drop what is left: the reader is gone.
                        auto rest = std::move(self->queue_);
                        self->queue_.clear();
                        self->pending_bytes_ = 0;
                        if (done.consumed) done.consumed();
                        for (auto& c : rest) {
                          if (c.consumed) c.consumed();
                        }
                        self->End();
                        return;
                      }
                      if (done.consumed) done.consumed();
                      if (!self->queue_.empty()) {
                        self->WriteMore();
                      } else if (self->finishing_) {
                        self->End();
                      }
                    });
}

}  // namespace berth::cri::streaming
