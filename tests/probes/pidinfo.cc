// probe_pidinfo: prints where it runs, one "key=value" line each: its ids,
// its place relative to its parent (process group, session, terminal), the
// signal mask and ignored set it started with, its cwd, open fds >= 3 and
// whose pid LISTEN_PID names (socket activation).
// With --relations only the lines that do not depend on pid numbers, so two
// inits can be compared byte for byte. Runs under the init; glibc.
//
//   probe_pidinfo [--relations] [--exit CODE]
#include <dirent.h>

#include <algorithm>

#include <string>
#include <vector>

#include "tests/probes/probe_util.h"

namespace {

using probes::Line;

std::string ReadFile(const char* path) {
  std::string s;
  FILE* f = fopen(path, "r");
  if (f == nullptr) return s;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
  fclose(f);
  return s;
}

std::string StatusField(const std::string& status, const char* key) {
  const std::string k = std::string(key) + ":\t";
  const size_t at = status.find(k);
  if (at == std::string::npos) return "?";
  const size_t end = status.find('\n', at);
  return status.substr(at + k.size(), end - at - k.size());
}

// Field n (1-based) of /proc/self/stat, counting after the ")" of comm.
long StatField(int n) {
  const std::string stat = ReadFile("/proc/self/stat");
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return -1;
  const char* p = stat.c_str() + paren + 2;  // field 3 (state)
  for (int field = 3; field < n; ++field) {
    p = strchr(p, ' ');
    if (p == nullptr) return -1;
    ++p;
  }
  return strtol(p, nullptr, 10);
}

std::string OpenFds() {
  std::string fds;
  DIR* d = opendir("/proc/self/fd");
  if (d == nullptr) return "?";
  const int own = dirfd(d);
  std::vector<int> v;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    const int fd = atoi(e->d_name);
    if (fd >= 3 && fd != own) v.push_back(fd);
  }
  closedir(d);
  std::sort(v.begin(), v.end());
  for (int fd : v) {
    if (!fds.empty()) fds += ',';
    fds += std::to_string(fd);
  }
  return fds.empty() ? "none" : fds;
}

}  // namespace

int main(int argc, char** argv) {
  bool relations = false;
  int exit_code = 0;
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--relations") == 0) {
      relations = true;
    } else if (strcmp(argv[i], "--exit") == 0 && i + 1 < argc) {
      exit_code = probes::ParseIntOrDie(argv[++i]);
    } else {
      dprintf(2, "probe_pidinfo: unknown option '%s'\n", argv[i]);
      return probes::kUsageExit;
    }
  }
  const pid_t pid = getpid();
  const pid_t ppid = getppid();
  const pid_t pgid = getpgrp();
  const pid_t sid = getsid(0);
  const long tty_nr = StatField(7);
  const long tpgid = StatField(8);
  const std::string status = ReadFile("/proc/self/status");
  char cwd[4096];
  if (getcwd(cwd, sizeof cwd) == nullptr) strcpy(cwd, "?");

  if (!relations) {
    Line("pid=%d", pid);
    Line("ppid=%d", ppid);
    Line("pgid=%d", pgid);
    Line("sid=%d", sid);
    Line("tpgid=%ld", tpgid);
  }
  Line("pgrp_leader=%d", pgid == pid);
  Line("session_leader=%d", sid == pid);
  Line("parent_pgrp=%d", getpgid(ppid) == pgid);
  Line("parent_session=%d", getsid(ppid) == sid);
  Line("ctty=%d", tty_nr != 0);
  Line("foreground=%d", tty_nr != 0 && tpgid == pgid);
  Line("sigblk=%s", StatusField(status, "SigBlk").c_str());
  Line("sigign=%s", StatusField(status, "SigIgn").c_str());
  Line("cwd=%s", cwd);
  Line("fds=%s", OpenFds().c_str());
  const char* listen = getenv("LISTEN_PID");
  const int listen_pid = listen != nullptr ? atoi(listen) : 0;
  Line("listen_pid=%s", listen == nullptr       ? "unset"
                        : listen_pid == pid     ? "self"
                        : listen_pid == ppid    ? "parent"
                                                : "other");
  return exit_code;
}
