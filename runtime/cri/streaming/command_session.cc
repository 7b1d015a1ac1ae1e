#include "runtime/cri/streaming/command_session.h"

#include "common/log.h"

namespace berth::cri::streaming {

CommandSession::CommandSession(ServerContext& ctx, CommandRequest req, CommandVersion version,
                               std::unique_ptr<CommandTransport> transport)
    : ctx_(ctx),
      req_(std::move(req)),
      version_(version),
      transport_(std::move(transport)),
      drain_timer_(ctx.io) {}

void CommandSession::Start() {
  if (started_ || finished_) return;
  started_ = true;
  std::weak_ptr<CommandSession> weak = weak_from_this();
  std::shared_ptr<LoopHandle> loop = ctx_.loop;
  ExitHandler on_exit = [weak, loop](Result<int> result) {
    loop->Post([weak, result = std::move(result)]() mutable {
      if (auto self = weak.lock()) self->OnExit(std::move(result));
    });
  };

  Result<ProcessStreams> streams = Error(Errc::kInternal, "no backend");
  if (ctx_.backend) {
    if (req_.kind == CommandRequest::Kind::kExec) {
      ExecRequest r{req_.container_id, req_.cmd, req_.tty, req_.stdin, req_.stdout, req_.stderr};
      streams = ctx_.backend->Exec(r, std::move(on_exit));
    } else {
      AttachRequest r{req_.container_id, req_.stdin, req_.tty, req_.stdout, req_.stderr};
      streams = ctx_.backend->Attach(r, std::move(on_exit));
    }
  }
  if (!streams.ok()) {
    const char* what = req_.kind == CommandRequest::Kind::kExec
                           ? "error executing command in container: "
                           : "error attaching to container: ";
    BLOG(kWarn) << what << streams.error().str();
    Finish(CommandStatus::InternalError(what + streams.error().str()));
    return;
  }
  ProcessStreams& s = *streams;
  resize_ = std::move(s.resize);
  cancel_ = std::move(s.cancel);

  if (s.stdin_fd) {
    auto d = MakeDescriptor(ctx_.io, std::move(s.stdin_fd));
    descriptors_.push_back(d);
    stdin_ = std::make_shared<FdWriter>(d, FdWriter::EndMode::kClose);
  }
  // Output the client did not ask for is read and dropped, so the process
  // never blocks on it.
  StartOutput(std::move(s.stdout_fd), Channel::kStdout);
  StartOutput(std::move(s.stderr_fd), Channel::kStderr);

  for (auto& [data, consumed] : early_stdin_)
    OnStdin(std::move(data), std::move(consumed));
  early_stdin_.clear();
  if (stdin_eof_ && stdin_) stdin_->Finish();
  if (!early_resize_.empty()) OnResize(std::exchange(early_resize_, {}));
}

void CommandSession::StartOutput(UniqueFd fd, Channel ch) {
  if (!fd) return;
  auto d = MakeDescriptor(ctx_.io, std::move(fd));
  descriptors_.push_back(d);
  auto reader = std::make_shared<FdReader>(d);
  readers_.push_back(reader);
  ++outputs_open_;
  std::weak_ptr<CommandSession> weak = weak_from_this();
  reader->Start(
      [weak, ch](std::string chunk, std::function<void()> resume) {
        auto self = weak.lock();
        if (!self || self->finished_) return;
        self->transport_->Send(ch, std::move(chunk), std::move(resume));
      },
      [weak, ch](int) {
        if (auto self = weak.lock()) self->OutputEnded(ch);
      });
}

void CommandSession::OutputEnded(Channel ch) {
  if (finished_) return;
  --outputs_open_;
  transport_->CloseChannel(ch);
  MaybeFinish();
}

void CommandSession::OnStdin(std::string data, std::function<void()> consumed) {
  if (!started_ && !finished_) {
    early_stdin_.emplace_back(std::move(data), std::move(consumed));
    return;
  }
  if (!stdin_ || finished_ || !req_.stdin) {
    if (consumed) consumed();
    return;
  }
  stdin_->Write(std::move(data), std::move(consumed));
}

void CommandSession::OnStdinEof() {
  if (stdin_eof_) return;
  stdin_eof_ = true;
  if (stdin_) stdin_->Finish();
}

void CommandSession::OnResize(std::string_view bytes) {
  if (!started_) {
    early_resize_.append(bytes);
    return;
  }
  if (finished_ || !req_.tty) return;
  for (const TerminalSize& size : resize_decoder_.Feed(bytes)) {
    if (resize_) resize_(size);
  }
}

void CommandSession::OnExit(Result<int> result) {
  if (finished_ || exit_.has_value()) return;
  exit_.emplace(std::move(result));
  if (outputs_open_ > 0) {
    drain_timer_.expires_after(ctx_.config.output_drain_timeout);
    drain_timer_.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
      if (ec) return;
      if (auto self = weak.lock()) {
        self->drain_expired_ = true;
        self->MaybeFinish();
      }
    });
  }
  MaybeFinish();
}

CommandStatus CommandSession::StatusFor(const Result<int>& result) const {
  bool exec = req_.kind == CommandRequest::Kind::kExec;
  if (!result.ok()) {
    return CommandStatus::InternalError(
        (exec ? "error executing command in container: " : "error attaching to container: ") +
        result.error().str());
  }
  if (exec && *result != 0) {
    return CommandStatus::NonZeroExit(*result, ExecExitMessage(req_.cmd, *result));
  }
  return CommandStatus::Success();
}

void CommandSession::MaybeFinish() {
  if (finished_ || !exit_.has_value()) return;
  if (outputs_open_ > 0 && !drain_expired_) return;
  Finish(StatusFor(*exit_));
}

void CommandSession::Finish(const CommandStatus& status) {
  if (finished_) return;
  finished_ = true;
  drain_timer_.cancel();
  for (auto& r : readers_)
    r->Stop();
  std::optional<std::string> payload;
  if (version_ >= CommandVersion::kV4) {
    payload = StatusJson(status);
  } else {
    payload = StatusText(status);
  }
  std::shared_ptr<CommandSession> self = shared_from_this();
  auto close = [self] {
    self->transport_->CloseChannel(Channel::kError);
    self->transport_->Close();
    self->Cleanup();
  };
  if (payload) {
    transport_->Send(Channel::kError, std::move(*payload), close);
  } else {
    close();
  }
}

void CommandSession::OnTransportClosed() {
  if (finished_) {
    Cleanup();
    return;
  }
  finished_ = true;
  drain_timer_.cancel();
  if (!exit_.has_value() && cancel_) cancel_();
  Cleanup();
}

void CommandSession::Cleanup() {
  for (auto& r : readers_)
    r->Stop();
  readers_.clear();
  if (stdin_) stdin_->Close();
  stdin_.reset();
  for (auto& d : descriptors_) {
    boost::system::error_code ec;
    d->close(ec);
  }
  descriptors_.clear();
  for (auto& [data, consumed] : early_stdin_) {
    if (consumed) consumed();
  }
  early_stdin_.clear();
  resize_ = nullptr;
  cancel_ = nullptr;
}

}  // namespace berth::cri::streaming
