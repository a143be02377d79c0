// The sandbox cgroup's life: creation from the plan, membership, OOM
// counts, and removal (SIGKILL through cgroup.kill or pidfds, rmdir deepest
// first). Parent side only: mkdir, rmdir, cgroupfs reads and writes,
// pidfd_open, pidfd_send_signal, kill; bpf(2) through cgroup_devices and the
// janitor's fork/exec through cgroup_janitor.
#include "sandbox/cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/absl/file_util.h"
#include "common/absl/status_util.h"
#include "common/sys.h"
#include "sandbox/cgroup_devices.h"
#include "sandbox/cgroup_fs.h"

namespace sandbox {
namespace {

using common::ErrnoStatus;
using common::UniqueFd;

bool Exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

std::vector<pid_t> ReadPids(const std::string& procs_path) {
  std::vector<pid_t> pids;
  absl::StatusOr<std::string> text = common::ReadFileToString(procs_path, 16 << 20);
  if (!text.ok()) return pids;
  for (absl::string_view word : absl::StrSplit(*text, '\n', absl::SkipEmpty())) {
    int pid = 0;
    if (absl::SimpleAtoi(word, &pid) && pid > 0) pids.push_back(pid);
  }
  return pids;
}

// dir and its sub-cgroups, children before parents (rmdir order). Depth is
// bounded: a sandbox that nests deeper than 32 levels is left to the retry.
void CollectTree(const std::string& dir, int depth, std::vector<std::string>* out) {
  if (depth < 32) {
    if (DIR* d = ::opendir(dir.c_str())) {
      std::vector<std::string> subdirs;
      while (struct dirent* e = ::readdir(d)) {
        if (e->d_type != DT_DIR) continue;
        const absl::string_view n = e->d_name;
        if (n == "." || n == "..") continue;
        subdirs.push_back(dir + "/" + std::string(n));
      }
      ::closedir(d);
      for (const std::string& s : subdirs) CollectTree(s, depth + 1, out);
    }
  }
  out->push_back(dir);
}

long PidfdOpen(pid_t pid) { return ::syscall(SYS_pidfd_open, pid, 0); }
long PidfdKill(int pidfd) { return ::syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0); }

// SIGKILLs everything in one cgroup (not its children); true if it held
// processes. Through cgroup.kill (5.14+) when present; else each listed pid
// through a pidfd taken before re-reading the list, so a pid recycled by a
// process outside the cgroup is never signalled.
bool KillCgroup(const std::string& dir) {
  const std::string procs = dir + "/cgroup.procs";
  std::vector<pid_t> pids = ReadPids(procs);
  if (pids.empty()) return false;
  if (WriteCgroupFile(dir + "/cgroup.kill", "1") == 0) return true;
  std::vector<std::pair<pid_t, UniqueFd>> held;
  for (pid_t pid : pids) {
    const long fd = PidfdOpen(pid);
    if (fd >= 0) {
      held.emplace_back(pid, UniqueFd(static_cast<int>(fd)));
    } else if (errno == ENOSYS) {
      ::kill(pid, SIGKILL);  // before 5.3: the small recycling race remains
    }
  }
  const std::vector<pid_t> still = ReadPids(procs);
  for (auto& [pid, fd] : held) {
    if (std::find(still.begin(), still.end(), pid) != still.end()) PidfdKill(fd.get());
  }
  return true;
}

void SleepMs(int ms) {
  struct timespec ts {ms / 1000, (ms % 1000) * 1000000L};
  while (::nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

}  // namespace

// ---- removal -------------------------------------------------------------

absl::Status KillAndRemoveCgroups(const std::vector<std::string>& dirs, int timeout_ms) {
  const long long deadline = common::sys::MonotonicMs() + timeout_ms;
  absl::Status result;
  for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) {
    const std::string& top = *it;
    for (;;) {
      std::vector<std::string> tree;
      CollectTree(top, 0, &tree);
      bool populated = false;
      for (const std::string& d : tree) populated = KillCgroup(d) || populated;
      int err = 0;
      std::string failed;
      if (!populated) {
        for (const std::string& d : tree) {
          if (::rmdir(d.c_str()) != 0 && errno != ENOENT) {
            err = errno;
            failed = d;
            break;
          }
        }
        if (err == 0) break;
        // EBUSY: a process arrived or a child cgroup appeared; retry.
        if (err != EBUSY) {
          result.Update(CgroupErrno(err, absl::StrCat("rmdir(", failed, ")")));
          break;
        }
      }
      if (common::sys::MonotonicMs() >= deadline) {
        result.Update(absl::DeadlineExceededError(absl::StrCat(
            "cgroup ", top, ": still ", populated ? "has processes" : "busy", " after ", timeout_ms,
            " ms of SIGKILL and rmdir")));
        break;
      }
      SleepMs(populated ? 2 : 10);
    }
  }
  return result;
}


std::optional<int64_t> ParseOomKills(absl::string_view text) { return KeyedValue(text, "oom_kill"); }

// ---- SandboxCgroup -------------------------------------------------------

SandboxCgroup::SandboxCgroup(SandboxCgroup&& other) noexcept
    : kind_(other.kind_),
      dirs_(std::move(other.dirs_)),
      memory_dir_(std::move(other.memory_dir_)),
      v2_fd_(std::move(other.v2_fd_)),
      janitor_(std::move(other.janitor_)) {
  other.dirs_.clear();
}

SandboxCgroup& SandboxCgroup::operator=(SandboxCgroup&& other) noexcept {
  if (this != &other) {
    (void)Remove();
    kind_ = other.kind_;
    dirs_ = std::move(other.dirs_);
    other.dirs_.clear();
    memory_dir_ = std::move(other.memory_dir_);
    v2_fd_ = std::move(other.v2_fd_);
    janitor_ = std::move(other.janitor_);
  }
  return *this;
}

SandboxCgroup::~SandboxCgroup() { (void)Remove(); }

absl::StatusOr<SandboxCgroup> SandboxCgroup::Create(const std::string& name, const CgroupRequest& request,
                                                    const CgroupLayout& layout, const char* janitor_exe) {
  std::string subtree;
  if (layout.kind == CgroupLayout::kV2 && layout.own_dirs.count("") != 0) {
    absl::StatusOr<std::string> text =
        common::ReadFileToString(layout.own_dirs.at("") + "/cgroup.subtree_control");
    if (text.ok()) subtree = *text;
  }
  ASSIGN_OR_RETURN(CgroupPlan plan, PlanCgroup(name, request, layout, subtree));
  for (const std::string& dir : plan.dirs) {
    // Checked before the janitor learns the paths: it must never remove a
    // cgroup that is not ours. (The mkdir below still catches a race.)
    if (Exists(dir)) return absl::AlreadyExistsError(absl::StrCat("cgroup ", dir, ": already exists"));
  }

  SandboxCgroup cg;
  cg.kind_ = plan.kind;
  if (janitor_exe != nullptr) {
    // It removes plan.dirs if we die from here on.
    ASSIGN_OR_RETURN(cg.janitor_, Janitor::Start(janitor_exe, plan.dirs));
  }
  if (!plan.enable.empty()) {
    const std::string path = plan.enable_at + "/cgroup.subtree_control";
    const std::string value = absl::StrJoin(plan.enable, " ");
    if (const int err = WriteCgroupFile(path, value); err != 0) {
      if (err == EBUSY) {
        return absl::FailedPreconditionError(absl::StrCat(
            "write(", path, ", '", value, "'): ", strerror(err),
            " (cgroup v2 allows no processes in a non-root cgroup that delegates controllers)"));
      }
      return CgroupErrno(err, absl::StrCat("write(", path, ", '", value, "')"));
    }
  }
  for (const std::string& dir : plan.parents) {
    // Shared with other sandboxes (a pod's): there already, or ours to make.
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return CgroupErrno(errno, absl::StrCat("mkdir(", dir, ")"));
  }
  for (const std::string& dir : plan.dirs) {
    if (::mkdir(dir.c_str(), 0755) != 0) {
      const int err = errno;
      if (err == EEXIST) return absl::AlreadyExistsError(absl::StrCat("mkdir(", dir, "): already exists"));
      return CgroupErrno(err, absl::StrCat("mkdir(", dir, ")"));  // cg's destructor removes the rest
    }
    cg.dirs_.push_back(dir);
  }
  for (const CgroupWrite& w : plan.writes) {
    const int err = WriteCgroupFile(w.path, w.value);
    if (err == 0 || (err == ENOENT && w.optional)) continue;
    const std::string what = absl::StrCat("write(", w.path, ", '", w.value, "')");
    if (err == EINVAL || err == ERANGE || err == EBUSY) {
      return absl::InvalidArgumentError(absl::StrCat(what, ": the kernel refuses the limit: ", strerror(err)));
    }
    if (err == EPERM && w.may_be_refused) continue;
    return CgroupErrno(err, what);
  }
  if (plan.device_program) {
    // Before any process can join: clone3 into it comes later.
    const std::vector<struct bpf_insn> program = DeviceProgram(DefaultDeviceRules());
    absl::StatusOr<UniqueFd> prog = LoadDeviceProgram(program);
    if (!prog.ok()) return common::Annotate(prog.status(), "device policy");
    RETURN_IF_ERROR(common::Annotate(AttachDeviceProgram(prog->get(), plan.dirs.front()), "device policy"));
  }
  if (plan.kind == CgroupLayout::kV2) {
    const std::string& dir = plan.dirs.front();
    const common::SysResult fd = common::sys::Open(dir.c_str(), O_PATH | O_DIRECTORY);
    if (!fd.ok()) return ErrnoStatus(fd.err, absl::StrCat("open(", dir, ", O_PATH)"));
    cg.v2_fd_.Reset(static_cast<int>(fd.value));
    cg.memory_dir_ = dir;
  } else if (layout.own_dirs.count("memory") != 0) {
    const std::string dir = absl::StrCat(layout.own_dirs.at("memory"), "/",
                                         request.parent.empty() ? name : absl::StrCat(request.parent, "/", name));
    if (Contains(cg.dirs_, dir)) cg.memory_dir_ = dir;
  }
  return cg;
}

absl::Status SandboxCgroup::WaitJanitorStarted() {
  if (janitor_.pid() <= 0) return absl::OkStatus();
  return janitor_.WaitStarted();
}

absl::Status SandboxCgroup::AddProcess(pid_t pid) {
  if (dirs_.empty()) return absl::FailedPreconditionError("cgroup already removed");
  for (const std::string& dir : dirs_) {
    const std::string path = dir + "/cgroup.procs";
    if (const int err = WriteCgroupFile(path, absl::StrCat(pid)); err != 0) {
      if (err == ESRCH) return absl::NotFoundError(absl::StrCat("write(", path, ", ", pid, "): no such process"));
      return CgroupErrno(err, absl::StrCat("write(", path, ", ", pid, ")"));
    }
  }
  return absl::OkStatus();
}

std::string SandboxCgroup::OomFile() const {
  if (memory_dir_.empty()) return "";
  return memory_dir_ + (kind_ == CgroupLayout::kV2 ? "/memory.events" : "/memory.oom_control");
}

std::string SandboxCgroup::OomText() const {
  const std::string file = OomFile();
  if (file.empty()) return "";
  absl::StatusOr<std::string> text = common::ReadFileToString(file);
  return text.ok() ? *text : "";
}

std::optional<int64_t> SandboxCgroup::OomKillCount() const { return ParseOomKills(OomText()); }

bool SandboxCgroup::OomKilled() const {
  const std::string text = OomText();
  if (std::optional<int64_t> n = ParseOomKills(text)) return *n > 0;
  // v1 before 4.13: only whether it is under OOM now.
  return kind_ == CgroupLayout::kV1 && KeyedValue(text, "under_oom").value_or(0) > 0;
}

absl::Status SandboxCgroup::Remove() {
  if (!dirs_.empty()) {
    v2_fd_.Reset();
    RETURN_IF_ERROR(KillAndRemoveCgroups(dirs_));  // the janitor stays armed
    dirs_.clear();
  }
  janitor_.Dismiss();
  return absl::OkStatus();
}

}  // namespace sandbox
