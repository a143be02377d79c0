// The janitor: a process that removes the sandbox cgroup when the launcher
// dies without doing it (SIGKILL included). The launcher forks it before
// the first mkdir; the forked child only moves fds into place and execs
// minipod itself (`minipod __cgroup-janitor ...`, never listed in --help),
// so nothing runs between fork and exec that could allocate or take a lock.
// Parent side: open, socketpair, pipe2, pidfd_open, fork, execveat, poll,
// read, send, waitpid; JanitorMain (the exec'd program): fstat, statfs,
// poll, read, then the removal of cgroup.h.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/unique_fd.h"

namespace sandbox {

// The hidden first argument of minipod that runs JanitorMain.
inline constexpr char kJanitorCommand[] = "__cgroup-janitor";
// The program the launcher execs as its janitor: itself.
inline constexpr char kJanitorSelfExe[] = "/proc/self/exe";

class Janitor {
 public:
  Janitor() = default;
  // Forks and execs `exe __cgroup-janitor <pidfd|-> <dir>...` (exe opened,
  // argv built before the fork): a new session, SIGINT/SIGTERM/SIGHUP/
  // SIGPIPE ignored, stdio on /dev/null, fd 3 one end of a socket pair, fd 4 a
  // pidfd of the launcher (when pidfd_open works), nothing else open, cwd /.
  // It waits for either a byte on it (Dismiss: all done) or its
  // EOF / the launcher's exit without one (the pidfd covers a forked child
  // that still holds a copy of the write end before its exec), and then
  // removes dirs (KillAndRemoveCgroups) and exits. We keep our end
  // O_CLOEXEC, so the sandboxed command never holds it. The janitor lives in
  // the launcher's cgroups, never the sandbox's (start it before adding the
  // launcher itself anywhere), and holds no cgroup directory open.
  static absl::StatusOr<Janitor> Start(const char* exe, const std::vector<std::string>& dirs);

  Janitor(Janitor&& other) noexcept;
  Janitor& operator=(Janitor&& other) noexcept;
  // Closes the write end without the byte: the janitor removes the cgroup
  // itself (a Remove() that failed leaves that to it).
  ~Janitor() = default;

  // Waits (bounded) until the forked child has exec'd the janitor: OK, or
  // the execveat's errno (a janitor that never ran would leave the cgroup
  // behind after a SIGKILL). Start does not wait, so the exec overlaps the
  // caller's mkdir and writes; call this before the cgroup is relied on.
  absl::Status WaitStarted(int timeout_ms = 2000);
  // Writes the "done" byte, closes, reaps the janitor (bounded: 2 s).
  void Dismiss();
  pid_t pid() const { return pid_; }
  // Our end of the socket (-1: none), for a launcher that execs another
  // program and hands it over.
  int write_fd() const { return write_end_.get(); }

 private:
  common::UniqueFd write_end_;
  common::UniqueFd exec_report_;  // EOF at a successful exec, else its errno
  std::string exe_;
  pid_t pid_ = -1;
};

// The janitor's program: argv is what follows kJanitorCommand. Refuses
// (exit 2) unless fd 3 is a socket, and only ever removes directories on a
// cgroup file system. Exit 0 when dismissed or all removed, 1 otherwise.
int JanitorMain(int argc, char** argv);

}  // namespace sandbox
