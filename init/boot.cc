// Boot mode: the init as PID 1 of a VM. It mounts the API filesystems,
// enables the cgroup v2 controllers for children, names the machine, brings
// loopback up, loads the image's kernel modules, mounts the 9p root and
// shares the kernel command line asks for, runs one command (argv, else
// minipod.cmd=, else /etc/minipod/argv) on the console through the ordinary
// event loop (Run()), and then stops everything, unmounts, reports the
// status on the console and to QEMU's isa-debug-exit device, and powers off.
// PID 1 never returns from here: the kernel panics when its init exits.
#include "init/boot.h"

#include <fcntl.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/format.h"
#include "common/log.h"
#include "common/sys.h"
#include "common/unique_fd.h"
#include "init/config.h"
#include "init/kernel_cmdline.h"
#include "init/options.h"
#include "init/runtime.h"
#include "init/say.h"

namespace init {
namespace {

using common::Level;

// What a failure before the command runs is reported as (as for a setup
// failure in the other modes).
constexpr int kSetupFailed = 125;
// After the command: SIGTERM to everything left, then SIGKILL after this.
constexpr int64_t kShutdownGraceMs = 2'000;
// QEMU's isa-debug-exit, as `-device isa-debug-exit,iobase=0xf4,iosize=0x04`.
constexpr unsigned kDebugExitPort = 0xf4;

// The mount table, packed (pointers would cost eight bytes each): every
// string once in kMountText, each mount four bytes of offsets and flags.
// The source is the type's name (the kernel ignores it for these).
constexpr char kMountText[] =
    "/proc\0proc\0/sys\0sysfs\0/dev\0devtmpfs\0mode=0755\0/dev/pts\0devpts\0"
    "mode=0620,ptmxmode=0666\0/dev/shm\0tmpfs\0mode=1777\0/run\0/tmp\0/sys/fs/cgroup\0"
    "cgroup2\0nsdelegate";
static_assert(sizeof kMountText <= 255);
constexpr uint8_t kNoData = 255;

// The offset of word (a whole string) in kMountText; a typo does not compile.
consteval uint8_t At(const char* word) {
  size_t n = 0;
  while (word[n] != '\0') ++n;
  for (size_t at = 0; at + n < sizeof kMountText; ++at) {
    size_t i = 0;
    while (i < n && kMountText[at + i] == word[i]) ++i;
    if (i == n && kMountText[at + n] == '\0' && (at == 0 || kMountText[at - 1] == '\0')) {
      return static_cast<uint8_t>(at);
    }
  }
  // Not found: a read past the end, which stops the compilation.
  return static_cast<uint8_t>(kMountText[sizeof kMountText + n]);
}

struct Mount {
  uint8_t target;
  uint8_t type;
  uint8_t data;   // kNoData: none
  uint8_t flags;  // MS_NOSUID | MS_NODEV | MS_NOEXEC fit in a byte
};
static_assert((MS_NOSUID | MS_NODEV | MS_NOEXEC) < 256);

constexpr uint8_t kSafe = MS_NOSUID | MS_NODEV | MS_NOEXEC;
constexpr Mount kMounts[] = {
    {At("/proc"), At("proc"), kNoData, kSafe},
    {At("/sys"), At("sysfs"), kNoData, kSafe},
    {At("/dev"), At("devtmpfs"), At("mode=0755"), MS_NOSUID},
    {At("/dev/pts"), At("devpts"), At("mode=0620,ptmxmode=0666"), MS_NOSUID | MS_NOEXEC},
    {At("/dev/shm"), At("tmpfs"), At("mode=1777"), MS_NOSUID | MS_NODEV},
    {At("/run"), At("tmpfs"), At("mode=0755"), MS_NOSUID | MS_NODEV},
    {At("/tmp"), At("tmpfs"), At("mode=1777"), MS_NOSUID | MS_NODEV},
    {At("/sys/fs/cgroup"), At("cgroup2"), At("nsdelegate"), kSafe},
};
// The first ones are fatal: the command is not run without them.
constexpr int kFatalMounts = 3;
constexpr int kMountCount = sizeof kMounts / sizeof kMounts[0];

// minipod.root= is mounted here, in the initramfs, and becomes the root.
char g_root_dir[] = "/newroot";
constexpr char k9pOptions[] = "trans=virtio,version=9p2000.L,msize=262144";
constexpr size_t kMaxArgvFile = 4096;

// Static: the init has no heap, and its stack stays small.
char g_cmdline[4096];
BootSpec g_spec;
char* g_env[BootSpec::kMaxEnv + 64 + 2];
// [0]: the initramfs's own mounts; [1]: those inside minipod.root.
bool g_mounted[2][kMountCount];
bool g_chrooted;
int g_shares_mounted;
char g_modules[8192];
char g_argv_file[kMaxArgvFile + 2];
// finit_module's MODULE_INIT_COMPRESSED_FILE (5.17+), spelled out for
// older headers.
constexpr unsigned kModuleCompressed = 4;

void Print(Text fmt, ...) {
  char buf[256];
  common::Formatter f(buf, sizeof buf - 1);
  f.Str("minipod: ");
  va_list ap;
  va_start(ap, fmt);
  f.VPrintf(GetText(fmt), ap);
  va_end(ap);
  size_t n = f.size();
  buf[n++] = '\n';
  common::WriteAll(STDOUT_FILENO, buf, n);
}

// Raw openat (no O_CLOEXEC added: the console fds are inherited): libc's open() wrapper costs the init bytes.
int OpenAt(const char* path, int flags) {
  return static_cast<int>(::syscall(SYS_openat, AT_FDCWD, path, flags));
}

// Mounts the API filesystems; false when a fatal one failed.
bool MountAll(bool* mounted) {
  bool ok = true;
  for (int i = 0; i < kMountCount; ++i) {
    const Mount& m = kMounts[i];
    const char* target = kMountText + m.target;
    const char* type = kMountText + m.type;
    (void)::mkdir(target, 0755);
    if (::mount(type, target, type, m.flags, m.data == kNoData ? nullptr : kMountText + m.data) == 0) {
      mounted[i] = true;
    } else if (errno != EBUSY) {  // EBUSY: already there (a kernel-mounted /dev)
      Print(Text::kMountOn, type, target, ErrorText(errno));
      if (i < kFatalMounts) ok = false;
    }
  }
  return ok;
}

// Mounts 9p TAG at dir, creating the missing directories.
bool Mount9p(const char* tag, char* dir, bool rw) {
  for (char* p = dir + 1;; ++p) {
    if (*p != '/' && *p != '\0') continue;
    const char c = *p;
    *p = '\0';
    (void)::mkdir(dir, 0755);
    *p = c;
    if (c == '\0') break;
  }
  const unsigned long flags = MS_NOSUID | MS_NODEV | (rw ? 0 : MS_RDONLY);
  if (::mount(tag, dir, "9p", flags, k9pOptions) == 0) return true;
  Print(Text::kMountOn, tag, dir, ErrorText(errno));
  return false;
}

// minipod.root= (mounted, made the root, then given its own API
// filesystems) and minipod.share= (inside that root); false when one
// failed: the command is not run.
bool MountGuest() {
  if (g_spec.root != nullptr) {
    if (!Mount9p(g_spec.root, g_root_dir, false)) return false;
    if (::chdir(g_root_dir) != 0 || ::chroot(".") != 0) {
      Print(Text::kChrootFailed, g_root_dir, ErrorText(errno));
      return false;
    }
    g_chrooted = true;
    if (!MountAll(g_mounted[1])) return false;
  }
  for (int i = 0; i < g_spec.sharec; ++i) {
    const Share& share = g_spec.shares[i];
    if (!Mount9p(share.tag, share.dir, share.rw)) return false;
    g_shares_mounted = i + 1;
  }
  return true;
}

// Opens the console on fds 0-2 through the devtmpfs node: the kernel opened
// the image's own node, which /dev now hides, so ttyname() would find no
// terminal; an image without that node starts its init with no fds at all.
// PID 1 starts in no session of its own: setsid() first, then the console
// becomes our controlling terminal (we never exit, so it is never hung up,
// see RunCommand).
void OpenConsole() {
  (void)::setsid();
  const int fd = OpenAt("/dev/console", O_RDWR);
  if (fd < 0) return;
  for (int i = 0; i < 3; ++i) {
    if (fd != i) ::dup2(fd, i);
  }
  if (fd > 2) ::close(fd);
  // Opening /dev/console never makes it a controlling terminal.
  (void)::ioctl(STDIN_FILENO, TIOCSCTTY, 0);
}

// Reads a small file into buf as a string; returns its length (at most
// size - 1), or -1 when it cannot.
long ReadSmall(const char* path, char* buf, size_t size) {
  const int fd = OpenAt(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  common::UniqueFd owned(fd);
  size_t len = 0;
  while (len + 1 < size) {
    const common::SysResult n = common::sys::Read(fd, buf + len, size - 1 - len);
    if (!n.ok() || n.value == 0) break;
    len += static_cast<size_t>(n.value);
  }
  buf[len] = '\0';
  return static_cast<long>(len);
}

// Every controller of the root cgroup, enabled for its children one by one
// (one refused controller must not keep the others off).
void EnableControllers() {
  char list[512];
  if (ReadSmall("/sys/fs/cgroup/cgroup.controllers", list, sizeof list) < 0) return;
  const int fd = OpenAt("/sys/fs/cgroup/cgroup.subtree_control", O_WRONLY | O_CLOEXEC);
  if (fd < 0) return;
  common::UniqueFd owned(fd);
  char* p = list;
  while (*p != '\0') {
    while (*p == ' ' || *p == '\n') ++p;
    char* word = p;
    while (*p != '\0' && *p != ' ' && *p != '\n') ++p;
    if (p == word) break;
    char item[64];
    common::Formatter f(item, sizeof item);
    f.Printf("+%.*s", static_cast<int>(p - word), word);
    if (::write(fd, f.data(), f.size()) < 0) {
      Print(Text::kCgroupController, item + 1, ErrorText(errno));
    }
  }
}

void SetHostname(const char* name) {
  if (::sethostname(name, strlen(name)) != 0) Print(Text::kHostname, name, ErrorText(errno));
}

void LoopbackUp() {
  const int s = static_cast<int>(::syscall(SYS_socket, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (s < 0) {
    Print(Text::kLoopbackSocket, ErrorText(errno));
    return;
  }
  common::UniqueFd owned(s);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  memcpy(ifr.ifr_name, "lo", 3);
  if (common::sys::Ioctl(s, SIOCGIFFLAGS, reinterpret_cast<unsigned long>(&ifr)).ok()) {
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
    if (common::sys::Ioctl(s, SIOCSIFFLAGS, reinterpret_cast<unsigned long>(&ifr)).ok()) return;
  }
  Print(Text::kLoopback, ErrorText(errno));
}

// `minipod rootfs build --module`'s list (rootfs/modules.h): one absolute
// path per line, dependencies first. The builder stores modules
// uncompressed; a compressed one is left to the kernel to unpack. A module
// already loaded (EEXIST) is fine; any other failure is printed and the boot
// goes on: the command may not need it.
void LoadModules() {
  if (ReadSmall("/etc/minipod/modules", g_modules, sizeof g_modules) < 0) return;
  char* p = g_modules;
  while (*p != '\0') {
    char* path = p;
    while (*p != '\0' && *p != '\n') ++p;
    if (*p == '\n') *p++ = '\0';
    if (*path != '/') continue;
    const size_t n = strlen(path);
    const bool compressed = n > 3 && (path[n - 2] != 'k' || path[n - 1] != 'o');  // not ".ko"
    const int fd = OpenAt(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || (::syscall(SYS_finit_module, fd, "", compressed ? kModuleCompressed : 0) != 0 &&
                   errno != EEXIST)) {
      Print(Text::kModule, path, ErrorText(errno));
    }
    if (fd >= 0) ::close(fd);
  }
}

// The command's environment: minipod.env= entries first (they win, getenv
// takes the first match), a default PATH unless one is given, then what the
// kernel handed the init, minus the keys already set.
char** BuildEnv(char** envp) {
  int n = 0;
  bool has_path = false;
  for (int i = 0; i < g_spec.envc; ++i) {
    g_env[n++] = g_spec.env[i];
    if (strncmp(g_spec.env[i], "PATH=", 5) == 0) has_path = true;
  }
  for (char** e = envp; e != nullptr && *e != nullptr; ++e) {
    if (strncmp(*e, "PATH=", 5) == 0) has_path = true;
  }
  static char kPath[] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  if (!has_path) g_env[n++] = kPath;
  constexpr int kCap = sizeof g_env / sizeof g_env[0] - 1;
  for (char** e = envp; e != nullptr && *e != nullptr && n < kCap; ++e) {
    const char* eq = common::FindChar(*e, '=');
    const size_t key = eq != nullptr ? static_cast<size_t>(eq - *e) + 1 : strlen(*e);
    bool overridden = false;
    for (int i = 0; i < g_spec.envc; ++i) {
      if (strncmp(g_spec.env[i], *e, key) == 0) overridden = true;
    }
    if (!overridden) g_env[n++] = *e;
  }
  g_env[n] = nullptr;
  return g_env;
}

int RunCommand(char** command, char** envp) {
  if (g_spec.workdir != nullptr && ::chdir(g_spec.workdir) != 0) {
    Print(Text::kWorkdir, g_spec.workdir, ErrorText(errno));
    return kSetupFailed;
  }
  Config config;
  ResetRewrites(config);
  config.command = command;
  // Its own process group in the foreground of the console, our controlling
  // terminal: ^C and job control work in a shell. Not a session of its own:
  // the exit of a session leader hangs its terminal up, and a serial
  // console's hangup throws away the output not yet sent.
  config.placement = Placement::kOwnGroup;
  // When the command ends, SIGTERM to every other process (kill(-1) as
  // PID 1), the grace period, then SIGKILL.
  config.grace_ms = kShutdownGraceMs;
  config.wait_all = g_spec.wait_all;
  config.term_delay_ms = g_spec.term_delay_ms;
  const int status = Run(config, BuildEnv(envp));
  (void)::chdir("/");
  return status;
}

// What the init can still reach: inside minipod.root once chrooted there.
void UnmountAll() {
  ::sync();
  for (int i = g_shares_mounted - 1; i >= 0; --i) (void)::umount2(g_spec.shares[i].dir, MNT_DETACH);
  const bool* mounted = g_mounted[g_chrooted ? 1 : 0];
  for (int i = kMountCount - 1; i >= 0; --i) {
    if (!mounted[i]) continue;
    // /dev stays busy with the console open: detach it instead.
    const char* target = kMountText + kMounts[i].target;
    if (::umount2(target, 0) != 0) (void)::umount2(target, MNT_DETACH);
  }
  ::sync();
}

// QEMU exits with 2N+1 for a write of N to the port. The device reads as 0
// and an absent port as all ones, so the write happens only where the device
// answers.
void TellHost(int status) {
#if defined(__x86_64__) || defined(__i386__)
  if (::syscall(SYS_ioperm, kDebugExitPort, 4, 1) != 0) return;
  unsigned char probe;
  __asm__ volatile("inb %w1, %0" : "=a"(probe) : "Nd"(static_cast<unsigned short>(kDebugExitPort)));
  if (probe != 0) return;
  // QEMU exits at the write: the console's output first (tcdrain).
  (void)::ioctl(STDOUT_FILENO, TCSBRK, 1);
  const unsigned char value = static_cast<unsigned char>(status);
  __asm__ volatile("outb %0, %w1" : : "a"(value), "Nd"(static_cast<unsigned short>(kDebugExitPort)));
#else
  (void)status;
#endif
}

}  // namespace

bool WantsBoot(int argc, char** argv) {
  if (argc > 1 && strcmp(argv[1], "--boot") == 0) return true;
  return ::getpid() == 1 && ::syscall(SYS_faccessat, AT_FDCWD, "/proc/self", F_OK, 0) != 0;
}

int Boot(int argc, char** argv, char** envp) {
  Config say_config;
  ConfigureSay(say_config);
  // Anywhere else, the mounts would hide the host's /proc, /dev, /run and
  // /tmp, and the power-off would not be ours to do.
  if (::getpid() != 1) {
    Print(Text::kBootNotPID1);
    return kExitUsage;
  }
  int status = kSetupFailed;
  const bool mounted = MountAll(g_mounted[0]);
  OpenConsole();
  if (ReadSmall("/proc/cmdline", g_cmdline, sizeof g_cmdline) >= 0) ParseKernelCmdline(g_cmdline, g_spec);
  if (g_spec.error != nullptr) Print(Text::kKernelCommandLine, g_spec.error);
  // Started by the kernel, argv holds first the words of the command line
  // it did not know (nokaslr, a typo), then the words after "--": only
  // those are a command. An explicit --boot comes from whoever ran us.
  int arg = 1;
  if (arg >= argc || strcmp(argv[arg], "--boot") != 0) {
    const int stray = argc - 1 - g_spec.init_args;
    if (stray > 0) arg += stray;
  }
  if (arg < argc && strcmp(argv[arg], "--boot") == 0) ++arg;
  if (arg < argc && strcmp(argv[arg], "--") == 0) ++arg;
  // The image's default command, when neither argv nor minipod.cmd= gave one.
  if (arg >= argc && g_spec.argc == 0) {
    const long n = ReadSmall("/etc/minipod/argv", g_argv_file, sizeof g_argv_file);
    if (n >= 0) {
      g_spec.error = nullptr;
      if (n > static_cast<long>(kMaxArgvFile)) {
        g_spec.error = "/etc/minipod/argv: longer than 4096 bytes";
      } else {
        ParseArgvFile(g_argv_file, static_cast<size_t>(n), g_spec);
      }
      if (g_spec.error != nullptr) Print(Text::kLine, g_spec.error);
    }
  }
  EnableControllers();
  SetHostname(g_spec.hostname != nullptr ? g_spec.hostname : "minipod");
  LoopbackUp();
  LoadModules();
  const bool ready = mounted && MountGuest();
  char** command = arg < argc ? argv + arg : g_spec.argc > 0 ? g_spec.argv : nullptr;
  if (!ready) {
    Print(Text::kNotRunningTheCommand);
  } else if (command == nullptr) {
    Print(Text::kNoCommandMinipodCmd);
  } else {
    status = RunCommand(command, envp);
  }
  UnmountAll();
  Print(Text::kExitStatus, status);
  TellHost(status);
  ::reboot(RB_POWER_OFF);
  // Still here (no CAP_SYS_BOOT?): an init that exits panics the kernel.
  Print(Text::kPowerOff, ErrorText(errno));
  for (;;) ::pause();
}

}  // namespace init
