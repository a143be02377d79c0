// Mount plan (parent: opening and checking the host paths, id-mapped
// clones with open_tree and mount_setattr, then the pure plan) and its
// application (child: openat2, mount, move_mount, mkdirat, openat,
// symlinkat, mount_setattr, statx, pivot_root, umount2; no allocation).
#include "sandbox/ns_mount.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/absl/file_util.h"
#include "common/absl/status_util.h"
#include "common/absl/self_path.h"

namespace sandbox {
namespace {

std::string FdPath(int fd) { return absl::StrCat("/proc/self/fd/", fd); }

MountStep Mount(std::string source, std::string target, std::string fstype, unsigned long flags,
                std::string data = "", bool optional = false) {
  MountStep s;
  s.op = MountStep::Op::kMount;
  s.source = std::move(source);
  s.target = std::move(target);
  s.fstype = std::move(fstype);
  s.flags = flags;
  s.data = std::move(data);
  s.optional = optional;
  return s;
}

// The same, onto a path inside the new root.
MountStep MountIn(std::string source, std::string target, std::string fstype, unsigned long flags,
                  std::string data = "", bool optional = false) {
  MountStep s = Mount(std::move(source), std::move(target), std::move(fstype), flags, std::move(data), optional);
  s.inside = true;
  return s;
}

MountStep Simple(MountStep::Op op, std::string target, mode_t mode = 0755, bool optional = false) {
  MountStep s;
  s.op = op;
  s.target = std::move(target);
  s.mode = mode;
  s.optional = optional;
  s.inside = true;
  return s;
}

MountStep SetAttr(std::string target, unsigned attrs, bool recursive, bool optional = false) {
  MountStep s = Simple(MountStep::Op::kSetAttr, std::move(target), 0, optional);
  s.attrs = attrs;
  s.recursive = recursive;
  return s;
}

MountStep Symlink(std::string text, std::string target) {
  MountStep s = Simple(MountStep::Op::kSymlink, std::move(target));
  s.source = std::move(text);
  return s;
}

// A step of the child's own scratch (a host path in its namespace).
MountStep Scratch(MountStep s) {
  s.inside = false;
  return s;
}

// mkdir -p of path inside the new root, one step per component; only the
// last gets mode.
void MkdirInside(std::vector<MountStep>& steps, absl::string_view path, mode_t mode = 0755) {
  std::string cur;
  const std::vector<absl::string_view> parts = absl::StrSplit(path, '/', absl::SkipEmpty());
  for (size_t i = 0; i < parts.size(); ++i) {
    absl::StrAppend(&cur, "/", parts[i]);
    steps.push_back(Simple(MountStep::Op::kMkdir, cur, i + 1 == parts.size() ? mode : 0755));
  }
}

// Docker's masked paths: files become /dev/null, directories an empty
// read-only tmpfs. Paths this kernel lacks are skipped.
constexpr const char* kMaskedFiles[] = {
    "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
    "/proc/sched_debug",
};
constexpr const char* kMaskedDirs[] = {
    "/proc/acpi", "/proc/scsi", "/proc/asound", "/sys/firmware", "/sys/devices/virtual/powercap",
};
// And the ones that stay visible but read-only.
constexpr const char* kReadOnlyPaths[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};
constexpr const char* kDevices[] = {"null", "zero", "full", "random", "urandom", "tty"};

// Docker's default device cgroup rules for character devices (block
// devices: none).
struct DeviceRule {
  unsigned major;
  int minor;  // -1: any
  const char* name;
};
constexpr DeviceRule kAllowedDevices[] = {
    {1, 3, "null"}, {1, 5, "zero"}, {1, 7, "full"}, {1, 8, "random"}, {1, 9, "urandom"}, {5, 0, "tty"},
    {5, 1, "console"}, {5, 2, "ptmx"}, {136, -1, "pts/*"}, {10, 200, "net/tun"},
};

// ---- child side: no allocation from here to ApplyMountsInChild's end ----

// glibc 2.36 declares mount_setattr; the raw call keeps older headers working.
struct MountAttr {
  uint64_t attr_set, attr_clr, propagation, userns_fd;
};

// "/proc/self/fd/N" into buf (at least 32 bytes).
const char* FdPathInto(char* buf, int fd) {
  static constexpr char kPrefix[] = "/proc/self/fd/";
  memcpy(buf, kPrefix, sizeof kPrefix - 1);
  char digits[12];
  int n = 0;
  unsigned v = static_cast<unsigned>(fd);
  do {
    digits[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  char* p = buf + sizeof kPrefix - 1;
  while (n > 0) *p++ = digits[--n];
  *p = '\0';
  return buf;
}

// Closes on scope exit, for the child's short-lived descriptors.
struct ChildFd {
  int fd = -1;
  ~ChildFd() {
    if (fd >= 0) ::close(fd);
  }
};

// openat2 with root as "/": absolute links, ".." and chains stay inside;
// /proc's magic links (which would lead out) are refused. Returns a
// descriptor or -errno.
int OpenInRoot(int root, const char* path, int flags) {
  struct open_how how;
  memset(&how, 0, sizeof how);
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  // EAGAIN: a rename or mount raced with ".." (the kernel cannot vouch for
  // the walk); try again, a bounded number of times.
  long fd;
  int tries = 0;
  do {
    fd = ::syscall(SYS_openat2, root, path, &how, sizeof how);
  } while (fd < 0 && (errno == EINTR || errno == EAGAIN) && ++tries < 64);
  return fd < 0 ? -errno : static_cast<int>(fd);
}

// The directory holding path's last component, resolved inside root, and
// that component (a pointer into path). path is absolute and clean.
int OpenParentInRoot(int root, const char* path, const char** name) {
  const char* slash = strrchr(path, '/');
  if (slash == nullptr || slash[1] == '\0') return -EINVAL;
  *name = slash + 1;
  char parent[PATH_MAX];
  const size_t len = slash == path ? 1 : static_cast<size_t>(slash - path);
  if (len >= sizeof parent) return -ENAMETOOLONG;
  memcpy(parent, path, len);
  parent[len] = '\0';
  return OpenInRoot(root, parent, O_PATH | O_DIRECTORY);
}

uint64_t MountId(int fd) {
  struct statx stx;
  if (::statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &stx) != 0) return 0;
  return (stx.stx_mask & STATX_MNT_ID) ? stx.stx_mnt_id : 0;
}

// move_mount(2)'s flags and open_tree(2)'s and mount_setattr(2)'s
// constants (linux/mount.h clashes with sys/mount.h).
constexpr unsigned kMoveMountFEmptyPath = 0x4;  // MOVE_MOUNT_F_EMPTY_PATH
constexpr unsigned kMoveMountTEmptyPath = 0x40; // MOVE_MOUNT_T_EMPTY_PATH
constexpr unsigned kOpenTreeClone = 1;          // OPEN_TREE_CLONE
constexpr uint64_t kAttrIdmap = 0x100000;       // MOUNT_ATTR_IDMAP

// The kernel's mount flags for a fallback remount, from kAttr* bits.
unsigned long AttrFlags(unsigned attrs) {
  return ((attrs & kAttrReadOnly) ? MS_RDONLY : 0) | ((attrs & kAttrNoSuid) ? MS_NOSUID : 0) |
         ((attrs & kAttrNoDev) ? MS_NODEV : 0) | ((attrs & kAttrNoExec) ? MS_NOEXEC : 0);
}

// mount_setattr on the mount at fd (AT_EMPTY_PATH) or at path.
int SetAttrAt(int fd, const char* path, unsigned attrs, bool recursive) {
  MountAttr attr{attrs, 0, 0, 0};
  const unsigned flags = (recursive ? AT_RECURSIVE : 0) | (fd >= 0 ? AT_EMPTY_PATH : 0);
  if (::syscall(SYS_mount_setattr, fd >= 0 ? fd : AT_FDCWD, fd >= 0 ? "" : path, flags, &attr, sizeof attr) == 0) {
    return 0;
  }
  if (errno != ENOSYS) return errno;
  // Before Linux 5.12: a bind remount, not recursive.
  char buf[32];
  const char* target = fd >= 0 ? FdPathInto(buf, fd) : path;
  return ::mount(nullptr, target, nullptr, MS_REMOUNT | MS_BIND | AttrFlags(attrs), nullptr) == 0 ? 0 : errno;
}

int ApplyInside(const MountStep& s, int root) {
  switch (s.op) {
    case MountStep::Op::kMount: {
      ChildFd target{OpenInRoot(root, s.target.c_str(), O_PATH)};
      if (target.fd < 0) return -target.fd;
      ChildFd source;
      char source_buf[32], target_buf[32];
      const char* src = s.source.empty() ? nullptr : s.source.c_str();
      if (s.source_inside) {
        source.fd = OpenInRoot(root, s.source.c_str(), O_PATH);
        if (source.fd < 0) return -source.fd;
        src = FdPathInto(source_buf, source.fd);
      }
      const uint64_t before = MountId(target.fd);
      if (::mount(src, FdPathInto(target_buf, target.fd), s.fstype.empty() ? nullptr : s.fstype.c_str(), s.flags,
                  s.data.empty() ? nullptr : s.data.c_str()) != 0) {
        return errno;
      }
      // The path must now reach the new mount: what was resolved is what
      // got covered.
      ChildFd check{OpenInRoot(root, s.target.c_str(), O_PATH)};
      if (check.fd < 0) return -check.fd;
      const uint64_t after = MountId(check.fd);
      if (before != 0 && after != 0 && before == after) return EXDEV;
      return 0;
    }
    case MountStep::Op::kSetAttr: {
      ChildFd target{OpenInRoot(root, s.target.c_str(), O_PATH)};
      if (target.fd < 0) return -target.fd;
      return SetAttrAt(target.fd, nullptr, s.attrs, s.recursive);
    }
    case MountStep::Op::kMoveMount: {
      ChildFd target{OpenInRoot(root, s.target.c_str(), O_PATH)};
      if (target.fd < 0) return -target.fd;
      const uint64_t before = MountId(target.fd);
      if (::syscall(SYS_move_mount, s.fd, "", target.fd, "", kMoveMountFEmptyPath | kMoveMountTEmptyPath) != 0) {
        return errno;
      }
      ChildFd check{OpenInRoot(root, s.target.c_str(), O_PATH)};
      if (check.fd < 0) return -check.fd;
      const uint64_t after = MountId(check.fd);
      if (before != 0 && after != 0 && before == after) return EXDEV;
      return 0;
    }
    case MountStep::Op::kMkdir: {
      const char* name = nullptr;
      ChildFd parent{OpenParentInRoot(root, s.target.c_str(), &name)};
      if (parent.fd < 0) return -parent.fd;
      if (::mkdirat(parent.fd, name, s.mode) == 0) {
        if (s.mode & 07000) {
          // mkdir(2) honours the umask and drops sticky on some file systems.
          ChildFd dir{::openat(parent.fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)};
          if (dir.fd < 0 || ::fchmod(dir.fd, s.mode) != 0) return errno;
        }
        return 0;
      }
      if (errno != EEXIST && errno != EROFS) return errno;
      // An existing directory, or a link to one inside the root, will do;
      // else why not (ENOENT: a link leading nowhere inside the root).
      ChildFd existing{OpenInRoot(root, s.target.c_str(), O_PATH | O_DIRECTORY)};
      return existing.fd >= 0 ? 0 : -existing.fd;
    }
    case MountStep::Op::kTouch: {
      const char* name = nullptr;
      ChildFd parent{OpenParentInRoot(root, s.target.c_str(), &name)};
      if (parent.fd < 0) return -parent.fd;
      ChildFd file{::openat(parent.fd, name, O_RDONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, s.mode)};
      if (file.fd >= 0) return 0;
      if (errno != EEXIST && errno != EROFS) return errno;
      // Exists already (maybe as a link inside the root): the bind goes on
      // top of what it resolves to.
      ChildFd existing{OpenInRoot(root, s.target.c_str(), O_PATH)};
      return existing.fd >= 0 ? 0 : -existing.fd;
    }
    case MountStep::Op::kSymlink: {
      const char* name = nullptr;
      ChildFd parent{OpenParentInRoot(root, s.target.c_str(), &name)};
      if (parent.fd < 0) return -parent.fd;
      if (::symlinkat(s.source.c_str(), parent.fd, name) != 0 && errno != EEXIST) return errno;
      return 0;
    }
    case MountStep::Op::kReopen:
      return EINVAL;  // host paths only
  }
  return EINVAL;
}

int ApplyOnScratch(const MountStep& s) {
  switch (s.op) {
    case MountStep::Op::kMount:
      if (::mount(s.source.empty() ? nullptr : s.source.c_str(), s.target.c_str(),
                  s.fstype.empty() ? nullptr : s.fstype.c_str(), s.flags,
                  s.data.empty() ? nullptr : s.data.c_str()) != 0) {
        return errno;
      }
      return 0;
    case MountStep::Op::kSetAttr:
      return SetAttrAt(-1, s.target.c_str(), s.attrs, s.recursive);
    case MountStep::Op::kMkdir:
      // The scratch is our own fresh tmpfs: nothing there but what we made.
      if (::mkdir(s.target.c_str(), s.mode) != 0 && errno != EEXIST) return errno;
      return 0;
    case MountStep::Op::kMoveMount:
      return ::syscall(SYS_move_mount, s.fd, "", AT_FDCWD, s.target.c_str(), kMoveMountFEmptyPath) == 0 ? 0 : errno;
    case MountStep::Op::kTouch:
    case MountStep::Op::kSymlink:
      return EINVAL;  // inside the root only
    case MountStep::Op::kReopen: {
      // Opened again in this namespace; it must be the inode the parent
      // checked (held on the same number until the dup3 below).
      const int fd = ::open(s.source.c_str(), O_PATH | O_CLOEXEC | (s.mode == S_IFDIR ? O_DIRECTORY : 0));
      if (fd < 0) return errno;
      struct stat now, checked;
      int err = 0;
      if (::fstat(fd, &now) != 0 || ::fstat(s.fd, &checked) != 0) {
        err = errno;
      } else if (now.st_dev != checked.st_dev || now.st_ino != checked.st_ino) {
        err = ESTALE;
      } else if (fd != s.fd && ::dup3(fd, s.fd, O_CLOEXEC) < 0) {
        err = errno;
      }
      if (fd != s.fd) ::close(fd);
      return err;
    }
  }
  return EINVAL;
}

}  // namespace

bool DeviceAllowed(mode_t type, unsigned major, unsigned minor) {
  if (!S_ISCHR(type)) return false;
  for (const DeviceRule& r : kAllowedDevices) {
    if (r.major == major && (r.minor < 0 || static_cast<unsigned>(r.minor) == minor)) return true;
  }
  return false;
}

absl::StatusOr<MountInputs> OpenMountInputs(const RunConfig& config, const std::string& rootfs, bool rootless) {
  MountInputs in;
  in.rootless = rootless;
  {
    // Without openat2 the child could only resolve targets by path, with
    // the host as root: refuse instead.
    struct open_how how;
    memset(&how, 0, sizeof how);
    how.flags = O_PATH | O_CLOEXEC;
    how.resolve = RESOLVE_IN_ROOT;
    const long fd = ::syscall(SYS_openat2, AT_FDCWD, "/", &how, sizeof how);
    if (fd < 0 && errno == ENOSYS) {
      return absl::FailedPreconditionError(
          "openat2: not supported by this kernel (Linux 5.6 or later is needed to resolve mount targets inside the "
          "root safely)");
    }
    if (fd >= 0) ::close(static_cast<int>(fd));
  }
  auto own = [&in](int fd) {
    in.owned.emplace_back(fd);
    return fd;
  };
  auto open_path = [&](const std::string& option, const std::string& path, bool dir) -> absl::StatusOr<int> {
    const int fd = ::open(path.c_str(), O_PATH | O_CLOEXEC | (dir ? O_DIRECTORY : 0));
    if (fd < 0) return common::ErrnoStatus(errno, absl::StrCat(option, " ", path));
    return own(fd);
  };

  ASSIGN_OR_RETURN(in.rootfs_fd, open_path("--rootfs", rootfs, /*dir=*/true));
  in.rootfs_path = rootfs;

  if (!config.upper.empty()) {
    const std::string& dir = config.upper;
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
      return common::ErrnoStatus(errno, absl::StrCat("--upper: mkdir(", dir, ")"));
    }
    // DIR itself must not be a link either: the layer is written as root.
    const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dir_fd < 0) {
      struct stat st;
      if (errno == ELOOP || (errno == ENOTDIR && ::lstat(dir.c_str(), &st) == 0 && S_ISLNK(st.st_mode))) {
        return absl::FailedPreconditionError(absl::StrCat("--upper ", dir, ": a symbolic link; refused"));
      }
      return common::ErrnoStatus(errno, absl::StrCat("--upper ", dir));
    }
    in.upper_dir_fd = own(dir_fd);
    // Held until the run ends (the owned descriptor closes): one overlay
    // per upper layer.
    if (::flock(dir_fd, LOCK_EX | LOCK_NB) != 0) {
      if (errno == EWOULDBLOCK) {
        return absl::FailedPreconditionError(
            absl::StrCat("--upper ", dir, ": in use by another minipod run (an upper layer serves one overlay)"));
      }
      return common::ErrnoStatus(errno, absl::StrCat("--upper: flock(", dir, ")"));
    }
    // Created and opened relative to DIR, never through a link left there.
    for (const char* sub : {"upper", "work"}) {
      const std::string shown = absl::StrCat(dir, "/", sub);
      if (::mkdirat(dir_fd, sub, 0755) != 0 && errno != EEXIST) {
        return common::ErrnoStatus(errno, absl::StrCat("--upper: mkdir(", shown, ")"));
      }
      struct stat st;
      if (::fstatat(dir_fd, sub, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        return common::ErrnoStatus(errno, absl::StrCat("--upper: stat(", shown, ")"));
      }
      if (!S_ISDIR(st.st_mode)) {
        return absl::FailedPreconditionError(absl::StrCat(
            "--upper ", shown, ": not a directory", S_ISLNK(st.st_mode) ? " (a symbolic link; refused)" : ""));
      }
      const int fd = ::openat(dir_fd, sub, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0) return common::ErrnoStatus(errno, absl::StrCat("--upper ", shown));
      (std::string(sub) == "upper" ? in.upper_fd : in.work_fd) = own(fd);
    }
    in.upper_path = dir;
  }

  if (config.init) {
    ASSIGN_OR_RETURN(in.init_path, minipod::FindInit("minipod run; --no-init runs without it"));
    ASSIGN_OR_RETURN(in.init_fd, open_path("minipod-init", in.init_path, false));
  }
  for (const BindSpec& b : config.binds) {
    ASSIGN_OR_RETURN(const int fd, open_path("--bind", b.source, false));
    struct stat st;
    if (::fstat(fd, &st) != 0) return common::ErrnoStatus(errno, absl::StrCat("--bind ", b.source));
    if (b.dev && (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) &&
        !DeviceAllowed(st.st_mode, major(st.st_rdev), minor(st.st_rdev))) {
      return absl::PermissionDeniedError(absl::StrCat(
          "--bind ", b.source, ":", b.dest, ":dev: ", S_ISCHR(st.st_mode) ? "character" : "block", " device ",
          major(st.st_rdev), ":", minor(st.st_rdev),
          " is not in the default device allow list (null, zero, full, random, urandom, tty, console, ptmx, pts, "
          "net/tun)"));
    }
    in.bind_fds.push_back(fd);
    in.bind_is_dir.push_back(S_ISDIR(st.st_mode));
  }
  return in;
}

absl::Status IdmapMountInputs(const RunConfig& config, int userns_fd, MountInputs& in) {
  auto clone = [&](int fd, const std::string& what) -> absl::StatusOr<int> {
    const long tree = ::syscall(SYS_open_tree, fd, "", kOpenTreeClone | O_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
    if (tree < 0) {
      const int err = errno;
      return common::ErrnoStatus(err, absl::StrCat("--userns: open_tree(", what, ")",
                                                   err == ENOSYS ? " (id-mapped mounts need Linux 5.12 or later)" : ""));
    }
    in.owned.emplace_back(static_cast<int>(tree));
    MountAttr attr{kAttrIdmap, 0, 0, static_cast<uint64_t>(userns_fd)};
    if (::syscall(SYS_mount_setattr, static_cast<int>(tree), "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) != 0) {
      const int err = errno;
      return common::ErrnoStatus(
          err, absl::StrCat("--userns: mount_setattr(", what, ", MOUNT_ATTR_IDMAP)",
                            err == ENOSYS ? " (id-mapped mounts need Linux 5.12 or later)"
                            : err == EINVAL ? " (its file system, or one mounted below it, does not support id-mapped mounts)"
                                            : ""));
    }
    return static_cast<int>(tree);
  };
  ASSIGN_OR_RETURN(in.rootfs_tree_fd, clone(in.rootfs_fd, in.rootfs_path));
  if (in.upper_dir_fd >= 0) {
    ASSIGN_OR_RETURN(in.upper_tree_fd, clone(in.upper_dir_fd, in.upper_path));
  }
  // The init and the binds may live where nothing can be id-mapped (a
  // device node on devtmpfs, /proc, /sys): such a one is bound as it is,
  // its files owned by nobody inside unless their owner is in the
  // container's range. That gives the sandbox less, never more.
  auto clone_or_plain = [&](int fd, const std::string& what) -> absl::StatusOr<int> {
    absl::StatusOr<int> tree = clone(fd, what);
    if (tree.ok() || !absl::IsInvalidArgument(tree.status())) return tree;
    in.not_idmapped.push_back(what);
    return -1;
  };
  if (in.init_fd >= 0) {
    ASSIGN_OR_RETURN(in.init_tree_fd, clone_or_plain(in.init_fd, in.init_path));
  }
  in.bind_tree_fds.clear();
  for (size_t i = 0; i < in.bind_fds.size() && i < config.binds.size(); ++i) {
    ASSIGN_OR_RETURN(const int fd, clone_or_plain(in.bind_fds[i], config.binds[i].source));
    in.bind_tree_fds.push_back(fd);
  }
  in.own_userns = true;
  return absl::OkStatus();
}

std::vector<MountStep> PlanMounts(const RunConfig& config, const MountInputs& in) {
  std::vector<MountStep> steps;
  const unsigned long kNoSuidDev = MS_NOSUID | MS_NODEV;
  const unsigned long kNoSuidDevExec = MS_NOSUID | MS_NODEV | MS_NOEXEC;

  // Nothing mounted from here on propagates back to the host.
  steps.push_back(Mount("", "/", "", MS_REC | MS_PRIVATE));
  auto reopen = [&](const std::string& path, int fd, bool dir) {
    if (fd < 0) return;
    MountStep s = Scratch(Simple(MountStep::Op::kReopen, "", dir ? S_IFDIR : 0));
    s.source = path;
    s.fd = fd;
    steps.push_back(std::move(s));
  };
  // With id-mapped trees nothing is reopened: the trees are attached
  // whole, whatever the host path now leads to.
  const bool trees = in.rootfs_tree_fd >= 0;
  const bool own_userns = in.rootless || in.own_userns;
  auto has_tree = [&](size_t bind) { return bind < in.bind_tree_fds.size() && in.bind_tree_fds[bind] >= 0; };
  if (!trees) {
    reopen(in.rootfs_path, in.rootfs_fd, true);
    reopen(absl::StrCat(in.upper_path, "/upper"), in.upper_fd, true);
    reopen(absl::StrCat(in.upper_path, "/work"), in.work_fd, true);
  }
  if (in.init_tree_fd < 0) reopen(in.init_path, in.init_fd, false);
  for (size_t i = 0; i < config.binds.size() && i < in.bind_fds.size(); ++i) {
    if (!has_tree(i)) reopen(config.binds[i].source, in.bind_fds[i], i < in.bind_is_dir.size() && in.bind_is_dir[i]);
  }
  steps.push_back(Mount("minipod", kScratch, "tmpfs", kNoSuidDev, "mode=0700"));
  steps.push_back(Scratch(Simple(MountStep::Op::kMkdir, kNewRoot)));
  // A detached tree onto a directory of the scratch: overlayfs takes its
  // layers only from the mounter's own mount namespace.
  auto attach_scratch = [&](int fd, const std::string& at) {
    steps.push_back(Scratch(Simple(MountStep::Op::kMkdir, at)));
    MountStep m = Scratch(Simple(MountStep::Op::kMoveMount, at));
    m.fd = fd;
    steps.push_back(std::move(m));
  };
  std::string lower = FdPath(in.rootfs_fd);
  if (trees) {
    lower = absl::StrCat(kScratch, "/lower");
    attach_scratch(in.rootfs_tree_fd, lower);
  }

  // The root: always an overlay, so the mount points below are made in its
  // writable layer and never in the tree itself; that layer dies with the
  // namespace (or lives in --upper). --read-only makes it read-only at the
  // end. nodev: device nodes in the image are inert.
  std::string upper = absl::StrCat(kScratch, "/upper"), work = absl::StrCat(kScratch, "/work");
  if (trees && in.upper_tree_fd >= 0 && in.upper_fd >= 0 && in.work_fd >= 0) {
    // upper and work must be on one mount: DIR's tree holds both. They are
    // opened again through it onto the parent's numbers, checked to be the
    // directories the parent checked (a link swapped in since is ESTALE).
    const std::string dir = absl::StrCat(kScratch, "/keep");
    attach_scratch(in.upper_tree_fd, dir);
    reopen(dir + "/upper", in.upper_fd, true);
    reopen(dir + "/work", in.work_fd, true);
    upper = FdPath(in.upper_fd);
    work = FdPath(in.work_fd);
  } else if (in.upper_fd >= 0 && in.work_fd >= 0) {
    upper = FdPath(in.upper_fd);
    work = FdPath(in.work_fd);
  } else {
    steps.push_back(Scratch(Simple(MountStep::Op::kMkdir, upper)));
    steps.push_back(Scratch(Simple(MountStep::Op::kMkdir, work)));
  }
  std::string data = absl::StrCat("lowerdir=", lower, ",upperdir=", upper, ",workdir=", work);
  if (own_userns) absl::StrAppend(&data, ",userxattr");
  steps.push_back(Mount("overlay", kNewRoot, "overlay", kNoSuidDev, data));

  // From here on every target is inside the new root.
  // /proc for the new pid namespace, with Docker's masks.
  MkdirInside(steps, "/proc", 0555);
  steps.push_back(MountIn("proc", "/proc", "proc", kNoSuidDevExec));
  for (const char* p : kReadOnlyPaths) {
    MountStep bind = MountIn(p, p, "", MS_BIND | MS_REC, "", /*optional=*/true);
    bind.source_inside = true;
    steps.push_back(std::move(bind));
    steps.push_back(SetAttr(p, kAttrReadOnly | kAttrNoSuid | kAttrNoDev, /*recursive=*/true, /*optional=*/true));
  }
  for (const char* p : kMaskedFiles) {
    steps.push_back(MountIn("/dev/null", p, "", MS_BIND, "", /*optional=*/true));
  }

  // /sys read-only. A new sysfs needs CAP_SYS_ADMIN over the user namespace
  // owning our network namespace: in a user namespace of our own with a
  // network namespace we did not make (the host's, or one joined) the kernel
  // refuses it, so bind the host's, read-only, as runc does; with the
  // joined network's own user namespace joined too, its sysfs is ours to mount.
  MkdirInside(steps, "/sys", 0555);
  if (own_userns && !config.net.is_new() && !in.net_userns_joined) {
    steps.push_back(MountIn("/sys", "/sys", "", MS_BIND | MS_REC));
    steps.push_back(SetAttr("/sys", kAttrReadOnly | kAttrNoSuid | kAttrNoDev, /*recursive=*/true));
  } else {
    steps.push_back(MountIn("sysfs", "/sys", "sysfs", kNoSuidDevExec | MS_RDONLY));
  }
  for (const char* p : kMaskedDirs) {
    steps.push_back(MountIn("minipod", p, "tmpfs", kNoSuidDevExec | MS_RDONLY, "size=0", /*optional=*/true));
  }

  // A minimal /dev: no host device but these, bound (mknod needs more
  // privilege than a rootless sandbox has, and binds behave the same). The
  // tmpfs itself is nodev: the binds on it are mounts of their own.
  MkdirInside(steps, "/dev");
  steps.push_back(MountIn("minipod", "/dev", "tmpfs", kNoSuidDev | MS_STRICTATIME, "mode=0755,size=65536k"));
  for (const char* d : kDevices) {
    const std::string path = absl::StrCat("/dev/", d);
    steps.push_back(Simple(MountStep::Op::kTouch, path, 0666));
    steps.push_back(MountIn(path, path, "", MS_BIND));
  }
  steps.push_back(Simple(MountStep::Op::kMkdir, "/dev/pts"));
  steps.push_back(MountIn("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620"));
  steps.push_back(Symlink("pts/ptmx", "/dev/ptmx"));
  steps.push_back(Simple(MountStep::Op::kMkdir, "/dev/shm", 01777));
  if (config.ipc.kind == NsChoice::Kind::kHost) {
    // The host's IPC includes its POSIX shared memory, files in its
    // /dev/shm (as Docker's --ipc host).
    steps.push_back(MountIn("/dev/shm", "/dev/shm", "", MS_BIND, "", /*optional=*/true));
    steps.push_back(SetAttr("/dev/shm", kAttrNoSuid | kAttrNoDev, /*recursive=*/false, /*optional=*/true));
  } else {
    steps.push_back(MountIn("shm", "/dev/shm", "tmpfs", kNoSuidDevExec, "mode=1777,size=65536k"));
  }
  steps.push_back(Simple(MountStep::Op::kMkdir, "/dev/mqueue"));
  if (in.rootless && !config.ipc.is_new() && !in.ipc_userns_joined) {
    // Like sysfs, a new mqueue needs privilege over the owner of the ipc
    // namespace, which a user namespace of our own lacks for the host's:
    // its queues through the host's mount.
    steps.push_back(MountIn("/dev/mqueue", "/dev/mqueue", "", MS_BIND, "", /*optional=*/true));
  } else {
    steps.push_back(MountIn("mqueue", "/dev/mqueue", "mqueue", kNoSuidDevExec, "", /*optional=*/true));
  }
  steps.push_back(Symlink("/proc/self/fd", "/dev/fd"));
  steps.push_back(Symlink("/proc/self/fd/0", "/dev/stdin"));
  steps.push_back(Symlink("/proc/self/fd/1", "/dev/stdout"));
  steps.push_back(Symlink("/proc/self/fd/2", "/dev/stderr"));
  if (in.init_fd >= 0) {
    steps.push_back(Simple(MountStep::Op::kTouch, "/dev/init", 0755));
    if (in.init_tree_fd >= 0) {
      MountStep m = Simple(MountStep::Op::kMoveMount, "/dev/init");
      m.fd = in.init_tree_fd;
      steps.push_back(std::move(m));
    } else {
      steps.push_back(MountIn(FdPath(in.init_fd), "/dev/init", "", MS_BIND));
    }
    steps.push_back(SetAttr("/dev/init", kAttrReadOnly | kAttrNoDev, /*recursive=*/false));
  }

  // The caller's binds (read-only unless :rw, nodev unless :dev) and tmpfs
  // mounts, in the order given: a later one may sit inside an earlier one.
  for (const UserMount& m : MountOrder(config)) {
    if (m.kind == UserMount::Kind::kTmpfs) {
      MkdirInside(steps, config.tmpfs[m.index], 01777);
      steps.push_back(MountIn("tmpfs", config.tmpfs[m.index], "tmpfs", kNoSuidDev, "mode=1777"));
      continue;
    }
    const size_t i = m.index;
    if (i >= in.bind_fds.size()) continue;
    const BindSpec& b = config.binds[i];
    const bool dir = i < in.bind_is_dir.size() && in.bind_is_dir[i];
    const size_t slash = b.dest.rfind('/');
    if (slash > 0) MkdirInside(steps, b.dest.substr(0, slash));
    steps.push_back(dir ? Simple(MountStep::Op::kMkdir, b.dest) : Simple(MountStep::Op::kTouch, b.dest, 0644));
    if (has_tree(i)) {
      MountStep move = Simple(MountStep::Op::kMoveMount, b.dest);
      move.fd = in.bind_tree_fds[i];
      move.source = config.binds[i].source;  // for messages
      steps.push_back(std::move(move));
    } else {
      steps.push_back(MountIn(FdPath(in.bind_fds[i]), b.dest, "", MS_BIND | MS_REC));
    }
    // A bind keeps its source's flags: nosuid, nodev, noexec and read-only
    // are set on it (and everything below it) afterwards.
    const unsigned attrs =
        kAttrNoSuid | (b.dev ? 0 : kAttrNoDev) | (b.noexec ? kAttrNoExec : 0) | (b.writable ? 0 : kAttrReadOnly);
    steps.push_back(SetAttr(b.dest, attrs, /*recursive=*/true));
  }
  if (config.read_only) {
    MountStep ro = SetAttr(kNewRoot, kAttrReadOnly, /*recursive=*/false);
    steps.push_back(Scratch(std::move(ro)));
  }
  return steps;
}

std::string DescribeStep(const MountStep& s) {
  // Scratch paths under the new root read as the sandbox will see them.
  auto shown = [](const std::string& p, bool inside) {
    if (!inside && absl::StartsWith(p, kNewRoot)) {
      const std::string rest = p.substr(sizeof kNewRoot - 1);
      return rest.empty() ? std::string("/") : rest;
    }
    return p;
  };
  const std::string target = shown(s.target, s.inside);
  switch (s.op) {
    case MountStep::Op::kMount:
      if (s.flags & MS_BIND) return absl::StrCat("bind ", shown(s.source, s.source_inside), " on ", target);
      if (s.source.empty()) return absl::StrCat("make ", target, " private");
      if (s.fstype == "overlay" && absl::StrContains(s.data, absl::StrCat("lowerdir=", kScratch, "/lower"))) {
        // The one kernel requirement --userns adds that no earlier call checked.
        return absl::StrCat("mount overlay on ", target, " over the id-mapped root (Linux 5.19 or later)");
      }
      return absl::StrCat("mount ", s.fstype, " on ", target);
    case MountStep::Op::kSetAttr: {
      std::vector<absl::string_view> what;
      if (s.attrs & kAttrReadOnly) what.push_back("read-only");
      if (s.attrs & kAttrNoSuid) what.push_back("nosuid");
      if (s.attrs & kAttrNoDev) what.push_back("nodev");
      if (s.attrs & kAttrNoExec) what.push_back("noexec");
      return absl::StrCat("make ", target, " ", absl::StrJoin(what, ", "));
    }
    case MountStep::Op::kMkdir:
      return absl::StrCat("mkdir ", target, s.inside ? " (links resolved inside the root)" : "");
    case MountStep::Op::kTouch:
      return absl::StrCat("create ", target, " (links resolved inside the root)");
    case MountStep::Op::kSymlink:
      return absl::StrCat("symlink ", target, " -> ", s.source);
    case MountStep::Op::kReopen:
      return absl::StrCat("open ", s.source);
    case MountStep::Op::kMoveMount:
      return absl::StrCat("attach the id-mapped ", s.source.empty() ? std::string("tree") : s.source, " on ", target);
  }
  return "?";
}

int ApplyMountsInChild(absl::Span<const MountStep> steps, size_t* failed_step) {
  ChildFd root;  // the new root, opened at the first step inside it
  for (size_t i = 0; i < steps.size(); ++i) {
    const MountStep& s = steps[i];
    int err = 0;
    if (s.inside) {
      if (root.fd < 0) {
        root.fd = ::open(kNewRoot, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (root.fd < 0) err = errno;
      }
      if (err == 0) err = ApplyInside(s, root.fd);
    } else {
      err = ApplyOnScratch(s);
    }
    if (err != 0 && !(s.optional && (err == ENOENT || err == ENOTDIR))) {
      *failed_step = i;
      return err;
    }
  }
  return 0;
}

bool RootIsRootfs(absl::string_view mountinfo) {
  for (absl::string_view line : absl::StrSplit(mountinfo, '\n', absl::SkipEmpty())) {
    // ID PARENT MAJ:MIN ROOT POINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER
    const std::vector<absl::string_view> f = absl::StrSplit(line, ' ');
    if (f.size() < 5 || f[4] != "/") continue;
    const size_t dash = line.find(" - ");
    if (dash != absl::string_view::npos && absl::StartsWith(line.substr(dash + 3), "rootfs ")) return true;
  }
  return false;
}

absl::StatusOr<bool> OurRootIsRootfs() {
  ASSIGN_OR_RETURN(const std::string mountinfo, common::ReadFileToString("/proc/self/mountinfo"));
  return RootIsRootfs(mountinfo);
}

int PivotRootInChild(bool from_rootfs) {
  if (from_rootfs) {
    // The rootfs has no parent mount, so pivot_root refuses to move it
    // (EINVAL). A recursive copy of it stacked on "/" and made our root is
    // an ordinary mount: pivot_root works from there, and the copy goes
    // with the old root.
    const long tree = ::syscall(SYS_open_tree, AT_FDCWD, "/", kOpenTreeClone | O_CLOEXEC | AT_RECURSIVE);
    if (tree < 0) return errno;
    const int fd = static_cast<int>(tree);
    int err = 0;
    if (::syscall(SYS_move_mount, fd, "", AT_FDCWD, "/", kMoveMountFEmptyPath) != 0 || ::fchdir(fd) != 0 ||
        ::chroot(".") != 0) {
      err = errno;
    }
    ::close(fd);
    if (err != 0) return err;
  }
  // pivot_root(".", ".") stacks the old root under the new one at "/";
  // detaching it leaves only the new root, as runc does.
  if (::chdir(kNewRoot) != 0) return errno;
  if (::syscall(SYS_pivot_root, ".", ".") != 0) return errno;
  if (::umount2(".", MNT_DETACH) != 0) return errno;
  if (::chdir("/") != 0) return errno;
  return 0;
}

}  // namespace sandbox
