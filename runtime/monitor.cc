// The monitor process of a detached container: the fork from `minipod run
// -d`, the start report on a pipe, then the event loop until the container
// ends. See monitor.h for the life cycle.
#include "runtime/monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
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
#include "runtime/attach.h"
#include "runtime/cri_log.h"
#include "runtime/event_loop.h"
#include "runtime/log_pump.h"
#include "runtime/netns_sockets.h"
#include "runtime/port_relay.h"
#include "runtime/publish.h"
#include "runtime/exec.h"
#include "runtime/pty.h"
#include "sandbox/launcher.h"

namespace runtime {
namespace {

// How long the end waits for the output pipes to close once the
// container has been collected and its cgroup emptied.
constexpr int kDrainMs = 2000;
// How long the end waits for attach clients to take the final output.
constexpr int kAttachFlushMs = 1000;
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

void WriteAll(int fd, absl::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    text.remove_prefix(static_cast<size_t>(n));
  }
}

// -t: the launcher's TerminalSession for a detached container. It only
// keeps the master; the monitor's loop does the relaying.
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

// One `minipod attach` connection: the output not yet written to it, and
// the start of a frame not yet complete.
struct AttachClient {
  explicit AttachClient(common::UniqueFd f) : fd(std::move(f)), out(kAttachBuffer) {}
  common::UniqueFd fd;
  ByteQueue out;
  std::string in;
  bool dead = false;
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
  void OnControl();
  void OnClient(int fd, uint32_t events);
  // Attach: a connection that sent "attach\n" (rest: what came after it).
  void StartAttach(int fd, absl::string_view rest);
  void OnAttach(AttachClient* c, uint32_t events);
  // The frames complete in c->in; false: a malformed one.
  bool ParseFrames(AttachClient* c);
  void Broadcast(absl::string_view chunk);
  void FlushClient(AttachClient* c);
  void DropDeadClients();
  // Input for the container, queued when it does not take it at once.
  void Input(absl::string_view data);
  void FlushInput();
  void OnSignal();
  // The container's first process ended: collect it, empty the cgroup,
  // then Finish once both output streams have ended (or after kDrainMs).
  void OnExit();
  void Finish();
  // Hands the watching over to minipod-monitor (exec, never returns once
  // the descriptors are moved); returns when it could not even start to
  // (the C++ loop then watches the container itself).
  void ExecLean();

  const DetachRequest& request_;
  const StateStore& store_;
  ContainerState state_;
  common::UniqueFd dir_, report_;
  std::optional<EventLoop> loop_;
  std::unique_ptr<sandbox::Sandbox> sandbox_;
  common::UniqueFd stdin_keep_; // -i: the write end, held so stdin stays open
  // -t: the pty master (a second descriptor; the log pump reads the first).
  DetachedTerminal terminal_;
  common::UniqueFd master_;
  // Where attach input goes (master_, stdin_keep_, or -1), and what of it
  // waits for room there.
  int input_fd_ = -1;
  ByteQueue input_queue_{kAttachBuffer};
  std::vector<std::unique_ptr<AttachClient>> attached_;
  std::unique_ptr<CriLogWriter> log_;
  // -p: the host sockets (bound before the container starts) and the
  // helper that makes sockets in the container's network namespace.
  std::optional<PortRelay> relay_;
  std::optional<NetnsSockets> sockets_;
  int open_streams_ = 0;
  bool exited_ = false, finished_ = false;
  absl::StatusOr<sandbox::ExitInfo> exit_info_ = absl::UnknownError("not collected");
  common::UniqueFd control_, sigfd_;
  // minipod-monitor (opened before anything is created) and, for it, the
  // output descriptors the C++ pumps would otherwise take.
  common::UniqueFd lean_exe_;
  std::string lean_path_;
  common::UniqueFd lean_out_[2];
  bool relay_join_userns_ = false;
  std::vector<common::UniqueFd> clients_;
  std::vector<int> waiters_;
};

void Monitor::Fail(int status, const std::string& why) {
  (void)store_.Remove(state_.kind, state_.name);
  WriteAll(report_.get(), absl::StrCat("fail ", status, " ", why, "\n"));
  ::_exit(status);
}

absl::Status Monitor::SetUp() {
  ASSIGN_OR_RETURN(EventLoop loop, EventLoop::Create());
  loop_.emplace(std::move(loop));
  ASSIGN_OR_RETURN(common::UniqueFd log_fd, CriLogWriter::OpenLogFile(dir_.get(), kLogFile));
  log_ = std::make_unique<CriLogWriter>(std::move(log_fd));

  // stdin: /dev/null, or with -i a pipe we keep open (nothing is written
  // to it yet: the command reads and waits, as under `docker run -di`).
  common::UniqueFd in_read, out_read[2], out_write[2];
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
    out_read[i] = common::UniqueFd(p[0]);
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
    absl::StatusOr<PortRelay> relay = PortRelay::Bind(mappings);
    if (!relay.ok()) return relay.status();
    relay_.emplace(*std::move(relay));
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
  if (relay_.has_value()) {
    // The helper joins the container's user namespace too when it has one
    // of its own (a rootless monitor has no privilege over its network
    // namespace otherwise).
    struct stat mine, theirs;
    const bool own_userns =
        ::stat("/proc/self/ns/user", &mine) == 0 &&
        ::stat(absl::StrCat("/proc/", sandbox_->pid(), "/ns/user").c_str(), &theirs) == 0 && mine.st_ino != theirs.st_ino;
    if (lean_exe_) {
      relay_join_userns_ = own_userns;  // minipod-monitor's helper joins them
    } else {
      ASSIGN_OR_RETURN(NetnsSockets sockets, NetnsSockets::Start(sandbox_->pidfd(), own_userns));
      sockets_.emplace(std::move(sockets));
      RETURN_IF_ERROR(relay_->Start(*loop_, [this](int domain, int type) { return sockets_->Socket(domain, type); }));
    }
    state_.ports.clear();
    for (const PortMapping& m : relay_->mappings()) state_.ports.push_back(FormatPublish(m));
  }
  RETURN_IF_ERROR(store_.Save(state_));

  if (request_.tty) {
    // The pty's output is the log's stdout (EIO from the master, once the
    // last slave descriptor is closed, is its end); input goes to a second
    // descriptor of the master, which the pump's end does not close.
    common::UniqueFd master = terminal_.TakeMaster();
    master_ = common::UniqueFd(::fcntl(master.get(), F_DUPFD_CLOEXEC, 3));
    if (!master_) return common::ErrnoStatus(errno, "dup(pty master)");
    out_read[0] = std::move(master);
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
  for (int i = 0; i < 2; ++i) {
    if (!out_read[i]) continue;
    if (lean_exe_) {
      lean_out_[i] = std::move(out_read[i]);
      continue;
    }
    LogPumpOptions pump;
    pump.on_eof = [this] {
      if (--open_streams_ == 0 && exited_) Finish();
    };
    pump.tee = [this](LogStream, absl::string_view chunk) { Broadcast(chunk); };
    ++open_streams_;
    RETURN_IF_ERROR(StartLogPump(*loop_, std::move(out_read[i]), i == 0 ? LogStream::kStdout : LogStream::kStderr,
                                 log_.get(), std::move(pump)));
  }
  RETURN_IF_ERROR(loop_->Add(control_.get(), EPOLLIN, [this](uint32_t) { OnControl(); }));
  RETURN_IF_ERROR(loop_->Add(sandbox_->pidfd(), EPOLLIN, [this](uint32_t) { OnExit(); }));
  return absl::OkStatus();
}

void Monitor::Main() {
  // Our own session: the caller's terminal and process group are not ours.
  ::setsid();
  if (::chdir("/") != 0) {}
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGHUP);
  sigaddset(&mask, SIGPIPE);
  ::sigprocmask(SIG_BLOCK, &mask, nullptr);
  sigfd_ = common::UniqueFd(::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));

  state_.monitor = RefOf(::getpid()).value_or(ProcessRef{::getpid(), 0});
  // Each relayed connection holds two descriptors.
  struct rlimit nofile;
  if (::getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
    nofile.rlim_cur = nofile.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &nofile);
  }
  // minipod-monitor watches the container once it runs; found and opened
  // before anything exists, so that its absence fails the run cleanly.
  {
    absl::StatusOr<common::UniqueFd> exe = minipod::OpenMonitor(&lean_path_);
    if (!exe.ok()) Fail(125, std::string(exe.status().message()));
    lean_exe_ = *std::move(exe);
  }
  if (absl::Status s = SetUp(); !s.ok()) {
    sandbox_.reset();  // the child killed, the cgroup removed
    Fail(125, std::string(s.message()));
  }
  if (lean_exe_) ExecLean();
  if (relay_.has_value() && !sockets_.has_value()) {
    // minipod-monitor could not be started: the C++ relays after all.
    absl::StatusOr<NetnsSockets> sockets = NetnsSockets::Start(sandbox_->pidfd(), relay_join_userns_);
    absl::Status s = sockets.status();
    if (s.ok()) {
      sockets_.emplace(*std::move(sockets));
      s = relay_->Start(*loop_, [this](int domain, int type) { return sockets_->Socket(domain, type); });
    }
    if (!s.ok()) {
      sandbox_.reset();
      Fail(125, std::string(s.message()));
    }
  }
  if (sigfd_) (void)loop_->Add(sigfd_.get(), EPOLLIN, [this](uint32_t) { OnSignal(); });
  for (int i = 0; i < 2; ++i) {
    if (!lean_out_[i]) continue;
    // minipod-monitor could not be started: the C++ pumps after all.
    LogPumpOptions pump;
    pump.on_eof = [this] {
      if (--open_streams_ == 0 && exited_) Finish();
    };
    pump.tee = [this](LogStream, absl::string_view chunk) { Broadcast(chunk); };
    ++open_streams_;
    if (!StartLogPump(*loop_, std::move(lean_out_[i]), i == 0 ? LogStream::kStdout : LogStream::kStderr, log_.get(),
                      std::move(pump))
             .ok()) {
      --open_streams_;
    }
  }

  WriteAll(report_.get(), absl::StrCat("ok ", state_.name, "\n"));
  report_.Reset();
  // Nothing of the caller's stays open: its terminal or pipe would not see
  // EOF while we live.
  if (const int null = ::open("/dev/null", O_RDWR | O_CLOEXEC); null >= 0) {
    for (int i = 0; i < 3; ++i) ::dup2(null, i);
    ::close(null);
  }
  if (absl::Status s = loop_->Run(); !s.ok()) {
    // The loop itself failed: the container cannot be watched any more.
    if (!exited_) {
      ::kill(sandbox_->pid(), SIGKILL);
      OnExit();
    }
    Finish();
  }
  ::_exit(0);
}

void Monitor::ExecLean() {
  const sandbox::Sandbox::Remains rem = sandbox_->remains();
  common::UniqueFd tmpl;
  if (!state_.auto_remove) {
    absl::StatusOr<std::string> text = ExitedStateTemplate(state_);
    if (!text.ok()) return;
    tmpl = common::UniqueFd(::memfd_create("minipod-state", MFD_CLOEXEC));
    if (!tmpl) return;
    WriteAll(tmpl.get(), *text);
  }
  const std::string where = store_.PathOf(state_.kind, state_.name);
  common::UniqueFd kind_dir(::open(where.substr(0, where.rfind('/')).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!kind_dir) return;

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
  if (relay_.has_value()) {
    listeners = relay_->listener_fds();
    if (listeners.size() > static_cast<size_t>(monitor::kMaxRelays)) return;
    for (const PortMapping& m : relay_->mappings()) {
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
      sandbox_->pidfd(), log_->fd(),          control_.get(),     lean_out_[0].get(),
      lean_out_[1].get(), input_fd_,          rem.init_status_fd, rem.janitor_fd,
      dir_.get(),         kind_dir.get(),     tmpl.get(),         report_.get()};
  std::vector<int> all(std::begin(sources), std::end(sources));
  all.insert(all.end(), listeners.begin(), listeners.end());
  // Copies above the handed range first: a source may sit on a target.
  const int above = monitor::kFirstListenerFd + static_cast<int>(listeners.size()) + 64;
  std::vector<int> copies(all.size(), -1);
  bool ok = true;
  for (size_t i = 0; i < all.size(); ++i) {
    copies[i] = all[i] >= 0 ? ::fcntl(all[i], F_DUPFD_CLOEXEC, above) : -1;
    if (all[i] >= 0 && copies[i] < 0) ok = false;
  }
  if (!ok) {
    for (int fd : copies) {
      if (fd >= 0) ::close(fd);
    }
    return;
  }
  // Nothing of the caller's stays open: its terminal or pipe would not see
  // EOF while we live.
  if (const int null = ::open("/dev/null", O_RDWR | O_CLOEXEC); null >= 0) {
    for (int i = 0; i < 3; ++i) ::dup2(null, i);
    ::close(null);
  }
  // From here on the descriptors of this process's objects are replaced:
  // there is no way back to the C++ loop.
  const int exe = ::fcntl(lean_exe_.get(), F_DUPFD_CLOEXEC, above);
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
  const int err = errno;
  // The container cannot be watched: it goes (the janitor removes its
  // cgroup when we exit), and `run -d` says why.
  ::syscall(SYS_pidfd_send_signal, monitor::kPidFd, SIGKILL, nullptr, 0);
  const std::string why = absl::StrCat("fail 125 execveat(", lean_path_, "): ", strerror(err), "\n");
  WriteAll(monitor::kReportFd, why);
  ::_exit(125);
}

void Monitor::OnControl() {
  for (;;) {
    common::UniqueFd client(::accept4(control_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
    if (!client) return;
    struct ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(client.get(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
        (cred.uid != 0 && cred.uid != ::geteuid())) {
      continue;  // the directory is private; this is a second fence
    }
    const int fd = client.get();
    if (!loop_->Add(fd, EPOLLIN, [this, fd](uint32_t ev) { OnClient(fd, ev); }).ok()) continue;
    clients_.push_back(std::move(client));
  }
}

void Monitor::OnClient(int fd, uint32_t events) {
  char buf[256];
  const ssize_t n = ::read(fd, buf, sizeof buf - 1);
  if (n > 0) {
    const absl::string_view text(buf, static_cast<size_t>(n));
    if (absl::StartsWith(text, "attach\n")) {
      StartAttach(fd, text.substr(7));
      return;
    }
    const absl::string_view request = absl::StripAsciiWhitespace(text);
    if (request == "wait") {
      waiters_.push_back(fd);
      return;
    }
    WriteAll(fd, absl::StrCat("error unknown request\n"));
  } else if (n < 0 && errno == EAGAIN && !(events & (EPOLLHUP | EPOLLERR))) {
    return;
  }
  loop_->Remove(fd);
  for (auto it = clients_.begin(); it != clients_.end(); ++it) {
    if (it->get() == fd) {
      clients_.erase(it);
      break;
    }
  }
  for (auto it = waiters_.begin(); it != waiters_.end(); ++it) {
    if (*it == fd) {
      waiters_.erase(it);
      break;
    }
  }
}

void Monitor::OnSignal() {
  struct signalfd_siginfo info;
  while (::read(sigfd_.get(), &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
    const int sig = static_cast<int>(info.ssi_signo);
    // SIGTERM or SIGINT to the monitor (a shutdown) stop the container the
    // way `minipod stop` starts to; SIGHUP and SIGPIPE are ignored.
    if ((sig == SIGTERM || sig == SIGINT) && sandbox_ && sandbox_->pid() > 0) {
      ::syscall(SYS_pidfd_send_signal, sandbox_->pidfd(), sig, nullptr, 0);
    }
  }
}

void Monitor::OnExit() {
  if (exited_) return;
  exited_ = true;
  loop_->Remove(sandbox_->pidfd());
  exit_info_ = sandbox_->Reap();
  if (relay_.has_value()) relay_->Stop();
  sockets_.reset();
  // The cgroup removed, anything left in it killed: the pipes then close.
  sandbox_->Delete();
  if (open_streams_ == 0) {
    Finish();
  } else {
    loop_->After(kDrainMs, [this] { Finish(); });
  }
}

void Monitor::Finish() {
  if (finished_) return;
  finished_ = true;
  const absl::StatusOr<sandbox::ExitInfo>& info = exit_info_;
  (void)log_->Flush(LogStream::kStdout);
  if (info.ok() && !info->oom_line.empty()) {
    (void)log_->Append(LogStream::kStderr, absl::StrCat("minipod: ", info->oom_line, "\n"));
  }
  (void)log_->Flush(LogStream::kStderr);
  state_.status = "exited";
  state_.finished = NowRfc3339();
  if (info.ok()) {
    state_.exit_code = info->code;
    state_.signal = info->signal;
    state_.oom = info->oom;
  }
  if (state_.auto_remove) {
    (void)store_.Remove(state_.kind, state_.name);
  } else {
    (void)store_.Save(state_);
    ::unlinkat(dir_.get(), kControlSocket, 0);
  }
  for (int fd : waiters_) WriteAll(fd, absl::StrCat("exit ", state_.exit_code, "\n"));
  // The attach clients' last output, for a bounded time; then they see the
  // end (the descriptors close as we exit).
  const int64_t deadline = EventLoop::NowMs() + kAttachFlushMs;
  for (;;) {
    std::vector<struct pollfd> fds;
    for (const auto& c : attached_) {
      if (!c->dead && !c->out.empty()) fds.push_back({c->fd.get(), POLLOUT, 0});
    }
    const int64_t left = deadline - EventLoop::NowMs();
    if (fds.empty() || left <= 0) break;
    if (::poll(fds.data(), fds.size(), static_cast<int>(left)) < 0 && errno != EINTR) break;
    for (const auto& c : attached_) FlushClient(c.get());
  }
  for (const auto& c : attached_) ::shutdown(c->fd.get(), SHUT_RDWR);
  loop_->Stop();
}

void Monitor::StartAttach(int fd, absl::string_view rest) {
  loop_->Remove(fd);
  std::unique_ptr<AttachClient> client;
  for (auto it = clients_.begin(); it != clients_.end(); ++it) {
    if (it->get() == fd) {
      client = std::make_unique<AttachClient>(std::move(*it));
      clients_.erase(it);
      break;
    }
  }
  if (client == nullptr) return;
  AttachClient* c = client.get();
  client->in.assign(rest.data(), rest.size());
  if (finished_ || !ParseFrames(c)) return;  // closed as client goes
  if (!loop_->Add(fd, EPOLLIN, [this, c](uint32_t ev) { OnAttach(c, ev); }).ok()) return;
  attached_.push_back(std::move(client));
}

bool Monitor::ParseFrames(AttachClient* c) {
  return ConsumeAttachFrames(&c->in, [this](char type, absl::string_view payload) {
    unsigned short rows = 0, cols = 0;
    if (type == kAttachData) {
      Input(payload);
    } else if (DecodeResize(payload, &rows, &cols) && master_ && rows != 0 && cols != 0) {
      // The kernel signals the container's foreground group (SIGWINCH).
      struct winsize ws{};
      ws.ws_row = rows;
      ws.ws_col = cols;
      (void)SetWindowSize(master_.get(), ws);
    }
  });
}

void Monitor::OnAttach(AttachClient* c, uint32_t events) {
  if (c->dead) return;
  if (events & EPOLLOUT) FlushClient(c);
  if (!c->dead && (events & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
    char buf[16 * 1024];
    for (int i = 0; i < 4 && !c->dead; ++i) {
      const ssize_t n = ::read(c->fd.get(), buf, sizeof buf);
      if (n > 0) {
        c->in.append(buf, static_cast<size_t>(n));
        if (!ParseFrames(c)) c->dead = true;
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) break;
      c->dead = true;  // the client left
    }
  }
  DropDeadClients();
}

void Monitor::FlushClient(AttachClient* c) {
  while (!c->dead && !c->out.empty()) {
    const ssize_t n = c->out.WriteTo(c->fd.get());
    if (n > 0) continue;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    c->dead = true;
  }
  if (!c->dead && !finished_) {
    (void)loop_->Modify(c->fd.get(), c->out.empty() ? EPOLLIN : EPOLLIN | EPOLLOUT);
  }
}

void Monitor::Broadcast(absl::string_view chunk) {
  for (const auto& c : attached_) {
    if (c->dead) continue;
    if (c->out.space() < chunk.size()) {
      // Too slow: disconnected, so that neither the log nor the others wait.
      c->dead = true;
      continue;
    }
    c->out.Append(std::string_view(chunk.data(), chunk.size()));
    FlushClient(c.get());
  }
  DropDeadClients();
}

void Monitor::DropDeadClients() {
  for (auto it = attached_.begin(); it != attached_.end();) {
    if ((*it)->dead) {
      loop_->Remove((*it)->fd.get());
      it = attached_.erase(it);
    } else {
      ++it;
    }
  }
}

void Monitor::Input(absl::string_view data) {
  if (input_fd_ < 0) return;  // neither -t nor -i: nobody reads it
  // Whatever does not fit behind what already waits is dropped.
  input_queue_.Append(std::string_view(data.data(), data.size()));
  FlushInput();
}

void Monitor::FlushInput() {
  while (input_fd_ >= 0 && !input_queue_.empty()) {
    const ssize_t n = input_queue_.WriteTo(input_fd_);
    if (n > 0) continue;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) break;
    // EPIPE (stdin's reader gone), EIO (the pty's slave side gone): no more input.
    input_queue_.Clear();
    if (loop_->Watching(input_fd_)) loop_->Remove(input_fd_);
    input_fd_ = -1;
    return;
  }
  if (input_fd_ < 0) return;
  const bool watching = loop_->Watching(input_fd_);
  if (!input_queue_.empty() && !watching) {
    (void)loop_->Add(input_fd_, EPOLLOUT, [this](uint32_t) { FlushInput(); });
  } else if (input_queue_.empty() && watching) {
    loop_->Remove(input_fd_);
  }
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
