// The mount namespace of `minipod run` as data. The parent plans every
// mount, directory and symlink of the new root (PlanMounts, pure and
// unit-tested); the child, already in its new mount namespace, applies the
// steps in order with no allocation (ApplyMountsInChild) and then pivots
// into the result (PivotRootInChild). Host paths are reached through file
// descriptors (/proc/self/fd/N), so the scratch tmpfs mounted over /tmp
// cannot hide a root or a bind source that lives there. The parent opens
// them to check them and to reserve the numbers; the child opens each path
// again onto the same number first thing, because the kernel takes overlay
// layers and bind sources only from the caller's own mount namespace.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "sandbox/run_config.h"

namespace sandbox {

// Where the child assembles the new root: a private tmpfs over /tmp in its
// own mount namespace (the host's /tmp is untouched).
inline constexpr char kScratch[] = "/tmp";
inline constexpr char kNewRoot[] = "/tmp/root";

struct MountStep {
  enum class Op {
    kMount,        // mount(source, target, fstype, flags, data)
    kReadOnly,     // mount_setattr(target, MOUNT_ATTR_RDONLY), recursive when `recursive`
    kMkdir,        // mkdir(target, mode); an existing directory is fine
    kTouch,        // an empty file at target (mode), for a bind of a file
    kSymlink,      // symlink(source, target); an existing entry is fine
    kReopen,       // open(source, O_PATH) onto descriptor fd (O_DIRECTORY when mode is S_IFDIR)
  };
  Op op = Op::kMount;
  std::string source;
  std::string target;
  std::string fstype;
  std::string data;
  unsigned long flags = 0;
  mode_t mode = 0755;
  bool recursive = false;
  bool optional = false;  // a missing target or source is not an error (masks of files a kernel lacks)
  int fd = -1;            // kReopen
};

// What the parent learned before planning.
struct MountInputs {
  std::string rootfs_path;         // what rootfs_fd was opened from
  std::string upper_path;          // --upper
  std::string init_path;           // minipod-init
  int rootfs_fd = -1;              // O_PATH directory
  int upper_fd = -1;               // O_PATH directory for --upper, else -1
  int init_fd = -1;                // O_PATH of minipod-init, -1 with --no-init
  std::vector<int> bind_fds;       // one per RunConfig::binds, O_PATH
  std::vector<bool> bind_is_dir;   // whether that source is a directory
  bool rootless = false;           // in a user namespace: overlay needs userxattr
};

// The steps, in order: mount propagation private, the scratch tmpfs, the
// root (overlay, or a read-only bind), /proc with Docker's masked and
// read-only paths, /sys read-only, a minimal /dev (null, zero, full,
// random, urandom and tty bound from the host; a new devpts instance; shm;
// mqueue), /dev/init, the binds and tmpfs mounts, and finally a read-only
// root for --read-only.
std::vector<MountStep> PlanMounts(const RunConfig& config, const MountInputs& inputs);

// "mount proc on /proc" for messages: the step with kNewRoot removed.
std::string DescribeStep(const MountStep& step);

// Child side: applies steps in order; on failure returns the errno and
// stores the index of the failing step.
int ApplyMountsInChild(absl::Span<const MountStep> steps, size_t* failed_step);

// Child side: makes kNewRoot the root (pivot_root(".", ".") and a lazy
// unmount of the old root stacked under it), cwd "/". Returns 0 or errno.
int PivotRootInChild();

}  // namespace sandbox
