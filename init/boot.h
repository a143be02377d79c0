// Boot mode: minipod-init as the PID 1 of a VM (see boot.cc).
#pragma once

namespace init {

// True for `minipod-init --boot ...`, and for PID 1 started without /proc
// mounted (a kernel that just ran /init).
bool WantsBoot(int argc, char** argv);

// Sets the machine up, runs the command from argv (after --boot and an
// optional --), else from the kernel command line, else from
// /etc/minipod/argv, shuts everything down and powers off; never returns as
// PID 1. Not PID 1: refuses, returns 2.
int Boot(int argc, char** argv, char** envp);

}  // namespace init
