#pragma once
// Moving bytes between a local fd (pipe, pty master, socket) and a protocol
// stream, on the server's event loop.
//
// FdReader reads until EOF and hands each chunk to a sink, reading on only
// when the sink says the chunk left (so a slow client slows the reader
// instead of growing memory). FdWriter queues chunks and writes them in
// order, reporting each one as consumed once written (that is when SPDY
// flow-control credit goes back to the peer).

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "common/fd.h"

namespace berth::cri::streaming {

namespace asio = boost::asio;
using Descriptor = std::shared_ptr<asio::posix::stream_descriptor>;

// Wraps an fd for the event loop (sets O_NONBLOCK); the descriptor owns it.
Descriptor MakeDescriptor(asio::io_context& io, UniqueFd fd);

class FdReader : public std::enable_shared_from_this<FdReader> {
 public:
  // `resume` must be called once the chunk has been handed on.
  using Sink = std::function<void(std::string chunk, std::function<void()> resume)>;
  // errno of a read error (0 for a clean EOF, EIO of a pty counts as EOF).
  using End = std::function<void(int err)>;

  explicit FdReader(Descriptor fd) : fd_(std::move(fd)) {}
  void Start(Sink sink, End end);
  // Stops reading; `end` is not called afterwards. Does not close the fd.
  void Stop();
  bool ended() const { return ended_; }

 private:
  void ReadMore();
  Descriptor fd_;
  Sink sink_;
  End end_;
  std::string buf_;
  bool ended_ = false;
  bool stopped_ = false;
};

class FdWriter : public std::enable_shared_from_this<FdWriter> {
 public:
  // What Finish() does once the queue has drained.
  enum class EndMode { kClose, kShutdownWrite };

  FdWriter(Descriptor fd, EndMode mode) : fd_(std::move(fd)), mode_(mode) {}
  // Queues `data`; `consumed` runs once it was written or dropped (after a
  // write error, e.g. EPIPE when the process closed its stdin, later data is
  // dropped).
  void Write(std::string data, std::function<void()> consumed = {});
  // Ends the stream (close / shutdown(SHUT_WR)) after the queued data.
  void Finish();
  // Drops queued data (calling their `consumed`) and closes the fd now.
  void Close();
  size_t pending_bytes() const { return pending_bytes_; }
  int error() const { return error_; }

 private:
  struct Chunk {
    std::string data;
    std::function<void()> consumed;
  };
  void WriteMore();
  void End();
  Descriptor fd_;
  EndMode mode_;
  std::deque<Chunk> queue_;
  size_t pending_bytes_ = 0;
  bool writing_ = false;
  bool finishing_ = false;
  bool ended_ = false;
  int error_ = 0;
};

}  // namespace berth::cri::streaming
