// minipod-monitor's pure logic: its command line, the attach frames, the
// lines it reads from the kernel and minipod-init, the OOM line and the
// exited state. No syscalls; every parser bounds-checked (the fuzz target
// tests/fuzz/monitor_fuzz.cc runs them all). Compiled into minipod-monitor
// (musl) and natively for the unit tests.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "monitor/handover.h"

namespace monitor {

inline constexpr int kMaxCgroupDirs = 16;

// One -p listener handed over: "t4:80" (TCP, IPv4, container port 80),
// "u6w:53" (UDP, IPv6, a wildcard address: replies need IP_PKTINFO).
struct RelaySpec {
  bool tcp = true;
  int family = 2;  // AF_INET or AF_INET6 (10)
  bool wildcard = false;
  uint16_t container_port = 0;
};
bool ParseRelaySpec(const char* word, RelaySpec* out);

struct MonitorArgs {
  const char* name = nullptr;
  bool tty = false;
  bool auto_remove = false;
  bool init = false;
  bool oom_v1 = false;
  int janitor_pid = -1;        // -1: none
  const char* memory = "?";    // as the OOM line names it
  const char* oom_file = nullptr;
  const char* cgroups[kMaxCgroupDirs] = {};
  int cgroup_count = 0;
  bool join_userns = false;  // the relay helper joins the container's user namespace too
  RelaySpec relays[kMaxRelays];
  int relay_count = 0;
};

// argv[0..argc) is what follows kMonitorMode: NAME FLAGS JANITOR_PID
// MEMORY OOM_FILE, then cgroup directories (absolute) and relay specs (the
// other words), in any order. False on anything malformed (a missing word,
// an unknown flag, a pid that is not a number, a bad relay spec, too many
// directories or relays).
bool ParseMonitorArgs(int argc, const char* const* argv, MonitorArgs* out);

// A decimal int in [0, max]: no sign, no spaces, no leading '+'.
bool ParseUint(const char* text, size_t len, long long max, long long* out);

// One attach frame at the start of buf: 'd'/'r' type, 4-byte big-endian
// length, payload. kFrameOk: *type, *payload (into buf) and *frame_len set;
// kFrameNeedMore: incomplete; kFrameBad: a malformed frame.
enum FrameResult { kFrameOk, kFrameNeedMore, kFrameBad };
FrameResult NextFrame(const unsigned char* buf, size_t len, char* type, const unsigned char** payload,
                      uint32_t* payload_len, size_t* frame_len);
// A resize payload: rows and cols, 2 bytes each, big-endian.
bool DecodeResize(const unsigned char* p, uint32_t len, unsigned short* rows, unsigned short* cols);

// The control socket's first read: 1 "attach\n" (rest after it), 2 "wait"
// (whitespace around it allowed), 0 anything else.
enum Request { kRequestUnknown = 0, kRequestAttach = 1, kRequestWait = 2 };
Request ClassifyRequest(const char* text, size_t len, size_t* rest_offset);

// minipod-init's "exit N\n" / "signal N\n"; false when it is not one.
bool ParseInitStatus(const char* text, size_t len, bool* signaled, int* value);

// The value of "KEY N" in a memory.events / memory.oom_control text.
bool KeyedValue(const char* text, size_t len, const char* key, long long* value);

// DescribeOom's line (sandbox/launcher.cc), into out (NUL-ended, cut to size).
void DescribeOom(const char* memory, long long kills, bool command_killed, char* out, size_t size);

// The state template with its markers replaced: finished (RFC 3339, no
// quotes), the exit code, signal and OOM. Returns the length written to
// out, or -1 when it does not fit or a marker is unknown.
long FillStateTemplate(const char* tmpl, size_t len, const char* finished, int exit_code, int signal, bool oom,
                       char* out, size_t size);

}  // namespace monitor
