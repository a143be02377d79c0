// State directories: creation by mkdir (the name is the lock), state.json by
// rename, removal by descriptors without following links, and processes
// identified by pid and start time.
#include "runtime/state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <limits>

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/absl/dir_stream.h"
#include "common/absl/status_util.h"
#include "rootfs/bundle_cache.h"

namespace runtime {
namespace {

using json = nlohmann::ordered_json;

constexpr size_t kMaxStateBytes = 1 << 20;

absl::Status Bad(absl::string_view field, absl::string_view why) {
  return absl::DataLossError(absl::StrCat("state.json: ", field, ": ", why));
}

// Typed getters that never throw: a missing field keeps the default, a
// field of the wrong type is an error.
absl::Status Get(const json& j, const char* key, std::string* out) {
  auto it = j.find(key);
  if (it == j.end()) return absl::OkStatus();
  if (!it->is_string()) return Bad(key, "not a string");
  *out = it->get<std::string>();
  return absl::OkStatus();
}
absl::Status Get(const json& j, const char* key, bool* out) {
  auto it = j.find(key);
  if (it == j.end()) return absl::OkStatus();
  if (!it->is_boolean()) return Bad(key, "not a boolean");
  *out = it->get<bool>();
  return absl::OkStatus();
}
template <typename Int>
absl::Status GetInt(const json& j, const char* key, Int* out) {
  auto it = j.find(key);
  if (it == j.end()) return absl::OkStatus();
  if (it->is_number_unsigned()) {
    const uint64_t v = it->get<uint64_t>();
    if (v > static_cast<uint64_t>(std::numeric_limits<Int>::max())) return Bad(key, "out of range");
    *out = static_cast<Int>(v);
    return absl::OkStatus();
  }
  if (it->is_number_integer()) {
    const int64_t v = it->get<int64_t>();
    if (v < static_cast<int64_t>(std::numeric_limits<Int>::min()) ||
        (v > 0 && static_cast<uint64_t>(v) > static_cast<uint64_t>(std::numeric_limits<Int>::max()))) {
      return Bad(key, "out of range");
    }
    *out = static_cast<Int>(v);
    return absl::OkStatus();
  }
  return Bad(key, "not an integer");
}
absl::Status Get(const json& j, const char* key, std::vector<std::string>* out) {
  auto it = j.find(key);
  if (it == j.end()) return absl::OkStatus();
  if (!it->is_array()) return Bad(key, "not an array");
  out->clear();
  for (const json& e : *it) {
    if (!e.is_string()) return Bad(key, "an element is not a string");
    out->push_back(e.get<std::string>());
  }
  return absl::OkStatus();
}
absl::Status Get(const json& j, const char* key, ProcessRef* out) {
  auto it = j.find(key);
  if (it == j.end()) return absl::OkStatus();
  if (!it->is_object()) return Bad(key, "not an object");
  RETURN_IF_ERROR(GetInt(*it, "pid", &out->pid));
  RETURN_IF_ERROR(GetInt(*it, "start_time", &out->start_time));
  if (out->pid < 0) return Bad(key, "negative pid");
  return absl::OkStatus();
}

json RefJson(const ProcessRef& r) { return json{{"pid", r.pid}, {"start_time", r.start_time}}; }

int64_t Rand64() {
  uint64_t v = 0;
  if (::getrandom(&v, sizeof v, 0) != static_cast<ssize_t>(sizeof v)) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    v = static_cast<uint64_t>(ts.tv_nsec) ^ (static_cast<uint64_t>(::getpid()) << 32);
  }
  return static_cast<int64_t>(v);
}

absl::StatusOr<common::UniqueFd> OpenSubdir(int parent, const char* name, const std::string& path) {
  if (::mkdirat(parent, name, 0700) != 0 && errno != EEXIST) {
    return common::ErrnoStatus(errno, absl::StrCat("mkdir(", path, ")"));
  }
  common::UniqueFd fd(::openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return common::ErrnoStatus(errno, absl::StrCat("open(", path, ")"));
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return common::ErrnoStatus(errno, absl::StrCat("stat(", path, ")"));
  if (st.st_uid != ::geteuid() || (st.st_mode & 077) != 0) {
    return absl::PermissionDeniedError(
        absl::StrCat(path, ": not a private directory of ours (owner ", st.st_uid, ", mode ",
                     absl::StrFormat("%o", st.st_mode & 07777), ")"));
  }
  return fd;
}

// Removes everything below dir (an fd), not crossing into anything but
// plain directories of the same mount; the state directories hold files,
// a socket and nothing else.
absl::Status RemoveContents(int dir, const std::string& path) {
  // A mount point (5.8+ says so) holds another file system: not ours to empty.
  struct statx sx;
  if (::statx(dir, "", AT_EMPTY_PATH, 0, &sx) == 0 && (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(path, ": a mount point; refusing to remove what is mounted there"));
  }
  ASSIGN_OR_RETURN(common::DirStream stream, common::OpenDirStream(dir, path));
  std::vector<std::string> names;
  while (struct dirent* e = ::readdir(stream.get())) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    names.emplace_back(e->d_name);
  }
  for (const std::string& n : names) {
    if (::unlinkat(dir, n.c_str(), 0) == 0 || errno == ENOENT) continue;
    if (errno != EISDIR) return common::ErrnoStatus(errno, absl::StrCat("unlink(", path, "/", n, ")"));
    common::UniqueFd sub(::openat(dir, n.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!sub) return common::ErrnoStatus(errno, absl::StrCat("open(", path, "/", n, ")"));
    RETURN_IF_ERROR(RemoveContents(sub.get(), absl::StrCat(path, "/", n)));
    if (::unlinkat(dir, n.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
      return common::ErrnoStatus(errno, absl::StrCat("rmdir(", path, "/", n, ")"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::optional<uint64_t> ReadStartTime(pid_t pid) {
  if (pid <= 0) return std::nullopt;
  char buf[1024];
  common::UniqueFd fd(::open(absl::StrCat("/proc/", pid, "/stat").c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return std::nullopt;
  const ssize_t n = ::read(fd.get(), buf, sizeof buf - 1);
  if (n <= 0) return std::nullopt;
  buf[n] = '\0';
  // The command name may hold spaces and parentheses: fields start after
  // the last ')'. Field 3 is the state; starttime is field 22.
  const char* p = strrchr(buf, ')');
  if (p == nullptr) return std::nullopt;
  std::vector<absl::string_view> fields = absl::StrSplit(absl::string_view(p + 1), ' ', absl::SkipEmpty());
  if (fields.size() < 20) return std::nullopt;
  if (fields[0] == "Z" || fields[0] == "X") return std::nullopt;
  uint64_t start = 0;
  if (!absl::SimpleAtoi(fields[19], &start)) return std::nullopt;
  return start;
}

std::optional<ProcessRef> RefOf(pid_t pid) {
  const std::optional<uint64_t> t = ReadStartTime(pid);
  if (!t.has_value()) return std::nullopt;
  return ProcessRef{pid, *t};
}

absl::StatusOr<common::UniqueFd> OpenProcess(const ProcessRef& ref) {
  if (ref.pid <= 0) return absl::NotFoundError("no process recorded");
  common::UniqueFd fd(static_cast<int>(::syscall(SYS_pidfd_open, ref.pid, 0)));
  if (!fd) {
    if (errno == ESRCH) return absl::NotFoundError(absl::StrCat("process ", ref.pid, " is gone"));
    return common::ErrnoStatus(errno, absl::StrCat("pidfd_open(", ref.pid, ")"));
  }
  // The pidfd pins the process: if the start time matches now, it is the
  // recorded one for as long as we hold the fd.
  const std::optional<uint64_t> t = ReadStartTime(ref.pid);
  if (!t.has_value() || *t != ref.start_time) {
    return absl::NotFoundError(absl::StrCat("process ", ref.pid, " is gone (its pid was reused)"));
  }
  return fd;
}

bool Alive(const ProcessRef& ref) {
  absl::StatusOr<common::UniqueFd> fd = OpenProcess(ref);
  if (!fd.ok()) return false;
  struct pollfd p = {fd->get(), POLLIN, 0};
  return ::poll(&p, 1, 0) == 0;
}

std::string ContainerState::Status() const {
  if ((status == "created" || status == "running") && !Alive(monitor)) return "lost";
  return status;
}

absl::StatusOr<NamespaceInodes> ReadNamespaceInodes(pid_t pid) {
  NamespaceInodes out;
  for (const char* type : kNamespaceTypes) {
    struct stat st;
    if (::stat(absl::StrCat("/proc/", pid, "/ns/", type).c_str(), &st) != 0) {
      const int err = errno;
      // A type this kernel lacks is missing for us too; a zombie keeps
      // /proc/PID but loses all but pid and user: it has ended.
      if (err == ENOENT && ::access(absl::StrCat("/proc/self/ns/", type).c_str(), F_OK) != 0) continue;
      return common::ErrnoStatus(err, absl::StrCat("stat(/proc/", pid, "/ns/", type, ")"));
    }
    out[type] = st.st_ino;
  }
  return out;
}

const char* KindWord(Kind kind) { return kind == Kind::kPod ? "pod" : "container"; }

std::string SerializeState(const ContainerState& s) {
  json exec = {{"caps", s.exec.caps},  {"uid", s.exec.uid},         {"gid", s.exec.gid},
               {"env", s.exec.env},    {"workdir", s.exec.workdir}, {"seccomp", s.exec.seccomp}};
  json limits = json::object();
  if (s.limits.memory_bytes) limits["memory"] = *s.limits.memory_bytes;
  if (s.limits.pids) limits["pids"] = *s.limits.pids;
  if (s.limits.cpus) limits["cpus"] = *s.limits.cpus;
  json j = {
      {"version", ContainerState::kVersion},
      {"kind", KindWord(s.kind)},
      {"name", s.name},
      {"id", s.id},
      {"pod", s.pod},
      {"command", s.command},
      {"rootfs", s.rootfs},
      {"created", s.created},
      {"started", s.started},
      {"finished", s.finished},
      {"status", s.status},
      {"monitor", RefJson(s.monitor)},
      {"init", RefJson(s.init)},
      {"exit_code", s.exit_code},
      {"signal", s.signal},
      {"oom", s.oom},
      {"cgroups", s.cgroups},
      {"ports", s.ports},
      {"namespaces", s.namespaces},
      {"share", s.share},
      {"limits", limits},
      {"tty", s.tty},
      {"interactive", s.interactive},
      {"auto_remove", s.auto_remove},
      {"args", s.args},
      {"exec", exec},
  };
  // Names and arguments are the user's bytes: invalid UTF-8 is replaced
  // rather than refused (the state must always be writable).
  return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

absl::StatusOr<ContainerState> ParseState(absl::string_view text) {
  if (text.size() > kMaxStateBytes) return Bad("file", "too large");
  // nlohmann's lexer takes a NUL byte for the end of input and would ignore
  // what follows; JSON text never holds one (strings escape it as \u0000).
  if (text.find('\0') != absl::string_view::npos) return Bad("file", "holds a NUL byte");
  const json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Bad("file", "not valid JSON (truncated?)");
  if (!j.is_object()) return Bad("file", "not an object");
  ContainerState s;
  int version = 0;
  RETURN_IF_ERROR(GetInt(j, "version", &version));
  if (version != ContainerState::kVersion) return Bad("version", absl::StrCat("unknown version ", version));
  std::string kind = "container";
  RETURN_IF_ERROR(Get(j, "kind", &kind));
  if (kind == "pod") {
    s.kind = Kind::kPod;
  } else if (kind != "container") {
    return Bad("kind", absl::StrCat("unknown kind \"", kind, "\""));
  }
  RETURN_IF_ERROR(Get(j, "name", &s.name));
  if (absl::Status n = CheckName(s.name); !n.ok()) return Bad("name", n.message());
  RETURN_IF_ERROR(Get(j, "id", &s.id));
  RETURN_IF_ERROR(Get(j, "pod", &s.pod));
  RETURN_IF_ERROR(Get(j, "command", &s.command));
  RETURN_IF_ERROR(Get(j, "rootfs", &s.rootfs));
  RETURN_IF_ERROR(Get(j, "created", &s.created));
  RETURN_IF_ERROR(Get(j, "started", &s.started));
  RETURN_IF_ERROR(Get(j, "finished", &s.finished));
  RETURN_IF_ERROR(Get(j, "status", &s.status));
  if (s.status != "created" && s.status != "running" && s.status != "exited") {
    return Bad("status", absl::StrCat("unknown status \"", s.status, "\""));
  }
  RETURN_IF_ERROR(Get(j, "monitor", &s.monitor));
  RETURN_IF_ERROR(Get(j, "init", &s.init));
  RETURN_IF_ERROR(GetInt(j, "exit_code", &s.exit_code));
  RETURN_IF_ERROR(GetInt(j, "signal", &s.signal));
  RETURN_IF_ERROR(Get(j, "oom", &s.oom));
  RETURN_IF_ERROR(Get(j, "cgroups", &s.cgroups));
  for (const std::string& cg : s.cgroups) {
    if (!IsContainerCgroupPath(cg)) return Bad("cgroups", absl::StrCat("\"", cg, "\" is not a cgroup of minipod's"));
  }
  RETURN_IF_ERROR(Get(j, "ports", &s.ports));
  if (auto it = j.find("namespaces"); it != j.end()) {
    if (!it->is_object()) return Bad("namespaces", "not an object");
    for (auto& [k, v] : it->items()) {
      if (!v.is_number_unsigned()) return Bad("namespaces", absl::StrCat(k, ": not an inode number"));
      s.namespaces[k] = v.get<uint64_t>();
    }
  }
  RETURN_IF_ERROR(Get(j, "share", &s.share));
  if (auto it = j.find("limits"); it != j.end()) {
    if (!it->is_object()) return Bad("limits", "not an object");
    int64_t n = 0;
    if (it->contains("memory")) {
      RETURN_IF_ERROR(GetInt(*it, "memory", &n));
      if (n < sandbox::kMinMemoryBytes) return Bad("limits", "memory below the minimum");
      s.limits.memory_bytes = n;
    }
    if (it->contains("pids")) {
      RETURN_IF_ERROR(GetInt(*it, "pids", &n));
      if (n < 1 || n > sandbox::kMaxPids) return Bad("limits", "pids out of range");
      s.limits.pids = n;
    }
    if (auto c = it->find("cpus"); c != it->end()) {
      // At most a million CPUs, as the option's parser allows.
      if (!c->is_number() || !(c->get<double>() >= sandbox::kMinCpus) || !(c->get<double>() <= 1e6)) {
        return Bad("limits", "cpus not a number of CPUs");
      }
      s.limits.cpus = c->get<double>();
    }
  }
  RETURN_IF_ERROR(Get(j, "tty", &s.tty));
  RETURN_IF_ERROR(Get(j, "interactive", &s.interactive));
  RETURN_IF_ERROR(Get(j, "auto_remove", &s.auto_remove));
  RETURN_IF_ERROR(Get(j, "args", &s.args));
  if (auto it = j.find("exec"); it != j.end()) {
    if (!it->is_object()) return Bad("exec", "not an object");
    RETURN_IF_ERROR(GetInt(*it, "caps", &s.exec.caps));
    RETURN_IF_ERROR(GetInt(*it, "uid", &s.exec.uid));
    RETURN_IF_ERROR(GetInt(*it, "gid", &s.exec.gid));
    RETURN_IF_ERROR(Get(*it, "env", &s.exec.env));
    RETURN_IF_ERROR(Get(*it, "workdir", &s.exec.workdir));
    RETURN_IF_ERROR(Get(*it, "seccomp", &s.exec.seccomp));
  }
  return s;
}

bool IsContainerCgroupPath(absl::string_view path) {
  if (path.empty() || path[0] != '/' || path.back() == '/') return false;
  for (absl::string_view part : absl::StrSplit(path.substr(1), '/')) {
    if (part.empty() || part == "." || part == "..") return false;
  }
  const absl::string_view base = path.substr(path.rfind('/') + 1);
  return absl::StartsWith(base, "minipod-");
}

absl::Status CheckName(absl::string_view name) {
  if (name.empty()) return absl::InvalidArgumentError("a name cannot be empty");
  if (name.size() > 64) return absl::InvalidArgumentError(absl::StrCat("name \"", name, "\": longer than 64 characters"));
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '_' && c != '.' && c != '-'))) {
      return absl::InvalidArgumentError(
          absl::StrCat("name \"", name, "\": only letters, digits, '_', '.' and '-', starting with a letter or digit"));
    }
  }
  return absl::OkStatus();
}

std::string RandomName() { return absl::StrFormat("mp-%08x", static_cast<uint32_t>(Rand64())); }

std::string RandomId() {
  return absl::StrFormat("%016x%016x", static_cast<uint64_t>(Rand64()), static_cast<uint64_t>(Rand64()));
}

std::string NowRfc3339() {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  gmtime_r(&ts.tv_sec, &tm);
  return absl::StrFormat("%04d-%02d-%02dT%02d:%02d:%02d.%09dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                         tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ts.tv_nsec));
}

absl::StatusOr<std::string> StateStore::DefaultRoot() {
  if (const char* dir = ::getenv("MINIPOD_STATE_DIR"); dir != nullptr && dir[0] == '/') return std::string(dir);
  if (::geteuid() == 0) return std::string("/run/minipod");
  const char* xdg = ::getenv("XDG_RUNTIME_DIR");
  if (xdg == nullptr || xdg[0] != '/') {
    return absl::FailedPreconditionError(
        "XDG_RUNTIME_DIR is not set: without root, containers keep their state in $XDG_RUNTIME_DIR/minipod "
        "(or set MINIPOD_STATE_DIR)");
  }
  return absl::StrCat(xdg, "/minipod");
}

absl::StatusOr<StateStore> StateStore::Open() {
  StateStore store;
  ASSIGN_OR_RETURN(store.root_, DefaultRoot());
  ASSIGN_OR_RETURN(common::UniqueFd root, rootfs::OpenPrivateDir(store.root_));
  ASSIGN_OR_RETURN(store.containers_, OpenSubdir(root.get(), "containers", store.root_ + "/containers"));
  ASSIGN_OR_RETURN(store.pods_, OpenSubdir(root.get(), "pods", store.root_ + "/pods"));
  return store;
}

std::string StateStore::PathOf(Kind kind, const std::string& name) const {
  return absl::StrCat(root_, kind == Kind::kPod ? "/pods/" : "/containers/", name);
}

absl::StatusOr<common::UniqueFd> StateStore::Create(Kind kind, const std::string& name) {
  RETURN_IF_ERROR(CheckName(name));
  if (::mkdirat(KindFd(kind), name.c_str(), 0700) != 0) {
    if (errno == EEXIST) {
      return absl::AlreadyExistsError(absl::StrCat("the ", KindWord(kind), " name \"", name, "\" is already in use"));
    }
    return common::ErrnoStatus(errno, absl::StrCat("mkdir(", PathOf(kind, name), ")"));
  }
  return Dir(kind, name);
}

absl::StatusOr<common::UniqueFd> StateStore::Dir(Kind kind, const std::string& name) const {
  RETURN_IF_ERROR(CheckName(name));
  common::UniqueFd fd(::openat(KindFd(kind), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return absl::NotFoundError(absl::StrCat("no such ", KindWord(kind), ": ", name));
    return common::ErrnoStatus(errno, absl::StrCat("open(", PathOf(kind, name), ")"));
  }
  return fd;
}

absl::StatusOr<common::UniqueFd> StateStore::Lock(Kind kind, const std::string& name) const {
  ASSIGN_OR_RETURN(common::UniqueFd fd, Dir(kind, name));
  while (::flock(fd.get(), LOCK_EX) != 0) {
    if (errno != EINTR) return common::ErrnoStatus(errno, absl::StrCat("flock(", PathOf(kind, name), ")"));
  }
  return fd;
}

absl::StatusOr<ContainerState> StateStore::Load(Kind kind, const std::string& name) const {
  absl::StatusOr<ContainerState> s = LoadOnce(kind, name);
  // A monitor saves the end before it exits, so a state that still says
  // running beside a dead monitor may only have been read just before that
  // save: read it once more before Status() calls the container lost.
  if (s.ok() && (s->status == "created" || s->status == "running") && !Alive(s->monitor)) {
    return LoadOnce(kind, name);
  }
  return s;
}

absl::StatusOr<ContainerState> StateStore::LoadOnce(Kind kind, const std::string& name) const {
  ASSIGN_OR_RETURN(common::UniqueFd dir, Dir(kind, name));
  common::UniqueFd fd(::openat(dir.get(), kStateFile, O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return absl::NotFoundError(absl::StrCat("no such ", KindWord(kind), ": ", name));
    return common::ErrnoStatus(errno, absl::StrCat("open(", PathOf(kind, name), "/", kStateFile, ")"));
  }
  std::string text;
  char buf[16384];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return common::ErrnoStatus(errno, absl::StrCat("read(", PathOf(kind, name), "/", kStateFile, ")"));
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > kMaxStateBytes) return Bad("file", "too large");
  }
  absl::StatusOr<ContainerState> s = ParseState(text);
  if (!s.ok()) return common::Annotate(s.status(), PathOf(kind, name));
  if (s->name != name || s->kind != kind) {
    return Bad("name", absl::StrCat(PathOf(kind, name), " holds the state of \"", s->name, "\""));
  }
  return s;
}

absl::Status StateStore::Save(const ContainerState& state) const {
  ASSIGN_OR_RETURN(common::UniqueFd dir, Dir(state.kind, state.name));
  const std::string tmp = absl::StrCat(kStateFile, ".tmp-", ::getpid());
  const std::string where = PathOf(state.kind, state.name);
  common::UniqueFd fd(::openat(dir.get(), tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd) return common::ErrnoStatus(errno, absl::StrCat("create(", where, "/", tmp, ")"));
  const std::string text = SerializeState(state);
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd.get(), text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : EIO;
      ::unlinkat(dir.get(), tmp.c_str(), 0);
      return common::ErrnoStatus(err, absl::StrCat("write(", where, "/", tmp, ")"));
    }
    done += static_cast<size_t>(n);
  }
  if (::renameat(dir.get(), tmp.c_str(), dir.get(), kStateFile) != 0) {
    const int err = errno;
    ::unlinkat(dir.get(), tmp.c_str(), 0);
    return common::ErrnoStatus(err, absl::StrCat("rename(", where, "/", kStateFile, ")"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> StateStore::List(Kind kind) const {
  const std::string path = kind == Kind::kPod ? root_ + "/pods" : root_ + "/containers";
  ASSIGN_OR_RETURN(common::DirStream stream, common::OpenDirStream(KindFd(kind), path));
  std::vector<std::string> names;
  while (struct dirent* e = ::readdir(stream.get())) {
    if (e->d_name[0] == '.' || !CheckName(e->d_name).ok()) continue;
    struct stat st;
    // A link is not a state directory (Dir refuses it), wherever it points.
    if (::fstatat(KindFd(kind), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode)) continue;
    if (::fstatat(KindFd(kind), (std::string(e->d_name) + "/" + kStateFile).c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      continue;
    }
    names.emplace_back(e->d_name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

absl::Status StateStore::Remove(Kind kind, const std::string& name) const {
  ASSIGN_OR_RETURN(common::UniqueFd dir, Dir(kind, name));
  RETURN_IF_ERROR(RemoveContents(dir.get(), PathOf(kind, name)));
  if (::unlinkat(KindFd(kind), name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
    return common::ErrnoStatus(errno, absl::StrCat("rmdir(", PathOf(kind, name), ")"));
  }
  return absl::OkStatus();
}

}  // namespace runtime
