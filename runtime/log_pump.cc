// The log pump: one EventLoop handler per output descriptor, its state
// shared between that handler and the idle-flush timer.
#include "runtime/log_pump.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/absl/status_util.h"

namespace runtime {
namespace {

struct Pump {
  EventLoop* loop;
  common::UniqueFd fd;
  LogStream stream;
  CriLogWriter* writer;
  LogPumpOptions options;
  std::vector<char> buf;
  EventLoop::TimerId idle_timer = 0;

  void Report(const absl::Status& s) {
    if (!s.ok() && options.on_write_error) options.on_write_error(s);
  }

  void CancelTimer() {
    if (idle_timer != 0) loop->Cancel(idle_timer);
    idle_timer = 0;
  }

  // Re-armed after every read: the tail must sit unchanged this long.
  void ArmTimer(const std::shared_ptr<Pump>& self) {
    CancelTimer();
    if (options.idle_flush_ms <= 0 || writer->pending(stream) == 0) return;
    std::weak_ptr<Pump> weak = self;
    idle_timer = loop->After(options.idle_flush_ms, [weak] {
      if (std::shared_ptr<Pump> p = weak.lock()) {
        p->idle_timer = 0;
        p->Report(p->writer->Flush(p->stream));
      }
    });
  }

  void Finish() {
    CancelTimer();
    Report(writer->Flush(stream));
    loop->Remove(fd.get());
    fd.Reset();
    // The handler (and with it this object) lives until it returns.
    if (options.on_eof) options.on_eof();
  }

  void OnReadable(const std::shared_ptr<Pump>& self) {
    for (int i = 0; i < options.max_reads_per_event;) {
      const ssize_t n = ::read(fd.get(), buf.data(), buf.size());
      if (n > 0) {
        const absl::string_view chunk(buf.data(), static_cast<size_t>(n));
        if (options.tee) options.tee(stream, chunk);
        Report(writer->Append(stream, chunk.data(), chunk.size()));
        ++i;
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) break;  // EWOULDBLOCK is the same number on Linux
      Finish();  // 0: the end; EIO: a pty whose slave side is closed; others: nothing more will come
      return;
    }
    ArmTimer(self);
  }
};

}  // namespace

absl::Status StartLogPump(EventLoop& loop, common::UniqueFd fd, LogStream stream, CriLogWriter* writer,
                          LogPumpOptions options) {
  const int flags = ::fcntl(fd.get(), F_GETFL);
  if (flags < 0 || ::fcntl(fd.get(), F_SETFL, flags | O_NONBLOCK) != 0) {
    return common::ErrnoStatus(errno,
                               absl::StrCat("fcntl(O_NONBLOCK, ", LogStreamName(stream), " fd ", fd.get(), ")"));
  }
  auto pump = std::make_shared<Pump>();
  pump->loop = &loop;
  pump->fd = std::move(fd);
  pump->stream = stream;
  pump->writer = writer;
  pump->options = std::move(options);
  if (pump->options.read_size == 0) pump->options.read_size = 64 * 1024;
  if (pump->options.max_reads_per_event < 1) pump->options.max_reads_per_event = 1;
  pump->buf.resize(pump->options.read_size);
  const int raw = pump->fd.get();
  // The handler owns the pump; the timer only refers to it.
  return loop.Add(raw, EPOLLIN, [pump](uint32_t) { pump->OnReadable(pump); });
}

}  // namespace runtime
