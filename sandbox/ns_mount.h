// The mount namespace of `minipod run` as data. The parent opens every host
// path the child will reach (OpenMountInputs) and plans every mount,
// directory and symlink of the new root (PlanMounts, pure and unit-tested);
// the child, already in its new mount namespace, applies the steps in order
// with no allocation (ApplyMountsInChild) and then pivots into the result
// (PivotRootInChild). Host paths are reached through file descriptors
// (/proc/self/fd/N), so the scratch tmpfs mounted over /tmp cannot hide a
// root or a bind source that lives there. The child opens each again onto
// the same number first thing, because the kernel takes overlay layers and
// bind sources only from the caller's own mount namespace, and checks that
// it found the same inode. Every path inside the new root is resolved with
// openat2(RESOLVE_IN_ROOT): a symbolic link in the image (or in an --upper
// layer) means the image's own file, never the host's.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "common/unique_fd.h"
#include "sandbox/run_config.h"

namespace sandbox {

// Where the child assembles the new root: a private tmpfs over /tmp in its
// own mount namespace (the host's /tmp is untouched).
inline constexpr char kScratch[] = "/tmp";
inline constexpr char kNewRoot[] = "/tmp/root";

// mount_setattr(2)'s attributes (linux/mount.h clashes with sys/mount.h).
inline constexpr unsigned kAttrReadOnly = 0x1;  // MOUNT_ATTR_RDONLY
inline constexpr unsigned kAttrNoSuid = 0x2;    // MOUNT_ATTR_NOSUID
inline constexpr unsigned kAttrNoDev = 0x4;     // MOUNT_ATTR_NODEV
inline constexpr unsigned kAttrNoExec = 0x8;    // MOUNT_ATTR_NOEXEC

struct MountStep {
  enum class Op {
    kMount,    // mount(source, target, fstype, flags, data)
    kSetAttr,  // mount_setattr(target, attrs), recursive when `recursive`
    kMkdir,    // mkdir(target, mode); an existing directory is fine
    kTouch,    // an empty file at target (mode), for a bind of a file; an existing entry is fine
    kSymlink,  // symlink(source, target); an existing entry is fine
    kReopen,   // open(source, O_PATH) onto descriptor fd (O_DIRECTORY when mode is S_IFDIR), same inode
    kMoveMount,  // move_mount(fd, target): attach the detached (id-mapped) tree held by fd
  };
  Op op = Op::kMount;
  std::string source;
  std::string target;
  std::string fstype;
  std::string data;
  unsigned long flags = 0;
  unsigned attrs = 0;     // kSetAttr: kAttr* bits to set
  mode_t mode = 0755;
  bool recursive = false;
  bool optional = false;  // a missing target or source is not an error (masks of files a kernel lacks)
  // target (and source, for a bind with source_inside) is a path inside the
  // new root, absolute as the sandbox sees it ("/proc"), resolved with
  // openat2(RESOLVE_IN_ROOT) from the new root; the mount goes onto the
  // descriptor resolved. Otherwise a path of the child's own scratch.
  bool inside = false;
  bool source_inside = false;
  int fd = -1;            // kReopen, kMoveMount
};

// What the parent opened before planning; owns the descriptors.
struct MountInputs {
  std::string rootfs_path;         // what rootfs_fd was opened from
  std::string upper_path;          // --upper DIR
  std::string init_path;           // minipod-init
  int rootfs_fd = -1;              // O_PATH directory
  int upper_fd = -1;               // O_PATH of DIR/upper for --upper, else -1
  int work_fd = -1;                // O_PATH of DIR/work for --upper, else -1
  int init_fd = -1;                // O_PATH of minipod-init, -1 with --no-init
  std::vector<int> bind_fds;       // one per RunConfig::binds, O_PATH
  std::vector<bool> bind_is_dir;   // whether that source is a directory
  bool rootless = false;           // in a user namespace: overlay needs userxattr
  // --userns auto|keep-id as root: the sandbox has a user namespace of its
  // own (as rootless, overlay needs userxattr and sysfs of the host's
  // network a bind), and the root, --upper's DIR, the init and every bind
  // source come as detached id-mapped trees (IdmapMountInputs), attached
  // by move_mount instead of reopened and bound.
  bool own_userns = false;
  // The sandbox joins its network (IPC) namespace together with the user
  // namespace that owns it (a pod's member): a sysfs (mqueue) of that
  // namespace can then be mounted anew rather than the host's bound.
  bool net_userns_joined = false;
  bool ipc_userns_joined = false;
  int upper_dir_fd = -1;           // DIR of --upper, O_RDONLY, locked
  int rootfs_tree_fd = -1;
  int upper_tree_fd = -1;
  int init_tree_fd = -1;
  std::vector<int> bind_tree_fds;  // one per bind when the others are set; -1: bound as it is
  std::vector<std::string> not_idmapped;  // the init or bind sources whose file system cannot be id-mapped
  // The descriptors above, and DIR of --upper, locked (flock LOCK_EX) while
  // this lives: two overlays sharing an upper layer is undefined behaviour.
  std::vector<common::UniqueFd> owned;
};

// Parent side: checks that openat2 is there (the child cannot resolve
// safely without it), opens --rootfs (rootfs: the tree to use, --bundle's
// included), minipod-init unless --no-init, every bind source (a :dev
// bind of a device node must name one of Docker's default devices), and
// for --upper DIR: locks DIR (a second run fails at once) and creates
// DIR/upper and DIR/work with mkdirat, refusing symbolic links there.
absl::StatusOr<MountInputs> OpenMountInputs(const RunConfig& config, const std::string& rootfs, bool rootless);

// Parent, as root (CAP_SYS_ADMIN over the file systems): clones the root,
// --upper's DIR, the init and every bind source as detached trees
// (open_tree(OPEN_TREE_CLONE | AT_RECURSIVE)) and id-maps each through
// userns_fd (mount_setattr(MOUNT_ATTR_IDMAP)), so a file owned by host id N
// shows as N inside that user namespace, and a file created there as N by
// the sandbox is N on the host. Sets own_userns. Errors name the path and
// what the kernel or the file system lacks (Linux 5.12 for id-mapped
// mounts; 5.19 for overlay layers that are id-mapped). The init or a bind
// whose file system cannot be id-mapped (EINVAL: devtmpfs, proc, sysfs) is
// bound as it is instead, and listed in not_idmapped; the root and --upper
// must be id-mapped.
absl::Status IdmapMountInputs(const RunConfig& config, int userns_fd, MountInputs& inputs);

// Whether a :dev bind may expose device major:minor of this type (S_IFCHR
// or S_IFBLK): Docker's default allow list, character devices only.
bool DeviceAllowed(mode_t type, unsigned major, unsigned minor);

// The steps, in order: mount propagation private, the host paths opened
// again, the scratch tmpfs, the root (an overlay whose writable layer is
// the scratch or --upper; with --read-only too, so mount points are made
// there and never in the tree), /proc with Docker's masked and read-only
// paths, /sys read-only, a minimal /dev (null, zero, full, random, urandom
// and tty bound from the host; a new devpts instance; shm; mqueue),
// /dev/init, the binds and tmpfs mounts in the order given, and finally a
// read-only root for --read-only. Everything is nodev but the six devices,
// devpts and :dev binds.
std::vector<MountStep> PlanMounts(const RunConfig& config, const MountInputs& inputs);

// "mount proc on /proc" for messages, paths as the sandbox sees them.
std::string DescribeStep(const MountStep& step);

// Child side: applies steps in order; on failure returns the errno and
// stores the index of the failing step. ENOSYS: no openat2 (Linux < 5.6);
// EXDEV: a mount did not land where its target was resolved; ESTALE: a
// host path changed between the parent's check and the child's open.
int ApplyMountsInChild(absl::Span<const MountStep> steps, size_t* failed_step);

// Pure: whether our root, as /proc/self/mountinfo's text shows it, is the
// kernel's rootfs: the machine runs from its initramfs (minipod-init --boot
// does not switch root). That mount is the mount namespace's first and has
// no parent: pivot_root cannot move it, and whatever root a container gets
// is stacked on it, so "chroot(subdir); chdir(..)" climbs out of any such
// root into the initramfs: a container there goes without CAP_SYS_CHROOT.
bool RootIsRootfs(absl::string_view mountinfo);
// The same for our own /proc/self/mountinfo.
absl::StatusOr<bool> OurRootIsRootfs();

// Child side: makes kNewRoot the root (pivot_root(".", ".") and a lazy
// unmount of the old root stacked under it), cwd "/"; from_rootfs (see
// RootIsRootfs) first makes a copy of "/" our root. Returns 0 or errno.
int PivotRootInChild(bool from_rootfs);

}  // namespace sandbox
