// The integration tests' harness: starts an init (ours or a real one) with
// its output on pipes, optionally as PID 1 of a new pid namespace or under a
// parent we can kill, and waits for it with deadlines. Every process it
// starts is killed and reaped on every path: the test process is a child
// subreaper, so whatever the init leaves behind comes back to it.
// Runs in the test process (fork, clone(CLONE_NEWPID), execve, kill, waitpid).
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace itest {

using Clock = std::chrono::steady_clock;
using Ms = std::chrono::milliseconds;

// A shell command for tests that drive the minipod command line.
struct ShResult {
  int status = -1;   // exit status, 128+N when killed by signal N
  std::string out;   // stdout and stderr, interleaved
};
// Runs `sh -c 'cmd'` (cmd must not contain a single quote) with stdin from
// /dev/null, killed with SIGKILL after timeout_s; env_prefix goes before it
// (e.g. "env -i PATH=/usr/bin LC_ALL=C ").
ShResult Sh(const std::string& cmd, int timeout_s = 60, const std::string& env_prefix = "");
// out without the warning a run prints under a reduced bounding set (inside
// a container, Docker's default capabilities minipod does not hold are left
// out), so that compared outputs are the same on every host.
std::string WithoutCapWarnings(const std::string& out);
// The built minipod and the sandbox probe ($MINIPOD, $PROBE_SANDBOX).
std::string Minipod();
std::string Probe();
// A whole file ("" when it cannot be read).
std::string ReadAll(const std::string& path);
// The mount points of our mount table, each as often as it is mounted on.
std::multiset<std::string> MountPoints();
// The entries of `after` that `before` did not have, one per line: what a
// test left behind (others' entries that went away meanwhile are no failure
// of ours).
std::string Appeared(const std::multiset<std::string>& before, const std::multiset<std::string>& after);

// Paths from the environment Meson gives the test (MINIPOD_INIT, PROBE_*).
std::string InitPath();
std::string ProbePath(std::string_view name);  // "sigrec" -> PROBE_SIGREC

enum class Where {
  kSubreaper,  // a plain child of the test: not PID 1
  kPidNs,      // PID 1 of a new pid namespace
};
const char* WhereName(Where w);

struct SpawnOptions {
  std::string path;               // file to execute
  std::vector<std::string> argv;  // argv[0] included
  std::vector<std::string> env;   // added to a minimal PATH-only environment
  Where where = Where::kSubreaper;
  // Run the init under an intermediate process ("shim") that the test can
  // kill (KillShim) to make the init an orphan (-p tests).
  bool with_shim = false;
  // Signal state the init starts with (all else: empty mask, defaults).
  std::vector<int> blocked;
  std::vector<int> ignored;
  std::string cwd;  // empty: the test's cwd
  // Give the init a controlling terminal: it starts as a session leader
  // with a new pty's slave as stdin (stdout and stderr stay pipes).
  bool with_tty = false;
};

struct Result {
  bool exited = false;     // false: timed out and was killed
  int exit_code = -1;      // WEXITSTATUS, or 128+N when killed by N
  int term_signal = 0;     // N when killed by a signal
  std::string out;         // everything read from stdout
  std::string err;         // everything read from stderr
  Ms elapsed{0};           // from start to the init's exit
};

std::string Describe(const Result& r);  // for failure messages

class Proc {
 public:
  // Starts the init; on failure the returned Proc reports !started().
  static std::unique_ptr<Proc> Start(const SpawnOptions& options);
  ~Proc();  // kills (SIGKILL) and reaps everything still running
  Proc(const Proc&) = delete;
  Proc& operator=(const Proc&) = delete;

  bool started() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }  // the init, as the test sees it
  pid_t shim_pid() const { return shim_; }

  // Reads output until a stdout line starting with needle has arrived
  // (counting from the start) `count` times, or the timeout passes. False on
  // timeout or when the init exited and its stdout closed first.
  bool WaitForLine(std::string_view needle, Ms timeout = Ms(10'000), int count = 1);
  int CountLines(std::string_view needle);  // stdout lines starting with needle
  // Arrival time (since start) of each stdout line starting with needle.
  std::vector<Ms> LineTimes(std::string_view needle);

  // Sends sig to the init (kill(2) from the test, outside any namespace).
  bool Signal(int sig);
  // Reads output for d, returning early if the init exits.
  void Pump(Ms d);
  // True while the init has not exited.
  bool Running();

  // Kills the shim (SIGKILL) and reaps it; the init becomes our child.
  void KillShim();

  // Waits until the init is in state T (stopped); false on timeout.
  bool WaitStopped(Ms timeout = Ms(5'000));

  // Waits for the init to exit (killing it at the timeout), then reads the
  // pipes until EOF or `drain` more has passed.
  Result Wait(Ms timeout = Ms(20'000), Ms drain = Ms(3'000));

  const std::string& out() const { return out_; }
  const std::string& err() const { return err_; }

 private:
  Proc() = default;
  // One poll over the pipes and the pidfd; false once deadline passed.
  void PollOnce(Clock::time_point deadline);
  bool CheckExit();  // reaps the init if it exited; true if it has
  void ReadFd(int& fd, std::string& buf, bool is_out);

  pid_t pid_ = -1;    // the init
  pid_t shim_ = -1;   // its parent when with_shim
  int pidfd_ = -1;    // pidfd of the process we wait for (init or shim)
  int out_fd_ = -1;
  int err_fd_ = -1;
  int pty_master_ = -1;
  bool exited_ = false;
  int status_ = 0;
  Clock::time_point start_;
  Clock::time_point exit_time_;
  std::string out_, err_;
  std::string partial_;  // stdout after the last '\n'
  std::vector<std::pair<Ms, std::string>> lines_;
};

// Processes below `root` (children, grandchildren, ...), from /proc.
std::vector<pid_t> Descendants(pid_t root);
// Those of them in state Z.
std::vector<pid_t> ZombieDescendants(pid_t root);
// Zombies in the pid namespace of `pid` (any process whose
// /proc/N/ns/pid matches, except none).
std::vector<pid_t> ZombiesInPidNsOf(pid_t pid);
// Number of processes in the pid namespace of `pid`.
int ProcessesInPidNsOf(pid_t pid);
// Direct children of pid (from /proc/PID/task/*/children).
std::vector<pid_t> ChildrenOf(pid_t pid);
// State letter from /proc/PID/stat ('?' if gone).
char ProcState(pid_t pid);

// Reaps the test's exited children that no Proc waits for: `run -d`'s
// monitors (we are a child subreaper), a killed monitor's container.
void ReapExitedChildren();
// Polls pred every 20 ms, reaping exited children in between, until it
// holds or timeout passes; returns its last value.
bool WaitFor(const std::function<bool()>& pred, Ms timeout = Ms(10'000));

// How many zombies the harness reaped that were not an init it waits for:
// orphans that escaped an init that should have been their subreaper.
int StrayZombiesReaped();

// SIGKILLs and reaps every descendant of the test process (only ever
// processes the tests started). Returns how many were found.
int KillAllDescendants();

// A temporary directory removed (recursively) at destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string Join(std::string_view name) const;
  // A symlink dir/name -> target; returns its path.
  std::string Symlink(std::string_view name, const std::string& target) const;
  // A file with the given content and mode; returns its path.
  std::string WriteFile(std::string_view name, std::string_view content, int mode) const;

 private:
  std::string path_;
};

// Replaces pids and the given directory prefixes so two tools' messages can
// be compared: "(1234)" -> "(PID)", ":1234)" -> ":PID)", "pid=1234" ->
// "pid=PID", "pid '1234'" -> "pid 'PID'", "PID 1234" -> "PID PID",
// dir -> "DIR".
std::string Normalize(std::string s, const std::vector<std::string>& dirs);

// "HUP" etc. as the probes print them.
std::string ProbeSignalName(int sig);

}  // namespace itest
