// The initramfs QEMU boots: the image, the run's extra archive after it, or
// --host-root's own. Reads the image with libarchive, writes through the
// rootfs library's manifest and cpio writer; open/read/write/copy_file_range.
#include "vm/initrd.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/absl/file_util.h"
#include "common/absl/status_util.h"
#include "rootfs/archive_writer.h"
#include "rootfs/build_plan.h"
#include "rootfs/kernel_image.h"
#include "rootfs/manifest.h"
#include "rootfs/modules.h"
#include "vm/image_expand.h"

namespace vm {
namespace {

struct ArchiveReadDeleter {
  void operator()(struct archive* a) const { archive_read_free(a); }
};

absl::Status ReadError(struct archive* a, const std::string& image) {
  const char* msg = archive_error_string(a);
  return absl::InvalidArgumentError(
      absl::StrCat("image ", image, ": ", msg != nullptr ? msg : "unreadable archive"));
}

// "./etc/x", "/etc/x" and "etc/x" are the same member.
absl::string_view MemberPath(absl::string_view name) {
  absl::ConsumePrefix(&name, ".");
  while (absl::ConsumePrefix(&name, "/")) {
  }
  return name;
}

absl::Status WriteAll(int fd, const char* data, size_t len, const std::string& what) {
  while (len > 0) {
    const ssize_t n = ::write(fd, data, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return common::ErrnoStatus(errno, absl::StrCat("write(", what, ")"));
    }
    data += n;
    len -= static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

// Appends all of path to out; returns the bytes copied.
absl::StatusOr<uint64_t> AppendFile(int out, const std::string& path, const std::string& what) {
  common::UniqueFd in(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!in) return common::ErrnoStatus(errno, absl::StrCat("open(", path, ")"));
  struct stat st;
  if (::fstat(in.get(), &st) != 0) return common::ErrnoStatus(errno, absl::StrCat("stat(", path, ")"));
  if (!S_ISREG(st.st_mode)) return absl::InvalidArgumentError(absl::StrCat(path, ": not a regular file"));
  uint64_t total = 0;
  bool plain = false;  // copy_file_range refused (another file system on old kernels, ...)
  char buf[65536];
  for (;;) {
    ssize_t n;
    if (!plain) {
      n = ::copy_file_range(in.get(), nullptr, out, nullptr, 1 << 30, 0);
      if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP)) {
        plain = true;
        continue;
      }
    } else {
      n = ::read(in.get(), buf, sizeof buf);
      if (n > 0) RETURN_IF_ERROR(WriteAll(out, buf, static_cast<size_t>(n), what));
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      return common::ErrnoStatus(errno, absl::StrCat("copying ", path, " to ", what));
    }
    if (n == 0) return total;
    total += static_cast<uint64_t>(n);
  }
}

// The image's lines first in the file at path of the manifest.
absl::Status MergeInto(rootfs::Manifest& manifest, rootfs::Staging& staging, const std::string& path,
                       absl::string_view image_lines) {
  const auto it = manifest.entries().find(path);
  if (it == manifest.entries().end()) return absl::InternalError(absl::StrCat("no ", path, " after AddKernelModules"));
  ASSIGN_OR_RETURN(const std::string added, common::ReadFileToString(it->second.source));
  ASSIGN_OR_RETURN(const std::string merged, staging.WriteFile(path, MergeModuleList(image_lines, added), 0644));
  return manifest.ReplaceSource(path, merged);
}

}  // namespace

std::string ModulesDepPath(absl::string_view release) {
  return absl::StrCat("/lib/modules/", release, "/modules.dep");
}

std::vector<std::string> NinePModules() { return {"virtio_pci", "9pnet_virtio", "9p"}; }

absl::StatusOr<std::string> EncodeArgv(const std::vector<std::string>& words) {
  if (words.empty()) return absl::InvalidArgumentError("the command is empty");
  if (words.size() > kMaxArgvWords) {
    return absl::InvalidArgumentError(
        absl::StrCat("the command has ", words.size(), " words; at most ", kMaxArgvWords, " fit"));
  }
  std::string out;
  for (const std::string& w : words) {
    if (w.find('\0') != std::string::npos) {
      return absl::InvalidArgumentError("a word of the command holds a NUL byte");
    }
    absl::StrAppend(&out, w);
    out.push_back('\0');
  }
  if (out.size() > kMaxArgvBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("the command takes ", out.size(), " bytes; at most ", kMaxArgvBytes, " fit"));
  }
  return out;
}

std::string MergeModuleList(absl::string_view image_list, absl::string_view added) {
  std::string out;
  absl::flat_hash_set<std::string> seen;
  for (absl::string_view list : {image_list, added}) {
    for (absl::string_view line : absl::StrSplit(list, '\n', absl::SkipEmpty())) {
      if (!seen.insert(std::string(line)).second) continue;
      absl::StrAppend(&out, line, "\n");
    }
  }
  return out;
}

absl::StatusOr<std::string> ReadImageFile(const std::string& image, absl::string_view path,
                                          size_t limit) {
  std::unique_ptr<struct archive, ArchiveReadDeleter> a(archive_read_new());
  if (a == nullptr) return absl::ResourceExhaustedError("archive_read_new failed");
  archive_read_support_filter_gzip(a.get());
  archive_read_support_filter_zstd(a.get());
  archive_read_support_filter_xz(a.get());
  archive_read_support_format_cpio(a.get());
  archive_read_support_format_tar(a.get());
  if (archive_read_open_filename(a.get(), image.c_str(), 65536) != ARCHIVE_OK) {
    return ReadError(a.get(), image);
  }
  const absl::string_view want = MemberPath(path);
  struct archive_entry* entry = nullptr;
  for (;;) {
    const int r = archive_read_next_header(a.get(), &entry);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) return ReadError(a.get(), image);
    const char* name = archive_entry_pathname(entry);
    if (name == nullptr || MemberPath(name) != want) continue;
    if (archive_entry_filetype(entry) != AE_IFREG) {
      return absl::InvalidArgumentError(absl::StrCat("image ", image, ": ", path, " is not a regular file"));
    }
    std::string data;
    char buf[8192];
    for (;;) {
      const la_ssize_t n = archive_read_data(a.get(), buf, sizeof buf);
      if (n < 0) return ReadError(a.get(), image);
      if (n == 0) break;
      if (data.size() + static_cast<size_t>(n) > limit) {
        return absl::ResourceExhaustedError(
            absl::StrCat("image ", image, ": ", path, " is larger than ", limit, " bytes"));
      }
      data.append(buf, static_cast<size_t>(n));
    }
    return data;
  }
  return absl::NotFoundError(absl::StrCat("image ", image, " has no ", path));
}

absl::StatusOr<bool> WriteExtraArchive(const ExtraConfig& config, rootfs::Staging& staging,
                                       const std::string& out) {
  rootfs::Manifest manifest;
  bool any = false;
  if (!config.init_path.empty()) {
    RETURN_IF_ERROR(rootfs::AddInitSkeleton(manifest, config.init_path));
    any = true;
  }
  if (config.has_command) {
    ASSIGN_OR_RETURN(const std::string argv, EncodeArgv(config.command));
    ASSIGN_OR_RETURN(const std::string argv_file, staging.WriteFile("argv", argv, 0644));
    RETURN_IF_ERROR(manifest.AddFile(kArgvPath, argv_file, 0644));
    any = true;
  }
  if (config.nine_p) {
    rootfs::ModuleOptions options;
    options.modules_root = config.modules_root;
    options.kernel_release = config.kernel_release;
    absl::StatusOr<rootfs::ModulePlan> plan =
        rootfs::AddKernelModules(manifest, staging, NinePModules(), options);
    if (!plan.ok()) return common::Annotate(plan.status(), "the 9p modules");
    if (!plan->load_order.empty()) {
      // The list and modules.dep AddKernelModules wrote name only the new
      // modules: the image's own lines come first, as the kernel's
      // unpacking replaces the files.
      RETURN_IF_ERROR(MergeInto(manifest, staging, std::string(rootfs::kModuleListPath), config.image_modules));
      RETURN_IF_ERROR(MergeInto(manifest, staging, ModulesDepPath(config.kernel_release),
                                config.image_modules_dep));
      any = true;
    }
  }
  if (!any) return false;
  rootfs::ArchiveOptions options;
  options.format = rootfs::ArchiveFormat::kCpio;
  options.compression = rootfs::Compression::kNone;
  options.replace = true;
  RETURN_IF_ERROR(rootfs::WriteArchive(manifest, out, options).status());
  return true;
}

bool MayExpand(const std::string& image, size_t expand_limit) {
  if (expand_limit == 0) return false;
  common::UniqueFd fd(::open(image.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat st;
  if (!fd || ::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) ||
      static_cast<uint64_t>(st.st_size) > expand_limit) {
    return false;
  }
  char magic[6];
  const ssize_t n = ::pread(fd.get(), magic, sizeof magic, 0);
  if (n <= 0) return false;
  const rootfs::PayloadCompression c = rootfs::DetectCompression(absl::string_view(magic, static_cast<size_t>(n)));
  return c == rootfs::PayloadCompression::kGzip || c == rootfs::PayloadCompression::kZstd ||
         c == rootfs::PayloadCompression::kXz;
}

absl::StatusOr<common::UniqueFd> AssembleInitrd(const std::string& image, const std::string& extra,
                                                const std::string& dir, size_t expand_limit) {
  common::UniqueFd fd(::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
  if (!fd && (errno == EOPNOTSUPP || errno == EISDIR)) {
    // A file system without O_TMPFILE: a name, dropped at once.
    std::string path = absl::StrCat(dir, "/initrd.XXXXXX");
    fd.Reset(::mkostemp(path.data(), O_CLOEXEC));
    if (!fd) return common::ErrnoStatus(errno, absl::StrCat("mkostemp(", path, ")"));
    if (::unlink(path.c_str()) != 0) return common::ErrnoStatus(errno, absl::StrCat("unlink(", path, ")"));
  }
  if (!fd) return common::ErrnoStatus(errno, absl::StrCat("open(", dir, ", O_TMPFILE)"));
  const std::string what = "the initrd";
  uint64_t size = 0;
  bool expanded = false;
  if (!image.empty() && MayExpand(image, expand_limit)) {
    ASSIGN_OR_RETURN(const std::string data, common::ReadFileToString(image, expand_limit));
    bool no_room = false;  // the file system of dir filled up: the image as it is
    absl::StatusOr<bool> done = ExpandImage(data, expand_limit, [&](absl::string_view piece) {
      size += piece.size();
      absl::Status s = WriteAll(fd.get(), piece.data(), piece.size(), what);
      no_room = absl::IsResourceExhausted(s);  // ENOSPC, EDQUOT
      return s;
    });
    if (!done.ok() && !no_room) return common::Annotate(done.status(), absl::StrCat("image ", image));
    expanded = done.ok() && *done;
    if (!expanded) {
      // Not one we expand after all: the image as it is, from the start.
      if (::ftruncate(fd.get(), 0) != 0 || ::lseek(fd.get(), 0, SEEK_SET) != 0) {
        return common::ErrnoStatus(errno, absl::StrCat("rewinding ", what));
      }
      size = 0;
    }
  }
  if (!image.empty() && !expanded) {
    absl::StatusOr<uint64_t> n = AppendFile(fd.get(), image, what);
    if (!n.ok()) return common::Annotate(n.status(), absl::StrCat("image ", image));
    size = *n;
  }
  if (!extra.empty()) {
    // The kernel looks for an uncompressed archive's magic only at 4-byte
    // boundaries, and skips the zeros in between.
    static constexpr char kZeros[4] = {};
    RETURN_IF_ERROR(WriteAll(fd.get(), kZeros, (4 - size % 4) % 4, what));
    RETURN_IF_ERROR(AppendFile(fd.get(), extra, what).status());
  }
  return fd;
}

}  // namespace vm
