// `minipod attach`: the client side of the monitor's attach protocol (see
// monitor.h). Relays our stdin to a running container (DATA frames) and
// its output to our stdout, with our terminal in raw mode and its size
// sent (RESIZE) at the start and on SIGWINCH when the container has a
// tty; the detach keys leave the container running. Runs in the caller
// (connect, poll, read, write, signalfd, tcsetattr).
#pragma once

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "runtime/state.h"

namespace runtime {

// The client -> monitor frames of the attach protocol (monitor.h): pure,
// for both ends.
std::string EncodeAttachFrame(char type, absl::string_view payload);
std::string EncodeResizeFrame(unsigned short rows, unsigned short cols);
// The size a RESIZE payload holds; false when it is not 4 bytes.
bool DecodeResize(absl::string_view payload, unsigned short* rows, unsigned short* cols);
// Calls fn for every complete frame at the front of *buf and removes them,
// leaving an incomplete one for the next bytes. False on a malformed frame
// (an unknown type, a payload over kAttachMaxPayload, a RESIZE not 4
// bytes): the connection is to be closed.
bool ConsumeAttachFrames(std::string* buf, const std::function<void(char type, absl::string_view payload)>& fn);

struct AttachOptions {
  int in_fd = 0;
  int out_fd = 1;
  bool no_stdin = false;           // --no-stdin: only watch
  std::string detach_keys = "\x10\x11";  // Ctrl-P Ctrl-Q, docker's
};

// Attaches to the running container `name` until it ends (its exit
// status), the detach keys are typed (0) or our output is closed (0).
// FailedPrecondition when it does not run; Unavailable when the monitor
// disconnected us (we did not read its output fast enough) or went away.
// Input after our stdin's end is not sent (the container's stdin stays
// open); the relay goes on with output.
absl::StatusOr<int> AttachToContainer(const StateStore& store, const std::string& name, const AttachOptions& options);

}  // namespace runtime
