// minipod-monitor's parsers and formatters, table-driven, and against the
// C++ code they stand in for: attach frames (runtime/attach.cc), the
// init's status line (sandbox/init_status.cc), OOM counts and the OOM line
// (sandbox/cgroup*.cc, launcher.cc), the exited state (runtime/state.cc).
#include "monitor/parse.h"

#include <string.h>

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "monitor/handover.h"
#include "runtime/attach.h"
#include "runtime/monitor.h"
#include "runtime/state.h"
#include "sandbox/cgroup.h"
#include "sandbox/init_status.h"
#include "sandbox/launcher.h"

namespace {

using monitor::MonitorArgs;

bool Parse(std::vector<const char*> words, MonitorArgs* a) {
  return monitor::ParseMonitorArgs(static_cast<int>(words.size()), words.data(), a);
}

TEST(MonitorArgs, Full) {
  MonitorArgs a;
  ASSERT_TRUE(Parse({"web", "trn1", "42", "64m", "/sys/fs/cgroup/memory/x/memory.oom_control",
                     "/sys/fs/cgroup/pids/x", "/sys/fs/cgroup/memory/x"},
                    &a));
  EXPECT_STREQ(a.name, "web");
  EXPECT_TRUE(a.tty && a.auto_remove && a.init && a.oom_v1);
  EXPECT_EQ(a.janitor_pid, 42);
  EXPECT_STREQ(a.memory, "64m");
  EXPECT_STREQ(a.oom_file, "/sys/fs/cgroup/memory/x/memory.oom_control");
  ASSERT_EQ(a.cgroup_count, 2);
  EXPECT_STREQ(a.cgroups[1], "/sys/fs/cgroup/memory/x");
}

TEST(MonitorArgs, Minimal) {
  MonitorArgs a;
  ASSERT_TRUE(Parse({"c", "-", "-", "-", "-"}, &a));
  EXPECT_FALSE(a.tty || a.auto_remove || a.init || a.oom_v1);
  EXPECT_EQ(a.janitor_pid, -1);
  EXPECT_STREQ(a.memory, "?");
  EXPECT_EQ(a.oom_file, nullptr);
  EXPECT_EQ(a.cgroup_count, 0);
}

TEST(MonitorArgs, Refused) {
  MonitorArgs a;
  EXPECT_FALSE(Parse({"c", "-", "-", "-"}, &a));                       // a word missing
  EXPECT_FALSE(Parse({"c", "x", "-", "-", "-"}, &a));                  // unknown flag
  EXPECT_FALSE(Parse({"c", "-", "12a", "-", "-"}, &a));                // pid
  EXPECT_FALSE(Parse({"c", "-", "0", "-", "-"}, &a));
  EXPECT_FALSE(Parse({"c", "-", "-1", "-", "-"}, &a));
  EXPECT_FALSE(Parse({"c", "-", "99999999999", "-", "-"}, &a));
  EXPECT_FALSE(Parse({"c", "-", "-", "-", "relative"}, &a));           // oom file
  EXPECT_FALSE(Parse({"c", "-", "-", "-", "-", "cgroup"}, &a));        // relative cgroup
  EXPECT_FALSE(Parse({"", "-", "-", "-", "-"}, &a));                   // empty word
  std::vector<const char*> many = {"c", "-", "-", "-", "-"};
  for (int i = 0; i <= monitor::kMaxCgroupDirs; ++i) many.push_back("/sys/fs/cgroup/x");
  EXPECT_FALSE(Parse(many, &a));
}

TEST(MonitorArgs, RelaysAndCgroupsInAnyOrder) {
  MonitorArgs a;
  ASSERT_TRUE(Parse({"c", "u", "-", "-", "-", "t4:80", "/sys/fs/cgroup/pids/x", "u6w:53", "u4:65535"}, &a));
  EXPECT_TRUE(a.join_userns);
  ASSERT_EQ(a.cgroup_count, 1);
  ASSERT_EQ(a.relay_count, 3);
  EXPECT_TRUE(a.relays[0].tcp);
  EXPECT_EQ(a.relays[0].family, 2);
  EXPECT_FALSE(a.relays[0].wildcard);
  EXPECT_EQ(a.relays[0].container_port, 80);
  EXPECT_FALSE(a.relays[1].tcp);
  EXPECT_EQ(a.relays[1].family, 10);
  EXPECT_TRUE(a.relays[1].wildcard);
  EXPECT_EQ(a.relays[1].container_port, 53);
  EXPECT_EQ(a.relays[2].container_port, 65535);
  for (const char* bad : {"t4:0", "t4:65536", "x4:80", "t5:80", "t4w80", "t4:", "t4:8o", "tcp:80", "t4:-1"}) {
    monitor::RelaySpec r;
    EXPECT_FALSE(monitor::ParseRelaySpec(bad, &r)) << bad;
    EXPECT_FALSE(Parse({"c", "-", "-", "-", "-", bad}, &a)) << bad;
  }
  std::vector<const char*> many = {"c", "-", "-", "-", "-"};
  for (int i = 0; i <= monitor::kMaxRelays; ++i) many.push_back("t4:80");
  EXPECT_FALSE(Parse(many, &a));
}

// Every frame sequence gives what ConsumeAttachFrames gives.
std::vector<std::pair<char, std::string>> LeanFrames(const std::string& bytes, bool* ok, size_t* left) {
  std::vector<std::pair<char, std::string>> out;
  const unsigned char* p = reinterpret_cast<const unsigned char*>(bytes.data());
  size_t at = 0;
  *ok = true;
  for (;;) {
    char type;
    const unsigned char* payload;
    uint32_t len;
    size_t frame;
    const monitor::FrameResult r = monitor::NextFrame(p + at, bytes.size() - at, &type, &payload, &len, &frame);
    if (r == monitor::kFrameNeedMore) break;
    if (r == monitor::kFrameBad) {
      *ok = false;
      break;
    }
    out.emplace_back(type, std::string(reinterpret_cast<const char*>(payload), len));
    at += frame;
  }
  *left = bytes.size() - at;
  return out;
}

std::string Frame(char type, const std::string& payload, uint32_t len_override = 0xffffffff) {
  const uint32_t n = len_override == 0xffffffff ? static_cast<uint32_t>(payload.size()) : len_override;
  std::string f(1, type);
  f.push_back(static_cast<char>(n >> 24));
  f.push_back(static_cast<char>(n >> 16));
  f.push_back(static_cast<char>(n >> 8));
  f.push_back(static_cast<char>(n));
  return f + payload;
}

TEST(MonitorFrames, SameAsTheCppParser) {
  const std::string big(runtime::kAttachMaxPayload, 'z');
  const std::vector<std::string> cases = {
      "",
      Frame('d', "hello"),
      Frame('d', "a") + Frame('r', std::string("\x00\x18\x00\x50", 4)) + Frame('d', ""),
      Frame('d', "partial").substr(0, 8),
      Frame('d', "abc").substr(0, 3),
      Frame('x', "bad"),
      Frame('r', "12345"),
      Frame('d', big),
      Frame('d', "", runtime::kAttachMaxPayload + 1),
      Frame('d', "ok") + Frame('q', ""),
  };
  for (const std::string& c : cases) {
    std::string buf = c;
    std::vector<std::pair<char, std::string>> want;
    const bool want_ok = runtime::ConsumeAttachFrames(
        &buf, [&](char t, absl::string_view p) { want.emplace_back(t, std::string(p)); });
    bool ok;
    size_t left;
    const auto got = LeanFrames(c, &ok, &left);
    EXPECT_EQ(ok, want_ok);
    EXPECT_EQ(got, want);
    if (ok) {
      EXPECT_EQ(left, buf.size());
    }
  }
  unsigned short rows = 0, cols = 0;
  const unsigned char rs[4] = {0, 24, 1, 44};
  ASSERT_TRUE(monitor::DecodeResize(rs, 4, &rows, &cols));
  EXPECT_EQ(rows, 24);
  EXPECT_EQ(cols, 300);
  EXPECT_FALSE(monitor::DecodeResize(rs, 3, &rows, &cols));
}

TEST(MonitorRequest, Classify) {
  size_t rest = 0;
  EXPECT_EQ(monitor::ClassifyRequest("attach\n", 7, &rest), monitor::kRequestAttach);
  EXPECT_EQ(rest, 7u);
  EXPECT_EQ(monitor::ClassifyRequest("attach\nd\0\0\0\1x", 13, &rest), monitor::kRequestAttach);
  EXPECT_EQ(monitor::ClassifyRequest("wait\n", 5, &rest), monitor::kRequestWait);
  EXPECT_EQ(monitor::ClassifyRequest("  wait \r\n", 9, &rest), monitor::kRequestWait);
  EXPECT_EQ(monitor::ClassifyRequest("attach", 6, &rest), monitor::kRequestUnknown);
  EXPECT_EQ(monitor::ClassifyRequest("waitt\n", 6, &rest), monitor::kRequestUnknown);
  EXPECT_EQ(monitor::ClassifyRequest("", 0, &rest), monitor::kRequestUnknown);
}

TEST(MonitorInitStatus, SameAsTheLauncher) {
  for (const char* text : {"exit 0\n", "exit 255\n", "exit 256\n", "signal 9\n", "signal 64", "signal 65\n",
                           "signal 0\n", "exit\n", "exit 1 \n", "exit -1\n", "exit 0012\n", "exit 01\n", "sig 9\n",
                           "", "\n", "exit 9\nexit 3\n", "signal 1000\n"}) {
    bool sig = false;
    int value = -1;
    const bool ok = monitor::ParseInitStatus(text, strlen(text), &sig, &value);
    const std::optional<sandbox::InitStatus> want = sandbox::ParseInitStatusLine(text);
    ASSERT_EQ(ok, want.has_value()) << text;
    if (ok) {
      EXPECT_EQ(sig, want->signaled) << text;
      EXPECT_EQ(value, want->value) << text;
    }
  }
}

TEST(MonitorOom, CountsSameAsTheCgroupCode) {
  for (const char* text : {"low 0\nhigh 0\nmax 3\noom 2\noom_kill 2\noom_group_kill 0\n",
                           "oom_kill_disable 0\nunder_oom 0\noom_kill 5\n", "oom_kill_disable 0\nunder_oom 1\n",
                           "oom_kill  7\n", "oom_kill x\n", "oom_kill -1\n", "", "oom_kill"}) {
    long long v = -99;
    const bool ok = monitor::KeyedValue(text, strlen(text), "oom_kill", &v);
    const std::optional<int64_t> want = sandbox::ParseOomKills(text);
    ASSERT_EQ(ok, want.has_value()) << text;
    if (ok) {
      EXPECT_EQ(v, *want) << text;
    }
  }
}

TEST(MonitorOom, LineSameAsTheLauncher) {
  for (const char* memory : {"64m", "?"}) {
    for (long long kills : {0, 1, 2, 5}) {
      for (bool command : {false, true}) {
        sandbox::OomFacts f;
        f.memory = memory;
        f.kills = kills;
        f.command_killed = command;
        char line[320];
        monitor::DescribeOom(memory, kills, command, line, sizeof line);
        EXPECT_EQ(std::string(line), sandbox::DescribeOom(f));
      }
    }
  }
}

TEST(MonitorState, TemplateFilledReadsBackAsTheExitedState) {
  runtime::ContainerState s;
  s.kind = runtime::Kind::kContainer;
  s.name = "web";
  s.id = "0123456789abcdef";
  s.status = "running";
  // User strings that look like the fields must not be taken for them.
  s.command = {"sh", "-c", "echo '\"exit_code\": 1987654321' \"oom\": false \x01" "C"};
  s.args = {"\"finished\": \"\\u0002\""};
  s.created = "2026-12-05T13:00:00.000000000Z";
  s.started = "2026-12-05T13:00:01.000000000Z";
  absl::StatusOr<std::string> tmpl = runtime::ExitedStateTemplate(s);
  ASSERT_TRUE(tmpl.ok()) << tmpl.status();
  for (const bool oom : {false, true}) {
    std::string out(tmpl->size() + 256, '\0');
    const long n = monitor::FillStateTemplate(tmpl->data(), tmpl->size(), "2026-12-05T13:00:02.000000005Z", 137, 9,
                                              oom, out.data(), out.size());
    ASSERT_GT(n, 0);
    out.resize(static_cast<size_t>(n));
    absl::StatusOr<runtime::ContainerState> back = runtime::ParseState(out);
    ASSERT_TRUE(back.ok()) << back.status() << "\n" << out;
    EXPECT_EQ(back->status, "exited");
    EXPECT_EQ(back->finished, "2026-12-05T13:00:02.000000005Z");
    EXPECT_EQ(back->exit_code, 137);
    EXPECT_EQ(back->signal, 9);
    EXPECT_EQ(back->oom, oom);
    EXPECT_EQ(back->command, s.command);
    EXPECT_EQ(back->args, s.args);
    runtime::ContainerState want = s;
    want.status = "exited";
    want.finished = back->finished;
    want.exit_code = 137;
    want.signal = 9;
    want.oom = oom;
    EXPECT_EQ(out, runtime::SerializeState(want));
  }
}

TEST(MonitorState, FillRefusesBadTemplates) {
  char out[64];
  EXPECT_EQ(monitor::FillStateTemplate("a\x01", 2, "t", 0, 0, false, out, sizeof out), -1);
  EXPECT_EQ(monitor::FillStateTemplate("a\x01Z", 3, "t", 0, 0, false, out, sizeof out), -1);
  EXPECT_EQ(monitor::FillStateTemplate("abcdef", 6, "t", 0, 0, false, out, 3), -1);
  EXPECT_EQ(monitor::FillStateTemplate("\x01" "C", 2, "t", -5, 0, false, out, sizeof out), 2);
}

}  // namespace
