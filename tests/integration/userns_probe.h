// Whether this host gives the tests of --userns what they need: user
// namespaces and id-mapped mounts of a directory of /tmp (where the
// tests' trees live), asked of the kernel the way minipod asks.
#pragma once

#include <errno.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>
#include <string>

#include "sandbox/userns.h"
#include "tests/testing/probes.h"

namespace itest {

inline testing_util::Probe UsernsAndIdmapUsable() {
  absl::StatusOr<common::UniqueFd> ns = sandbox::MakeUserNamespace(sandbox::AutoMaps({3000000000u, 3000000000u}));
  if (!ns.ok()) return {false, "no user namespace: " + ns.status().ToString()};
  const long tree = syscall(SYS_open_tree, AT_FDCWD, "/tmp", 1 /*OPEN_TREE_CLONE*/ | O_CLOEXEC);
  if (tree < 0) return {false, std::string("open_tree(/tmp): ") + strerror(errno) + " (id-mapped mounts: Linux 5.12)"};
  struct {
    uint64_t set, clr, propagation, userns_fd;
  } attr{0x100000 /*MOUNT_ATTR_IDMAP*/, 0, 0, static_cast<uint64_t>(ns->get())};
  const long r = syscall(SYS_mount_setattr, static_cast<int>(tree), "", AT_EMPTY_PATH, &attr, sizeof attr);
  const int err = errno;
  close(static_cast<int>(tree));
  if (r != 0) return {false, std::string("mount_setattr(/tmp, MOUNT_ATTR_IDMAP): ") + strerror(err)};
  return {true, "user namespaces and id-mapped mounts of /tmp work"};
}

}  // namespace itest
