// What the C++ monitor hands to minipod-monitor when it execs it: the
// descriptors at fixed numbers and the words of its command line. Shared by
// runtime/monitor.cc (the side that execs) and monitor/ (libc-only, musl).
#pragma once

namespace monitor {

// argv[1] of the two modes.
inline constexpr char kMonitorMode[] = "__monitor";
inline constexpr char kJanitorMode[] = "__cgroup-janitor";  // sandbox::kJanitorCommand

// The descriptors of the monitor mode; the optional ones are closed when
// absent. None is CLOEXEC when handed over; minipod-monitor marks them so.
inline constexpr int kPidFd = 3;        // the container's first process (our child)
inline constexpr int kLogFd = 4;        // the CRI log, O_APPEND
inline constexpr int kControlFd = 5;    // the control socket, listening
inline constexpr int kOutFd = 6;        // the stdout pipe's read end, or the pty master (-t)
inline constexpr int kErrFd = 7;        // the stderr pipe's read end (not with -t)
inline constexpr int kInputFd = 8;      // optional: -i's stdin pipe, or a second pty master descriptor
inline constexpr int kInitStatusFd = 9; // optional: minipod-init's status line
inline constexpr int kJanitorFd = 10;   // optional: the janitor's socket ("D": dismissed)
inline constexpr int kStateDirFd = 11;  // the container's state directory
inline constexpr int kKindDirFd = 12;   // the directory holding it (for --rm)
inline constexpr int kTemplateFd = 13;  // optional: the exited state.json, with markers
inline constexpr int kReportFd = 14;    // "ok NAME\n" to `run -d`, then closed
inline constexpr int kLastFd = 14;
// -p: the bound listeners, one per relay spec of the command line, in order.
inline constexpr int kFirstListenerFd = 15;
inline constexpr int kMaxRelays = 64;

// The monitor mode's command line:
//   minipod-monitor __monitor NAME FLAGS JANITOR_PID MEMORY OOM_FILE [CGROUP_DIR...] [RELAY...]
// FLAGS: letters from kFlag*, or "-"; JANITOR_PID: a number or "-";
// MEMORY: --memory as given ("-": none; the OOM line then says "?");
// OOM_FILE: memory.events (v2) or memory.oom_control (v1), or "-";
// RELAY: a -p listener (parse.h's RelaySpec), its fd kFirstListenerFd + i.
inline constexpr char kFlagTty = 't';
inline constexpr char kFlagAutoRemove = 'r';
inline constexpr char kFlagInit = 'n';        // minipod-init is the container's PID 1
inline constexpr char kFlagOomV1 = '1';       // OOM_FILE is v1's (under_oom counts)
inline constexpr char kFlagJoinUserns = 'u';  // -p: the socket helper joins the container's user namespace

// The markers in the state template (bytes JSON never holds raw): each is
// replaced by the value known at the end.
inline constexpr char kMarkFinished = 'F';   // "\x01F": the finish time, RFC 3339, quoted
inline constexpr char kMarkExitCode = 'C';
inline constexpr char kMarkSignal = 'S';
inline constexpr char kMarkOom = 'O';        // true or false
inline constexpr char kMarker = '\x01';

// The monitor's timing, as runtime/monitor.cc had it.
inline constexpr int kDrainMs = 2000;        // output after the container's end
inline constexpr int kControlRetryMs = 100;  // accepting on the control socket again after EMFILE
inline constexpr int kAttachFlushMs = 1000;  // attach clients' last output
inline constexpr unsigned kAttachMaxPayload = 64 * 1024;
inline constexpr unsigned kAttachBuffer = 1024 * 1024;

}  // namespace monitor
