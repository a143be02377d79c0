// Sockets made inside a container's network namespace for a monitor that
// stays in the host's. A socket keeps the namespace it was created in, so
// one made there can be connected to the container's loopback from here.
//
// setns(CLONE_NEWNET) needs CAP_SYS_ADMIN over the target namespace and in
// the caller's own user namespace, which a rootless monitor lacks, and it
// would move the whole (single-threaded) monitor. So Start() forks a small
// helper that joins the container through its pidfd (CLONE_NEWNET, plus
// CLONE_NEWUSER when the container has its own user namespace: joining it
// gives the helper the capability there) and then answers requests
// {domain, type, protocol} on a SOCK_SEQPACKET socketpair, passing each new
// socket back with SCM_RIGHTS, or the errno.
//
// The helper: forked (copy-on-write; it allocates nothing after the fork
// and touches only its stack), closes every descriptor but its two, is not
// dumpable (a process in the container's user namespace cannot ptrace it
// or read its memory), and dies with the monitor (PR_SET_PDEATHSIG, with
// the parent checked after arming it). It sees the container's network
// only; its pid namespace stays the monitor's, so the container cannot see
// it.
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/unique_fd.h"

namespace runtime {

class NetnsSockets {
 public:
  // container_pidfd: a pidfd of any process of the container (its pid 1,
  // or a pod's holder); only used during Start. join_user_ns: join the
  // container's user namespace too, which a rootless monitor needs (it has
  // no capability over the network namespace otherwise); pass it whenever
  // the container has a user namespace of its own, never when it shares
  // the monitor's (setns then fails with EINVAL). Waits at most 5 s for
  // the helper to join; a dead container is ESRCH. Call it from the
  // monitor's only thread: the parent-death signal follows the thread
  // that forked.
  static absl::StatusOr<NetnsSockets> Start(int container_pidfd, bool join_user_ns);

  NetnsSockets(NetnsSockets&& other) noexcept;
  NetnsSockets& operator=(NetnsSockets&& other) noexcept;
  NetnsSockets(const NetnsSockets&) = delete;
  NetnsSockets& operator=(const NetnsSockets&) = delete;
  // Ends the helper (EOF on its socket, then SIGKILL after 1 s) and reaps
  // it.
  ~NetnsSockets();

  // socket(domain, type | SOCK_CLOEXEC, protocol) in the container's network
  // namespace; type may carry SOCK_NONBLOCK. The helper's errno comes back
  // as the status (EMFILE, EAFNOSUPPORT, ...). Waits at most 2 s for the
  // answer; a helper that died or hangs is an error (UNAVAILABLE).
  absl::StatusOr<common::UniqueFd> Socket(int domain, int type, int protocol = 0);

  // The helper's pid (for tests and inspect); 0 once it was ended.
  pid_t helper_pid() const { return pid_; }

 private:
  NetnsSockets() = default;
  void End();

  pid_t pid_ = 0;
  common::UniqueFd pidfd_;  // the helper's
  common::UniqueFd sock_;   // our end of the socketpair
  uint32_t seq_ = 0;        // matches answers to requests after a timeout
};

}  // namespace runtime
