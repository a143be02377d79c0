#include "cli/run_options.h"

#include <stdint.h>

#include <limits>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace minipod::cli {
namespace {

using sandbox::BindSpec;
using sandbox::RunConfig;
using sandbox::UserMount;


absl::Status Invalid(absl::string_view option, absl::string_view value, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(option, " '", value, "': ", why));
}

// "/a//b/./c/" -> "/a/b/c"; "..", NUL and relative paths are refused.
absl::StatusOr<std::string> CleanPath(absl::string_view option, absl::string_view path) {
  if (path.empty() || path[0] != '/') return Invalid(option, path, "not an absolute path");
  if (path.find('\0') != absl::string_view::npos) return Invalid(option, path, "contains a NUL byte");
  std::vector<absl::string_view> parts;
  for (absl::string_view c : absl::StrSplit(path, '/', absl::SkipEmpty())) {
    if (c == ".") continue;
    if (c == "..") return Invalid(option, path, "contains '..'");
    parts.push_back(c);
  }
  return absl::StrCat("/", absl::StrJoin(parts, "/"));
}

// A path on the host: relative ones are taken from cwd, as every command
// line tool does. "//" and "." go; ".." stays for the kernel to resolve
// (lexically it would be wrong across a symlink).
absl::StatusOr<std::string> HostPath(absl::string_view option, absl::string_view path, absl::string_view cwd) {
  if (path.empty()) return Invalid(option, path, "empty path");
  if (path.find('\0') != absl::string_view::npos) return Invalid(option, path, "contains a NUL byte");
  std::string joined(path);
  if (path[0] != '/') {
    if (cwd.empty() || cwd[0] != '/') return Invalid(option, path, "relative, and the working directory is unknown");
    joined = absl::StrCat(cwd, "/", path);
  }
  std::vector<absl::string_view> parts;
  for (absl::string_view c : absl::StrSplit(joined, '/', absl::SkipEmpty())) {
    if (c != ".") parts.push_back(c);
  }
  return absl::StrCat("/", absl::StrJoin(parts, "/"));
}

bool Covers(absl::string_view outer, absl::string_view inner) {
  return outer == inner || absl::StartsWith(inner, absl::StrCat(outer == "/" ? "" : outer, "/"));
}

// Mount points the sandbox owns: a bind or tmpfs there (or above them)
// would undo /proc's masks or /dev's minimal set.
absl::Status CheckTarget(absl::string_view option, absl::string_view raw, const std::string& dest) {
  if (dest == "/") return Invalid(option, raw, "cannot replace the root");
  for (absl::string_view special : {"/proc", "/dev", "/sys"}) {
    if (Covers(dest, special)) return Invalid(option, raw, absl::StrCat("would cover ", special));
  }
  // Below /proc or /sys a writable host view would undo their masks and
  // read-only parts; below /dev a host device is the caller's choice.
  for (absl::string_view special : {"/proc", "/sys"}) {
    if (Covers(special, dest)) return Invalid(option, raw, absl::StrCat("inside ", special, ", which is the sandbox's own"));
  }
  if (dest == "/dev/init") return Invalid(option, raw, "/dev/init is minipod-init's");
  return absl::OkStatus();
}

absl::StatusOr<uint32_t> ParseId(absl::string_view option, absl::string_view raw, absl::string_view text) {
  uint32_t v = 0;
  if (text.empty() || !absl::ascii_isdigit(static_cast<unsigned char>(text[0])) || !absl::SimpleAtoi(text, &v) ||
      v == std::numeric_limits<uint32_t>::max()) {
    return Invalid(option, raw, "ids are numbers (names would need the image's /etc/passwd)");
  }
  return v;
}

// new | host | container:NAME | ns:PATH (and none, for --net: Docker's
// word for a network namespace of its own with only loopback).
absl::StatusOr<sandbox::NsChoice> ParseNsChoice(absl::string_view option, absl::string_view raw,
                                                absl::string_view cwd) {
  using Kind = sandbox::NsChoice::Kind;
  sandbox::NsChoice choice;
  if (raw == "new" || (option == "--net" && raw == "none")) return choice;
  if (raw == "host") {
    choice.kind = Kind::kHost;
    return choice;
  }
  if (absl::ConsumePrefix(&raw, "container:")) {
    // Docker's rule for names: [a-zA-Z0-9][a-zA-Z0-9_.-]*.
    bool ok = !raw.empty() && absl::ascii_isalnum(static_cast<unsigned char>(raw[0]));
    for (char ch : raw) {
      ok = ok && (absl::ascii_isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '.' || ch == '-');
    }
    if (!ok) return Invalid(option, absl::StrCat("container:", raw), "a container name is [a-zA-Z0-9][a-zA-Z0-9_.-]*");
    choice.kind = Kind::kContainer;
    choice.target = std::string(raw);
    return choice;
  }
  if (absl::ConsumePrefix(&raw, "ns:")) {
    auto path = HostPath(option, raw, cwd);
    if (!path.ok()) return path.status();
    choice.kind = Kind::kPath;
    choice.target = *path;
    return choice;
  }
  return Invalid(option, raw,
                 absl::StrCat(option == "--net" ? "none, " : "", "new, host, container:NAME or ns:PATH"));
}

}  // namespace

const std::vector<OptionSpec>& RunOptions() {
  static const auto* options = new std::vector<OptionSpec>{
      {"rootfs", 'r', ArgKind::kValue, "DIR", "the root file system (e.g. from `minipod rootfs build`); relative to the working directory"},
      {"bundle", 'b', ArgKind::kList, "BIN", "build the root file system from these binaries (cached); a name is looked up in PATH"},
      {"read-only", 0, ArgKind::kFlag, "", "the root is read-only (mount points go to a scratch layer, never into DIR)"},
      {"upper", 0, ArgKind::kValue, "DIR", "keep the overlay's writable layer in DIR (default: a tmpfs); one run at a time"},
      {"bind", 0, ArgKind::kList, "SRC:DST[:OPTS]",
       "bind-mount a host path; OPTS: rw (else read-only), dev (device nodes usable; else nodev)"},
      {"tmpfs", 0, ArgKind::kList, "PATH", "a fresh tmpfs at PATH (binds and tmpfs stack in the order given)"},
      {"hostname", 0, ArgKind::kValue, "NAME", "host name inside (default: minipod)"},
      {"env", 'e', ArgKind::kList, "K=V", "set an environment variable"},
      {"workdir", 'w', ArgKind::kValue, "DIR", "working directory inside (default: /)"},
      {"user", 'u', ArgKind::kValue, "UID[:GID]", "run the command as this user (default: 0:0)"},
      {"memory", 'm', ArgKind::kValue, "SIZE", "memory limit (e.g. 512m); an OOM kill is reported"},
      {"pids", 0, ArgKind::kValue, "N", "at most N tasks"},
      {"cpus", 0, ArgKind::kValue, "FRACTION", "CPU time, in CPUs (e.g. 0.5)"},
      {"cap-add", 0, ArgKind::kList, "CAP", "add a capability to Docker's default set (ALL for all)"},
      {"cap-drop", 0, ArgKind::kList, "CAP", "drop a capability (ALL for all)"},
      {"seccomp", 0, ArgKind::kValue, "PROFILE", "default, unconfined, or a Docker-format JSON file"},
      {"no-init", 0, ArgKind::kFlag, "", "run the command as PID 1 instead of under minipod-init"},
      // Namespaces: each new (the default), the host's, another container's, or a namespace file.
      {"net", 0, ArgKind::kValue, "MODE",
       "network namespace: none or new (own, loopback only; default), host, container:NAME, ns:PATH"},
      {"ipc", 0, ArgKind::kValue, "MODE", "IPC namespace (System V IPC, POSIX queues): new, host, container:NAME, ns:PATH"},
      {"pid", 0, ArgKind::kValue, "MODE",
       "pid namespace: new, host, container:NAME, ns:PATH; when not new, the command is not PID 1 (--no-init implied)"},
      {"uts", 0, ArgKind::kValue, "MODE", "host name namespace: new, host, container:NAME, ns:PATH (--hostname needs new)"},
      {"init", 0, ArgKind::kFlag, "", "keep minipod-init in a pid namespace that is not new (as a child subreaper)"},
      {"status-fd", 0, ArgKind::kValue, "FD", "write a JSON line to FD at start and at exit"},
      {"cgroupns", 0, ArgKind::kValue, "host|private", "the cgroup namespace: private (new; default) or the host's"},
      // Containers that live on (cli/container_commands.cc).
      {"detach", 'd', ArgKind::kFlag, "", "run in the background under a monitor; print the name and return"},
      {"name", 0, ArgKind::kValue, "NAME", "the container's name (with -d; default: a random one)"},
      {"rm", 0, ArgKind::kFlag, "", "remove the container's state when it ends (with -d)"},
      {"publish", 'p', ArgKind::kList, "[IP:]HOSTPORT:PORT[/udp]", "relay a host port to PORT on the container's loopback (with -d)"},
      {"pod", 0, ArgKind::kValue, "NAME", "join the pod NAME's shared namespaces (with -d)"},
      {"userns", 0, ArgKind::kValue, "auto|host|keep-id",
       "host: as root, root inside is the host's (default); auto (root): 0-65535 inside are a 65536-id block no "
       "other container holds, from the 'minipod' entry of /etc/subuid and /etc/subgid, else from "
       "1879048192-1946157055, with the root and binds id-mapped so files keep their owners; keep-id: your uid "
       "and gid are the same inside (as root, the rest of 0-65535 from a block as with auto)"},
      {"tty", 't', ArgKind::kFlag, "",
       "give the command a new pseudo-terminal, relayed to ours (window size included); stdout and stderr both go "
       "to it"},
      {"interactive", 'i', ArgKind::kFlag, "",
       "keep stdin open: with -t, relay our input to the terminal (ours in raw mode); without -t the command "
       "always reads our stdin in the foreground"},
  };
  return *options;
}

absl::StatusOr<RunConfig> ParseRunConfig(const ParsedArgs& args, absl::string_view cwd) {
  RunConfig c;
  c.command = args.operands();
  if (c.command.empty()) return absl::InvalidArgumentError("missing the command to run (minipod run [OPTIONS] -- CMD [ARGS])");
  if (c.command[0].empty()) return absl::InvalidArgumentError("the command is an empty string");

  if (args.Has("rootfs")) {
    auto r = HostPath("--rootfs", args.Value("rootfs"), cwd);
    if (!r.ok()) return r.status();
    c.rootfs = *r;
  }
  c.bundle = args.Values("bundle");
  if (c.rootfs.empty() == c.bundle.empty()) {
    return absl::InvalidArgumentError("give exactly one of --rootfs DIR and --bundle BIN");
  }
  for (std::string& b : c.bundle) {
    if (b.empty()) return absl::InvalidArgumentError("--bundle '': empty name");
    // A name is looked up in PATH; with a '/' it is a path, maybe relative.
    if (absl::StrContains(b, '/')) {
      auto p = HostPath("--bundle", b, cwd);
      if (!p.ok()) return p.status();
      b = *p;
    }
  }
  c.read_only = args.Has("read-only");
  if (args.Has("upper")) {
    if (c.read_only) return absl::InvalidArgumentError("--upper and --read-only exclude each other (a read-only root writes nothing to keep)");
    auto u = HostPath("--upper", args.Value("upper"), cwd);
    if (!u.ok()) return u.status();
    c.upper = *u;
  }

  // --bind and --tmpfs in the order given: later ones stack on earlier ones.
  for (const auto& [option, raw] : args.ordered()) {
    if (option == "tmpfs") {
      auto p = CleanPath("--tmpfs", raw);
      if (!p.ok()) return p.status();
      if (absl::Status s = CheckTarget("--tmpfs", raw, *p); !s.ok()) return s;
      c.mount_order.push_back({UserMount::Kind::kTmpfs, c.tmpfs.size()});
      c.tmpfs.push_back(*p);
      continue;
    }
    if (option != "bind") continue;
    std::vector<std::string> f = absl::StrSplit(raw, ':');
    BindSpec b;
    if (f.size() == 3) {
      // Options after DST, comma-separated: rw or ro, and dev.
      bool mode_seen = false;
      for (absl::string_view o : absl::StrSplit(f[2], ',')) {
        if ((o == "rw" || o == "ro") && !mode_seen) {
          b.writable = o == "rw";
          mode_seen = true;
        } else if (o == "dev" && !b.dev) {
          b.dev = true;
        } else {
          return Invalid("--bind", raw, "the options after DST are rw or ro, and dev (e.g. rw,dev)");
        }
      }
    } else if (f.size() != 2) {
      return Invalid("--bind", raw, "expected SRC:DST or SRC:DST:OPTIONS (paths with ':' are not supported)");
    }
    auto src = HostPath("--bind", f[0], cwd);
    if (!src.ok()) return src.status();
    auto dst = CleanPath("--bind", f[1]);
    if (!dst.ok()) return dst.status();
    if (absl::Status s = CheckTarget("--bind", raw, *dst); !s.ok()) return s;
    b.source = *src;
    b.dest = *dst;
    c.mount_order.push_back({UserMount::Kind::kBind, c.binds.size()});
    c.binds.push_back(std::move(b));
  }

  if (args.Has("hostname")) {
    const std::string h = args.Value("hostname");
    // sethostname(2) takes up to 64 bytes; keep to what a resolver accepts.
    if (h.empty() || h.size() > 64) return Invalid("--hostname", h, "1 to 64 characters");
    for (char ch : h) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(ch)) && ch != '-' && ch != '.' && ch != '_') {
        return Invalid("--hostname", h, "letters, digits, '-', '.' and '_' only");
      }
    }
    c.hostname = h;
  }
  for (const std::string& e : args.Values("env")) {
    const size_t eq = e.find('=');
    if (eq == std::string::npos || eq == 0) return Invalid("--env", e, "expected K=V");
    if (e.find('\0') != std::string::npos) return Invalid("--env", e, "contains a NUL byte");
    c.env.push_back(e);
  }
  if (args.Has("workdir")) {
    auto w = CleanPath("--workdir", args.Value("workdir"));
    if (!w.ok()) return w.status();
    c.workdir = *w;
  }
  if (args.Has("user")) {
    const std::string u = args.Value("user");
    const size_t colon = u.find(':');
    auto uid = ParseId("--user", u, absl::string_view(u).substr(0, colon));
    if (!uid.ok()) return uid.status();
    c.uid = *uid;
    c.gid = *uid;  // as `docker run --user N` without a group: the same number
    if (colon != std::string::npos) {
      auto gid = ParseId("--user", u, absl::string_view(u).substr(colon + 1));
      if (!gid.ok()) return gid.status();
      c.gid = *gid;
    }
  }
  // Namespaces. A pid namespace that is not new has its PID 1 already:
  // minipod-init only with --init, as a subreaper.
  for (auto [name, choice] : {std::pair{"net", &c.net}, {"ipc", &c.ipc}, {"pid", &c.pid}, {"uts", &c.uts}}) {
    if (!args.Has(name)) continue;
    auto parsed = ParseNsChoice(absl::StrCat("--", name), args.Value(name), cwd);
    if (!parsed.ok()) return parsed.status();
    *choice = *std::move(parsed);
  }
  if (args.Has("hostname") && !c.uts.is_new()) {
    return Invalid("--hostname", c.hostname,
                   absl::StrCat("the host name is only ours to set in a uts namespace of our own (--uts ",
                                c.uts.ToString(), ")"));
  }
  if (args.Has("cgroupns")) {
    const std::string v = args.Value("cgroupns");
    if (v != "host" && v != "private") return Invalid("--cgroupns", v, "host or private");
    c.cgroupns_host = v == "host";
  }
  if (args.Has("init") && args.Has("no-init")) return absl::InvalidArgumentError("--init and --no-init exclude each other");
  if (args.Has("memory")) c.memory = args.Value("memory");
  if (args.Has("pids")) c.pids = args.Value("pids");
  if (args.Has("cpus")) c.cpus = args.Value("cpus");
  c.cap_add = args.Values("cap-add");
  c.cap_drop = args.Values("cap-drop");
  if (args.Has("seccomp")) {
    c.seccomp = args.Value("seccomp");
    if (c.seccomp.empty()) return Invalid("--seccomp", c.seccomp, "default, unconfined or a file");
  }
  c.init = args.Has("init") || (!args.Has("no-init") && c.pid.is_new());
  if (args.Has("userns")) {
    const std::string u = args.Value("userns");
    if (u == "auto") {
      c.userns = sandbox::UsernsMode::kAuto;
    } else if (u == "keep-id") {
      c.userns = sandbox::UsernsMode::kKeepId;
    } else if (u != "host") {
      return Invalid("--userns", u, "auto, host or keep-id");
    }
  }
  c.tty = args.Has("tty");
  c.interactive = args.Has("interactive");
  if (args.Has("status-fd")) {
    const std::string f = args.Value("status-fd");
    int fd = -1;
    if (!absl::SimpleAtoi(f, &fd) || fd < 3) return Invalid("--status-fd", f, "a descriptor number, 3 or above");
    c.status_fd = fd;
  }
  return c;
}

}  // namespace minipod::cli
