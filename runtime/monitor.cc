// The monitor process of a detached container up to the hand-over: the
// fork from `minipod run -d`, the container's start, the start report on a
// pipe, then the exec of minipod-monitor. See monitor.h for the life cycle.
#include "runtime/monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/absl/status_util.h"
#include "common/absl/self_path.h"
#include "monitor/handover.h"
#include "runtime/cri_log.h"
#include "runtime/port_listeners.h"
#include "runtime/publish.h"
#include "runtime/exec.h"
#include "sandbox/launcher.h"

namespace runtime {
namespace {

// A -t container's pty size until an attach client sends its own.
constexpr unsigned short kDefaultRows = 24, kDefaultCols = 80;

// A unix socket address for NAME in the directory dir_fd, short whatever
// the directory's own path (sun_path holds 108 bytes).
sockaddr_un SocketAddress(int dir_fd, const char* name) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  snprintf(addr.sun_path, sizeof addr.sun_path, "/proc/self/fd/%d/%s", dir_fd, name);
  return addr;
}

// False (errno set) when not all of text could be written.
bool WriteAll(int fd, absl::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) errno = EIO;
    if (n <= 0) return false;
    text.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// -t: the launcher's TerminalSession for a detached container. It only
// keeps the master, which minipod-monitor relays.
class DetachedTerminal : public sandbox::TerminalSession {
 public:
  struct winsize InitialSize() override {
    struct winsize ws{};
    ws.ws_row = kDefaultRows;
    ws.ws_col = kDefaultCols;
    return ws;
  }
  absl::Status Begin(common::UniqueFd master) override {
    master_ = std::move(master);
    return absl::OkStatus();
  }
  int PollFd() const override { return -1; }
  absl::Status Pump() override { return absl::OkStatus(); }
  void WindowChanged() override {}
  absl::Status Finish(int) override { return absl::OkStatus(); }
  common::UniqueFd TakeMaster() { return std::move(master_); }

 private:
  common::UniqueFd master_;
};

class Monitor {
 public:
  Monitor(const DetachRequest& request, const StateStore& store, ContainerState state, common::UniqueFd dir,
          common::UniqueFd report)
      : request_(request), store_(store), state_(std::move(state)), dir_(std::move(dir)), report_(std::move(report)) {}

  [[noreturn]] void Main();

 private:
  // Reports the failure to `run -d`, removes the state and exits.
  [[noreturn]] void Fail(int status, const std::string& why);
  absl::Status SetUp();
  // Hands the watching over to minipod-monitor (exec, never returns once
  // the descriptors are moved); returns why when it could not even start
  // to, with everything still as it was.
  absl::Status ExecMonitor();

  const DetachRequest& request_;
  const StateStore& store_;
  ContainerState state_;
  common::UniqueFd dir_, report_;
  std::unique_ptr<sandbox::Sandbox> sandbox_;
  common::UniqueFd log_;        // the CRI log file
  common::UniqueFd stdin_keep_; // -i: the write end, held so stdin stays open
  // -t: the pty master (a second descriptor, for input; out_[0] is the first).
  DetachedTerminal terminal_;
  common::UniqueFd master_;
  // Where attach input goes (master_, stdin_keep_, or -1).
  int input_fd_ = -1;
  // -p: the host sockets, bound before the container starts.
  std::optional<PortListeners> ports_;
  common::UniqueFd control_;
  // minipod-monitor (opened before anything is created) and the container's
  // output descriptors it reads.
  common::UniqueFd monitor_exe_;
  std::string monitor_path_;
  common::UniqueFd out_[2];
  bool relay_join_userns_ = false;
};

void Monitor::Fail(int status, const std::string& why) {
  (void)store_.Remove(state_.kind, state_.name);
  WriteAll(report_.get(), absl::StrCat("fail ", status, " ", why, "\n"));
  ::_exit(status);
}

absl::Status Monitor::SetUp() {
  ASSIGN_OR_RETURN(log_, CriLogWriter::OpenLogFile(dir_.get(), kLogFile));

  // stdin: /dev/null, or with -i a pipe we keep open (nothing is written
  // to it yet: the command reads and waits, as under `docker run -di`).
  common::UniqueFd in_read, out_write[2];
  if (request_.tty) {
    // The pty's slave becomes the command's 0, 1 and 2; these three are
    // only what stands under it.
    in_read = common::UniqueFd(::open("/dev/null", O_RDWR | O_CLOEXEC));
    if (!in_read) return common::ErrnoStatus(errno, "open(/dev/null)");
  } else if (request_.interactive) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) return common::ErrnoStatus(errno, "pipe2");
    in_read = common::UniqueFd(p[0]);
    stdin_keep_ = common::UniqueFd(p[1]);
  } else {
    in_read = common::UniqueFd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    if (!in_read) return common::ErrnoStatus(errno, "open(/dev/null)");
  }
  for (int i = 0; i < 2 && !request_.tty; ++i) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) return common::ErrnoStatus(errno, "pipe2");
    out_[i] = common::UniqueFd(p[0]);
    out_write[i] = common::UniqueFd(p[1]);
  }

  // The control socket, before the container exists: `wait` may come at once.
  control_ = common::UniqueFd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!control_) return common::ErrnoStatus(errno, "socket(AF_UNIX)");
  const sockaddr_un addr = SocketAddress(dir_.get(), kControlSocket);
  ::unlinkat(dir_.get(), kControlSocket, 0);
  if (::bind(control_.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(control_.get(), 16) != 0) {
    return common::ErrnoStatus(errno, absl::StrCat("bind(", store_.PathOf(state_.kind, state_.name), "/", kControlSocket, ")"));
  }

  // -p: every host port taken now, so one in use fails the run before the
  // container exists.
  if (!request_.publish.empty()) {
    std::vector<PortMapping> mappings;
    for (const std::string& spec : request_.publish) {
      ASSIGN_OR_RETURN(PortMapping m, ParsePublish(spec));
      mappings.push_back(m);
    }
    absl::StatusOr<PortListeners> relay = PortListeners::Bind(mappings);
    if (!relay.ok()) return relay.status();
    ports_.emplace(*std::move(relay));
  }

  sandbox::LaunchOptions options;
  options.stdio[0] = in_read.get();
  options.stdio[1] = request_.tty ? in_read.get() : out_write[0].get();
  options.stdio[2] = request_.tty ? in_read.get() : out_write[1].get();
  if (request_.tty) options.tty = &terminal_;
  options.foreground = false;
  options.always_cgroup = true;
  options.cgroup_name = absl::StrCat("minipod-", state_.id.substr(0, 12));
  options.joined = request_.joined;
  sandbox_ = std::make_unique<sandbox::Sandbox>(request_.config, request_.rootfs, options);
  if (absl::Status s = sandbox_->Create(); !s.ok()) return s;
  absl::StatusOr<std::optional<int>> started = sandbox_->Start();
  if (!started.ok()) return started.status();
  if (started->has_value()) {
    // 126/127: the command could not be executed (the reason went to our
    // stderr, which is still the caller's).
    Fail(**started, "");
  }
  // Ours closed: EOF on the pipes once every process of the container has
  // closed its copy.
  in_read.Reset();
  out_write[0].Reset();
  out_write[1].Reset();

  state_.status = "running";
  state_.started = NowRfc3339();
  if (std::optional<ProcessRef> ref = RefOf(sandbox_->pid()); ref.has_value()) state_.init = *ref;
  state_.cgroups = sandbox_->cgroup_paths();
  if (absl::StatusOr<NamespaceInodes> ns = ReadNamespaceInodes(sandbox_->pid()); ns.ok()) state_.namespaces = *ns;
  const sandbox::CommandPlan& plan = sandbox_->command();
  state_.exec.caps = sandbox_->caps();
  state_.exec.uid = plan.uid;
  state_.exec.gid = plan.gid;
  state_.exec.env = plan.env;
  state_.exec.workdir = request_.config.workdir;
  if (!sandbox_->seccomp().filter.empty() || !sandbox_->seccomp().second.empty()) {
    RETURN_IF_ERROR(WriteSeccompFile(dir_.get(), sandbox_->seccomp()));
    state_.exec.seccomp = true;
  }
  if (ports_.has_value()) {
    // minipod-monitor's helper joins the container's user namespace too
    // when it has one of its own (a rootless monitor has no privilege over
    // its network namespace otherwise).
    struct stat mine, theirs;
    relay_join_userns_ =
        ::stat("/proc/self/ns/user", &mine) == 0 &&
        ::stat(absl::StrCat("/proc/", sandbox_->pid(), "/ns/user").c_str(), &theirs) == 0 && mine.st_ino != theirs.st_ino;
    state_.ports.clear();
    for (const PortMapping& m : ports_->mappings()) state_.ports.push_back(FormatPublish(m));
  }
  RETURN_IF_ERROR(store_.Save(state_));

  if (request_.tty) {
    // The pty's output is the log's stdout (EIO from the master, once the
    // last slave descriptor is closed, is its end); input goes to a second
    // descriptor of the master.
    out_[0] = terminal_.TakeMaster();
    master_ = common::UniqueFd(::fcntl(out_[0].get(), F_DUPFD_CLOEXEC, 3));
    if (!master_) return common::ErrnoStatus(errno, "dup(pty master)");
    input_fd_ = master_.get();
  } else if (stdin_keep_) {
    input_fd_ = stdin_keep_.get();
  }
  if (input_fd_ >= 0) {
    const int flags = ::fcntl(input_fd_, F_GETFL);
    if (flags < 0 || ::fcntl(input_fd_, F_SETFL, flags | O_NONBLOCK) != 0) {
      return common::ErrnoStatus(errno, "fcntl(O_NONBLOCK, container input)");
    }
  }
  return absl::OkStatus();
}

void Monitor::Main() {
  // Our own session: the caller's terminal and process group are not ours.
  ::setsid();
  if (::chdir("/") != 0) {}
  // Blocked through the exec: minipod-monitor reads them from a signalfd.
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGHUP);
  sigaddset(&mask, SIGPIPE);
  ::sigprocmask(SIG_BLOCK, &mask, nullptr);

  state_.monitor = RefOf(::getpid()).value_or(ProcessRef{::getpid(), 0});
  // Each relayed connection holds two descriptors (the limit goes through
  // the exec).
  struct rlimit nofile;
  if (::getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
    nofile.rlim_cur = nofile.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &nofile);
  }
  // minipod-monitor watches the container once it runs; found and opened
  // before anything exists, so that its absence fails the run cleanly.
  {
    absl::StatusOr<common::UniqueFd> exe = minipod::OpenMonitor(&monitor_path_);
    if (!exe.ok()) Fail(125, std::string(exe.status().message()));
    monitor_exe_ = *std::move(exe);
  }
  absl::Status s = SetUp();
  if (s.ok()) s = ExecMonitor();
  // Not handed over: the container killed, the cgroup removed, the state
  // removed, and `run -d` says why.
  sandbox_.reset();
  Fail(125, std::string(s.message()));
}

absl::Status Monitor::ExecMonitor() {
  const sandbox::Sandbox::Remains rem = sandbox_->remains();
  common::UniqueFd tmpl;
  if (!state_.auto_remove) {
    ASSIGN_OR_RETURN(const std::string text, ExitedStateTemplate(state_));
    tmpl = common::UniqueFd(::memfd_create("minipod-state", MFD_CLOEXEC));
    if (!tmpl || !WriteAll(tmpl.get(), text)) {
      return common::ErrnoStatus(errno, "memfd (the exited state for minipod-monitor)");
    }
  }
  const std::string where = store_.PathOf(state_.kind, state_.name);
  const std::string kind_path = where.substr(0, where.rfind('/'));
  common::UniqueFd kind_dir(::open(kind_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!kind_dir) return common::ErrnoStatus(errno, absl::StrCat("open(", kind_path, ")"));

  std::string flags;
  if (request_.tty) flags += monitor::kFlagTty;
  if (state_.auto_remove) flags += monitor::kFlagAutoRemove;
  if (rem.init) flags += monitor::kFlagInit;
  if (rem.oom_v1) flags += monitor::kFlagOomV1;
  if (relay_join_userns_) flags += monitor::kFlagJoinUserns;
  std::vector<std::string> args = {"minipod-monitor",
                                   monitor::kMonitorMode,
                                   state_.name,
                                   flags.empty() ? "-" : flags,
                                   rem.janitor_pid > 0 && rem.janitor_fd >= 0 ? absl::StrCat(rem.janitor_pid) : "-",
                                   rem.memory.empty() ? "-" : rem.memory,
                                   rem.oom_file.empty() ? "-" : rem.oom_file};
  for (const std::string& dir : sandbox_->cgroup_paths()) args.push_back(dir);
  // -p: one word per listener ("t4:80", "u6w:53"), its fd kFirstListenerFd + i.
  std::vector<int> listeners;
  if (ports_.has_value()) {
    listeners = ports_->fds();
    if (listeners.size() > static_cast<size_t>(monitor::kMaxRelays)) {
      // RunDetached refuses such a request up front.
      return absl::InvalidArgumentError(absl::StrCat("-p: at most ", monitor::kMaxRelays, " port mappings"));
    }
    for (const PortMapping& m : ports_->mappings()) {
      const bool tcp = m.proto == PortProto::kTcp;
      const size_t n = m.family == AF_INET6 ? 16 : 4;
      bool wildcard = !tcp;
      for (size_t i = 0; i < n; ++i) wildcard = wildcard && m.host_addr[i] == 0;
      args.push_back(absl::StrCat(tcp ? "t" : "u", m.family == AF_INET6 ? "6" : "4", wildcard ? "w" : "", ":",
                                  m.container_port));
    }
  }
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  // Source of each fixed descriptor, 3 .. kLastFd (-1: closed there).
  static_assert(monitor::kFirstListenerFd == monitor::kLastFd + 1 && monitor::kPidFd == 3);
  const int sources[monitor::kLastFd - 2] = {
      sandbox_->pidfd(), log_.get(),         control_.get(),     out_[0].get(),
      out_[1].get(),     input_fd_,          rem.init_status_fd, rem.janitor_fd,
      dir_.get(),        kind_dir.get(),     tmpl.get(),         report_.get()};
  std::vector<int> all(std::begin(sources), std::end(sources));
  all.insert(all.end(), listeners.begin(), listeners.end());
  // Copies above the handed range first: a source may sit on a target.
  const int above = monitor::kFirstListenerFd + static_cast<int>(listeners.size()) + 64;
  std::vector<int> copies(all.size(), -1);
  int err = 0;
  for (size_t i = 0; i < all.size() && err == 0; ++i) {
    copies[i] = all[i] >= 0 ? ::fcntl(all[i], F_DUPFD_CLOEXEC, above) : -1;
    if (all[i] >= 0 && copies[i] < 0) err = errno;
  }
  const int exe = err == 0 ? ::fcntl(monitor_exe_.get(), F_DUPFD_CLOEXEC, above) : -1;
  if (err == 0 && exe < 0) err = errno;
  if (err != 0) {
    for (int fd : copies) {
      if (fd >= 0) ::close(fd);
    }
    return common::ErrnoStatus(err, "dup(descriptors for minipod-monitor)");
  }
  // Nothing of the caller's stays open: its terminal or pipe would not see
  // EOF while we live.
  if (const int null = ::open("/dev/null", O_RDWR | O_CLOEXEC); null >= 0) {
    for (int i = 0; i < 3; ++i) ::dup2(null, i);
    ::close(null);
  }
  // From here on the descriptors of this process's objects are replaced:
  // there is no way back.
  for (size_t i = 0; i < all.size(); ++i) {
    const int target = 3 + static_cast<int>(i);  // kPidFd .. kLastFd, then the listeners
    if (copies[i] >= 0) {
      ::dup2(copies[i], target);  // not CLOEXEC: handed over
      ::close(copies[i]);
    } else {
      ::close(target);
    }
  }
  static char* const kNoEnv[] = {nullptr};
  ::syscall(SYS_execveat, exe, "", argv.data(), kNoEnv, AT_EMPTY_PATH);
  err = errno;
  // The container cannot be watched: it goes (the janitor removes its
  // cgroup when we exit, `run -d` the state), and `run -d` says why.
  ::syscall(SYS_pidfd_send_signal, monitor::kPidFd, SIGKILL, nullptr, 0);
  const std::string why = absl::StrCat("fail 125 execveat(", monitor_path_, "): ", strerror(err), "\n");
  WriteAll(monitor::kReportFd, why);
  ::_exit(125);
}

}  // namespace

absl::StatusOr<std::string> ExitedStateTemplate(ContainerState state) {
  constexpr int kCodeSentinel = 1987654321, kSignalSentinel = 1987654322;
  state.status = "exited";
  state.finished = "\x02";
  state.exit_code = kCodeSentinel;
  state.signal = kSignalSentinel;
  state.oom = false;
  std::string text = SerializeState(state);
  // Each with its key, so no user string (escaped inside quotes) matches.
  const std::pair<std::string, char> fields[] = {
      {"\"finished\": \"\\u0002\"", monitor::kMarkFinished},
      {absl::StrCat("\"exit_code\": ", kCodeSentinel), monitor::kMarkExitCode},
      {absl::StrCat("\"signal\": ", kSignalSentinel), monitor::kMarkSignal},
      {"\"oom\": false", monitor::kMarkOom},
  };
  for (const auto& [field, mark] : fields) {
    const size_t at = text.find(field);
    if (at == std::string::npos || text.find(field, at + 1) != std::string::npos) {
      return absl::InternalError(absl::StrCat("state template: ", field, " not found once"));
    }
    const size_t colon = field.find(':');
    text.replace(at, field.size(), absl::StrCat(field.substr(0, colon + 2), std::string(1, monitor::kMarker), std::string(1, mark)));
  }
  return text;
}

absl::StatusOr<common::UniqueFd> ConnectControl(const StateStore& store, Kind kind, const std::string& name) {
  ASSIGN_OR_RETURN(common::UniqueFd dir, store.Dir(kind, name));
  common::UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!sock) return common::ErrnoStatus(errno, "socket(AF_UNIX)");
  const sockaddr_un addr = SocketAddress(dir.get(), kControlSocket);
  if (::connect(sock.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    if (errno == ENOENT || errno == ECONNREFUSED) {
      return absl::NotFoundError(absl::StrCat(KindWord(kind), " ", name, " is not running"));
    }
    return common::ErrnoStatus(errno, absl::StrCat("connect(", store.PathOf(kind, name), "/", kControlSocket, ")"));
  }
  return sock;
}

absl::StatusOr<DetachResult> RunDetached(const DetachRequest& request) {
  // minipod-monitor relays a fixed number of listeners (one per -p).
  if (request.publish.size() > static_cast<size_t>(monitor::kMaxRelays)) {
    return absl::InvalidArgumentError(absl::StrCat("-p: at most ", monitor::kMaxRelays, " port mappings (", request.publish.size(), " given)"));
  }
  ASSIGN_OR_RETURN(StateStore store, StateStore::Open());
  DetachResult result;
  common::UniqueFd dir;
  if (request.name.empty()) {
    for (int attempt = 0;; ++attempt) {
      result.name = RandomName();
      absl::StatusOr<common::UniqueFd> d = store.Create(request.kind, result.name);
      if (d.ok()) {
        dir = *std::move(d);
        break;
      }
      if (!absl::IsAlreadyExists(d.status()) || attempt > 8) return d.status();
    }
  } else {
    result.name = request.name;
    ASSIGN_OR_RETURN(dir, store.Create(request.kind, request.name));
  }

  ContainerState state;
  state.kind = request.kind;
  state.name = result.name;
  state.id = RandomId();
  state.pod = request.pod;
  state.command = request.config.command;
  state.rootfs = request.rootfs;
  state.created = NowRfc3339();
  state.status = "created";
  state.ports = request.publish;
  state.share = request.share;
  if (request.kind == Kind::kPod) state.limits = request.config.cgroup_parent_limits;
  state.tty = request.tty;
  state.interactive = request.interactive;
  state.auto_remove = request.auto_remove;
  state.args = request.args;
  if (absl::Status s = store.Save(state); !s.ok()) {
    (void)store.Remove(request.kind, result.name);
    return s;
  }

  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) {
    const int err = errno;
    (void)store.Remove(request.kind, result.name);
    return common::ErrnoStatus(err, "pipe2");
  }
  common::UniqueFd report_read(p[0]), report_write(p[1]);
  fflush(stdout);
  fflush(stderr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int err = errno;
    (void)store.Remove(request.kind, result.name);
    return common::ErrnoStatus(err, "fork(monitor)");
  }
  if (pid == 0) {
    report_read.Reset();
    Monitor monitor(request, store, std::move(state), std::move(dir), std::move(report_write));
    monitor.Main();
  }
  report_write.Reset();
  std::string text;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(report_read.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  if (absl::StartsWith(text, "ok ")) return result;
  // The monitor failed and exits: reap it.
  int ws;
  while (::waitpid(pid, &ws, 0) < 0 && errno == EINTR) {}
  absl::string_view rest = text;
  if (absl::ConsumePrefix(&rest, "fail ")) {
    const size_t sp = rest.find(' ');
    int status = 125;
    if (sp != absl::string_view::npos && absl::SimpleAtoi(rest.substr(0, sp), &status)) {
      // Normally gone already; not when the monitor failed to exec
      // minipod-monitor after the container started.
      (void)store.Remove(request.kind, result.name);
      result.status = status;
      result.error = std::string(absl::StripTrailingAsciiWhitespace(rest.substr(sp + 1)));
      return result;
    }
  }
  (void)store.Remove(request.kind, result.name);
  result.status = 125;
  result.error = "the monitor process died before the container started";
  return result;
}

absl::StatusOr<int> WaitForExit(const StateStore& store, Kind kind, const std::string& name, int timeout_ms) {
  ASSIGN_OR_RETURN(common::UniqueFd dir, store.Dir(kind, name));
  common::UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!sock) return common::ErrnoStatus(errno, "socket(AF_UNIX)");
  const sockaddr_un addr = SocketAddress(dir.get(), kControlSocket);
  if (::connect(sock.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    if (errno == ENOENT || errno == ECONNREFUSED) {
      return absl::NotFoundError(absl::StrCat(KindWord(kind), " ", name, " is not running"));
    }
    return common::ErrnoStatus(errno, absl::StrCat("connect(", store.PathOf(kind, name), "/", kControlSocket, ")"));
  }
  WriteAll(sock.get(), "wait\n");
  std::string text;
  char buf[256];
  for (;;) {
    struct pollfd pfd = {sock.get(), POLLIN, 0};
    const int r = ::poll(&pfd, 1, timeout_ms);
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) return absl::DeadlineExceededError(absl::StrCat(KindWord(kind), " ", name, " still runs"));
    const ssize_t n = ::read(sock.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.find('\n') != std::string::npos) break;
  }
  absl::string_view rest = absl::StripTrailingAsciiWhitespace(text);
  int code = 0;
  if (absl::ConsumePrefix(&rest, "exit ") && absl::SimpleAtoi(rest, &code)) return code;
  return absl::NotFoundError(absl::StrCat("the monitor of ", name, " went away without a status"));
}

}  // namespace runtime
