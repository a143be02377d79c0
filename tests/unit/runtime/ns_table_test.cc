// The namespace table of a pod: whose each namespace is, as text and as
// JSON (the schema the pod's integration test compares), and
// ReadNamespaces on processes of our own (no privileges needed).
#include "runtime/ns_table.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace runtime {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Inodes in NsKind order: cgroup, ipc, mnt, net, pid, time, user, uts.
NsInodes Ns(std::vector<uint64_t> v) {
  NsInodes out{};
  for (size_t i = 0; i < v.size() && i < kNsKinds; ++i) {
    if (v[i] != 0) out[i] = v[i];
  }
  return out;
}

// The classic Pod: the holder owns net and ipc (and pid with
// shareProcessNamespace), each container its mnt, uts and pid; cgroup,
// time and user stay the host's. `shell` shares web's uts (a pair made by
// hand) to show `shared`.
std::vector<NsColumn> ClassicPod() {
  return {
      {"host", ColumnRole::kHost, Ns({1, 2, 3, 4, 5, 6, 7, 8})},
      {"pause", ColumnRole::kHolder, Ns({1, 20, 30, 40, 50, 6, 7, 80})},
      {"web", ColumnRole::kContainer, Ns({1, 20, 31, 40, 51, 6, 7, 81})},
      {"shell", ColumnRole::kContainer, Ns({1, 20, 32, 40, 52, 6, 7, 81})},
  };
}

std::vector<std::string> Owners(const NsTable& t, NsKind kind) {
  std::vector<std::string> out;
  for (const NsCell& c : t.cells[static_cast<size_t>(kind)]) out.push_back(NsOwnerName(c.owner));
  return out;
}

TEST(ClassifyNamespaces, TheClassicPod) {
  const NsTable t = ClassifyNamespaces(ClassicPod());
  EXPECT_THAT(Owners(t, NsKind::kCgroup), ElementsAre("host", "host", "host", "host"));
  EXPECT_THAT(Owners(t, NsKind::kIpc), ElementsAre("host", "pod", "pod", "pod"));
  EXPECT_THAT(Owners(t, NsKind::kNet), ElementsAre("host", "pod", "pod", "pod"));
  EXPECT_THAT(Owners(t, NsKind::kMnt), ElementsAre("host", "pod", "own", "own"));
  EXPECT_THAT(Owners(t, NsKind::kPid), ElementsAre("host", "pod", "own", "own"));
  EXPECT_THAT(Owners(t, NsKind::kUser), ElementsAre("host", "host", "host", "host"));
  EXPECT_THAT(Owners(t, NsKind::kUts), ElementsAre("host", "pod", "shared", "shared"));
  EXPECT_THAT(t.cells[static_cast<size_t>(NsKind::kUts)][2].shared_with, ElementsAre("shell"));
  EXPECT_THAT(t.cells[static_cast<size_t>(NsKind::kUts)][3].shared_with, ElementsAre("web"));
  EXPECT_EQ(t.cells[static_cast<size_t>(NsKind::kNet)][2].inode, 40u);
}

TEST(ClassifyNamespaces, WithoutAHolderOrAHostAndWithAbsentTypes) {
  // `inspect --namespaces a b c`: no holder; c runs with --net host.
  NsTable t = ClassifyNamespaces({
      {"host", ColumnRole::kHost, Ns({1, 2, 3, 4, 5, 0, 7, 8})},
      {"a", ColumnRole::kContainer, Ns({10, 20, 30, 40, 50, 0, 7, 80})},
      {"b", ColumnRole::kContainer, Ns({11, 20, 31, 40, 51, 0, 7, 81})},
      {"c", ColumnRole::kContainer, Ns({12, 21, 32, 4, 52, 0, 7, 82})},
  });
  EXPECT_THAT(Owners(t, NsKind::kNet), ElementsAre("host", "shared", "shared", "host"));
  EXPECT_THAT(Owners(t, NsKind::kIpc), ElementsAre("host", "shared", "shared", "own"));
  EXPECT_THAT(Owners(t, NsKind::kTime), ElementsAre("absent", "absent", "absent", "absent"));
  EXPECT_THAT(t.cells[static_cast<size_t>(NsKind::kNet)][1].shared_with, ElementsAre("b"));
  // No host column: a holder's is the pod's, a container's its own.
  t = ClassifyNamespaces({{"p", ColumnRole::kHolder, Ns({1, 2})}, {"x", ColumnRole::kContainer, Ns({1, 3})}});
  EXPECT_THAT(Owners(t, NsKind::kCgroup), ElementsAre("pod", "pod"));
  EXPECT_THAT(Owners(t, NsKind::kIpc), ElementsAre("pod", "own"));
}

TEST(RenderNsTable, AlignedColumns) {
  const std::string text = RenderNsTable(ClassifyNamespaces(ClassicPod()));
  EXPECT_EQ(text,
            "NAMESPACE  host  pause (holder)  web              shell\n"
            "cgroup     1     1 host          1 host           1 host\n"
            "ipc        2     20 pod          20 pod           20 pod\n"
            "mnt        3     30 pod          31 own           32 own\n"
            "net        4     40 pod          40 pod           40 pod\n"
            "pid        5     50 pod          51 own           52 own\n"
            "time       6     6 host          6 host           6 host\n"
            "user       7     7 host          7 host           7 host\n"
            "uts        8     80 pod          81 shared:shell  81 shared:web\n");
  NsTable absent = ClassifyNamespaces({{"host", ColumnRole::kHost, Ns({1})}, {"a", ColumnRole::kContainer, Ns({})}});
  EXPECT_THAT(RenderNsTable(absent), HasSubstr("time       -     -\n"));
}

TEST(NsTableJson, TheDocumentedSchema) {
  NsTable t = ClassifyNamespaces({
      {"host", ColumnRole::kHost, Ns({1, 2, 3, 4, 5, 0, 7, 8})},
      {"pause", ColumnRole::kHolder, Ns({1, 20, 30, 40, 50, 0, 7, 80})},
      {"web", ColumnRole::kContainer, Ns({1, 20, 31, 40, 51, 0, 7, 81})},
      {"shell", ColumnRole::kContainer, Ns({1, 20, 32, 40, 52, 0, 7, 81})},
  });
  EXPECT_EQ(NsTableJson(t).dump(),
            R"({"columns":[{"label":"host","role":"host"},{"label":"pause","role":"holder"},)"
            R"({"label":"web","role":"container"},{"label":"shell","role":"container"}],)"
            R"("namespaces":{)"
            R"("cgroup":[{"inode":1,"owner":"host"},{"inode":1,"owner":"host"},{"inode":1,"owner":"host"},{"inode":1,"owner":"host"}],)"
            R"("ipc":[{"inode":2,"owner":"host"},{"inode":20,"owner":"pod"},{"inode":20,"owner":"pod"},{"inode":20,"owner":"pod"}],)"
            R"("mnt":[{"inode":3,"owner":"host"},{"inode":30,"owner":"pod"},{"inode":31,"owner":"own"},{"inode":32,"owner":"own"}],)"
            R"("net":[{"inode":4,"owner":"host"},{"inode":40,"owner":"pod"},{"inode":40,"owner":"pod"},{"inode":40,"owner":"pod"}],)"
            R"("pid":[{"inode":5,"owner":"host"},{"inode":50,"owner":"pod"},{"inode":51,"owner":"own"},{"inode":52,"owner":"own"}],)"
            R"("time":[{"inode":null,"owner":"absent"},{"inode":null,"owner":"absent"},{"inode":null,"owner":"absent"},{"inode":null,"owner":"absent"}],)"
            R"("user":[{"inode":7,"owner":"host"},{"inode":7,"owner":"host"},{"inode":7,"owner":"host"},{"inode":7,"owner":"host"}],)"
            R"("uts":[{"inode":8,"owner":"host"},{"inode":80,"owner":"pod"},)"
            R"({"inode":81,"owner":"shared","with":["shell"]},{"inode":81,"owner":"shared","with":["web"]}]}})");
}

uint64_t InodeOf(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_ino) : 0;
}

TEST(ReadNamespaces, AChildOfOursAndOneThatHasExited) {
  int hold[2];
  ASSERT_EQ(pipe2(hold, O_CLOEXEC), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(hold[1]);
    alarm(30);
    char c;
    (void)!read(hold[0], &c, 1);
    _exit(0);
  }
  close(hold[0]);
  const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  ASSERT_GE(pidfd, 0);
  absl::StatusOr<NsInodes> ns = ReadNamespaces(pid, pidfd);
  ASSERT_TRUE(ns.ok()) << ns.status();
  for (size_t i = 0; i < kNsKinds; ++i) {
    const std::string own = std::string("/proc/self/ns/") + NsKindName(static_cast<NsKind>(i));
    if (access(own.c_str(), F_OK) != 0) {
      EXPECT_FALSE((*ns)[i].has_value()) << own;
    } else {
      EXPECT_EQ((*ns)[i], InodeOf(own)) << own;
    }
  }
  // The pidfd must name the pid.
  absl::StatusOr<NsInodes> wrong = ReadNamespaces(getpid(), pidfd);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kInvalidArgument);
  wrong = ReadNamespaces(pid, hold[1]);
  ASSERT_FALSE(wrong.ok());
  EXPECT_THAT(wrong.status().message(), HasSubstr("is not a pidfd"));

  // Exited (a zombie still holds the pid): no namespaces.
  close(hold[1]);
  siginfo_t info{};
  ASSERT_EQ(waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT), 0);
  absl::StatusOr<NsInodes> gone = ReadNamespaces(pid, pidfd);
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(gone.status().message(), HasSubstr("has exited"));
  waitpid(pid, nullptr, 0);
  gone = ReadNamespaces(pid, pidfd);
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.status().code(), absl::StatusCode::kNotFound);
  close(pidfd);
}

}  // namespace
}  // namespace runtime
