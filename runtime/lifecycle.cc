#include "runtime/lifecycle.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/absl/status_util.h"
#include "sandbox/cgroup.h"

namespace runtime {
namespace {

constexpr int kMonitorGraceMs = 10000;

// Waits until the recorded process exits (true) or timeout_ms passes.
bool WaitGone(const ProcessRef& ref, int timeout_ms) {
  absl::StatusOr<common::UniqueFd> fd = OpenProcess(ref);
  if (!fd.ok()) return true;
  struct pollfd p = {fd->get(), POLLIN, 0};
  for (;;) {
    const int r = ::poll(&p, 1, timeout_ms);
    if (r < 0 && errno == EINTR) continue;
    return r > 0;
  }
}

absl::Status Signal(const ProcessRef& ref, int sig, const std::string& who) {
  ASSIGN_OR_RETURN(common::UniqueFd fd, OpenProcess(ref));
  if (::syscall(SYS_pidfd_send_signal, fd.get(), sig, nullptr, 0) != 0 && errno != ESRCH) {
    return common::ErrnoStatus(errno, absl::StrCat("pidfd_send_signal(", who, ")"));
  }
  return absl::OkStatus();
}

}  // namespace

bool WaitAllGone(const std::vector<ProcessRef>& refs, int timeout_ms) {
  std::vector<common::UniqueFd> fds;
  std::vector<struct pollfd> polled;
  for (const ProcessRef& ref : refs) {
    absl::StatusOr<common::UniqueFd> fd = OpenProcess(ref);
    if (!fd.ok()) continue;  // gone already
    polled.push_back({fd->get(), POLLIN, 0});
    fds.push_back(*std::move(fd));
  }
  struct timespec now;
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  const int64_t deadline_ms = int64_t{now.tv_sec} * 1000 + now.tv_nsec / 1000000 + timeout_ms;
  while (!polled.empty()) {
    ::clock_gettime(CLOCK_MONOTONIC, &now);
    const int64_t left = deadline_ms - (int64_t{now.tv_sec} * 1000 + now.tv_nsec / 1000000);
    if (left <= 0) return false;
    const int r = ::poll(polled.data(), polled.size(), static_cast<int>(std::min<int64_t>(left, INT_MAX)));
    if (r < 0 && errno != EINTR) return false;
    // A pidfd polls readable once its process has exited.
    std::erase_if(polled, [](const struct pollfd& p) { return p.revents != 0; });
  }
  return true;
}

absl::Status StopContainer(const StateStore& store, Kind kind, const std::string& name, int timeout_s, int sig) {
  ASSIGN_OR_RETURN(const ContainerState state, store.Load(kind, name));
  const std::string status = state.Status();
  if (status == "exited") return absl::OkStatus();
  const std::string who = absl::StrCat(KindWord(kind), " ", name);
  if (status == "lost") {
    // Its monitor is gone: make sure the process went with it.
    if (Alive(state.init)) (void)Signal(state.init, SIGKILL, who);
    return absl::OkStatus();
  }
  if (Alive(state.init)) {
    // Gone between the check and the signal (a kill already under way, as
    // pod rm -f sends before it removes): that is the stop we wanted.
    if (absl::Status s = Signal(state.init, sig, who); !s.ok() && !absl::IsNotFound(s)) return s;
    // In ms, capped: a grace period of days must not wrap around to a short one.
    const int grace_ms = static_cast<int>(std::min<int64_t>(int64_t{timeout_s} * 1000, INT_MAX));
    if (!WaitGone(state.monitor, grace_ms)) (void)Signal(state.init, SIGKILL, who);
  }
  if (!WaitGone(state.monitor, kMonitorGraceMs)) {
    return absl::DeadlineExceededError(absl::StrCat(who, ": its monitor (pid ", state.monitor.pid,
                                                    ") did not finish within ", kMonitorGraceMs / 1000, " s"));
  }
  return absl::OkStatus();
}

absl::Status KillContainer(const StateStore& store, Kind kind, const std::string& name, int sig) {
  ASSIGN_OR_RETURN(const ContainerState state, store.Load(kind, name));
  const std::string who = absl::StrCat(KindWord(kind), " ", name);
  if (state.Status() != "running" || !Alive(state.init)) {
    return absl::FailedPreconditionError(absl::StrCat(who, " is not running"));
  }
  return Signal(state.init, sig, who);
}

absl::Status RemoveContainer(const StateStore& store, Kind kind, const std::string& name, bool force) {
  absl::StatusOr<ContainerState> state = store.Load(kind, name);
  if (!state.ok()) {
    // A directory without a readable state (a start that was killed half
    // way) can go; one that does not exist is the NotFound.
    if (absl::IsNotFound(state.status())) {
      if (absl::StatusOr<common::UniqueFd> dir = store.Dir(kind, name); !dir.ok()) return state.status();
    }
    return store.Remove(kind, name);
  }
  const std::string who = absl::StrCat(KindWord(kind), " ", name);
  const std::string status = state->Status();
  if (status == "running" || status == "created") {
    if (!force) {
      return absl::FailedPreconditionError(absl::StrCat(who, " is running: stop it first, or use rm -f"));
    }
    RETURN_IF_ERROR(StopContainer(store, kind, name, 0, SIGKILL));
  } else if (status == "lost") {
    if (Alive(state->init)) (void)Signal(state->init, SIGKILL, who);
    // The janitor removes the cgroup after the monitor's death; if it
    // could not, do it here.
    if (!state->cgroups.empty()) (void)sandbox::KillAndRemoveCgroups(state->cgroups);
  }
  absl::Status s = store.Remove(kind, name);
  if (absl::IsNotFound(s)) return absl::OkStatus();  // --rm's monitor was first
  return s;
}

}  // namespace runtime
