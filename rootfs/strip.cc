#include "rootfs/strip.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/absl/status_util.h"
#include "common/unique_fd.h"

extern char** environ;

namespace rootfs {
namespace {

// e_type of an ELF file, or -1 when source is not one.
int ElfType(const std::string& source) {
  common::UniqueFd fd(::open(source.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return -1;
  unsigned char head[18];
  if (::pread(fd.get(), head, sizeof head, 0) != static_cast<ssize_t>(sizeof head)) return -1;
  if (memcmp(head, ELFMAG, SELFMAG) != 0) return -1;
  // e_type is at offset 16 in both classes, in the file's byte order.
  return head[EI_DATA] == ELFDATA2MSB ? (head[16] << 8 | head[17]) : (head[17] << 8 | head[16]);
}

absl::Status RunStrip(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid;
  const int err = ::posix_spawnp(&pid, "strip", nullptr, nullptr, argv.data(), environ);
  if (err != 0) return common::ErrnoStatus(err, "--strip: running strip(1) from binutils");
  int status;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return common::ErrnoStatus(errno, "waitpid(strip)");
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return absl::InternalError(absl::StrCat("--strip: strip failed on ", args.back(),
                                            WIFEXITED(status) ? absl::StrCat(" (exit ", WEXITSTATUS(status), ")")
                                                              : absl::StrCat(" (signal ", WTERMSIG(status), ")")));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<size_t> StripElfFiles(Manifest& manifest, Staging& staging, const std::vector<std::string>& only) {
  std::vector<std::pair<std::string, std::string>> plan;  // image path, stripped copy
  for (const auto& [path, entry] : manifest.entries()) {
    if (entry.kind != Entry::Kind::kFile) continue;
    if (!only.empty() && std::find(only.begin(), only.end(), path) == only.end()) continue;
    const int type = ElfType(entry.source);
    if (type != ET_EXEC && type != ET_DYN && type != ET_REL) continue;
    const std::string out = staging.NewPath(path);
    RETURN_IF_ERROR(RunStrip({"strip", type == ET_REL ? "--strip-debug" : "--strip-unneeded", "-o", out,
                              entry.source}));
    plan.emplace_back(path, out);
  }
  for (const auto& [path, out] : plan) RETURN_IF_ERROR(manifest.ReplaceSource(path, out));
  return plan.size();
}

}  // namespace rootfs
