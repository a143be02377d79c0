// The container state store without root: state.json's writer and its
// bounds-checked reader (every field, hostile and foreign files), the name
// rule, the private directory tree under $MINIPOD_STATE_DIR (creation,
// atomic replacement, listing, removal that never follows a link), and
// processes identified by pid and start time (real children, real zombies,
// /proc/PID/stat with a hostile command name). The few checks that need
// root (another owner, a full file system) skip without it.
#include "runtime/state.h"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rootfs/tree_writer.h"
#include "tests/testing/child_report.h"

namespace runtime {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

// A state with every field away from its default, so a field the writer
// or the reader forgets shows up as a difference.
ContainerState FullState() {
  ContainerState s;
  s.kind = Kind::kPod;
  s.name = "web.1_a-B";
  s.id = "0123456789abcdef0123456789abcdef";
  s.pod = "mypod";
  s.command = {"busybox", "httpd", "-f", "-p", "80", "", "a b\tc\n\"q\"\\"};
  s.rootfs = "/srv/roots/web";
  s.created = "2026-12-05T13:00:00.000000001Z";
  s.started = "2026-12-05T13:00:01.5Z";
  s.finished = "2026-12-05T13:00:02Z";
  s.status = "exited";
  s.monitor = {123, 4567};
  s.init = {2147483647, 18446744073709551615ull};
  s.exit_code = -7;
  s.signal = 9;
  s.oom = true;
  s.cgroups = {"/sys/fs/cgroup/memory/minipod-pod-p-1a2b3c4d/minipod-web", "/sys/fs/cgroup/pids/minipod-web"};
  s.ports = {"0.0.0.0:8080->80/tcp", "127.0.0.1:53->53/udp"};
  s.namespaces = {{"net", 4026531840ull}, {"pid", 18446744073709551615ull}, {"uts", 0}};
  s.share = {"net", "ipc", "uts"};
  s.limits.memory_bytes = 33554432;
  s.limits.pids = 4194304;
  s.limits.cpus = 0.015;
  s.tty = true;
  s.interactive = true;
  s.auto_remove = true;
  s.args = {"run", "-d", "--name", "web.1_a-B", "--", "busybox"};
  s.exec.caps = 0xffffffffffffffffull;
  s.exec.uid = 4294967295u;
  s.exec.gid = 65534;
  s.exec.env = {"PATH=/bin", "EMPTY=", "X=y=z"};
  s.exec.workdir = "/var/www";
  s.exec.seccomp = true;
  return s;
}

void ExpectSameState(const ContainerState& a, const ContainerState& b) {
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.id, b.id);
  EXPECT_EQ(a.pod, b.pod);
  EXPECT_EQ(a.command, b.command);
  EXPECT_EQ(a.rootfs, b.rootfs);
  EXPECT_EQ(a.created, b.created);
  EXPECT_EQ(a.started, b.started);
  EXPECT_EQ(a.finished, b.finished);
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.monitor, b.monitor);
  EXPECT_EQ(a.init, b.init);
  EXPECT_EQ(a.exit_code, b.exit_code);
  EXPECT_EQ(a.signal, b.signal);
  EXPECT_EQ(a.oom, b.oom);
  EXPECT_EQ(a.cgroups, b.cgroups);
  EXPECT_EQ(a.ports, b.ports);
  EXPECT_EQ(a.namespaces, b.namespaces);
  EXPECT_EQ(a.share, b.share);
  EXPECT_EQ(a.limits.memory_bytes, b.limits.memory_bytes);
  EXPECT_EQ(a.limits.pids, b.limits.pids);
  EXPECT_EQ(a.limits.cpus, b.limits.cpus);
  EXPECT_EQ(a.tty, b.tty);
  EXPECT_EQ(a.interactive, b.interactive);
  EXPECT_EQ(a.auto_remove, b.auto_remove);
  EXPECT_EQ(a.args, b.args);
  EXPECT_EQ(a.exec.caps, b.exec.caps);
  EXPECT_EQ(a.exec.uid, b.exec.uid);
  EXPECT_EQ(a.exec.gid, b.exec.gid);
  EXPECT_EQ(a.exec.env, b.exec.env);
  EXPECT_EQ(a.exec.workdir, b.exec.workdir);
  EXPECT_EQ(a.exec.seccomp, b.exec.seccomp);
}

// ---------------------------------------------------------------------------
// SerializeState / ParseState

TEST(StateJson, OnlyMinipodCgroupsAreAccepted) {
  EXPECT_TRUE(IsContainerCgroupPath("/sys/fs/cgroup/minipod-1a2b"));
  EXPECT_TRUE(IsContainerCgroupPath("/sys/fs/cgroup/memory/minipod-pod-p-1/minipod-1a2b"));
  EXPECT_FALSE(IsContainerCgroupPath("/sys/fs/cgroup/system.slice"));
  EXPECT_FALSE(IsContainerCgroupPath("/sys/fs/cgroup/minipod-1/.."));
  EXPECT_FALSE(IsContainerCgroupPath("/sys/fs/cgroup/../../minipod-1"));
  EXPECT_FALSE(IsContainerCgroupPath("sys/fs/cgroup/minipod-1"));
  EXPECT_FALSE(IsContainerCgroupPath("/sys/fs/cgroup//minipod-1"));
  EXPECT_FALSE(IsContainerCgroupPath("/sys/fs/cgroup/minipod-1/"));
  EXPECT_FALSE(IsContainerCgroupPath(""));
  ContainerState s;
  s.name = "c";
  s.cgroups = {"/sys/fs/cgroup/system.slice"};
  EXPECT_FALSE(ParseState(SerializeState(s)).ok()) << "rm and exec act on these paths";
}

TEST(StateJson, EveryFieldSurvivesARoundTrip) {
  const ContainerState s = FullState();
  const std::string text = SerializeState(s);
  absl::StatusOr<ContainerState> back = ParseState(text);
  ASSERT_TRUE(back.ok()) << back.status() << "\n" << text;
  ExpectSameState(s, *back);
  EXPECT_EQ(SerializeState(*back), text);
}

TEST(StateJson, TheDefaultStateSurvivesARoundTrip) {
  ContainerState s;
  s.name = "a";
  absl::StatusOr<ContainerState> back = ParseState(SerializeState(s));
  ASSERT_TRUE(back.ok()) << back.status();
  ExpectSameState(s, *back);
  EXPECT_EQ(back->kind, Kind::kContainer);
  EXPECT_EQ(back->status, "created");
  EXPECT_EQ(back->exit_code, -1);
  EXPECT_EQ(back->exec.workdir, "/");
}

TEST(StateJson, EveryFieldIsWrittenUnderItsStableName) {
  const std::string text = SerializeState(FullState());
  for (const char* key : {"version", "kind", "name", "id", "pod", "command", "rootfs", "created", "started",
                          "finished", "status", "monitor", "init", "pid", "start_time", "exit_code", "signal", "oom",
                          "cgroups", "ports", "namespaces", "share", "limits", "memory", "pids", "cpus", "tty", "interactive", "auto_remove", "args",
                          "exec", "caps", "uid", "gid", "env", "workdir", "seccomp"}) {
    EXPECT_THAT(text, HasSubstr(absl::StrCat("\"", key, "\":"))) << key;
  }
  EXPECT_THAT(text, HasSubstr("\"kind\": \"pod\""));
  EXPECT_EQ(text.back(), '\n');
}

TEST(StateJson, ControlAndNulBytesInAnArgumentComeBackExactly) {
  ContainerState s;
  s.name = "a";
  s.command = {std::string("nul\0inside", 10), "\x01\x1f\x7f", "tab\there"};
  absl::StatusOr<ContainerState> back = ParseState(SerializeState(s));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->command, s.command);
}

// A command line is bytes, JSON is UTF-8: the writer replaces each invalid
// sequence with U+FFFD rather than fail (the state must always be
// writable), so inspect shows the replacement, not the bytes that ran.
// Valid UTF-8 comes back unchanged.
TEST(StateJson, NonUtf8BytesInAnArgumentComeBackAsReplacementCharacters) {
  ContainerState s;
  s.name = "a";
  s.command = {"a\xff" "b", "\xc3\xa9t\xc3\xa9", "\xc3", "\xed\xa0\x80"};
  s.exec.env = {"K=\xfe"};
  const std::string text = SerializeState(s);
  absl::StatusOr<ContainerState> back = ParseState(text);
  ASSERT_TRUE(back.ok()) << back.status() << "\n" << text;
  const std::string fffd = "\xef\xbf\xbd";
  ASSERT_EQ(back->command.size(), 4u);
  EXPECT_EQ(back->command[0], "a" + fffd + "b");
  EXPECT_EQ(back->command[1], "\xc3\xa9t\xc3\xa9");  // valid UTF-8 is kept
  EXPECT_EQ(back->command[2], fffd);                 // a truncated sequence
  EXPECT_THAT(back->command[3], HasSubstr(fffd));    // an encoded surrogate
  EXPECT_EQ(back->command[3].find('\xed'), std::string::npos);
  EXPECT_THAT(back->exec.env, ElementsAre("K=" + fffd));
  // The result is stable: writing it again changes nothing.
  EXPECT_EQ(SerializeState(*back), text);
}

// What a state.json looks like with one field changed: key -> raw JSON.
std::string StateWith(const std::string& key, const std::string& raw_value) {
  ContainerState s;
  s.name = "a";
  std::string text = SerializeState(s);
  const std::string needle = absl::StrCat("\"", key, "\": ");
  const size_t at = text.find(needle);
  if (at == std::string::npos) {
    // Not a top-level key of the writer's: add it in front.
    return absl::StrCat("{\"", key, "\": ", raw_value, ",", text.substr(1));
  }
  const size_t begin = at + needle.size();
  // The value ends at the line's end (the writer puts one field per line,
  // nested objects and arrays spread over several: find the matching close).
  size_t end = begin;
  int depth = 0;
  for (; end < text.size(); ++end) {
    const char c = text[end];
    if (c == '"') {
      for (++end; end < text.size() && text[end] != '"'; ++end) {
        if (text[end] == '\\') ++end;
      }
      continue;
    }
    if (c == '{' || c == '[') ++depth;
    if (c == '}' || c == ']') {
      if (depth == 0) break;
      --depth;
    }
    if (depth == 0 && (c == ',' || c == '\n')) break;
  }
  if (depth == 0 && end < text.size() && (text[end] == '}' || text[end] == ']')) ++end;
  return text.substr(0, begin) + raw_value + text.substr(end);
}

TEST(StateJson, TheEditHelperChangesOneField) {
  absl::StatusOr<ContainerState> s = ParseState(StateWith("monitor", R"({"pid": 5, "start_time": 6})"));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->monitor, (ProcessRef{5, 6}));
  s = ParseState(StateWith("exit_code", "3"));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->exit_code, 3);
  s = ParseState(StateWith("exec", R"({"uid": 7})"));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->exec.uid, 7u);
  EXPECT_EQ(s->exec.workdir, "/");
}

struct BadCase {
  const char* key;
  const char* value;
  const char* message;  // the error names the field and the reason
};

TEST(StateJson, AFieldOfTheWrongTypeOrOutOfRangeIsAnErrorNamingIt) {
  const BadCase cases[] = {
      {"version", "\"1\"", "version: not an integer"},
      {"version", "1.0", "version: not an integer"},
      {"kind", "1", "kind: not a string"},
      {"name", "null", "name: not a string"},
      {"id", "[]", "id: not a string"},
      {"pod", "{}", "pod: not a string"},
      {"command", "\"sh\"", "command: not an array"},
      {"command", "[\"sh\", 1]", "command: an element is not a string"},
      {"command", "[null]", "command: an element is not a string"},
      {"rootfs", "true", "rootfs: not a string"},
      {"created", "0", "created: not a string"},
      {"started", "0", "started: not a string"},
      {"finished", "0", "finished: not a string"},
      {"status", "1", "status: not a string"},
      {"monitor", "7", "monitor: not an object"},
      {"monitor", "[1, 2]", "monitor: not an object"},
      {"monitor", R"({"pid": "1"})", "pid: not an integer"},
      {"monitor", R"({"pid": 1.5})", "pid: not an integer"},
      {"monitor", R"({"start_time": -1})", "start_time: out of range"},
      {"monitor", R"({"start_time": 18446744073709551616})", "start_time: not an integer"},
      {"init", R"({"pid": 2147483648})", "pid: out of range"},
      {"init", R"({"pid": 9223372036854775807})", "pid: out of range"},
      {"init", R"({"pid": 18446744073709551615})", "pid: out of range"},
      {"init", R"({"pid": 1e30})", "pid: not an integer"},
      {"init", R"({"pid": -2147483649})", "pid: out of range"},
      {"exit_code", "2147483648", "exit_code: out of range"},
      {"exit_code", "-2147483649", "exit_code: out of range"},
      {"exit_code", "-9223372036854775808", "exit_code: out of range"},
      {"exit_code", "null", "exit_code: not an integer"},
      {"signal", "\"KILL\"", "signal: not an integer"},
      {"oom", "0", "oom: not a boolean"},
      {"oom", "\"true\"", "oom: not a boolean"},
      {"cgroups", "{}", "cgroups: not an array"},
      {"ports", "[[]]", "ports: an element is not a string"},
      {"namespaces", "[]", "namespaces: not an object"},
      {"namespaces", R"({"net": -1})", "namespaces: net: not an inode number"},
      {"namespaces", R"({"net": "4026531840"})", "namespaces: net: not an inode number"},
      {"namespaces", R"({"net": 1.5})", "namespaces: net: not an inode number"},
      {"share", "\"net\"", "share: not an array"},
      {"limits", "[]", "limits: not an object"},
      {"limits", R"({"memory": "32m"})", "memory: not an integer"},
      {"limits", R"({"memory": 4096})", "limits: memory below the minimum"},
      {"limits", R"({"pids": 0})", "limits: pids out of range"},
      {"limits", R"({"pids": 4194305})", "limits: pids out of range"},
      {"limits", R"({"cpus": "1"})", "limits: cpus not a number of CPUs"},
      {"limits", R"({"cpus": 0})", "limits: cpus not a number of CPUs"},
      {"limits", R"({"cpus": 1e300})", "limits: cpus not a number of CPUs"},
      {"tty", "1", "tty: not a boolean"},
      {"interactive", "null", "interactive: not a boolean"},
      {"auto_remove", "[]", "auto_remove: not a boolean"},
      {"args", "[{}]", "args: an element is not a string"},
      {"exec", "[]", "exec: not an object"},
      {"exec", R"({"caps": -1})", "caps: out of range"},
      {"exec", R"({"caps": 18446744073709551616})", "caps: not an integer"},
      {"exec", R"({"uid": -1})", "uid: out of range"},
      {"exec", R"({"uid": 4294967296})", "uid: out of range"},
      {"exec", R"({"gid": 4294967296})", "gid: out of range"},
      {"exec", R"({"env": "A=B"})", "env: not an array"},
      {"exec", R"({"workdir": 0})", "workdir: not a string"},
      {"exec", R"({"seccomp": "yes"})", "seccomp: not a boolean"},
  };
  for (const BadCase& c : cases) {
    const std::string text = StateWith(c.key, c.value);
    absl::StatusOr<ContainerState> s = ParseState(text);
    ASSERT_FALSE(s.ok()) << c.key << " = " << c.value << " was accepted:\n" << text;
    EXPECT_EQ(s.status().code(), absl::StatusCode::kDataLoss) << s.status();
    EXPECT_THAT(std::string(s.status().message()), HasSubstr(c.message)) << c.key << " = " << c.value;
  }
}

TEST(StateJson, NumbersAtTheEdgesOfTheirRangeAreAccepted) {
  absl::StatusOr<ContainerState> s =
      ParseState(StateWith("init", R"({"pid": 2147483647, "start_time": 18446744073709551615})"));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->init, (ProcessRef{2147483647, 18446744073709551615ull}));
  s = ParseState(StateWith("exit_code", "-2147483648"));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->exit_code, -2147483648);
  s = ParseState(StateWith("exec", R"({"caps": 18446744073709551615, "uid": 4294967295, "gid": 0})"));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->exec.caps, 18446744073709551615ull);
  EXPECT_EQ(s->exec.uid, 4294967295u);
}

TEST(StateJson, ANegativePidIsRefused) {
  for (const char* key : {"monitor", "init"}) {
    for (const char* pid : {"-1", "-2147483648"}) {
      absl::StatusOr<ContainerState> s = ParseState(StateWith(key, absl::StrCat(R"({"pid": )", pid, "}")));
      ASSERT_FALSE(s.ok()) << key << " " << pid;
      EXPECT_THAT(std::string(s.status().message()), HasSubstr(absl::StrCat(key, ": negative pid")));
    }
  }
}

TEST(StateJson, AnUnknownVersionKindOrStatusIsRefused) {
  const BadCase cases[] = {
      {"version", "0", "unknown version 0"},
      {"version", "2", "unknown version 2"},
      {"version", "-1", "unknown version -1"},
      {"version", "4294967297", "version: out of range"},
      {"kind", "\"vm\"", "unknown kind \"vm\""},
      {"kind", "\"Container\"", "unknown kind"},
      {"kind", "\"\"", "unknown kind"},
      // `lost` is derived, never stored: a file that says so is not ours.
      {"status", "\"lost\"", "unknown status \"lost\""},
      {"status", "\"paused\"", "unknown status"},
      {"status", "\"\"", "unknown status"},
  };
  for (const BadCase& c : cases) {
    absl::StatusOr<ContainerState> s = ParseState(StateWith(c.key, c.value));
    ASSERT_FALSE(s.ok()) << c.key << " = " << c.value;
    EXPECT_THAT(std::string(s.status().message()), HasSubstr(c.message)) << s.status();
  }
  // Without a version it is not ours either.
  absl::StatusOr<ContainerState> s = ParseState(R"({"kind": "container", "name": "a"})");
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("unknown version 0"));
  // Every known status is accepted.
  for (const char* status : {"created", "running", "exited"}) {
    s = ParseState(StateWith("status", absl::StrCat("\"", status, "\"")));
    ASSERT_TRUE(s.ok()) << status << ": " << s.status();
    EXPECT_EQ(s->status, status);
  }
}

TEST(StateJson, ANameThatFailsCheckNameIsRefused) {
  for (const char* name : {"\"\"", "\"../etc\"", "\"a/b\"", "\".hidden\"", "\"-x\"", "\"a b\"", "\"a\\u0000b\"",
                           "\"\\u00e9\""}) {
    absl::StatusOr<ContainerState> s = ParseState(StateWith("name", name));
    ASSERT_FALSE(s.ok()) << name;
    EXPECT_THAT(std::string(s.status().message()), HasSubstr("state.json: name: ")) << s.status();
  }
  absl::StatusOr<ContainerState> s = ParseState(StateWith("name", absl::StrCat("\"", std::string(65, 'a'), "\"")));
  ASSERT_FALSE(s.ok());
  // A missing name is the empty name.
  s = ParseState(R"({"version": 1})");
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("name: a name cannot be empty"));
}

TEST(StateJson, AFileThatIsNotAnObjectIsRefused) {
  for (const char* text : {"", " ", "null", "1", "\"state\"", "[]", "[{\"version\": 1, \"name\": \"a\"}]", "true"}) {
    absl::StatusOr<ContainerState> s = ParseState(text);
    ASSERT_FALSE(s.ok()) << text;
    EXPECT_EQ(s.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_THAT(std::string(s.status().message()), HasSubstr("state.json: file: ")) << s.status();
  }
}

TEST(StateJson, EveryTruncationOfAStateIsRefused) {
  const std::string text = SerializeState(FullState());
  // The text without its final newline is still the whole object.
  ASSERT_EQ(text.back(), '\n');
  for (size_t n = 0; n + 1 < text.size(); ++n) {
    absl::StatusOr<ContainerState> s = ParseState(absl::string_view(text.data(), n));
    ASSERT_FALSE(s.ok()) << "a prefix of " << n << " bytes was accepted";
    EXPECT_THAT(std::string(s.status().message()), HasSubstr("not valid JSON")) << n;
  }
  EXPECT_TRUE(ParseState(absl::string_view(text.data(), text.size() - 1)).ok());
}

TEST(StateJson, GarbageAfterTheObjectIsRefused) {
  const std::string text = SerializeState(FullState());
  for (const std::string& tail : {std::string("x"), std::string("{}"), std::string("}"), std::string(1, '\0'),
                                 std::string("\0{\"anything\": 1}", 17)}) {
    EXPECT_FALSE(ParseState(text + tail).ok()) << "tail of " << tail.size() << " bytes";
  }
}

// nlohmann's lexer reads a NUL byte as the end of input: a raw NUL (never
// in JSON text) must not hide what follows it.
TEST(StateJson, ANulByteAnywhereIsRefused) {
  const std::string text = SerializeState(FullState());
  for (size_t at : {size_t{0}, text.size() / 2, text.size() - 1, text.size()}) {
    std::string t = text;
    t.insert(at, 1, '\0');
    absl::StatusOr<ContainerState> s = ParseState(t);
    ASSERT_FALSE(s.ok()) << "NUL at " << at;
    EXPECT_EQ(s.status().code(), absl::StatusCode::kDataLoss);
  }
  absl::StatusOr<ContainerState> s = ParseState(std::string(R"({"version": 1, "name": "a"})") + '\0' + "junk");
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("NUL"));
}

TEST(StateJson, InvalidUtf8InTheFileIsRefused) {
  absl::StatusOr<ContainerState> s = ParseState(StateWith("rootfs", "\"/srv/\xff\""));
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("not valid JSON"));
  s = ParseState(StateWith("rootfs", "\"\\ud800\""));  // a lone surrogate escape
  EXPECT_FALSE(s.ok());
}

TEST(StateJson, UnknownFieldsAreIgnored) {
  absl::StatusOr<ContainerState> s = ParseState(StateWith("future_field", R"({"anything": [1, 2, 3]})"));
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->name, "a");
}

TEST(StateJson, ADuplicateKeyTakesItsLastValue) {
  absl::StatusOr<ContainerState> s = ParseState(R"({"version": 1, "name": "a", "name": "b"})");
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->name, "b");
  // The check applies to the value that stays.
  EXPECT_FALSE(ParseState(R"({"version": 1, "name": "a", "name": "../b"})").ok());
}

// nlohmann's parser keeps its nesting on the heap (no recursion), and so
// does the destructor since 3.10: a state.json of nothing but brackets,
// as deep as the 1 MiB limit allows, is refused or ignored without
// exhausting the stack.
TEST(StateJson, DeepNestingDoesNotExhaustTheStack) {
  constexpr size_t kDepth = 100000;
  const std::string open_arrays(kDepth, '['), close_arrays(kDepth, ']');
  // An unknown field is ignored, however deep.
  absl::StatusOr<ContainerState> s =
      ParseState(absl::StrCat(R"({"version": 1, "name": "a", "x": )", open_arrays, close_arrays, "}"));
  EXPECT_TRUE(s.ok()) << s.status();
  // In a known field it is the wrong type.
  s = ParseState(absl::StrCat(R"({"version": 1, "name": "a", "command": [)", open_arrays, close_arrays, "]}"));
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("command: an element is not a string"));
  // Unbalanced, and objects instead of arrays.
  EXPECT_FALSE(ParseState(open_arrays).ok());
  std::string objects;
  for (size_t i = 0; i < kDepth; ++i) objects += "{\"a\":";
  EXPECT_FALSE(ParseState(objects).ok());
  objects += "1" + std::string(kDepth, '}');
  s = ParseState(objects);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("unknown version 0"));
  // As deep as the size limit allows.
  const std::string deepest = std::string((1 << 20) / 2 - 1, '[') + std::string((1 << 20) / 2 - 1, ']');
  s = ParseState(deepest);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("not an object"));
}

TEST(StateJson, AFileOverOneMebibyteIsRefusedBeforeParsing) {
  // Valid JSON, an object padded with spaces: only the size is wrong.
  const std::string text = SerializeState(FullState());
  std::string big = text.substr(0, text.size() - 2) + std::string(2 << 20, ' ') + "}";
  absl::StatusOr<ContainerState> s = ParseState(big);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("too large"));
  // One byte over the limit is over it; at the limit it is read.
  big = text.substr(0, text.size() - 2);
  big += std::string((1 << 20) - big.size() - 1, ' ') + "}";
  ASSERT_EQ(big.size(), 1u << 20);
  EXPECT_TRUE(ParseState(big).ok());
  big.insert(big.size() - 1, " ");
  EXPECT_FALSE(ParseState(big).ok());
}

TEST(StateJson, ALargeRealisticStateFitsTheLimit) {
  ContainerState s = FullState();
  for (int i = 0; i < 2000; ++i) s.exec.env.push_back(absl::StrCat("VARIABLE_", i, "=", std::string(200, 'v')));
  const std::string text = SerializeState(s);
  ASSERT_LT(text.size(), 1u << 20);
  absl::StatusOr<ContainerState> back = ParseState(text);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->exec.env, s.exec.env);
}

// ---------------------------------------------------------------------------
// Names, ids, times

TEST(CheckName, FollowsDockersRule) {
  for (const std::string& good :
       {std::string("a"), std::string("Z"), std::string("0"), std::string("web"), std::string("a_b.c-d"),
        std::string("9-._"), std::string(64, 'x'), std::string("A") + std::string(63, '-')}) {
    EXPECT_TRUE(CheckName(good).ok()) << good;
  }
  for (const std::string& bad :
       {std::string(""), std::string(65, 'x'), std::string("_a"), std::string(".a"), std::string("-a"),
        std::string("."), std::string(".."), std::string("a/b"), std::string("/"), std::string("a b"),
        std::string("a\nb"), std::string("a:b"), std::string("a\0b", 3), std::string("\xc3\xa9"),
        std::string("a\xff"), std::string("a*"), std::string("a@b"), std::string("a+b")}) {
    absl::Status s = CheckName(bad);
    EXPECT_FALSE(s.ok()) << bad;
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  }
  EXPECT_THAT(std::string(CheckName(std::string(65, 'x')).message()), HasSubstr("longer than 64"));
  EXPECT_THAT(std::string(CheckName("a/b").message()), HasSubstr("\"a/b\""));
}

TEST(CheckName, AcceptsExactlyTheAllowedCharacters) {
  for (int c = 0; c < 256; ++c) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    const bool punct = c == '_' || c == '.' || c == '-';
    const std::string first(1, static_cast<char>(c));
    EXPECT_EQ(CheckName(first).ok(), alnum) << "first character " << c;
    EXPECT_EQ(CheckName("a" + first).ok(), alnum || punct) << "character " << c;
  }
}

TEST(RandomName, IsAValidNameAndVaries) {
  const std::string a = RandomName(), b = RandomName();
  EXPECT_TRUE(CheckName(a).ok()) << a;
  EXPECT_THAT(a, MatchesRegex("mp-[0-9a-f]{8}"));
  EXPECT_NE(a, b);
}

TEST(RandomId, Is32HexDigitsAndVaries) {
  const std::string a = RandomId(), b = RandomId();
  EXPECT_THAT(a, MatchesRegex("[0-9a-f]{32}"));
  EXPECT_NE(a, b);
}

TEST(NowRfc3339, IsUtcWithNanosecondsAndNow) {
  // time() reads a coarse clock that may lag CLOCK_REALTIME by a tick.
  struct timespec ts;
  ::clock_gettime(CLOCK_REALTIME, &ts);
  const time_t before = ts.tv_sec;
  const std::string now = NowRfc3339();
  ::clock_gettime(CLOCK_REALTIME, &ts);
  const time_t after = ts.tv_sec;
  ASSERT_THAT(now, MatchesRegex("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{9}Z"));
  struct tm tm = {};
  ASSERT_NE(::strptime(now.c_str(), "%Y-%m-%dT%H:%M:%S", &tm), nullptr);
  const time_t t = ::timegm(&tm);
  EXPECT_GE(t, before);
  EXPECT_LE(t, after);
  // Sorting the strings sorts the times.
  EXPECT_LE(now, NowRfc3339());
}

// ---------------------------------------------------------------------------
// Processes by pid and start time

// A child that waits until killed (bounded by an alarm if the test dies).
// Before it waits it can rename itself (comm) when the parent says so.
class Child {
 public:
  explicit Child(const char* comm = nullptr) {
    int go[2], ready[2];
    if (::pipe2(go, O_CLOEXEC) != 0 || ::pipe2(ready, O_CLOEXEC) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::alarm(60);
      char c;
      (void)!::write(ready[1], "r", 1);
      if (::read(go[0], &c, 1) == 1 && comm != nullptr) ::prctl(PR_SET_NAME, comm);
      (void)!::write(ready[1], "n", 1);
      for (;;) ::pause();
    }
    ::close(go[0]);
    ::close(ready[1]);
    go_ = go[1];
    ready_ = ready[0];
    char c;
    if (::read(ready_, &c, 1) != 1) Kill();
  }
  ~Child() {
    Kill();
    if (go_ >= 0) ::close(go_);
    if (ready_ >= 0) ::close(ready_);
  }
  // Lets the child rename itself; returns once it has.
  bool Rename() {
    char c;
    return ::write(go_, "g", 1) == 1 && ::read(ready_, &c, 1) == 1 && c == 'n';
  }
  // Ends the child and leaves it a zombie (not reaped).
  bool MakeZombie() {
    if (pid_ <= 0 || ::kill(pid_, SIGKILL) != 0) return false;
    siginfo_t info;
    return ::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOWAIT) == 0;
  }
  void Kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int go_ = -1, ready_ = -1;
};

// Field 22 of /proc/PID/stat read the simple way, for comparison: only
// valid when comm has no spaces or parentheses.
uint64_t NaiveStartTime(pid_t pid) {
  char buf[1024] = {};
  const int fd = ::open(absl::StrCat("/proc/", pid, "/stat").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  (void)!::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  unsigned long long v = 0;
  // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt
  // cmajflt utime stime cutime cstime priority nice threads itrealvalue starttime
  if (sscanf(buf, "%*d %*s %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
             &v) != 1) {
    return 0;
  }
  return v;
}

TEST(ReadStartTime, OfOurselvesIsField22AndStable) {
  const std::optional<uint64_t> t = ReadStartTime(::getpid());
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(*t, NaiveStartTime(::getpid()));
  EXPECT_EQ(ReadStartTime(::getpid()), t);
  const std::optional<ProcessRef> ref = RefOf(::getpid());
  ASSERT_TRUE(ref.has_value());
  EXPECT_EQ(*ref, (ProcessRef{::getpid(), *t}));
}

TEST(ReadStartTime, OfAChildIsNotBeforeOurs) {
  Child child;
  ASSERT_GT(child.pid(), 0);
  const std::optional<uint64_t> ours = ReadStartTime(::getpid()), theirs = ReadStartTime(child.pid());
  ASSERT_TRUE(ours.has_value());
  ASSERT_TRUE(theirs.has_value());
  EXPECT_GE(*theirs, *ours);
  EXPECT_EQ(*theirs, NaiveStartTime(child.pid()));
}

TEST(ReadStartTime, OfNoProcessIsNullopt) {
  EXPECT_FALSE(ReadStartTime(0).has_value());
  EXPECT_FALSE(ReadStartTime(-1).has_value());
  EXPECT_FALSE(ReadStartTime(std::numeric_limits<pid_t>::min()).has_value());
  EXPECT_FALSE(ReadStartTime(std::numeric_limits<pid_t>::max()).has_value());  // over pid_max
  EXPECT_FALSE(RefOf(0).has_value());
}

TEST(ReadStartTime, OfAZombieIsNullopt) {
  Child child;
  ASSERT_GT(child.pid(), 0);
  const std::optional<ProcessRef> ref = RefOf(child.pid());
  ASSERT_TRUE(ref.has_value());
  EXPECT_TRUE(Alive(*ref));
  ASSERT_TRUE(child.MakeZombie());
  // Still in /proc, state Z, until reaped.
  struct stat st;
  ASSERT_EQ(::stat(absl::StrCat("/proc/", child.pid(), "/stat").c_str(), &st), 0);
  EXPECT_FALSE(ReadStartTime(child.pid()).has_value());
  EXPECT_FALSE(RefOf(child.pid()).has_value());
  EXPECT_FALSE(Alive(*ref));
  absl::StatusOr<common::UniqueFd> fd = OpenProcess(*ref);
  ASSERT_FALSE(fd.ok());
  EXPECT_EQ(fd.status().code(), absl::StatusCode::kNotFound) << fd.status();
  child.Kill();
  EXPECT_FALSE(Alive(*ref));
  fd = OpenProcess(*ref);
  ASSERT_FALSE(fd.ok());
  EXPECT_EQ(fd.status().code(), absl::StatusCode::kNotFound) << fd.status();
}

// The command name is the process's to choose (15 bytes): one that looks
// like the end of the name followed by a zombie's fields must not move
// the parser off the real fields.
TEST(ReadStartTime, ACommandNameWithParenthesesAndSpacesDoesNotFoolIt) {
  for (const char* comm : {") (", "x) Z 1 1 1 1 1", ") X 0 0 0 0 0 (", "))))))))))))))", "(((", "a b c d e f g h"}) {
    Child child(comm);
    ASSERT_GT(child.pid(), 0);
    const std::optional<uint64_t> before = ReadStartTime(child.pid());
    ASSERT_TRUE(before.has_value());
    ASSERT_TRUE(child.Rename()) << comm;
    char seen[64] = {};
    const int fd = ::open(absl::StrCat("/proc/", child.pid(), "/comm").c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    (void)!::read(fd, seen, sizeof seen - 1);
    ::close(fd);
    ASSERT_EQ(std::string(seen), std::string(comm) + "\n");  // the rename took
    EXPECT_EQ(ReadStartTime(child.pid()), before) << comm;
    EXPECT_TRUE(Alive(ProcessRef{child.pid(), *before})) << comm;
  }
}

TEST(OpenProcess, OpensTheRecordedProcessOnly) {
  Child child;
  ASSERT_GT(child.pid(), 0);
  const std::optional<ProcessRef> ref = RefOf(child.pid());
  ASSERT_TRUE(ref.has_value());
  absl::StatusOr<common::UniqueFd> fd = OpenProcess(*ref);
  ASSERT_TRUE(fd.ok()) << fd.status();
  // The pidfd is the child's: signalling through it reaches it.
  ASSERT_EQ(::syscall(SYS_pidfd_send_signal, fd->get(), 0, nullptr, 0), 0);
  // Another start time: a process that reused the pid.
  for (uint64_t wrong : {ref->start_time + 1, ref->start_time - 1, uint64_t{0}}) {
    absl::StatusOr<common::UniqueFd> other = OpenProcess(ProcessRef{ref->pid, wrong});
    ASSERT_FALSE(other.ok()) << wrong;
    EXPECT_EQ(other.status().code(), absl::StatusCode::kNotFound) << other.status();
    EXPECT_THAT(std::string(other.status().message()), HasSubstr("reused"));
    EXPECT_FALSE(Alive(ProcessRef{ref->pid, wrong}));
  }
}

TEST(OpenProcess, OfNoProcessIsNotFound) {
  for (pid_t pid : {0, -1, std::numeric_limits<pid_t>::max()}) {
    absl::StatusOr<common::UniqueFd> fd = OpenProcess(ProcessRef{pid, 1});
    ASSERT_FALSE(fd.ok()) << pid;
    EXPECT_EQ(fd.status().code(), absl::StatusCode::kNotFound) << pid << ": " << fd.status();
    EXPECT_FALSE(Alive(ProcessRef{pid, 1}));
  }
  EXPECT_FALSE(Alive(ProcessRef{}));
}

TEST(Alive, FollowsAChildFromStartToReaping) {
  EXPECT_TRUE(Alive(*RefOf(::getpid())));
  Child child;
  ASSERT_GT(child.pid(), 0);
  const ProcessRef ref = *RefOf(child.pid());
  EXPECT_TRUE(Alive(ref));
  child.Kill();
  EXPECT_FALSE(Alive(ref));
}

TEST(ContainerStatus, IsLostWhenTheMonitorIsGone) {
  Child monitor;
  ASSERT_GT(monitor.pid(), 0);
  ContainerState s;
  s.monitor = *RefOf(monitor.pid());
  for (const char* status : {"created", "running"}) {
    s.status = status;
    EXPECT_EQ(s.Status(), status);
  }
  s.status = "exited";
  EXPECT_EQ(s.Status(), "exited");
  monitor.Kill();
  for (const char* status : {"created", "running"}) {
    s.status = status;
    EXPECT_EQ(s.Status(), "lost");
  }
  s.status = "exited";
  EXPECT_EQ(s.Status(), "exited");
  // A monitor recorded with another start time is not ours.
  s.monitor = *RefOf(::getpid());
  s.monitor.start_time += 1;
  s.status = "running";
  EXPECT_EQ(s.Status(), "lost");
}

// ---------------------------------------------------------------------------
// Namespaces

TEST(ReadNamespaceInodes, OfOurselvesMatchesProc) {
  absl::StatusOr<NamespaceInodes> ns = ReadNamespaceInodes(::getpid());
  ASSERT_TRUE(ns.ok()) << ns.status();
  for (const char* type : kNamespaceTypes) {
    struct stat st;
    if (::stat(absl::StrCat("/proc/self/ns/", type).c_str(), &st) != 0) {
      EXPECT_EQ(ns->count(type), 0u) << type;  // this kernel lacks it
      continue;
    }
    ASSERT_EQ(ns->count(type), 1u) << type;
    EXPECT_EQ(ns->at(type), st.st_ino) << type;
  }
  EXPECT_GE(ns->size(), 6u);  // cgroup, ipc, mnt, net, pid, user, uts since 4.6
  for (const auto& [type, inode] : *ns) EXPECT_NE(inode, 0u) << type;
}

TEST(ReadNamespaceInodes, OfAChildInTheSameNamespacesIsTheSame) {
  Child child;
  ASSERT_GT(child.pid(), 0);
  absl::StatusOr<NamespaceInodes> ours = ReadNamespaceInodes(::getpid()), theirs = ReadNamespaceInodes(child.pid());
  ASSERT_TRUE(ours.ok()) << ours.status();
  ASSERT_TRUE(theirs.ok()) << theirs.status();
  EXPECT_EQ(*ours, *theirs);
}

// A zombie keeps /proc/PID but loses most of /proc/PID/ns (only pid and
// user stay): that is a process that has ended, not a kernel without
// those namespace types, and must not come back as a short table.
TEST(ReadNamespaceInodes, OfAZombieIsNotFoundRatherThanAShortTable) {
  Child child;
  ASSERT_GT(child.pid(), 0);
  ASSERT_TRUE(child.MakeZombie());
  absl::StatusOr<NamespaceInodes> ns = ReadNamespaceInodes(child.pid());
  ASSERT_FALSE(ns.ok()) << "a zombie gave " << ns->size() << " namespaces";
  EXPECT_EQ(ns.status().code(), absl::StatusCode::kNotFound) << ns.status();
}

TEST(ReadNamespaceInodes, OfNoProcessIsNotFound) {
  absl::StatusOr<NamespaceInodes> ns = ReadNamespaceInodes(std::numeric_limits<pid_t>::max());
  ASSERT_FALSE(ns.ok());
  EXPECT_EQ(ns.status().code(), absl::StatusCode::kNotFound) << ns.status();
}

// ---------------------------------------------------------------------------
// StateStore under $MINIPOD_STATE_DIR

std::string ReadFile(const std::string& path) {
  std::string out;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

bool WriteFile(const std::string& path, const std::string& text, mode_t mode = 0600) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return false;
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  return ::close(fd) == 0 && ok;
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

std::vector<std::string> Entries(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return out;
  while (struct dirent* e = ::readdir(d)) {
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) out.emplace_back(e->d_name);
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

class StateStoreTest : public testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/minipod-state-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    tmp_ = tmpl;
    root_ = tmp_ + "/state";
    ASSERT_EQ(::setenv("MINIPOD_STATE_DIR", root_.c_str(), 1), 0);
  }
  void TearDown() override {
    ::unsetenv("MINIPOD_STATE_DIR");
    // Undo what the tests make unwritable or foreign before removing.
    for (const std::string& d : {tmp_, root_, root_ + "/containers", root_ + "/pods"}) ::chmod(d.c_str(), 0700);
    (void)rootfs::RemoveTree(tmp_);
  }
  // Opens the store into store_ (use with ASSERT_NO_FATAL_FAILURE).
  void OpenStore() {
    absl::StatusOr<StateStore> store = StateStore::Open();
    ASSERT_TRUE(store.ok()) << store.status();
    store_.emplace(std::move(*store));
  }
  ContainerState Named(const std::string& name, Kind kind = Kind::kContainer) {
    ContainerState s = FullState();
    s.kind = kind;
    s.name = name;
    return s;
  }
  std::string tmp_, root_;
  std::optional<StateStore> store_;
};

TEST_F(StateStoreTest, OpenMakesAPrivateTree) {
  ASSERT_NO_FATAL_FAILURE(OpenStore());
  StateStore& store = *store_;
  EXPECT_EQ(store.root(), root_);
  for (const std::string& d : {root_, root_ + "/containers", root_ + "/pods"}) {
    struct stat st;
    ASSERT_EQ(::lstat(d.c_str(), &st), 0) << d;
    EXPECT_TRUE(S_ISDIR(st.st_mode)) << d;
    EXPECT_EQ(st.st_mode & 07777, 0700u) << d;
    EXPECT_EQ(st.st_uid, ::geteuid()) << d;
  }
  EXPECT_EQ(store.PathOf(Kind::kContainer, "web"), root_ + "/containers/web");
  EXPECT_EQ(store.PathOf(Kind::kPod, "web"), root_ + "/pods/web");
  // Opening again finds the same tree.
  EXPECT_TRUE(StateStore::Open().ok());
}

TEST_F(StateStoreTest, ARelativeStateDirIsNotTakenAsTheRoot) {
  ASSERT_EQ(::setenv("MINIPOD_STATE_DIR", "relative/state", 1), 0);
  absl::StatusOr<std::string> root = StateStore::DefaultRoot();
  if (root.ok()) {
    EXPECT_EQ((*root)[0], '/') << *root;
  }
}

TEST_F(StateStoreTest, OpenRefusesARootWritableByOthers) {
  ASSERT_EQ(::mkdir(root_.c_str(), 0700), 0);
  for (mode_t mode : {0777, 0770, 0722, 01777}) {
    ASSERT_EQ(::chmod(root_.c_str(), mode), 0);
    absl::StatusOr<StateStore> store = StateStore::Open();
    ASSERT_FALSE(store.ok()) << std::oct << mode;
    EXPECT_EQ(store.status().code(), absl::StatusCode::kPermissionDenied) << store.status();
    EXPECT_THAT(std::string(store.status().message()), HasSubstr(root_));
    EXPECT_FALSE(Exists(root_ + "/containers")) << "made a directory inside a refused root";
  }
}

// A root that others may read but not write is ours: Open makes it
// private (OpenPrivateDir chmods the last component to 0700).
TEST_F(StateStoreTest, OpenMakesAReadableRootPrivate) {
  ASSERT_EQ(::mkdir(root_.c_str(), 0700), 0);
  ASSERT_EQ(::chmod(root_.c_str(), 0755), 0);
  ASSERT_TRUE(StateStore::Open().ok());
  struct stat st;
  ASSERT_EQ(::stat(root_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
}

TEST_F(StateStoreTest, OpenRefusesSubdirectoriesThatAreNotPrivate) {
  ASSERT_TRUE(StateStore::Open().ok());
  ASSERT_EQ(::chmod((root_ + "/pods").c_str(), 0755), 0);
  absl::StatusOr<StateStore> store = StateStore::Open();
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(std::string(store.status().message()), HasSubstr(root_ + "/pods: not a private directory"));
  // A link in its place is not followed.
  ASSERT_EQ(::rmdir((root_ + "/pods").c_str()), 0);
  ASSERT_EQ(::mkdir((tmp_ + "/elsewhere").c_str(), 0700), 0);
  ASSERT_EQ(::symlink((tmp_ + "/elsewhere").c_str(), (root_ + "/pods").c_str()), 0);
  store = StateStore::Open();
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(std::string(store.status().message()), HasSubstr(root_ + "/pods"));
}

TEST_F(StateStoreTest, OpenRefusesARootThatIsNotOurs) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to give a directory to another owner";
  ASSERT_EQ(::mkdir(root_.c_str(), 0700), 0);
  ASSERT_EQ(::chown(root_.c_str(), 65534, 65534), 0);
  absl::StatusOr<StateStore> store = StateStore::Open();
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kPermissionDenied) << store.status();
  EXPECT_THAT(std::string(store.status().message()), HasSubstr("owned by uid 65534"));
  // Nor a subdirectory of another owner inside our root.
  ASSERT_EQ(::chown(root_.c_str(), 0, 0), 0);
  ASSERT_TRUE(StateStore::Open().ok());
  ASSERT_EQ(::chown((root_ + "/containers").c_str(), 65534, 65534), 0);
  store = StateStore::Open();
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(std::string(store.status().message()), HasSubstr("owner 65534"));
}

TEST_F(StateStoreTest, CreateReservesANameOnce) {
  ASSERT_NO_FATAL_FAILURE(OpenStore());
  StateStore& store = *store_;
  absl::StatusOr<common::UniqueFd> dir = store.Create(Kind::kContainer, "web");
  ASSERT_TRUE(dir.ok()) << dir.status();
  struct stat st;
  ASSERT_EQ(::fstat(dir->get(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  absl::StatusOr<common::UniqueFd> again = store.Create(Kind::kContainer, "web");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(std::string(again.status().message()), HasSubstr("\"web\""));
  // Pods have names of their own.
  EXPECT_TRUE(store.Create(Kind::kPod, "web").ok());
  EXPECT_FALSE(store.Create(Kind::kPod, "web").ok());
}

TEST_F(StateStoreTest, CreateRefusesABadNameAndMakesNothing) {
  ASSERT_NO_FATAL_FAILURE(OpenStore());
  StateStore& store = *store_;
  for (const std::string& name : {std::string(""), std::string(".."), std::string("."), std::string("../escape"),
                                  std::string("a/b"), std::string("_x"), std::string(65, 'n')}) {
    absl::StatusOr<common::UniqueFd> dir = store.Create(Kind::kContainer, name);
    ASSERT_FALSE(dir.ok()) << name;
    EXPECT_EQ(dir.status().code(), absl::StatusCode::kInvalidArgument) << dir.status();
  }
  EXPECT_TRUE(Entries(root_ + "/containers").empty());
  EXPECT_THAT(Entries(tmp_), ElementsAre("state"));
}

TEST_F(StateStoreTest, ConcurrentCreatesOfOneNameHaveOneWinner) {
  ASSERT_NO_FATAL_FAILURE(OpenStore());
  constexpr int kRacers = 8;
  std::vector<pid_t> pids;
  int wins = 0, losses = 0;
  // Each racer is a process of its own, as two `minipod run` would be.
  int fds[kRacers][2];
  for (int i = 0; i < kRacers; ++i) {
    ASSERT_EQ(::pipe2(fds[i], O_CLOEXEC), 0);
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::alarm(20);
      absl::StatusOr<StateStore> own = StateStore::Open();
      const int code = !own.ok() ? -1 : static_cast<int>(own->Create(Kind::kContainer, "race").status().code());
      (void)!::write(fds[i][1], &code, sizeof code);
      ::_exit(0);
    }
    ASSERT_GT(pid, 0);
    ::close(fds[i][1]);
    pids.push_back(pid);
  }
  for (int i = 0; i < kRacers; ++i) {
    int code = -2;
    EXPECT_EQ(::read(fds[i][0], &code, sizeof code), static_cast<ssize_t>(sizeof code));
    ::close(fds[i][0]);
    ::waitpid(pids[i], nullptr, 0);
    if (code == static_cast<int>(absl::StatusCode::kOk)) ++wins;
    if (code == static_cast<int>(absl::StatusCode::kAlreadyExists)) ++losses;
  }
  EXPECT_EQ(wins, 1);
  EXPECT_EQ(losses, kRacers - 1);
}

TEST_F(StateStoreTest, SaveThenLoadGivesTheSameState) {
  ASSERT_NO_FATAL_FAILURE(OpenStore());
  StateStore& store = *store_;
  ASSERT_TRUE(store.Create(Kind::kContainer, "web").ok());
  const ContainerState s = Named("web");
  ASSERT_TRUE(store.Save(s).ok());
  absl::StatusOr<ContainerState> back = store.Load(Kind::kContainer, "web");
  ASSERT_TRUE(back.ok()) << back.status();
  ExpectSameState(s, *back);
  EXPECT_EQ(ReadFile(root_ + "/containers/web/state.json"), SerializeState(s));
  struct stat st;
  ASSERT_EQ(::stat((root_ + "/containers/web/state.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  // A second save replaces the file (a new inode: rename, not rewrite).
  ContainerState t = s;
  t.status = "running";
  ASSERT_TRUE(store.Save(t).ok());
  struct stat st2;
  ASSERT_EQ(::stat((root_ + "/containers/web/state.json").c_str(), &st2), 0);
  EXPECT_NE(st.st_ino, st2.st_ino);
  back = store.Load(Kind::kContainer, "web");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->status, "running");
  EXPECT_THAT(Entries(root_ + "/containers/web"), ElementsAre("state.json"));
  // The same name as a pod is another directory.
  ASSERT_TRUE(store.Create(Kind::kPod, "web").ok());
  ASSERT_TRUE(store.Save(Named("web", Kind::kPod)).ok());
  back = store.Load(Kind::kPod, "web");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->kind, Kind::kPod);
}

TEST_F(StateStoreTest, SaveNeedsTheDirectoryFromCreate) {
  ASSERT_NO_FATAL_FAILURE(OpenStore());
  StateStore& store = *store_;
  absl::Status s = store.Save(Named("ghost"));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(Exists(root_ + "/containers/ghost"));
  ContainerState bad = Named("x");
  bad.name = "../../escape";
  EXPECT_FALSE(store.Save(bad).ok());
  EXPECT_FALSE(Exists(tmp_ + "/escape"));
}

// Written by rename: a reader never sees a half-written state, however
// the saves of two other processes interleave with its reads.
TEST_F(StateStoreTest, ReadersNeverSeeAPartialState) {
  ASSERT_NO_FATAL_FAILURE(OpenStore());
  StateStore& store = *store_;
  ASSERT_TRUE(store.Create(Kind::kContainer, "busy").ok());
  ASSERT_TRUE(store.Save(Named("busy")).ok());
  std::vector<pid_t> writers;
  for (int w = 0; w < 2; ++w) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::alarm(30);
      ContainerState s = Named("busy");
      for (int i = 0; i < 300; ++i) {
        // States of different sizes, so a torn file could not parse.
        s.exec.env.assign(static_cast<size_t>((i * 7 + w) % 50), std::string(100, static_cast<char>('a' + w)));
        if (!store.Save(s).ok()) ::_exit(1);
      }
      ::_exit(0);
    }
    ASSERT_GT(pid, 0);
    writers.push_back(pid);
  }
  int loads = 0, failures = 0;
  std::string first_failure;
  std::vector<int> statuses(writers.size(), -1);
  for (bool running = true; running;) {
    running = false;
    for (size_t i = 0; i < writers.size(); ++i) {
      if (statuses[i] == -1 && ::waitpid(writers[i], &statuses[i], WNOHANG) != writers[i]) {
        statuses[i] = -1;
        running = true;
      }
    }
    absl::StatusOr<ContainerState> s = store.Load(Kind::kContainer, "busy");
    ++loads;
    if (!s.ok()) {
      if (failures++ == 0) first_failure = s.status().ToString();
    }
  }
  // The writers' alarm bounds the loop; each must have saved every time.
  for (int ws : statuses) EXPECT_TRUE(WIFEXITED(ws) && WEXITSTATUS(ws) == 0) << ws;
  EXPECT_EQ(failures, 0) << "of " << loads << " loads; first: " << first_failure;
  EXPECT_THAT(Entries(root_ + "/containers/busy"), ElementsAre("state.json"));
}

TEST_F(StateStoreTest, LoadOfAMissingOneIsNotFound) {
  ASSERT_NO_FATAL_FAILURE(OpenStore());
  StateStore& store = *store_;
  absl::StatusOr<ContainerState> s = store.Load(Kind::kContainer, "nope");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("no such container: nope"));
  // Reserved but not saved yet: also not there.
  ASSERT_TRUE(store.Create(Kind::kPod, "early").ok());
  s = store.Load(Kind::kPod, "early");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("no such pod: early"));
}

TEST_F(StateStoreTest, LoadRefusesADirectoryHoldingAnotherNamesState) {
  ASSERT_NO_FATAL_FAILURE(OpenStore());
  StateStore& store = *store_;
  ASSERT_TRUE(store.Create(Kind::kContainer, "web").ok());
  ASSERT_TRUE(store.Create(Kind::kContainer, "db").ok());
  ASSERT_TRUE(WriteFile(root_ + "/containers/web/state.json", SerializeState(Named("db"))));
  absl::StatusOr<ContainerState> s = store.Load(Kind::kContainer, "web");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("holds the state of \"db\""));
  // Nor a pod's state in a container's directory.
  ASSERT_TRUE(WriteFile(root_ + "/containers/db/state.json", SerializeState(Named("db", Kind::kPod))));
  s = store.Load(Kind::kContainer, "db");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(StateStoreTest, LoadNamesTheFileOfABrokenState) {
  ASSERT_NO_FATAL_FAILURE(OpenStore());
  StateStore& store = *store_;
  ASSERT_TRUE(store.Create(Kind::kContainer, "web").ok());
  const std::string text = SerializeState(Named("web"));
  ASSERT_TRUE(WriteFile(root_ + "/containers/web/state.json", text.substr(0, text.size() / 2)));
  absl::StatusOr<ContainerState> s = store.Load(Kind::kContainer, "web");
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.status().message()), HasSubstr(root_ + "/containers/web"));
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("not valid JSON"));
  // Two MiB is refused without reading it all.
  ASSERT_TRUE(WriteFile(root_ + "/containers/web/state.json", std::string(2 << 20, ' ')));
  s = store.Load(Kind::kContainer, "web");
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.status().message()), HasSubstr("too large"));
}

TEST_F(StateStoreTest, LoadDoesNotFollowLinks) {
  ASSERT_NO_FATAL_FAILURE(OpenStore());
  StateStore& store = *store_;
  // state.json as a link to a valid state elsewhere.
  ASSERT_TRUE(store.Create(Kind::kContainer, "web").ok());
  ASSERT_TRUE(WriteFile(tmp_ + "/planted.json", SerializeState(Named("web"))));
  ASSERT_EQ(::symlink((tmp_ + "/planted.json").c_str(), (root_ + "/containers/web/state.json").c_str()), 0);
  absl::StatusOr<ContainerState> s = store.Load(Kind::kContainer, "web");
  EXPECT_FALSE(s.ok());
  // The container's directory itself as a link to one elsewhere.
  ASSERT_EQ(::mkdir((tmp_ + "/outside").c_str(), 0700), 0);
  ASSERT_TRUE(WriteFile(tmp_ + "/outside/state.json", SerializeState(Named("db"))));
  ASSERT_EQ(::symlink((tmp_ + "/outside").c_str(), (root_ + "/containers/db").c_str()), 0);
  s = store.Load(Kind::kContainer, "db");
  EXPECT_FALSE(s.ok());
  EXPECT_FALSE(store.Dir(Kind::kContainer, "db").ok());
  EXPECT_FALSE(store.Lock(Kind::kContainer, "db").ok());
}

TEST_F(StateStoreTest, ListSkipsWhatIsNotAState) {
  ASSERT_NO_FATAL_FAILURE(OpenStore());
  StateStore& store = *store_;
  for (const char* name : {"zeta", "alpha", "mid"}) {
    ASSERT_TRUE(store.Create(Kind::kContainer, name).ok());
    ASSERT_TRUE(store.Save(Named(name)).ok());
  }
  ASSERT_TRUE(store.Create(Kind::kContainer, "reserved").ok());  // no state.json yet
  const std::string dir = root_ + "/containers";
  // Entries a minipod never makes: a bad name holding a state, a hidden
  // one, a plain file, a temporary.
  for (const char* bad : {"_bad", ".hidden", "has space"}) {
    ASSERT_EQ(::mkdir((dir + "/" + bad).c_str(), 0700), 0);
    ASSERT_TRUE(WriteFile(dir + "/" + bad + "/state.json", SerializeState(Named("alpha"))));
  }
  ASSERT_TRUE(WriteFile(dir + "/file", "x"));
  ASSERT_TRUE(store.Create(Kind::kPod, "apod").ok());
  ASSERT_TRUE(store.Save(Named("apod", Kind::kPod)).ok());
  absl::StatusOr<std::vector<std::string>> names = store.List(Kind::kContainer);
  ASSERT_TRUE(names.ok()) << names.status();
  EXPECT_THAT(*names, ElementsAre("alpha", "mid", "zeta"));
  names = store.List(Kind::kPod);
  ASSERT_TRUE(names.ok()) << names.status();
  EXPECT_THAT(*names, ElementsAre("apod"));
}

// A link in the kind's directory is never a state directory (Dir and Load
// refuse it), even when it points at one: List does not offer its name.
TEST_F(StateStoreTest, ListSkipsLinksToStateDirectories) {
  ASSERT_NO_FATAL_FAILURE(OpenStore());
  StateStore& store = *store_;
  ASSERT_TRUE(store.Create(Kind::kContainer, "real").ok());
  ASSERT_TRUE(store.Save(Named("real")).ok());
  ASSERT_EQ(::mkdir((tmp_ + "/outside").c_str(), 0700), 0);
  ASSERT_TRUE(WriteFile(tmp_ + "/outside/state.json", SerializeState(Named("planted"))));
  ASSERT_EQ(::symlink((tmp_ + "/outside").c_str(), (root_ + "/containers/planted").c_str()), 0);
  ASSERT_EQ(::symlink("real", (root_ + "/containers/alias").c_str()), 0);
  absl::StatusOr<std::vector<std::string>> names = store.List(Kind::kContainer);
  ASSERT_TRUE(names.ok()) << names.status();
  EXPECT_THAT(*names, ElementsAre("real"));
  for (const std::string& name : *names) EXPECT_TRUE(store.Load(Kind::kContainer, name).ok()) << name;
}

TEST_F(StateStoreTest, LockIsExclusive) {
  ASSERT_NO_FATAL_FAILURE(OpenStore());
  StateStore& store = *store_;
  ASSERT_TRUE(store.Create(Kind::kContainer, "web").ok());
  absl::StatusOr<common::UniqueFd> held = store.Lock(Kind::kContainer, "web");
  ASSERT_TRUE(held.ok()) << held.status();
  // Another open of the directory (another process's, in effect) waits.
  absl::StatusOr<common::UniqueFd> other = store.Dir(Kind::kContainer, "web");
  ASSERT_TRUE(other.ok());
  EXPECT_NE(::flock(other->get(), LOCK_EX | LOCK_NB), 0);
  EXPECT_EQ(errno, EWOULDBLOCK);
  *held = common::UniqueFd();
  EXPECT_EQ(::flock(other->get(), LOCK_EX | LOCK_NB), 0);
  EXPECT_FALSE(store.Lock(Kind::kContainer, "missing").ok());
}

TEST_F(StateStoreTest, RemoveDeletesEverythingInside) {
  ASSERT_NO_FATAL_FAILURE(OpenStore());
  StateStore& store = *store_;
  ASSERT_TRUE(store.Create(Kind::kContainer, "web").ok());
  ASSERT_TRUE(store.Save(Named("web")).ok());
  const std::string dir = root_ + "/containers/web";
  ASSERT_TRUE(WriteFile(dir + "/container.log", "log\n"));
  ASSERT_EQ(::mkdir((dir + "/sub").c_str(), 0700), 0);
  ASSERT_EQ(::mkdir((dir + "/sub/deeper").c_str(), 0700), 0);
  ASSERT_TRUE(WriteFile(dir + "/sub/deeper/f", "f"));
  ASSERT_EQ(::mkfifo((dir + "/fifo").c_str(), 0600), 0);
  ASSERT_TRUE(store.Remove(Kind::kContainer, "web").ok());
  EXPECT_FALSE(Exists(dir));
  absl::Status again = store.Remove(Kind::kContainer, "web");
  EXPECT_EQ(again.code(), absl::StatusCode::kNotFound) << again;
  // The name is free again.
  EXPECT_TRUE(store.Create(Kind::kContainer, "web").ok());
}

TEST_F(StateStoreTest, RemoveNeverFollowsALinkInside) {
  ASSERT_NO_FATAL_FAILURE(OpenStore());
  StateStore& store = *store_;
  ASSERT_TRUE(store.Create(Kind::kContainer, "web").ok());
  ASSERT_TRUE(store.Save(Named("web")).ok());
  // Outside the store: a directory with a file, and a file.
  const std::string outside = tmp_ + "/outside";
  ASSERT_EQ(::mkdir(outside.c_str(), 0700), 0);
  ASSERT_EQ(::mkdir((outside + "/sub").c_str(), 0700), 0);
  ASSERT_TRUE(WriteFile(outside + "/keep", "keep"));
  ASSERT_TRUE(WriteFile(outside + "/sub/keep", "keep"));
  ASSERT_TRUE(WriteFile(tmp_ + "/keep-file", "keep"));
  const std::string dir = root_ + "/containers/web";
  ASSERT_EQ(::symlink(outside.c_str(), (dir + "/to-dir").c_str()), 0);
  ASSERT_EQ(::symlink((outside + "/").c_str(), (dir + "/to-dir-slash").c_str()), 0);
  ASSERT_EQ(::symlink("../../../outside", (dir + "/relative").c_str()), 0);
  ASSERT_EQ(::symlink((tmp_ + "/keep-file").c_str(), (dir + "/to-file").c_str()), 0);
  ASSERT_EQ(::mkdir((dir + "/sub").c_str(), 0700), 0);
  ASSERT_EQ(::symlink(outside.c_str(), (dir + "/sub/nested-link").c_str()), 0);
  // A hard link to a file outside: removing the name leaves the file.
  ASSERT_EQ(::link((outside + "/keep").c_str(), (dir + "/hard").c_str()), 0);
  ASSERT_TRUE(store.Remove(Kind::kContainer, "web").ok());
  EXPECT_FALSE(Exists(dir));
  EXPECT_EQ(ReadFile(outside + "/keep"), "keep");
  EXPECT_EQ(ReadFile(outside + "/sub/keep"), "keep");
  EXPECT_EQ(ReadFile(tmp_ + "/keep-file"), "keep");
}

TEST_F(StateStoreTest, RemoveOfALinkedDirectoryIsRefused) {
  ASSERT_NO_FATAL_FAILURE(OpenStore());
  StateStore& store = *store_;
  const std::string outside = tmp_ + "/outside";
  ASSERT_EQ(::mkdir(outside.c_str(), 0700), 0);
  ASSERT_TRUE(WriteFile(outside + "/keep", "keep"));
  ASSERT_EQ(::symlink(outside.c_str(), (root_ + "/containers/web").c_str()), 0);
  EXPECT_FALSE(store.Remove(Kind::kContainer, "web").ok());
  EXPECT_EQ(ReadFile(outside + "/keep"), "keep");
  EXPECT_FALSE(store.Remove(Kind::kContainer, "../../outside").ok());
  EXPECT_EQ(ReadFile(outside + "/keep"), "keep");
}

// A mount inside a container's directory (or over it) is not the store's:
// Remove refuses to reach into it rather than empty another file system.
// As root, in a child's own mount namespace, so nothing stays mounted.
TEST_F(StateStoreTest, RemoveDoesNotReachIntoAMount) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs CAP_SYS_ADMIN to mount a tmpfs";
  ASSERT_NO_FATAL_FAILURE(OpenStore());
  StateStore& store = *store_;
  for (const char* name : {"inside", "over"}) {
    ASSERT_TRUE(store.Create(Kind::kContainer, name).ok());
    ASSERT_TRUE(store.Save(Named(name)).ok());
  }
  ASSERT_EQ(::mkdir((root_ + "/containers/inside/sub").c_str(), 0700), 0);
  struct Report {
    int step;  // 0: all checks ran
    int err;
    bool removed_inside, kept_inside;
    bool removed_over, kept_over;
  };
  std::optional<Report> r = testing_util::RunInChild<Report>([&](Report& out) {
    out.step = 1;
    if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
      out.err = errno;
      return;
    }
    out.step = 2;
    const std::string sub = root_ + "/containers/inside/sub", over = root_ + "/containers/over";
    if (::mount("tmpfs", sub.c_str(), "tmpfs", 0, "size=64k,mode=0700") != 0 ||
        ::mount("tmpfs", over.c_str(), "tmpfs", 0, "size=64k,mode=0700") != 0) {
      out.err = errno;
      return;
    }
    out.step = 3;
    if (!WriteFile(sub + "/precious", "p") || !WriteFile(over + "/precious", "p")) return;
    // Opened here: descriptors from before unshare see the old namespace's
    // mounts, not these.
    absl::StatusOr<StateStore> here = StateStore::Open();
    if (!here.ok()) return;
    out.removed_inside = here->Remove(Kind::kContainer, "inside").ok();
    out.kept_inside = ReadFile(sub + "/precious") == "p";
    out.removed_over = here->Remove(Kind::kContainer, "over").ok();
    out.kept_over = ReadFile(over + "/precious") == "p";
    out.step = 0;
  });
  ASSERT_TRUE(r.has_value());
  if (r->step == 1 || r->step == 2) {
    GTEST_SKIP() << "cannot mount a tmpfs here (step " << r->step << "): " << strerror(r->err);
  }
  ASSERT_EQ(r->step, 0);
  EXPECT_FALSE(r->removed_inside);
  EXPECT_TRUE(r->kept_inside) << "Remove deleted a file on a file system mounted inside the directory";
  EXPECT_FALSE(r->removed_over);
  EXPECT_TRUE(r->kept_over) << "Remove deleted a file on a file system mounted over the directory";
  // Outside the child's namespace there was never a mount: both go.
  EXPECT_TRUE(store.Remove(Kind::kContainer, "inside").ok());
  EXPECT_TRUE(store.Remove(Kind::kContainer, "over").ok());
}

// Save writes a temporary and renames it: when the write fails, the old
// state.json stays whole and no temporary is left. RLIMIT_FSIZE makes the
// write fail (EFBIG) without privileges, in a child so the limit dies
// with it.
TEST_F(StateStoreTest, SaveLeavesNoTemporaryWhenTheWriteFails) {
  ASSERT_NO_FATAL_FAILURE(OpenStore());
  StateStore& store = *store_;
  ASSERT_TRUE(store.Create(Kind::kContainer, "web").ok());
  ContainerState s = Named("web");
  ASSERT_TRUE(store.Save(s).ok());
  const std::string dir = root_ + "/containers/web";
  const std::string before = ReadFile(dir + "/state.json");
  struct Report {
    bool ok;
    int code;
    char message[512];
  };
  std::optional<Report> r = testing_util::RunInChild<Report>([&](Report& out) {
    ::signal(SIGXFSZ, SIG_IGN);
    const struct rlimit lim = {64, 64};
    ::setrlimit(RLIMIT_FSIZE, &lim);
    ContainerState t = s;
    t.status = "running";
    const absl::Status st = store.Save(t);
    out.ok = st.ok();
    out.code = static_cast<int>(st.code());
    snprintf(out.message, sizeof out.message, "%s", std::string(st.message()).c_str());
  });
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->ok);
  EXPECT_THAT(std::string(r->message), HasSubstr("write("));
  EXPECT_THAT(std::string(r->message), HasSubstr(dir));
  EXPECT_THAT(Entries(dir), ElementsAre("state.json"));
  EXPECT_EQ(ReadFile(dir + "/state.json"), before);
}

// The same with a full file system (ENOSPC), as root: a tiny tmpfs in a
// mount namespace of a child's own, so nothing is left mounted whatever
// happens.
TEST_F(StateStoreTest, SaveLeavesNoTemporaryOnAFullFileSystem) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs CAP_SYS_ADMIN to mount a tmpfs";
  const std::string mnt = tmp_ + "/small";
  ASSERT_EQ(::mkdir(mnt.c_str(), 0700), 0);
  struct Report {
    int step;  // 0: all checks ran
    int err;
    bool saved_first, saved_full;
    bool only_state;
    bool same_state;
    char message[512];
  };
  std::optional<Report> r = testing_util::RunInChild<Report>([&](Report& out) {
    out.step = 1;
    if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
      out.err = errno;
      return;
    }
    out.step = 2;
    if (::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=64k,mode=0700") != 0) {
      out.err = errno;
      return;
    }
    const std::string root = mnt + "/state";
    ::setenv("MINIPOD_STATE_DIR", root.c_str(), 1);
    absl::StatusOr<StateStore> store = StateStore::Open();
    out.step = 3;
    if (!store.ok() || !store->Create(Kind::kContainer, "web").ok()) return;
    ContainerState s;
    s.name = "web";
    out.saved_first = store->Save(s).ok();
    const std::string before = ReadFile(root + "/containers/web/state.json");
    // Fill what is left.
    out.step = 4;
    const int fill = ::open((mnt + "/fill").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fill < 0) return;
    static char block[4096];
    while (::write(fill, block, sizeof block) > 0) {
    }
    ::close(fill);
    s.status = "running";
    const absl::Status st = store->Save(s);
    out.saved_full = st.ok();
    snprintf(out.message, sizeof out.message, "%s", std::string(st.message()).c_str());
    const std::vector<std::string> left = Entries(root + "/containers/web");
    out.only_state = left.size() == 1 && left[0] == "state.json";
    out.same_state = ReadFile(root + "/containers/web/state.json") == before;
    out.step = 0;
  });
  ASSERT_TRUE(r.has_value());
  if (r->step == 1 || r->step == 2) GTEST_SKIP() << "cannot mount a tmpfs here (step " << r->step << "): "
                                                 << strerror(r->err);
  ASSERT_EQ(r->step, 0);
  EXPECT_TRUE(r->saved_first);
  EXPECT_FALSE(r->saved_full);
  EXPECT_THAT(std::string(r->message), HasSubstr("No space left on device"));
  EXPECT_TRUE(r->only_state);
  EXPECT_TRUE(r->same_state);
  EXPECT_TRUE(Entries(mnt).empty()) << "the tmpfs leaked out of the child's mount namespace";
}

}  // namespace
}  // namespace runtime
