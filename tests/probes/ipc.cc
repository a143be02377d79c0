// probe_ipc: writes or reads a short text through one of the IPC objects an
// ipc namespace may or may not share: a System V shared memory segment (by
// key), a POSIX shared memory object (shm_open: a file in /dev/shm) and a
// POSIX message queue (mq_open: the ipc namespace's own mqueue mount).
// Prints one line, "MODE TEXT" or "MODE error ERRNO-NAME"; exits 0, 1 on a
// failed call, 64 on misuse. Objects it writes outlive it (as they should:
// the namespace owns them). Runs inside the containers; glibc.
//
//   probe_ipc sysv-write KEY TEXT | sysv-read KEY
//   probe_ipc shm-write NAME TEXT | shm-read NAME
//   probe_ipc mq-write NAME TEXT  | mq-read NAME
#include <fcntl.h>
#include <mqueue.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>

#include "tests/probes/probe_util.h"

namespace {

using probes::Line;

constexpr size_t kSize = 4096;

int Fail(const char* mode) {
  // strerrorname_np is glibc 2.32+; the name, not the translated message.
  const char* name = strerrorname_np(errno);
  Line("%s error %s", mode, name != nullptr ? name : "?");
  return 1;
}

int SysvWrite(key_t key, const char* text) {
  const int id = shmget(key, kSize, IPC_CREAT | IPC_EXCL | 0600);
  if (id < 0) return Fail("sysv-write");
  void* p = shmat(id, nullptr, 0);
  if (p == reinterpret_cast<void*>(-1)) return Fail("sysv-write");
  snprintf(static_cast<char*>(p), kSize, "%s", text);
  shmdt(p);
  Line("sysv-write ok");
  return 0;
}

int SysvRead(key_t key) {
  const int id = shmget(key, 0, 0);
  if (id < 0) return Fail("sysv-read");
  void* p = shmat(id, nullptr, SHM_RDONLY);
  if (p == reinterpret_cast<void*>(-1)) return Fail("sysv-read");
  Line("sysv-read %.*s", static_cast<int>(strnlen(static_cast<const char*>(p), kSize)), static_cast<const char*>(p));
  shmdt(p);
  return 0;
}

int ShmWrite(const char* name, const char* text) {
  const int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
  if (fd < 0) return Fail("shm-write");
  const size_t n = strlen(text);
  if (write(fd, text, n) != static_cast<ssize_t>(n)) return Fail("shm-write");
  close(fd);
  Line("shm-write ok");
  return 0;
}

int ShmRead(const char* name) {
  const int fd = shm_open(name, O_RDONLY, 0);
  if (fd < 0) return Fail("shm-read");
  char buf[256];
  const ssize_t n = read(fd, buf, sizeof buf);
  if (n < 0) return Fail("shm-read");
  Line("shm-read %.*s", static_cast<int>(n), buf);
  close(fd);
  return 0;
}

int MqWrite(const char* name, const char* text) {
  const mqd_t q = mq_open(name, O_WRONLY | O_CREAT | O_EXCL, 0600, nullptr);
  if (q == static_cast<mqd_t>(-1)) return Fail("mq-write");
  if (mq_send(q, text, strlen(text), 0) != 0) return Fail("mq-write");
  mq_close(q);
  Line("mq-write ok");
  return 0;
}

int MqRead(const char* name) {
  // Non-blocking: an empty queue is an answer (EAGAIN), not a hang.
  const mqd_t q = mq_open(name, O_RDONLY | O_NONBLOCK);
  if (q == static_cast<mqd_t>(-1)) return Fail("mq-read");
  mq_attr attr{};
  if (mq_getattr(q, &attr) != 0) return Fail("mq-read");
  char buf[65536];
  const ssize_t n = mq_receive(q, buf, sizeof buf, nullptr);
  if (n < 0) return Fail("mq-read");
  Line("mq-read %.*s", static_cast<int>(n), buf);
  mq_close(q);
  return 0;
}

key_t ParseKeyOrDie(const char* s) {
  char* end = nullptr;
  const unsigned long k = strtoul(s, &end, 0);
  if (end == s || *end != '\0' || k == 0 || k > 0xffffffffUL) {
    dprintf(2, "probe_ipc: not a key: '%s'\n", s);
    exit(probes::kUsageExit);
  }
  return static_cast<key_t>(k);
}

}  // namespace

int main(int argc, char** argv) {
  alarm(30);  // nothing here blocks, but a probe never outlives a test
  if (argc >= 3) {
    const char* mode = argv[1];
    const char* what = argv[2];
    if (argc == 4 && strcmp(mode, "sysv-write") == 0) return SysvWrite(ParseKeyOrDie(what), argv[3]);
    if (argc == 3 && strcmp(mode, "sysv-read") == 0) return SysvRead(ParseKeyOrDie(what));
    if (argc == 4 && strcmp(mode, "shm-write") == 0) return ShmWrite(what, argv[3]);
    if (argc == 3 && strcmp(mode, "shm-read") == 0) return ShmRead(what);
    if (argc == 4 && strcmp(mode, "mq-write") == 0) return MqWrite(what, argv[3]);
    if (argc == 3 && strcmp(mode, "mq-read") == 0) return MqRead(what);
  }
  dprintf(2, "usage: probe_ipc sysv-write KEY TEXT | sysv-read KEY | shm-write NAME TEXT | shm-read NAME |"
             " mq-write NAME TEXT | mq-read NAME\n");
  return probes::kUsageExit;
}
