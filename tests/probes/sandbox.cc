// probe_sandbox: what a sandboxed process can see and do, one line per
// fact, for the `minipod run` integration tests. Subcommands:
//   ns                 "ns TYPE INODE" for mnt pid ipc uts net cgroup user
//   self               pid, PID 1's comm, hostname, uid/gid, cwd
//   caps               the Cap* lines of /proc/self/status, and NoNewPrivs, Seccomp
//   fds                every open descriptor but the one listing them
//   escape HOSTPID     each forbidden operation: "NAME ok" or "NAME ERRNO-NAME";
//                      *_bytes: "ok" (reads as empty), EEXIST (has bytes) or the errno
//   write PATH         create PATH: "write ok" or the errno name
//   read PATH          "read N" bytes, or the errno name
//   connect PORT       TCP connect to 127.0.0.1:PORT: "connect ok" or errno name
//   loopback           listen on 127.0.0.1:0 and connect to it: "loopback ok"
//   forkbomb           fork (children sleep 2 s) until it fails: "forked N ERRNO"
//   hog MIB [SECONDS]  allocate and touch MIB MiB: "hogged MIB" (if it lives),
//                      then hold it SECONDS (default 0)
//   sleep SECONDS      then "slept"
// Every wait is bounded; exits 0 unless used wrongly (64).
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/keyctl.h>
#include <linux/reboot.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <initializer_list>

#include "tests/probes/probe_util.h"

namespace {

const char* ErrName(int err) {
  switch (err) {
    case 0: return "ok";
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case ENOENT: return "ENOENT";
    case ESRCH: return "ESRCH";
    case EROFS: return "EROFS";
    case ENOSYS: return "ENOSYS";
    case EINVAL: return "EINVAL";
    case EAGAIN: return "EAGAIN";
    case ENOTTY: return "ENOTTY";
    case ECONNREFUSED: return "ECONNREFUSED";
    case ENETUNREACH: return "ENETUNREACH";
    case EBADF: return "EBADF";
    case EEXIST: return "EEXIST";
    default: return strerror(err);
  }
}

void Line(const char* name, int err) { printf("%s %s\n", name, ErrName(err)); }
int Err(long rc) { return rc < 0 ? errno : 0; }

void Ns() {
  for (const char* t : {"mnt", "pid", "ipc", "uts", "net", "cgroup", "user"}) {
    char path[64], target[128];
    snprintf(path, sizeof path, "/proc/self/ns/%s", t);
    const ssize_t n = readlink(path, target, sizeof target - 1);
    target[n > 0 ? n : 0] = '\0';
    printf("ns %s %s\n", t, n > 0 ? target : ErrName(errno));
  }
}

void Self() {
  char comm[64] = "";
  if (FILE* f = fopen("/proc/1/comm", "r")) {
    if (fgets(comm, sizeof comm, f) == nullptr) comm[0] = '\0';
    fclose(f);
  }
  comm[strcspn(comm, "\n")] = '\0';
  struct utsname u;
  uname(&u);
  char cwd[256] = "";
  if (getcwd(cwd, sizeof cwd) == nullptr) strcpy(cwd, "?");
  printf("pid %d\npid1 %s\nhostname %s\nuid %d\ngid %d\ncwd %s\n", getpid(), comm, u.nodename, getuid(), getgid(), cwd);
}

void Caps() {
  FILE* f = fopen("/proc/self/status", "r");
  if (f == nullptr) return;
  char line[256];
  while (fgets(line, sizeof line, f) != nullptr) {
    if (strncmp(line, "Cap", 3) == 0 || strncmp(line, "NoNewPrivs", 10) == 0 || strncmp(line, "Seccomp:", 8) == 0) {
      fputs(line, stdout);
    }
  }
  fclose(f);
}

void Fds() {
  DIR* d = opendir("/proc/self/fd");
  if (d == nullptr) return;
  const int own = dirfd(d);
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.' || atoi(e->d_name) == own) continue;
    char path[300], target[256];
    snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
    const ssize_t n = readlink(path, target, sizeof target - 1);
    target[n > 0 ? n : 0] = '\0';
    printf("fd %s %s\n", e->d_name, target);
  }
  closedir(d);
}

void Escape(pid_t host_pid) {
  Line("mknod", Err(mknod("/tmp/probe-null", S_IFCHR | 0600, makedev(1, 3))));
  unlink("/tmp/probe-null");
  Line("mount", Err(mount("tmpfs", "/tmp", "tmpfs", 0, nullptr)));
  Line("umount", Err(umount2("/proc", MNT_DETACH)));
  // No real module: a capability or seccomp refusal comes before anything else.
  Line("init_module", Err(syscall(SYS_init_module, nullptr, 0, "")));
  Line("finit_module", Err(syscall(SYS_finit_module, -1, "", 0)));
  // A bad magic: without the capability the answer is EPERM, with it EINVAL.
  Line("reboot", Err(syscall(SYS_reboot, 0, 0, 0, nullptr)));
  Line("keyctl", Err(syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0)));
  Line("ptrace", Err(ptrace(PTRACE_ATTACH, host_pid, nullptr, nullptr)));
  Line("kill", Err(kill(host_pid, 0)));
  Line("raw_socket", Err(socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP)));
  Line("packet_socket", Err(socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0)));
  char c = 'x';
  Line("tiocsti", Err(ioctl(0, TIOCSTI, &c)));
  Line("unshare_user", Err(unshare(CLONE_NEWUSER)));
  Line("sethostname", Err(sethostname("escaped", 7)));
  Line("chroot", Err(chroot("/")));
  const int sys = open("/proc/sys/kernel/domainname", O_WRONLY | O_CLOEXEC);
  Line("proc_sys_write", sys < 0 ? errno : Err(write(sys, "x\n", 2)));
  if (sys >= 0) close(sys);
  const int trig = open("/proc/sysrq-trigger", O_WRONLY | O_CLOEXEC);
  Line("sysrq_trigger", trig < 0 ? errno : 0);
  if (trig >= 0) close(trig);
  // A new file anywhere in /sys: only a writable mount would take it.
  const int s = open("/sys/kernel/probe-file", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  Line("sys_write", s < 0 ? errno : 0);
  if (s >= 0) close(s);
  char buf[16];
  const int kcore = open("/proc/kcore", O_RDONLY | O_CLOEXEC);
  Line("kcore_bytes", kcore < 0 ? errno : (read(kcore, buf, sizeof buf) > 0 ? EEXIST : 0));
  if (kcore >= 0) close(kcore);
  // Masked, /proc/keys reads as empty; a kernel without CONFIG_KEYS has no
  // such file (ENOENT), and keyctl above is then ENOSYS unless seccomp
  // answers first.
  const int keys = open("/proc/keys", O_RDONLY | O_CLOEXEC);
  Line("keys_bytes", keys < 0 ? errno : (read(keys, buf, sizeof buf) > 0 ? EEXIST : 0));
  if (keys >= 0) close(keys);
}

void WritePath(const char* path) {
  const int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  Line("write", fd < 0 ? errno : Err(write(fd, "probe\n", 6) == 6 ? 0 : -1));
  if (fd >= 0) close(fd);
}

void ReadPath(const char* path) {
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    Line("read", errno);
    return;
  }
  char buf[4096];
  long total = 0;
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) total += n;
  close(fd);
  printf("read %ld\n", total);
}

int Connect(int port) {
  const int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s < 0) return errno;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const int err = Err(connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a));
  close(s);
  return err;
}

void Loopback() {
  const int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (bind(l, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(l, 1) != 0 ||
      getsockname(l, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    Line("loopback", errno);
    return;
  }
  Line("loopback", Connect(ntohs(a.sin_port)));
  close(l);
}

void ForkBomb() {
  int n = 0, err = 0;
  for (; n < 100000; ++n) {
    const pid_t p = fork();
    if (p < 0) {
      err = errno;
      break;
    }
    if (p == 0) {
      sleep(2);
      _exit(0);
    }
  }
  printf("forked %d %s\n", n, ErrName(err));
  fflush(stdout);
  while (wait(nullptr) > 0) {}
}

void Hog(long mib) {
  for (long i = 0; i < mib; ++i) {
    char* p = static_cast<char*>(malloc(1 << 20));
    if (p == nullptr) break;
    memset(p, 1, 1 << 20);
  }
  printf("hogged %ld\n", mib);
}

}  // namespace

int main(int argc, char** argv) {
  alarm(30);  // nothing here outlives a failed test for long
  setvbuf(stdout, nullptr, _IOLBF, 0);
  if (argc < 2) return probes::kUsageExit;
  const char* cmd = argv[1];
  if (strcmp(cmd, "ns") == 0) Ns();
  else if (strcmp(cmd, "self") == 0) Self();
  else if (strcmp(cmd, "caps") == 0) Caps();
  else if (strcmp(cmd, "fds") == 0) Fds();
  else if (strcmp(cmd, "escape") == 0 && argc == 3) Escape(atoi(argv[2]));
  else if (strcmp(cmd, "write") == 0 && argc == 3) WritePath(argv[2]);
  else if (strcmp(cmd, "read") == 0 && argc == 3) ReadPath(argv[2]);
  else if (strcmp(cmd, "connect") == 0 && argc == 3) Line("connect", Connect(atoi(argv[2])));
  else if (strcmp(cmd, "loopback") == 0) Loopback();
  else if (strcmp(cmd, "forkbomb") == 0) ForkBomb();
  else if (strcmp(cmd, "hog") == 0 && (argc == 3 || argc == 4)) {
    Hog(atol(argv[2]));
    if (argc == 4) sleep(static_cast<unsigned>(atoi(argv[3])));
  } else if (strcmp(cmd, "sleep") == 0 && argc == 3) {
    sleep(static_cast<unsigned>(atoi(argv[2])));
    puts("slept");
  } else {
    return probes::kUsageExit;
  }
  return 0;
}
