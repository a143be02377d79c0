// minipod-monitor's cgroup removal and its janitor mode: the libc-only
// counterparts of sandbox/cgroup.cc's KillAndRemoveCgroups and
// sandbox/cgroup_janitor.cc's JanitorMain. Calls open, read, write,
// statfs, opendir, rmdir, pidfd_open, pidfd_send_signal, kill, poll.
#pragma once

namespace monitor {

// True when path's parent directory is on a cgroup file system (v1 or v2):
// nothing else is ever removed, whatever the command line says.
bool UnderCgroupFs(const char* path);

// SIGKILLs every process in each directory's tree (cgroup.kill where there
// is one; else each listed pid through a pidfd) and removes the tree,
// children first, retrying EBUSY until timeout_ms. True when all are gone.
bool KillAndRemoveCgroups(const char* const* dirs, int count, int timeout_ms);

// The janitor: argv is what follows kJanitorMode (<pidfd fd number|-> and
// the directories). Same contract as sandbox::JanitorMain: exit 2 unless
// fd 3 is a socket; 0 when dismissed or all removed, 1 otherwise.
int JanitorMain(int argc, char** argv);

}  // namespace monitor
