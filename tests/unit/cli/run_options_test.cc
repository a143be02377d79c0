#include "cli/run_options.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace minipod::cli {
namespace {

using sandbox::BindSpec;
using sandbox::CommandEnvironment;
using sandbox::MountOrder;
using sandbox::RunConfig;
using sandbox::UserMount;

using ::testing::ElementsAre;
using ::testing::HasSubstr;

absl::StatusOr<RunConfig> Parse(const std::vector<std::string>& args) {
  auto parsed = cli::Parse(RunOptions(), args, /*stop_at_operand=*/true);
  if (!parsed.ok()) return parsed.status();
  return ParseRunConfig(*parsed, "/home/u/w");
}

TEST(RunConfig, DefaultsAndEveryOption) {
  auto c = Parse({"--rootfs", "/srv/root/", "true"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->rootfs, "/srv/root");
  EXPECT_FALSE(c->read_only);
  EXPECT_EQ(c->hostname, "minipod");
  EXPECT_EQ(c->workdir, "/");
  EXPECT_EQ(c->uid, 0u);
  EXPECT_FALSE(c->net_host());
  EXPECT_TRUE(c->net.is_new() && c->ipc.is_new() && c->pid.is_new() && c->uts.is_new());
  EXPECT_TRUE(c->init);
  EXPECT_EQ(c->seccomp, "default");
  EXPECT_EQ(c->status_fd, -1);
  EXPECT_THAT(c->command, ElementsAre("true"));

  c = Parse({"-r", "/r", "--read-only", "--bind", "/a:/mnt/a", "--bind", "/b:/b:rw", "--bind", "/c:/c:ro",
             "--tmpfs", "/scratch", "--hostname", "box-1", "-e", "A=1", "--env=B=x=y", "-w", "/work",
             "-u", "1000:100", "--net", "host", "-m", "64m", "--pids", "10", "--cpus", "0.5", "--cap-add",
             "NET_ADMIN", "--cap-drop", "ALL", "--seccomp", "unconfined", "--no-init", "--status-fd", "3",
             "ls", "-l", "--rootfs"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->read_only);
  ASSERT_EQ(c->binds.size(), 3u);
  EXPECT_EQ(c->binds[0].dest, "/mnt/a");
  EXPECT_FALSE(c->binds[0].writable);
  EXPECT_TRUE(c->binds[1].writable);
  EXPECT_FALSE(c->binds[2].writable);
  EXPECT_THAT(c->tmpfs, ElementsAre("/scratch"));
  EXPECT_EQ(c->hostname, "box-1");
  EXPECT_THAT(c->env, ElementsAre("A=1", "B=x=y"));
  EXPECT_EQ(c->workdir, "/work");
  EXPECT_EQ(c->uid, 1000u);
  EXPECT_EQ(c->gid, 100u);
  EXPECT_TRUE(c->net_host());
  EXPECT_EQ(c->memory, "64m");
  EXPECT_EQ(c->pids, "10");
  EXPECT_EQ(c->cpus, "0.5");
  EXPECT_THAT(c->cap_add, ElementsAre("NET_ADMIN"));
  EXPECT_THAT(c->cap_drop, ElementsAre("ALL"));
  EXPECT_EQ(c->seccomp, "unconfined");
  EXPECT_FALSE(c->init);
  EXPECT_EQ(c->status_fd, 3);
  EXPECT_THAT(c->command, ElementsAre("ls", "-l", "--rootfs"));  // the command's own options

  c = Parse({"--bundle", "bash", "-b", "ls", "--user", "7", "--", "bash"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_THAT(c->bundle, ElementsAre("bash", "ls"));
  EXPECT_EQ(c->gid, 7u);
}

TEST(RunConfig, TerminalAndInteractive) {
  auto c = Parse({"-r", "/r", "sh"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE(c->tty);
  EXPECT_FALSE(c->interactive);
  for (const std::vector<std::string>& args : {std::vector<std::string>{"-r", "/r", "-it", "sh"},
                                               std::vector<std::string>{"-r", "/r", "-t", "-i", "sh"},
                                               std::vector<std::string>{"-r", "/r", "--tty", "--interactive", "sh"}}) {
    c = Parse(args);
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_TRUE(c->tty);
    EXPECT_TRUE(c->interactive);
  }
  c = Parse({"-r", "/r", "-t", "sh", "-i"});  // the command's own -i
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->tty);
  EXPECT_FALSE(c->interactive);
  EXPECT_THAT(c->command, ElementsAre("sh", "-i"));
}

TEST(RunConfig, BadInputsNameTheOptionAndTheValue) {
  const struct {
    std::vector<std::string> args;
    const char* message;
  } cases[] = {
      {{"--rootfs", "/r"}, "missing the command"},
      {{"true"}, "exactly one of --rootfs DIR and --bundle BIN"},
      {{"-r", "/r", "-b", "ls", "true"}, "exactly one of"},
      {{"-r", "", "true"}, "--rootfs '': empty path"},
      {{"-r", "/r", "--bind", "/a:/b/../etc", "true"}, "--bind '/b/../etc': contains '..'"},
      {{"-r", "/r", "--bind", "/a:b", "true"}, "--bind 'b': not an absolute path"},
      {{"-r", "/r", "--bind", ":/b", "true"}, "--bind '': empty path"},
      {{"-r", "/r", "--bind", "/a:/b:dev,dev", "true"}, "the options after DST are rw or ro, and dev"},
      {{"-r", "/r", "--bind", "/a:/b:rw,ro", "true"}, "the options after DST"},
      {{"-r", "/r", "--bind", "/a:/b:", "true"}, "the options after DST"},
      {{"-r", "/r", "--tmpfs", "/a/../b", "true"}, "contains '..'"},
      {{"-r", "/r", "--read-only", "--upper", "/u", "true"}, "--upper and --read-only exclude each other"},
      {{"-r", "/r", "--bind", "/a", "true"}, "--bind '/a': expected SRC:DST"},
      {{"-r", "/r", "--bind", "/a:/b:rx", "true"}, "rw or ro"},
      {{"-r", "/r", "--bind", "/a:/proc", "true"}, "would cover /proc"},
      {{"-r", "/r", "--bind", "/a:/", "true"}, "cannot replace the root"},
      {{"-r", "/r", "--bind", "/a:/proc/sys", "true"}, "inside /proc, which is the sandbox's own"},
      {{"-r", "/r", "--bind", "/a:/dev", "true"}, "would cover /dev"},
      {{"-r", "/r", "--tmpfs", "/sys", "true"}, "--tmpfs '/sys': would cover /sys"},
      {{"-r", "/r", "--hostname", "a b", "true"}, "--hostname 'a b'"},
      {{"-r", "/r", "--hostname", std::string(65, 'h'), "true"}, "1 to 64 characters"},
      {{"-r", "/r", "--env", "NOVALUE", "true"}, "--env 'NOVALUE': expected K=V"},
      {{"-r", "/r", "--env", "=x", "true"}, "expected K=V"},
      {{"-r", "/r", "--user", "root", "true"}, "--user 'root': ids are numbers"},
      {{"-r", "/r", "--user", "1:x", "true"}, "--user '1:x'"},
      {{"-r", "/r", "--user", "-1", "true"}, "ids are numbers"},
      {{"-r", "/r", "--net", "bridge", "true"}, "--net 'bridge': none, new, host, container:NAME or ns:PATH"},
      {{"-r", "/r", "--ipc", "none", "true"}, "--ipc 'none': new, host, container:NAME or ns:PATH"},
      {{"-r", "/r", "--pid", "container:", "true"}, "--pid 'container:': a container name is"},
      {{"-r", "/r", "--uts", "container:../x", "true"}, "--uts 'container:../x': a container name is"},
      {{"-r", "/r", "--net", "container:-x", "true"}, "a container name is"},
      {{"-r", "/r", "--net", "ns:", "true"}, "--net '': empty path"},
      {{"-r", "/r", "--pid", "NS:/x", "true"}, "--pid 'NS:/x'"},
      {{"-r", "/r", "--uts", "host", "--hostname", "box", "true"},
       "--hostname 'box': the host name is only ours to set in a uts namespace of our own (--uts host)"},
      {{"-r", "/r", "--uts", "container:p", "--hostname", "box", "true"}, "(--uts container:p)"},
      {{"-r", "/r", "--init", "--no-init", "true"}, "--init and --no-init exclude each other"},
      {{"-r", "/r", "--status-fd", "1", "true"}, "--status-fd '1'"},
      {{"-r", "/r", "--status-fd", "x", "true"}, "a descriptor number"},
      {{"-r", "/r", "--seccomp=", "true"}, "--seccomp ''"},
      {{"-r", "/r", "--workdir", "rel", "true"}, "--workdir 'rel'"},
      {{"-r", "/r", "--frob", "true"}, "unknown option '--frob'"},
  };
  for (const auto& c : cases) {
    auto r = Parse(c.args);
    ASSERT_FALSE(r.ok()) << c.args[0] << " " << c.message;
    EXPECT_THAT(r.status().message(), HasSubstr(c.message));
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  }
}

TEST(RunConfig, RelativeHostPathsAreTheWorkingDirectorys) {
  auto c = Parse({"--rootfs", "r", "--upper", "./keep//u", "--bind", "../data:/data", "--bind", "f:/f", "true"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->rootfs, "/home/u/w/r");
  EXPECT_EQ(c->upper, "/home/u/w/keep/u");
  // ".." stays for the kernel: lexically it would be wrong across a symlink.
  EXPECT_EQ(c->binds[0].source, "/home/u/w/../data");
  EXPECT_EQ(c->binds[1].source, "/home/u/w/f");
  c = Parse({"--rootfs", "/abs/./r/", "true"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->rootfs, "/abs/r");
  // --bundle: a name is looked up in PATH later; with a '/' it is a path.
  c = Parse({"--bundle", "sh", "--bundle", "bin/tool", "--bundle", "/usr/bin/ls", "true"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_THAT(c->bundle, ElementsAre("sh", "/home/u/w/bin/tool", "/usr/bin/ls"));
  // Without a known working directory a relative path is an error, not a guess.
  auto parsed = cli::Parse(RunOptions(), {"--rootfs", "r", "true"}, /*stop_at_operand=*/true);
  ASSERT_TRUE(parsed.ok());
  auto r = ParseRunConfig(*parsed, "");
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("--rootfs 'r': relative, and the working directory is unknown"));
}

TEST(RunConfig, BindsAndTmpfsKeepTheirOrder) {
  auto c = Parse({"-r", "/r", "--tmpfs", "/data", "--bind", "/f:/data/a.txt", "--tmpfs", "/x", "--bind", "/g:/g", "true"});
  ASSERT_TRUE(c.ok()) << c.status();
  const std::vector<UserMount> order = MountOrder(*c);
  ASSERT_EQ(order.size(), 4u);
  EXPECT_EQ(order[0].kind, UserMount::Kind::kTmpfs);
  EXPECT_EQ(c->tmpfs[order[0].index], "/data");
  EXPECT_EQ(order[1].kind, UserMount::Kind::kBind);
  EXPECT_EQ(c->binds[order[1].index].dest, "/data/a.txt");
  EXPECT_EQ(order[2].kind, UserMount::Kind::kTmpfs);
  EXPECT_EQ(c->tmpfs[order[2].index], "/x");
  EXPECT_EQ(c->binds[order[3].index].dest, "/g");
  // A config made in code without an order: binds, then tmpfs.
  RunConfig made;
  made.binds = {{"/a", "/a"}};
  made.tmpfs = {"/t"};
  const std::vector<UserMount> fallback = MountOrder(made);
  ASSERT_EQ(fallback.size(), 2u);
  EXPECT_EQ(fallback[0].kind, UserMount::Kind::kBind);
  EXPECT_EQ(fallback[1].kind, UserMount::Kind::kTmpfs);
}

TEST(RunConfig, DevBindOptionAndTheDeviceCgroupFlag) {
  auto c = Parse({"-r", "/r", "--bind", "/a:/a", "--bind", "/b:/b:rw", "true"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE(c->binds[0].dev);
  EXPECT_FALSE(c->binds[1].dev);
  EXPECT_FALSE(c->needs_device_cgroup());
  c = Parse({"-r", "/r", "--bind", "/a:/a:dev", "--bind", "/b:/b:rw,dev", "--bind", "/c:/c:dev,ro", "true"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->binds[0].dev);
  EXPECT_FALSE(c->binds[0].writable);
  EXPECT_TRUE(c->binds[1].dev);
  EXPECT_TRUE(c->binds[1].writable);
  EXPECT_TRUE(c->binds[2].dev);
  EXPECT_FALSE(c->binds[2].writable);
  EXPECT_TRUE(c->needs_device_cgroup());
}

TEST(RunConfig, EnvironmentDefaultsThenOverrides) {
  auto c = Parse({"-r", "/r", "-e", "PATH=/bin", "-e", "X=1", "-e", "X=2", "true"});
  ASSERT_TRUE(c.ok());
  EXPECT_THAT(CommandEnvironment(*c, "xterm"),
              ElementsAre("PATH=/bin", "HOSTNAME=minipod", "HOME=/root", "TERM=xterm", "X=2"));
  c = Parse({"-r", "/r", "-u", "1000", "true"});
  ASSERT_TRUE(c.ok());
  EXPECT_THAT(CommandEnvironment(*c, nullptr),
              ElementsAre("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOSTNAME=minipod",
                          "HOME=/"));
}

TEST(RunConfig, NamespaceChoices) {
  using Kind = sandbox::NsChoice::Kind;
  auto c = Parse({"-r", "/r", "--net", "container:pause", "--ipc", "ns:/run/netns/../ipc1", "--uts", "host", "--pid",
                  "ns:rel/./pid", "true"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->net.kind, Kind::kContainer);
  EXPECT_EQ(c->net.target, "pause");
  EXPECT_FALSE(c->net_host());
  EXPECT_TRUE(c->net.joins());
  EXPECT_EQ(c->ipc.kind, Kind::kPath);
  EXPECT_EQ(c->ipc.target, "/run/netns/../ipc1");  // ".." is the kernel's to resolve
  EXPECT_EQ(c->uts.kind, Kind::kHost);
  EXPECT_FALSE(c->uts.joins());
  EXPECT_EQ(c->pid.kind, Kind::kPath);
  EXPECT_EQ(c->pid.target, "/home/u/w/rel/pid");  // relative: the working directory's
  EXPECT_EQ(c->pid.ToString(), "ns:/home/u/w/rel/pid");
  EXPECT_EQ(c->net.ToString(), "container:pause");
  // A joined pid namespace has its PID 1: no init unless asked for.
  EXPECT_FALSE(c->init);
  // Explicit defaults: new (and none, for --net), the init kept.
  c = Parse({"-r", "/r", "--net", "none", "--ipc", "new", "--pid", "new", "--uts", "new", "--hostname", "h", "true"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->net.is_new() && c->ipc.is_new() && c->pid.is_new() && c->uts.is_new());
  EXPECT_EQ(c->net.ToString(), "new");
  EXPECT_TRUE(c->init);
  EXPECT_EQ(c->hostname, "h");
  // --pid host: not PID 1 either; --init keeps the init (as a subreaper).
  c = Parse({"-r", "/r", "--pid", "host", "true"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE(c->init);
  c = Parse({"-r", "/r", "--pid", "container:a.b_c-1", "--init", "true"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->pid.target, "a.b_c-1");
  EXPECT_TRUE(c->init);
  c = Parse({"-r", "/r", "--init", "true"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->init);
  c = Parse({"-r", "/r", "--net", "host", "--no-init", "true"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->net_host());
  EXPECT_FALSE(c->init);
}

TEST(RunConfig, NoHostnameVariableInAUtsNamespaceNotOurs) {
  auto c = Parse({"-r", "/r", "--uts", "container:pause", "true"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_THAT(CommandEnvironment(*c, nullptr),
              ElementsAre("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root"));
}

TEST(RunConfig, Userns) {
  auto c = Parse({"-r", "/r", "true"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->userns, sandbox::UsernsMode::kHost);
  for (const auto& [value, mode] : {std::pair{"auto", sandbox::UsernsMode::kAuto},
                                    std::pair{"host", sandbox::UsernsMode::kHost},
                                    std::pair{"keep-id", sandbox::UsernsMode::kKeepId}}) {
    c = Parse({"-r", "/r", "--userns", value, "true"});
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_EQ(c->userns, mode) << value;
  }
  c = Parse({"-r", "/r", "--userns", "Auto", "true"});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("--userns 'Auto': auto, host or keep-id"));
}

}  // namespace
}  // namespace minipod::cli
