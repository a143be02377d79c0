// Mount plan (parent, pure) and its application (child: mount, mkdir,
// open, symlink, mount_setattr, pivot_root, umount2; no allocation).
#include "sandbox/ns_mount.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace sandbox {
namespace {

std::string FdPath(int fd) { return absl::StrCat("/proc/self/fd/", fd); }
std::string In(absl::string_view path) { return absl::StrCat(kNewRoot, path == "/" ? "" : path); }

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

MountStep Simple(MountStep::Op op, std::string target, mode_t mode = 0755, bool optional = false) {
  MountStep s;
  s.op = op;
  s.target = std::move(target);
  s.mode = mode;
  s.optional = optional;
  return s;
}

MountStep ReadOnly(std::string target, bool recursive, bool optional = false) {
  MountStep s = Simple(MountStep::Op::kReadOnly, std::move(target), 0, optional);
  s.recursive = recursive;
  return s;
}

MountStep Symlink(std::string text, std::string target) {
  MountStep s = Simple(MountStep::Op::kSymlink, std::move(target));
  s.source = std::move(text);
  return s;
}

// mkdir -p of path inside the new root, one step per component; only the
// last gets mode. On a read-only root an existing directory still passes.
void MkdirInside(std::vector<MountStep>& steps, absl::string_view path, mode_t mode = 0755) {
  std::string cur;
  const std::vector<absl::string_view> parts = absl::StrSplit(path, '/', absl::SkipEmpty());
  for (size_t i = 0; i < parts.size(); ++i) {
    absl::StrAppend(&cur, "/", parts[i]);
    steps.push_back(Simple(MountStep::Op::kMkdir, In(cur), i + 1 == parts.size() ? mode : 0755));
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

// glibc 2.36 declares mount_setattr; the raw call keeps older headers working.
struct MountAttr {
  uint64_t attr_set, attr_clr, propagation, userns_fd;
};
constexpr uint64_t kMountAttrRdonly = 0x00000001;

int SetReadOnly(const char* path, bool recursive) {
  MountAttr attr{kMountAttrRdonly, 0, 0, 0};
  if (::syscall(SYS_mount_setattr, AT_FDCWD, path, recursive ? AT_RECURSIVE : 0, &attr, sizeof attr) == 0) return 0;
  if (errno != ENOSYS) return errno;
  // Before Linux 5.12: a bind remount, not recursive.
  return ::mount(nullptr, path, nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) == 0 ? 0 : errno;
}

}  // namespace

std::vector<MountStep> PlanMounts(const RunConfig& config, const MountInputs& in) {
  std::vector<MountStep> steps;
  const unsigned long kNoSuidDev = MS_NOSUID | MS_NODEV;
  const unsigned long kNoSuidDevExec = MS_NOSUID | MS_NODEV | MS_NOEXEC;
  const bool overlay = !config.read_only;

  // Nothing mounted from here on propagates back to the host.
  steps.push_back(Mount("", "/", "", MS_REC | MS_PRIVATE));
  auto reopen = [&](const std::string& path, int fd, bool dir) {
    if (fd < 0) return;
    MountStep s = Simple(MountStep::Op::kReopen, "", dir ? S_IFDIR : 0);
    s.source = path;
    s.fd = fd;
    steps.push_back(std::move(s));
  };
  reopen(in.rootfs_path, in.rootfs_fd, true);
  reopen(in.upper_path, in.upper_fd, true);
  reopen(in.init_path, in.init_fd, false);
  for (size_t i = 0; i < config.binds.size() && i < in.bind_fds.size(); ++i) {
    reopen(config.binds[i].source, in.bind_fds[i], i < in.bind_is_dir.size() && in.bind_is_dir[i]);
  }
  steps.push_back(Mount("minipod", kScratch, "tmpfs", kNoSuidDev, "mode=0700"));
  steps.push_back(Simple(MountStep::Op::kMkdir, kNewRoot));

  // The root: an overlay whose writable layer dies with the namespace (or
  // lives in --upper), or the tree itself bound read-only.
  if (overlay) {
    std::string upper = absl::StrCat(kScratch, "/upper"), work = absl::StrCat(kScratch, "/work");
    if (in.upper_fd >= 0) {
      upper = FdPath(in.upper_fd) + "/upper";
      work = FdPath(in.upper_fd) + "/work";
    } else {
      steps.push_back(Simple(MountStep::Op::kMkdir, upper));
      steps.push_back(Simple(MountStep::Op::kMkdir, work));
    }
    std::string data = absl::StrCat("lowerdir=", FdPath(in.rootfs_fd), ",upperdir=", upper, ",workdir=", work);
    if (in.rootless) absl::StrAppend(&data, ",userxattr");
    steps.push_back(Mount("overlay", kNewRoot, "overlay", kNoSuidDev & ~MS_NODEV, data));
  } else {
    steps.push_back(Mount(FdPath(in.rootfs_fd), kNewRoot, "", MS_BIND | MS_REC));
  }

  // /proc for the new pid namespace, with Docker's masks.
  MkdirInside(steps, "/proc", 0555);
  steps.push_back(Mount("proc", In("/proc"), "proc", kNoSuidDevExec));
  for (const char* p : kReadOnlyPaths) {
    steps.push_back(Mount(In(p), In(p), "", MS_BIND | MS_REC, "", /*optional=*/true));
    steps.push_back(ReadOnly(In(p), /*recursive=*/true, /*optional=*/true));
  }
  for (const char* p : kMaskedFiles) {
    steps.push_back(Mount("/dev/null", In(p), "", MS_BIND, "", /*optional=*/true));
  }

  // /sys read-only. In a user namespace without its own network namespace
  // the kernel refuses a new sysfs: bind the host's, read-only.
  MkdirInside(steps, "/sys", 0555);
  if (in.rootless && config.net_host) {
    steps.push_back(Mount("/sys", In("/sys"), "", MS_BIND | MS_REC));
    steps.push_back(ReadOnly(In("/sys"), /*recursive=*/true));
  } else {
    steps.push_back(Mount("sysfs", In("/sys"), "sysfs", kNoSuidDevExec | MS_RDONLY));
  }
  for (const char* p : kMaskedDirs) {
    steps.push_back(Mount("minipod", In(p), "tmpfs", kNoSuidDevExec | MS_RDONLY, "size=0", /*optional=*/true));
  }

  // A minimal /dev: no host device but these, bound (mknod needs more
  // privilege than a rootless sandbox has, and binds behave the same).
  MkdirInside(steps, "/dev");
  steps.push_back(Mount("minipod", In("/dev"), "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=0755,size=65536k"));
  for (const char* d : kDevices) {
    steps.push_back(Simple(MountStep::Op::kTouch, In(absl::StrCat("/dev/", d)), 0666));
    steps.push_back(Mount(absl::StrCat("/dev/", d), In(absl::StrCat("/dev/", d)), "", MS_BIND));
  }
  steps.push_back(Simple(MountStep::Op::kMkdir, In("/dev/pts")));
  steps.push_back(Mount("devpts", In("/dev/pts"), "devpts", MS_NOSUID | MS_NOEXEC,
                        "newinstance,ptmxmode=0666,mode=0620"));
  steps.push_back(Symlink("pts/ptmx", In("/dev/ptmx")));
  steps.push_back(Simple(MountStep::Op::kMkdir, In("/dev/shm"), 01777));
  steps.push_back(Mount("shm", In("/dev/shm"), "tmpfs", kNoSuidDevExec, "mode=1777,size=65536k"));
  steps.push_back(Simple(MountStep::Op::kMkdir, In("/dev/mqueue")));
  steps.push_back(Mount("mqueue", In("/dev/mqueue"), "mqueue", kNoSuidDevExec, "", /*optional=*/true));
  steps.push_back(Symlink("/proc/self/fd", In("/dev/fd")));
  steps.push_back(Symlink("/proc/self/fd/0", In("/dev/stdin")));
  steps.push_back(Symlink("/proc/self/fd/1", In("/dev/stdout")));
  steps.push_back(Symlink("/proc/self/fd/2", In("/dev/stderr")));
  if (in.init_fd >= 0) {
    steps.push_back(Simple(MountStep::Op::kTouch, In("/dev/init"), 0755));
    steps.push_back(Mount(FdPath(in.init_fd), In("/dev/init"), "", MS_BIND));
    steps.push_back(ReadOnly(In("/dev/init"), /*recursive=*/false));
  }

  // The caller's binds, read-only unless asked, and tmpfs mounts.
  for (size_t i = 0; i < config.binds.size() && i < in.bind_fds.size(); ++i) {
    const BindSpec& b = config.binds[i];
    const bool dir = i < in.bind_is_dir.size() && in.bind_is_dir[i];
    const size_t slash = b.dest.rfind('/');
    if (slash > 0) MkdirInside(steps, b.dest.substr(0, slash));
    if (dir) {
      steps.push_back(Simple(MountStep::Op::kMkdir, In(b.dest)));
    } else {
      steps.push_back(Simple(MountStep::Op::kTouch, In(b.dest), 0644));
    }
    steps.push_back(Mount(FdPath(in.bind_fds[i]), In(b.dest), "", MS_BIND | MS_REC));
    if (!b.writable) steps.push_back(ReadOnly(In(b.dest), /*recursive=*/true));
  }
  for (const std::string& t : config.tmpfs) {
    MkdirInside(steps, t, 01777);
    steps.push_back(Mount("tmpfs", In(t), "tmpfs", kNoSuidDev, "mode=1777"));
  }
  if (!overlay) steps.push_back(ReadOnly(kNewRoot, /*recursive=*/false));
  return steps;
}

std::string DescribeStep(const MountStep& s) {
  auto inside = [](const std::string& p) {
    if (absl::StartsWith(p, kNewRoot)) {
      const std::string rest = p.substr(sizeof kNewRoot - 1);
      return rest.empty() ? std::string("/") : rest;
    }
    return p;
  };
  switch (s.op) {
    case MountStep::Op::kMount:
      if (s.flags & MS_BIND) return absl::StrCat("bind ", inside(s.source), " on ", inside(s.target));
      if (s.source.empty()) return absl::StrCat("make ", s.target, " private");
      return absl::StrCat("mount ", s.fstype, " on ", inside(s.target));
    case MountStep::Op::kReadOnly:
      return absl::StrCat("make ", inside(s.target), " read-only");
    case MountStep::Op::kMkdir:
      return absl::StrCat("mkdir ", inside(s.target));
    case MountStep::Op::kTouch:
      return absl::StrCat("create ", inside(s.target));
    case MountStep::Op::kSymlink:
      return absl::StrCat("symlink ", inside(s.target), " -> ", s.source);
    case MountStep::Op::kReopen:
      return absl::StrCat("open ", s.source);
  }
  return "?";
}

int ApplyMountsInChild(absl::Span<const MountStep> steps, size_t* failed_step) {
  for (size_t i = 0; i < steps.size(); ++i) {
    const MountStep& s = steps[i];
    int err = 0;
    switch (s.op) {
      case MountStep::Op::kMount:
        if (::mount(s.source.empty() ? nullptr : s.source.c_str(), s.target.c_str(),
                    s.fstype.empty() ? nullptr : s.fstype.c_str(), s.flags,
                    s.data.empty() ? nullptr : s.data.c_str()) != 0) {
          err = errno;
        }
        break;
      case MountStep::Op::kReadOnly:
        err = SetReadOnly(s.target.c_str(), s.recursive);
        break;
      case MountStep::Op::kMkdir:
        if (::mkdir(s.target.c_str(), s.mode) != 0) {
          err = errno;
          struct stat st;
          // EEXIST, or EROFS on a read-only root where it exists already.
          if ((err == EEXIST || err == EROFS) && ::stat(s.target.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) err = 0;
        } else if (s.mode & 07000) {
          ::chmod(s.target.c_str(), s.mode);  // mkdir(2) honours the umask and drops sticky on some fs
        }
        break;
      case MountStep::Op::kTouch: {
        const int fd = ::open(s.target.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, s.mode);
        if (fd >= 0) {
          ::close(fd);
        } else {
          err = errno;
          struct stat st;
          if ((err == EROFS || err == EACCES || err == EISDIR || err == ELOOP) && ::stat(s.target.c_str(), &st) == 0) {
            err = 0;  // exists already: the bind goes on top of it
          }
        }
        break;
      }
      case MountStep::Op::kSymlink:
        if (::symlink(s.source.c_str(), s.target.c_str()) != 0 && errno != EEXIST) err = errno;
        break;
      case MountStep::Op::kReopen: {
        const int fd = ::open(s.source.c_str(), O_PATH | O_CLOEXEC | (s.mode == S_IFDIR ? O_DIRECTORY : 0));
        if (fd < 0) {
          err = errno;
        } else if (fd != s.fd) {
          if (::dup3(fd, s.fd, O_CLOEXEC) < 0) err = errno;
          ::close(fd);
        }
        break;
      }
    }
    if (err != 0 && !(s.optional && (err == ENOENT || err == ENOTDIR))) {
      *failed_step = i;
      return err;
    }
  }
  return 0;
}

int PivotRootInChild() {
  // pivot_root(".", ".") stacks the old root under the new one at "/";
  // detaching it leaves only the new root, as runc does.
  if (::chdir(kNewRoot) != 0) return errno;
  if (::syscall(SYS_pivot_root, ".", ".") != 0) return errno;
  if (::umount2(".", MNT_DETACH) != 0) return errno;
  if (::chdir("/") != 0) return errno;
  return 0;
}

}  // namespace sandbox
