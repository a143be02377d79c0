// The integration harness: spawning an init with captured output, in a new
// pid namespace or not, bounded waits, /proc process-tree queries and
// cleanup. Runs in the test process; the code between fork/clone and execve
// uses only async-signal-safe calls.
#include "tests/integration/harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

namespace itest {

ShResult Sh(const std::string& cmd, int timeout_s, const std::string& env_prefix) {
  ShResult r;
  const std::string full =
      env_prefix + "timeout -s KILL " + std::to_string(timeout_s) + " sh -c '" + cmd + "' 2>&1 </dev/null";
  FILE* p = ::popen(full.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) r.out.append(buf, n);
  const int ws = ::pclose(p);
  r.status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
  return r;
}

std::string WithoutCapWarnings(const std::string& out) {
  std::string kept;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("minipod run: warning: ", 0) == 0 && line.find("left out of the default set") != std::string::npos) {
      continue;
    }
    kept += line + (in.eof() ? "" : "\n");
  }
  return kept;
}

std::string Minipod() {
  const char* p = getenv("MINIPOD");
  return p != nullptr ? p : "minipod";
}

std::string Probe() {
  const char* p = getenv("PROBE_SANDBOX");
  return p != nullptr ? p : "probe_sandbox";
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::multiset<std::string> MountPoints() {
  std::multiset<std::string> out;
  std::istringstream in(ReadAll("/proc/self/mountinfo"));
  for (std::string line; std::getline(in, line);) {
    std::istringstream f(line);
    std::string id, parent, dev, root, point;
    f >> id >> parent >> dev >> root >> point;
    out.insert(point);
  }
  return out;
}

std::string Appeared(const std::multiset<std::string>& before, const std::multiset<std::string>& after) {
  std::vector<std::string> extra;
  std::set_difference(after.begin(), after.end(), before.begin(), before.end(), std::back_inserter(extra));
  std::string out;
  for (const std::string& e : extra) out += e + "\n";
  return out;
}
namespace {

constexpr const char kPath[] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

std::string EnvOrEmpty(const char* name) {
  const char* v = getenv(name);
  return v != nullptr ? v : "";
}

int PidfdOpen(pid_t pid) { return static_cast<int>(syscall(SYS_pidfd_open, pid, 0)); }

// Inits and shims some Proc still waits for: ReapStrayZombies leaves them.
std::set<pid_t>& LivePids() {
  static std::set<pid_t> live;
  return live;
}

int g_strays_reaped = 0;

// Reaps zombie children of the test that no Proc waits for. A PID 1 cannot
// finish exiting while a process of its namespace is a zombie child of ours,
// so waiting for an init must keep doing this.
void ReapStrayZombies() {
  for (pid_t p : ChildrenOf(getpid())) {
    if (LivePids().count(p) == 0 && ProcState(p) == 'Z' && waitpid(p, nullptr, WNOHANG) == p) {
      ++g_strays_reaped;
    }
  }
}

}  // namespace

void ReapExitedChildren() {
  for (pid_t p : ChildrenOf(getpid())) {
    if (LivePids().count(p) == 0 && ProcState(p) == 'Z') (void)waitpid(p, nullptr, WNOHANG);
  }
}

bool WaitFor(const std::function<bool()>& pred, Ms timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    ReapExitedChildren();
    if (pred()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(Ms(20));
  }
}

namespace {

// waitpid(pid) for at most `timeout`; false if it did not exit by then.
bool WaitPidBounded(pid_t pid, int* status, Ms timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    const pid_t r = waitpid(pid, status, WNOHANG);
    if (r == pid || (r < 0 && errno == ECHILD)) {
      LivePids().erase(pid);
      return r == pid;
    }
    if (Clock::now() >= deadline) return false;
    ReapStrayZombies();
    std::this_thread::sleep_for(Ms(5));
  }
}

// Everything the child needs, prepared before fork so the child only makes
// system calls.
struct ExecPlan {
  std::string path;
  std::vector<char*> argv;
  std::vector<char*> envp;
  std::vector<std::string> env_storage;
  std::vector<std::string> argv_storage;
  std::vector<int> blocked;
  std::vector<int> ignored;
  std::string cwd;
  std::string tty;  // pty slave to make the controlling terminal
  int devnull = -1;
  int out_w = -1;
  int err_w = -1;
};

[[noreturn]] void ExecChild(const ExecPlan& plan) {
  if (dup2(plan.devnull, STDIN_FILENO) < 0 || dup2(plan.out_w, STDOUT_FILENO) < 0 ||
      dup2(plan.err_w, STDERR_FILENO) < 0) {
    _exit(120);
  }
  if (!plan.tty.empty()) {
    // A session leader without a terminal that opens one (no O_NOCTTY)
    // acquires it; TIOCSCTTY makes that explicit.
    if (setsid() < 0) _exit(118);
    const int fd = open(plan.tty.c_str(), O_RDWR);
    if (fd < 0 || ioctl(fd, TIOCSCTTY, 0) < 0 || dup2(fd, STDIN_FILENO) < 0) _exit(119);
    close(fd);
  }
  // Only 0, 1 and 2 go to the init: close_range(3, ~0U).
  if (syscall(SYS_close_range, 3u, ~0u, 0u) != 0) {
    for (int fd = 3; fd < 1024; ++fd) close(fd);
  }
  struct sigaction dfl = {};
  dfl.sa_handler = SIG_DFL;
  for (int s = 1; s < 65; ++s) {
    if (s != SIGKILL && s != SIGSTOP) sigaction(s, &dfl, nullptr);
  }
  struct sigaction ign = {};
  ign.sa_handler = SIG_IGN;
  for (int s : plan.ignored) sigaction(s, &ign, nullptr);
  sigset_t mask;
  sigemptyset(&mask);
  for (int s : plan.blocked) sigaddset(&mask, s);
  sigprocmask(SIG_SETMASK, &mask, nullptr);
  if (!plan.cwd.empty() && chdir(plan.cwd.c_str()) != 0) _exit(121);
  execve(plan.path.c_str(), plan.argv.data(), plan.envp.data());
  // "harness: execve failed: errno N" without stdio (async-signal-safe).
  char msg[64] = "harness: execve failed: errno ";
  size_t len = strlen(msg);
  char digits[12];
  int n = 0;
  for (int e = errno; e > 0 && n < 11; e /= 10) digits[n++] = static_cast<char>('0' + e % 10);
  while (n > 0) msg[len++] = digits[--n];
  msg[len++] = '\n';
  (void)!write(STDERR_FILENO, msg, len);
  _exit(122);
}

// fork(), or clone(CLONE_NEWPID) for a PID 1; the child execs the plan.
pid_t SpawnInit(const ExecPlan& plan, Where where) {
  pid_t pid;
  if (where == Where::kPidNs) {
    // Raw clone with a NULL stack behaves like fork: the child continues
    // here, as PID 1 of the new namespace.
    pid = static_cast<pid_t>(syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, nullptr, nullptr, nullptr, 0));
  } else {
    pid = fork();
  }
  if (pid == 0) ExecChild(plan);
  return pid;
}

// The shim: starts the init, tells the test its pid, and mirrors its status
// so the test can wait on the shim as if it were the init.
[[noreturn]] void ShimMain(const ExecPlan& plan, Where where, int info_w) {
  // Do not keep the test's subreaper role here: orphans go to the init.
  prctl(PR_SET_CHILD_SUBREAPER, 0);
  const pid_t pid = SpawnInit(plan, where);
  (void)!write(info_w, &pid, sizeof pid);
  close(info_w);
  if (pid < 0) _exit(123);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) _exit(124);
  }
  if (WIFSIGNALED(status)) {
    signal(WTERMSIG(status), SIG_DFL);
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_UNBLOCK, &all, nullptr);
    kill(getpid(), WTERMSIG(status));
  }
  _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 125);
}

struct ProcEntry {
  pid_t pid;
  pid_t ppid;
  char state;
};

bool ReadStat(pid_t pid, ProcEntry& e) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[1024];
  const ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return false;
  buf[n] = '\0';
  const char* paren = strrchr(buf, ')');
  if (paren == nullptr) return false;
  char state = '?';
  int ppid = 0;
  if (sscanf(paren + 2, "%c %d", &state, &ppid) != 2) return false;
  e = ProcEntry{pid, ppid, state};
  return true;
}

std::vector<ProcEntry> AllProcesses() {
  std::vector<ProcEntry> all;
  DIR* d = opendir("/proc");
  if (d == nullptr) return all;
  while (dirent* ent = readdir(d)) {
    if (ent->d_name[0] < '1' || ent->d_name[0] > '9') continue;
    ProcEntry e;
    if (ReadStat(atoi(ent->d_name), e)) all.push_back(e);
  }
  closedir(d);
  return all;
}

std::vector<ProcEntry> DescendantEntries(pid_t root) {
  const std::vector<ProcEntry> all = AllProcesses();
  std::multimap<pid_t, const ProcEntry*> by_parent;
  for (const ProcEntry& e : all) by_parent.emplace(e.ppid, &e);
  std::vector<ProcEntry> out;
  std::vector<pid_t> stack = {root};
  while (!stack.empty()) {
    const pid_t p = stack.back();
    stack.pop_back();
    auto [lo, hi] = by_parent.equal_range(p);
    for (auto it = lo; it != hi; ++it) {
      out.push_back(*it->second);
      stack.push_back(it->second->pid);
    }
  }
  return out;
}

std::string PidNsOf(pid_t pid) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/ns/pid", pid);
  char buf[128];
  const ssize_t n = readlink(path, buf, sizeof buf - 1);
  if (n <= 0) return "";
  return std::string(buf, static_cast<size_t>(n));
}

}  // namespace

std::string InitPath() { return EnvOrEmpty("MINIPOD_INIT"); }

std::string ProbePath(std::string_view name) {
  std::string var = "PROBE_";
  for (char c : name) var += static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
  return EnvOrEmpty(var.c_str());
}

const char* WhereName(Where w) { return w == Where::kPidNs ? "PidNs" : "Subreaper"; }

std::string Describe(const Result& r) {
  std::ostringstream s;
  if (!r.exited) s << "TIMED OUT (killed); ";
  s << "exit_code=" << r.exit_code;
  if (r.term_signal != 0) s << " (signal " << r.term_signal << ")";
  s << " elapsed=" << r.elapsed.count() << "ms\n--- stdout ---\n" << r.out << "--- stderr ---\n" << r.err
    << "---";
  return s.str();
}

std::unique_ptr<Proc> Proc::Start(const SpawnOptions& o) {
  std::unique_ptr<Proc> p(new Proc());
  ExecPlan plan;
  plan.path = o.path;
  plan.argv_storage = o.argv;
  for (std::string& a : plan.argv_storage) plan.argv.push_back(a.data());
  plan.argv.push_back(nullptr);
  plan.env_storage = {kPath, "LC_ALL=C"};
  for (const std::string& e : o.env) plan.env_storage.push_back(e);
  for (std::string& e : plan.env_storage) plan.envp.push_back(e.data());
  plan.envp.push_back(nullptr);
  plan.blocked = o.blocked;
  plan.ignored = o.ignored;
  plan.cwd = o.cwd;

  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) != 0) return p;
  if (pipe2(err, O_CLOEXEC) != 0) {
    close(out[0]);
    close(out[1]);
    return p;
  }
  plan.devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (o.with_tty) {
    p->pty_master_ = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    char name[128];
    if (p->pty_master_ >= 0 && grantpt(p->pty_master_) == 0 && unlockpt(p->pty_master_) == 0 &&
        ptsname_r(p->pty_master_, name, sizeof name) == 0) {
      plan.tty = name;
    }
  }
  plan.out_w = out[1];
  plan.err_w = err[1];
  p->out_fd_ = out[0];
  p->err_fd_ = err[0];
  p->start_ = Clock::now();

  if (o.with_shim) {
    int info[2];
    if (pipe2(info, O_CLOEXEC) == 0) {
      const pid_t shim = fork();
      if (shim == 0) {
        close(info[0]);
        ShimMain(plan, o.where, info[1]);
      }
      close(info[1]);
      if (shim > 0) {
        p->shim_ = shim;
        pid_t init = -1;
        struct pollfd pfd = {info[0], POLLIN, 0};
        if (poll(&pfd, 1, 10'000) == 1 && read(info[0], &init, sizeof init) == sizeof init) {
          p->pid_ = init;
        }
        p->pidfd_ = PidfdOpen(shim);
        LivePids().insert(shim);
        if (p->pid_ <= 0) {
          kill(shim, SIGKILL);
          WaitPidBounded(shim, nullptr, Ms(5'000));
          p->shim_ = -1;
          p->exited_ = true;
        }
      }
      close(info[0]);
    }
  } else {
    p->pid_ = SpawnInit(plan, o.where);
    if (p->pid_ > 0) {
      p->pidfd_ = PidfdOpen(p->pid_);
      LivePids().insert(p->pid_);
    }
  }
  close(out[1]);
  close(err[1]);
  close(plan.devnull);
  return p;
}

Proc::~Proc() {
  if (!exited_) {
    if (shim_ > 0) kill(shim_, SIGKILL);
    if (pid_ > 0) kill(pid_, SIGKILL);
    if (shim_ > 0) WaitPidBounded(shim_, nullptr, Ms(5'000));
    if (pid_ > 0) WaitPidBounded(pid_, nullptr, Ms(5'000));  // ECHILD when the shim had it
  }
  LivePids().erase(pid_);
  LivePids().erase(shim_);
  for (int fd : {out_fd_, err_fd_, pidfd_, pty_master_}) {
    if (fd >= 0) close(fd);
  }
}

void Proc::ReadFd(int& fd, std::string& buf, bool is_out) {
  char chunk[65536];
  for (;;) {
    const ssize_t n = read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    if (n <= 0) {
      close(fd);
      fd = -1;
      return;
    }
    buf.append(chunk, static_cast<size_t>(n));
    if (is_out) {
      const Ms at = std::chrono::duration_cast<Ms>(Clock::now() - start_);
      partial_.append(chunk, static_cast<size_t>(n));
      size_t nl;
      while ((nl = partial_.find('\n')) != std::string::npos) {
        lines_.emplace_back(at, partial_.substr(0, nl));
        partial_.erase(0, nl + 1);
      }
    }
    // One read per poll wake-up keeps timestamps close to arrival.
    return;
  }
}

bool Proc::CheckExit() {
  if (exited_) return true;
  const pid_t waited = shim_ > 0 ? shim_ : pid_;
  if (waited <= 0) return true;
  int status = 0;
  const pid_t r = waitpid(waited, &status, WNOHANG);
  if (r != waited) ReapStrayZombies();
  if (r == waited) {
    LivePids().erase(waited);
    exited_ = true;
    status_ = status;
    exit_time_ = Clock::now();
    return true;
  }
  return false;
}

void Proc::PollOnce(Clock::time_point deadline) {
  const auto now = Clock::now();
  if (now >= deadline) return;
  const long left = std::chrono::duration_cast<Ms>(deadline - now).count();
  struct pollfd fds[3] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}, {exited_ ? -1 : pidfd_, POLLIN, 0}};
  const int timeout = static_cast<int>(std::min<long>(left + 1, 100));
  const int n = poll(fds, 3, timeout);
  if (n > 0) {
    if (fds[0].revents != 0 && out_fd_ >= 0) ReadFd(out_fd_, out_, true);
    if (fds[1].revents != 0 && err_fd_ >= 0) ReadFd(err_fd_, err_, false);
  }
  CheckExit();  // also covers a missing pidfd
}

bool Proc::Running() {
  CheckExit();
  return !exited_;
}

int Proc::CountLines(std::string_view needle) {
  int n = 0;
  for (const auto& [at, line] : lines_) {
    if (line.compare(0, needle.size(), needle) == 0) ++n;
  }
  return n;
}

std::vector<Ms> Proc::LineTimes(std::string_view needle) {
  std::vector<Ms> v;
  for (const auto& [at, line] : lines_) {
    if (line.compare(0, needle.size(), needle) == 0) v.push_back(at);
  }
  return v;
}

bool Proc::WaitForLine(std::string_view needle, Ms timeout, int count) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (CountLines(needle) >= count) return true;
    if (Clock::now() >= deadline) return false;
    if (exited_ && out_fd_ < 0) return false;
    PollOnce(deadline);
  }
}

bool Proc::Signal(int sig) {
  if (pid_ <= 0) return false;
  return kill(pid_, sig) == 0;
}

void Proc::Pump(Ms d) {
  const auto deadline = Clock::now() + d;
  while (Clock::now() < deadline) {
    if (exited_ && out_fd_ < 0 && err_fd_ < 0) {
      std::this_thread::sleep_until(deadline);
      return;
    }
    PollOnce(deadline);
  }
}

void Proc::KillShim() {
  if (shim_ <= 0) return;
  // Registered first: once the shim is gone the init may exit and become our
  // zombie at any moment, and it must not be reaped as a stray.
  LivePids().insert(pid_);
  kill(shim_, SIGKILL);
  WaitPidBounded(shim_, nullptr, Ms(5'000));
  shim_ = -1;
  // The init is re-parented to us (the test is a child subreaper).
  if (pidfd_ >= 0) close(pidfd_);
  pidfd_ = PidfdOpen(pid_);
}

bool Proc::WaitStopped(Ms timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (ProcState(pid_) == 'T') return true;
    if (exited_) return false;
    PollOnce(std::min(deadline, Clock::now() + Ms(10)));
  }
  return false;
}

Result Proc::Wait(Ms timeout, Ms drain) {
  Result r;
  const auto deadline = Clock::now() + timeout;
  while (!exited_ && Clock::now() < deadline) PollOnce(deadline);
  if (!exited_) {
    if (shim_ > 0) kill(shim_, SIGKILL);
    if (pid_ > 0) kill(pid_, SIGKILL);
    const pid_t waited = shim_ > 0 ? shim_ : pid_;
    if (waited > 0) WaitPidBounded(waited, &status_, Ms(5'000));
    exited_ = true;
    exit_time_ = Clock::now();
  } else {
    r.exited = true;
  }
  const auto drain_deadline = Clock::now() + drain;
  while ((out_fd_ >= 0 || err_fd_ >= 0) && Clock::now() < drain_deadline) PollOnce(drain_deadline);
  if (WIFEXITED(status_)) {
    r.exit_code = WEXITSTATUS(status_);
  } else if (WIFSIGNALED(status_)) {
    r.term_signal = WTERMSIG(status_);
    r.exit_code = 128 + r.term_signal;
  }
  r.out = out_;
  r.err = err_;
  r.elapsed = std::chrono::duration_cast<Ms>(exit_time_ - start_);
  return r;
}

int StrayZombiesReaped() { return g_strays_reaped; }

std::vector<pid_t> Descendants(pid_t root) {
  std::vector<pid_t> v;
  for (const ProcEntry& e : DescendantEntries(root)) v.push_back(e.pid);
  return v;
}

std::vector<pid_t> ZombieDescendants(pid_t root) {
  std::vector<pid_t> v;
  for (const ProcEntry& e : DescendantEntries(root)) {
    if (e.state == 'Z') v.push_back(e.pid);
  }
  return v;
}

std::vector<pid_t> ZombiesInPidNsOf(pid_t pid) {
  std::vector<pid_t> v;
  const std::string ns = PidNsOf(pid);
  if (ns.empty()) return v;
  for (const ProcEntry& e : AllProcesses()) {
    if (e.state == 'Z' && PidNsOf(e.pid) == ns) v.push_back(e.pid);
  }
  return v;
}

int ProcessesInPidNsOf(pid_t pid) {
  const std::string ns = PidNsOf(pid);
  if (ns.empty()) return 0;
  int n = 0;
  for (const ProcEntry& e : AllProcesses()) {
    if (PidNsOf(e.pid) == ns) ++n;
  }
  return n;
}

std::vector<pid_t> ChildrenOf(pid_t pid) {
  // /proc/PID/task/TID/children: cheap, unlike a scan of all of /proc.
  std::vector<pid_t> v;
  const std::string task_dir = "/proc/" + std::to_string(pid) + "/task";
  DIR* d = opendir(task_dir.c_str());
  if (d == nullptr) return v;
  while (dirent* ent = readdir(d)) {
    if (ent->d_name[0] < '0' || ent->d_name[0] > '9') continue;
    std::ifstream f(task_dir + "/" + ent->d_name + "/children");
    for (pid_t child; f >> child;) v.push_back(child);
  }
  closedir(d);
  return v;
}

char ProcState(pid_t pid) {
  ProcEntry e;
  return ReadStat(pid, e) ? e.state : '?';
}

int KillAllDescendants() {
  int found = 0;
  const auto deadline = Clock::now() + Ms(10'000);
  for (;;) {
    const std::vector<pid_t> all = Descendants(getpid());
    for (pid_t p : all) kill(p, SIGKILL);
    found = std::max(found, static_cast<int>(all.size()));
    while (waitpid(-1, nullptr, WNOHANG) > 0) {
    }
    if (all.empty() && waitpid(-1, nullptr, WNOHANG) < 0) return found;
    if (Clock::now() >= deadline) return found;
    std::this_thread::sleep_for(Ms(10));
  }
}

TempDir::TempDir() {
  char tmpl[] = "/tmp/minipod-itest.XXXXXX";
  // Without a directory every Join() would name a path under the host's /:
  // stop here rather than let a test write there.
  if (mkdtemp(tmpl) == nullptr) {
    perror("mkdtemp(/tmp/minipod-itest.XXXXXX)");
    abort();
  }
  path_ = tmpl;
}

TempDir::~TempDir() {
  if (path_.empty()) return;
  // A mount a failed test left inside is detached first, deepest first,
  // so that what it shows of the host is never deleted (FTW_MOUNT alone
  // would not see a bind mount of the same file system).
  std::vector<std::string> below;
  const std::string prefix = path_ + "/";
  for (const std::string& point : MountPoints()) {
    if (point.rfind(prefix, 0) == 0) below.push_back(point);
  }
  std::sort(below.begin(), below.end(), [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  for (const std::string& point : below) (void)umount2(point.c_str(), MNT_DETACH);
  nftw(
      path_.c_str(),
      [](const char* p, const struct stat*, int, struct FTW*) {
        (void)remove(p);
        return 0;
      },
      16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

std::string TempDir::Join(std::string_view name) const { return path_ + "/" + std::string(name); }

std::string TempDir::Symlink(std::string_view name, const std::string& target) const {
  const std::string p = Join(name);
  unlink(p.c_str());
  if (symlink(target.c_str(), p.c_str()) != 0) return "";
  return p;
}

std::string TempDir::WriteFile(std::string_view name, std::string_view content, int mode) const {
  const std::string p = Join(name);
  {
    std::ofstream f(p, std::ios::binary | std::ios::trunc);
    f << content;
  }
  chmod(p.c_str(), static_cast<mode_t>(mode));
  return p;
}

std::string Normalize(std::string s, const std::vector<std::string>& dirs) {
  for (const std::string& d : dirs) {
    if (d.empty()) continue;
    for (size_t at; (at = s.find(d)) != std::string::npos;) s.replace(at, d.size(), "DIR");
  }
  static const std::regex kParenPid(R"(\((\d+)\))");
  static const std::regex kColonPid(R"(:(\d+)\))");
  static const std::regex kPidWord(R"(\b([Pp][Ii][Dd])([=:]? ?'?)\d+)");
  s = std::regex_replace(s, kParenPid, "(PID)");
  s = std::regex_replace(s, kColonPid, ":PID)");
  s = std::regex_replace(s, kPidWord, "$1$2PID");
  return s;
}

std::string ProbeSignalName(int sig) {
  static constexpr const char* kNames[] = {
      nullptr, "HUP",  "INT",    "QUIT", "ILL",   "TRAP", "ABRT", "BUS",  "FPE",  "KILL", "USR1",
      "SEGV",  "USR2", "PIPE",   "ALRM", "TERM",  "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN",
      "TTOU",  "URG",  "XCPU",   "XFSZ", "VTALRM", "PROF", "WINCH", "IO",   "PWR",  "SYS"};
  if (sig > 0 && sig < 32) return kNames[sig];
  return "RT" + std::to_string(sig);
}

}  // namespace itest
