// `minipod vm` as data: the option values (shares, memory), the QEMU command
// line and the kernel command line from them, the console scanner that
// finds the init's status line, and the decision of what the run's status
// is. Pure: no syscalls, unit-tested and fuzzed; vm/runner.cc executes it.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace vm {

// The boot interface with minipod-init (docs: README, "minipod vm").
inline constexpr absl::string_view kStatusLine = "minipod: exit status ";
inline constexpr absl::string_view kInitPrefix = "minipod: ";
inline constexpr absl::string_view kHostRootTag = "hostroot";
inline constexpr size_t kMaxShares = 8;
// QEMU's isa-debug-exit: a guest write of N to this port ends QEMU with
// status (2N+1) % 256.
inline constexpr int kDebugExitPort = 0xf4;

// Statuses of `minipod vm` itself (the guest command's own otherwise).
inline constexpr int kExitTimedOut = 124;
inline constexpr int kExitVmFailed = 125;

struct Share {
  std::string host_dir;   // as given; the caller makes it absolute and checks it
  std::string guest_dir;  // absolute
  bool writable = false;
};

// "HOSTDIR:GUESTDIR[:rw]" (":ro" is accepted too). GUESTDIR is absolute and
// holds no ':', blank, quote, backslash or control character (it travels on
// the kernel command line); HOSTDIR is everything before its last ':'.
absl::StatusOr<Share> ParseShare(absl::string_view value);

// --memory: a number of MiB or a number with one of QEMU's suffixes K, M, G,
// T (either case), between 16 MiB and 1 TiB. Returns QEMU's -m value.
absl::StatusOr<std::string> ParseMemory(absl::string_view value);

// The bytes of a value ParseMemory returned (digits and one of K, M, G, T).
uint64_t MemoryBytes(absl::string_view qemu_value);

// --cpus: 1 to 64.
absl::StatusOr<int> ParseCpus(absl::string_view value);

// A value inside a QEMU option list ("path=..."): QEMU splits at ',' and
// reads ",," as one comma.
std::string QemuOptionValue(absl::string_view value);

struct QemuPlan {
  std::string qemu;    // the executable's path
  std::string kernel;  // the image QEMU loads (bzImage, or a PVH vmlinux)
  std::string initrd;  // path QEMU reads the initramfs from
  std::string memory = "512M";
  int cpus = 1;
  bool kvm = false;
  std::vector<Share> shares;
  bool host_root = false;
  std::string user_append;  // --append, last on the kernel command line
};

// "console=ttyS0 panic=-1 [no_timer_check] quiet minipod.root=hostroot
// minipod.share=share0:/mnt[:rw] ... USER_APPEND" (no_timer_check under
// TCG only). `quiet` is left out when
// the user's part asks for kernel messages (loglevel=, debug,
// ignore_loglevel).
std::string KernelCmdline(const QemuPlan& plan);

// The whole argv, QEMU's path first. The console is QEMU's stdio as a
// chardev with signal=off (on a terminal ^C is a byte for the guest, not
// the end of QEMU); KVM with the host's CPU when usable, else TCG with
// "max" (QEMU's default model is below x86-64-v2).
std::vector<std::string> QemuArgv(const QemuPlan& plan);

// Reads the console as it streams by: keeps the last lines for error
// messages, finds "minipod: exit status N" anywhere in a line (firmware
// escape sequences may come first), and notes whether the init said
// anything at all. Lines are cut at kMaxLine bytes (the status line is
// found in the last kMaxLine bytes of a longer one).
class ConsoleScanner {
 public:
  static constexpr size_t kMaxLine = 512;
  static constexpr size_t kTailLines = 20;

  void Feed(absl::string_view bytes);
  // The last line, when the stream ended without a newline.
  void Finish();

  // The status of the last status line seen.
  std::optional<int> status() const { return status_; }
  // Whether a line from the init ("minipod: ...") was seen.
  bool init_seen() const { return init_seen_; }
  // The last kTailLines lines (the unfinished one too), printable: escape
  // sequences and control characters other than tab removed.
  std::vector<std::string> Tail() const;

 private:
  void EndLine();

  std::string line_;
  bool line_cut_ = false;
  std::deque<std::string> tail_;
  std::optional<int> status_;
  bool init_seen_ = false;
};

// "minipod: exit status N" (N 0-255) somewhere in line, up to its end
// (trailing CR and blanks allowed); nullopt otherwise.
std::optional<int> StatusFromLine(absl::string_view line);

// How QEMU ended, and what the runner did to it.
struct QemuEnd {
  bool exited = false;  // else killed by signal
  int code = 0;         // exit status, or the signal
  bool timed_out = false;
  std::string timeout_text;  // "30s", as given
  int interrupted_by = 0;    // a signal we forwarded (SIGINT, SIGTERM, SIGHUP)
};

struct Outcome {
  int status = 0;
  std::string error;  // empty: the guest's status, no message
};

// The run's status. The console line carries N whole; QEMU's status (2N+1)
// carries it modulo 128, so the line decides between N and N+128 when it
// agrees with the device. Without a line, an odd status other than 1 is the
// device's; 1 is also what QEMU exits with on its own errors, so it is one.
Outcome Decide(const QemuEnd& end, std::optional<int> line_status, bool init_seen);

}  // namespace vm
