// The monitor's event loop: one epoll set, a handler per descriptor, and
// deadlines (a stop's grace period, an idle UDP session). Single-threaded;
// a handler may add or remove any descriptor, itself included, and an
// event for a descriptor removed earlier in the same round is dropped, so
// a reused number never reaches the old handler.
#pragma once

#include <stdint.h>

#include <functional>
#include <map>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/unique_fd.h"

namespace runtime {

class EventLoop {
 public:
  using Handler = std::function<void(uint32_t events)>;
  using TimerId = uint64_t;

  static absl::StatusOr<EventLoop> Create();
  EventLoop(EventLoop&&) noexcept = default;
  EventLoop& operator=(EventLoop&&) noexcept = default;

  // Watches fd (not owned) for events (EPOLLIN, EPOLLOUT, ...).
  absl::Status Add(int fd, uint32_t events, Handler handler);
  absl::Status Modify(int fd, uint32_t events);
  // Forgets fd; a no-op when it is not watched. Call it before closing fd.
  void Remove(int fd);
  bool Watching(int fd) const { return handlers_.count(fd) != 0; }

  // Calls fn once, on the first round at least delay_ms from now.
  TimerId After(int64_t delay_ms, std::function<void()> fn);
  void Cancel(TimerId id);

  // One round: waits at most timeout_ms (-1: until an event or the next
  // deadline), then runs the handlers of what is ready and the timers due.
  absl::Status RunOnce(int timeout_ms = -1);
  // Rounds until Stop() is called (from a handler or a timer).
  absl::Status Run();
  void Stop() { stopped_ = true; }
  bool stopped() const { return stopped_; }

  static int64_t NowMs();  // CLOCK_MONOTONIC

  // The epoll descriptor: readable when a round has work, so an outer poll
  // loop can nest this one (and call RunOnce(0)); timers then run only when
  // that happens.
  int fd() const { return epoll_.get(); }

 private:
  EventLoop() = default;
  struct Entry {
    uint64_t generation;
    std::shared_ptr<Handler> handler;  // kept alive while it runs
  };
  common::UniqueFd epoll_;
  std::map<int, Entry> handlers_;
  uint64_t generation_ = 0;
  std::multimap<int64_t, std::pair<TimerId, std::function<void()>>> timers_;
  TimerId next_timer_ = 1;
  bool stopped_ = false;
};

}  // namespace runtime
