// epoll with a generation per registration: the 64-bit event data carries
// the descriptor and the generation it was added with, so an event that
// names a descriptor removed (and perhaps added again) earlier in the same
// round is recognised as stale.
#include "runtime/event_loop.h"

#include <errno.h>
#include <sys/epoll.h>
#include <time.h>

#include <algorithm>

#include <vector>

#include "common/absl/status_util.h"

namespace runtime {
namespace {

uint64_t Pack(int fd, uint64_t generation) { return generation << 32 | static_cast<uint32_t>(fd); }

}  // namespace

int64_t EventLoop::NowMs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

absl::StatusOr<EventLoop> EventLoop::Create() {
  EventLoop loop;
  loop.epoll_ = common::UniqueFd(::epoll_create1(EPOLL_CLOEXEC));
  if (!loop.epoll_) return common::ErrnoStatus(errno, "epoll_create1");
  return loop;
}

absl::Status EventLoop::Add(int fd, uint32_t events, Handler handler) {
  const uint64_t generation = ++generation_ & 0xffffffff;
  struct epoll_event ev{};
  ev.events = events;
  ev.data.u64 = Pack(fd, generation);
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) {
    return common::ErrnoStatus(errno, absl::StrCat("epoll_ctl(ADD, fd ", fd, ")"));
  }
  handlers_[fd] = Entry{generation, std::make_shared<Handler>(std::move(handler))};
  return absl::OkStatus();
}

absl::Status EventLoop::Modify(int fd, uint32_t events) {
  auto it = handlers_.find(fd);
  if (it == handlers_.end()) return absl::NotFoundError(absl::StrCat("fd ", fd, " is not watched"));
  struct epoll_event ev{};
  ev.events = events;
  ev.data.u64 = Pack(fd, it->second.generation);
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, fd, &ev) != 0) {
    return common::ErrnoStatus(errno, absl::StrCat("epoll_ctl(MOD, fd ", fd, ")"));
  }
  return absl::OkStatus();
}

void EventLoop::Remove(int fd) {
  if (handlers_.erase(fd) == 0) return;
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
}

EventLoop::TimerId EventLoop::After(int64_t delay_ms, std::function<void()> fn) {
  const TimerId id = next_timer_++;
  timers_.emplace(NowMs() + delay_ms, std::make_pair(id, std::move(fn)));
  return id;
}

void EventLoop::Cancel(TimerId id) {
  for (auto it = timers_.begin(); it != timers_.end(); ++it) {
    if (it->second.first == id) {
      timers_.erase(it);
      return;
    }
  }
}

absl::Status EventLoop::RunOnce(int timeout_ms) {
  if (!timers_.empty()) {
    const int64_t until = timers_.begin()->first - NowMs();
    const int wait = until <= 0 ? 0 : static_cast<int>(std::min<int64_t>(until, 1 << 30));
    if (timeout_ms < 0 || wait < timeout_ms) timeout_ms = wait;
  }
  struct epoll_event events[32];
  const int n = ::epoll_wait(epoll_.get(), events, 32, timeout_ms);
  if (n < 0 && errno != EINTR) return common::ErrnoStatus(errno, "epoll_wait");
  for (int i = 0; i < n; ++i) {
    const int fd = static_cast<int>(events[i].data.u64 & 0xffffffff);
    const uint64_t generation = events[i].data.u64 >> 32;
    auto it = handlers_.find(fd);
    if (it == handlers_.end() || it->second.generation != generation) continue;
    std::shared_ptr<Handler> handler = it->second.handler;
    (*handler)(events[i].events);
  }
  // Timers due now; one that a timer adds with no delay waits a round.
  const int64_t now = NowMs();
  std::vector<std::function<void()>> due;
  while (!timers_.empty() && timers_.begin()->first <= now) {
    due.push_back(std::move(timers_.begin()->second.second));
    timers_.erase(timers_.begin());
  }
  for (auto& fn : due) fn();
  return absl::OkStatus();
}

absl::Status EventLoop::Run() {
  while (!stopped_) RETURN_IF_ERROR(RunOnce());
  return absl::OkStatus();
}

}  // namespace runtime
