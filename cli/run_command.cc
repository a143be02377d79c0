// `minipod run`: the command-table entry, --bundle's cached root file
// systems, and the hand-over to the launcher.
#include <errno.h>
#include <limits.h>
#include <nettle/sha2.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "cli/run_options.h"
#include "common/absl/status_util.h"
#include "rootfs/closure.h"
#include "rootfs/manifest.h"
#include "rootfs/tree_writer.h"
#include "sandbox/launcher.h"
#include "sandbox/run_config.h"

namespace minipod {
namespace {

// $MINIPOD_CACHE, else /var/cache/minipod for root, else
// $XDG_CACHE_HOME/minipod or ~/.cache/minipod.
std::string CacheDir() {
  if (const char* c = ::getenv("MINIPOD_CACHE"); c != nullptr && *c == '/') return c;
  if (::geteuid() == 0) return "/var/cache/minipod";
  if (const char* x = ::getenv("XDG_CACHE_HOME"); x != nullptr && *x == '/') return absl::StrCat(x, "/minipod");
  if (const char* h = ::getenv("HOME"); h != nullptr && *h == '/') return absl::StrCat(h, "/.cache/minipod");
  return absl::StrCat("/tmp/minipod-cache-", ::geteuid());
}

absl::Status MkdirP(const std::string& path) {
  std::string cur;
  for (size_t i = 1; i <= path.size(); ++i) {
    if (i == path.size() || path[i] == '/') {
      cur = path.substr(0, i);
      if (::mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST) {
        return common::ErrnoStatus(errno, absl::StrCat("mkdir(", cur, ")"));
      }
    }
  }
  return absl::OkStatus();
}

// The root file system for --bundle: resolved as `rootfs build` does, and
// kept under a key made of every file's identity (path, device, inode,
// size, modification time), so a second run with unchanged binaries and
// libraries finds it without copying a byte, and an upgraded library
// makes a new one.
absl::StatusOr<std::string> BundleRootfs(const std::vector<std::string>& bins) {
  rootfs::Resolver resolver{rootfs::ClosureOptions{}};
  std::vector<std::string> files;
  for (const std::string& bin : bins) {
    ASSIGN_OR_RETURN(const rootfs::Closure closure, resolver.Resolve(bin));
    files.insert(files.end(), closure.files.begin(), closure.files.end());
  }
  std::sort(files.begin(), files.end());
  files.erase(std::unique(files.begin(), files.end()), files.end());
  std::string identity;
  for (const std::string& f : files) {
    struct stat st;
    if (::stat(f.c_str(), &st) != 0) return common::ErrnoStatus(errno, absl::StrCat("--bundle: stat(", f, ")"));
    absl::StrAppend(&identity, f, absl::string_view("\0", 1), st.st_dev, " ", st.st_ino, " ", st.st_size, " ",
                    st.st_mtim.tv_sec, ".", st.st_mtim.tv_nsec, "\n");
  }
  sha256_ctx ctx;
  sha256_init(&ctx);
  sha256_update(&ctx, identity.size(), reinterpret_cast<const uint8_t*>(identity.data()));
  uint8_t digest[SHA256_DIGEST_SIZE];
  sha256_digest(&ctx, sizeof digest, digest);
  const std::string dir = absl::StrCat(CacheDir(), "/bundles");
  const std::string root = absl::StrCat(dir, "/", absl::BytesToHexString(absl::string_view(
                                                      reinterpret_cast<const char*>(digest), 16)));
  struct stat st;
  if (::stat(root.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return root;
  RETURN_IF_ERROR(MkdirP(dir));
  rootfs::Manifest manifest;
  for (const std::string& f : files) RETURN_IF_ERROR(common::Annotate(manifest.AddHostPath(f).status(), "--bundle"));
  absl::StatusOr<rootfs::TreeStats> written = rootfs::WriteTree(manifest, root, /*replace=*/false);
  // Another run may have built the same bundle meanwhile: theirs is as good.
  if (!written.ok() && !absl::IsAlreadyExists(written.status())) return written.status();
  return root;
}

absl::StatusOr<int> RunRun(const cli::ParsedArgs& args) {
  // Relative paths on the command line are the caller's working directory's.
  char cwd[PATH_MAX] = "";
  if (::getcwd(cwd, sizeof cwd) == nullptr) cwd[0] = '\0';
  ASSIGN_OR_RETURN(const sandbox::RunConfig config, cli::ParseRunConfig(args, cwd));
  std::string root = config.rootfs;
  if (!config.bundle.empty()) {
    ASSIGN_OR_RETURN(root, BundleRootfs(config.bundle));
  }
  return sandbox::RunSandbox(config, root);
}

}  // namespace

std::vector<Command> RunCommands() {
  Command run{
      {"run"},
      "[OPTIONS] [--] CMD [ARGS]...",
      "run a command isolated in a root file system (namespaces, cgroups, seccomp)",
      "Runs CMD in new mount, pid, ipc, uts, net and cgroup namespaces, in the\n"
      "root file system DIR (or one built from --bundle binaries, cached), with\n"
      "a writable overlay thrown away at exit (read-only with --read-only),\n"
      "every mount target resolved inside that root, nodev mounts, /proc with\n"
      "Docker's masks, a minimal /dev, Docker's default capabilities, no new\n"
      "privileges and a default seccomp filter; minipod-init is its PID 1.\n"
      "Without root it runs in a user namespace (your uid is 0 inside).\n"
      "Exit status: the command's, 128+N for signal N, 125 when minipod run\n"
      "itself failed, 126 when CMD cannot be executed, 127 when not found.",
      cli::RunOptions(),
      RunRun,
  };
  run.stop_at_operand = true;
  run.failure_status = sandbox::kExitLauncherFailed;
  return {run};
}

}  // namespace minipod
