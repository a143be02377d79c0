#include "rootfs/archive_writer.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <memory>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "common/absl/status_util.h"
#include "common/unique_fd.h"

namespace rootfs {
namespace {

struct ArchiveDeleter {
  void operator()(struct archive* a) const { archive_write_free(a); }
};
struct EntryDeleter {
  void operator()(struct archive_entry* e) const { archive_entry_free(e); }
};

// libarchive's message ("Write error") hides the cause; its errno, when it
// is a system one (ENOSPC, EIO, EDQUOT), names it.
absl::Status ArchiveError(struct archive* a, absl::string_view what) {
  const int err = archive_errno(a);
  // (libarchive's own codes: -1 for "misc", EILSEQ for a format problem,
  // EINVAL for a misuse; none of them is the system's.)
  if (err > 0 && err != EILSEQ && err != EINVAL) {
    return common::ErrnoStatus(err, what);
  }
  const char* msg = archive_error_string(a);
  return absl::InternalError(absl::StrCat(what, ": ", msg != nullptr ? msg : "libarchive error"));
}

absl::Status Configure(struct archive* a, const ArchiveOptions& o) {
  // Tar: GNU's format. File names are bytes, and GNU tar's headers (long
  // names included, as ././@LongLink entries) hold them as they are; pax
  // would convert them to UTF-8 from the locale's charset and refuse any it
  // cannot convert, or with hdrcharset=BINARY make GNU tar warn about the
  // keyword on every such entry.
  const int r = o.format == ArchiveFormat::kCpio ? archive_write_set_format_cpio_newc(a)
                                                 : archive_write_set_format_gnutar(a);
  if (r != ARCHIVE_OK) return ArchiveError(a, "archive format");
  int f = ARCHIVE_OK;
  switch (o.compression) {
    case Compression::kNone:
      break;
    case Compression::kGzip:
      // libarchive's gzip header carries no name and a zero timestamp.
      f = archive_write_add_filter_gzip(a);
      if (f == ARCHIVE_OK) f = archive_write_set_filter_option(a, "gzip", "compression-level", "9");
      // The gzip header's MTIME would be the time of the build: leave it 0.
      if (f == ARCHIVE_OK) f = archive_write_set_filter_option(a, "gzip", "timestamp", nullptr);
      break;
    case Compression::kZstd:
      f = archive_write_add_filter_zstd(a);
      if (f == ARCHIVE_OK) f = archive_write_set_filter_option(a, "zstd", "compression-level", "19");
      break;
    case Compression::kXz:
      f = archive_write_add_filter_xz(a);
      if (f == ARCHIVE_OK) f = archive_write_set_filter_option(a, "xz", "compression-level", "9");
      break;
  }
  if (f != ARCHIVE_OK) return ArchiveError(a, "compression filter");
  // No padding to 10 KiB blocks: the last block is written as it is.
  archive_write_set_bytes_in_last_block(a, 1);
  return absl::OkStatus();
}

absl::StatusOr<size_t> CopyData(struct archive* a, const std::string& source, int64_t size,
                                const std::string& out) {
  common::UniqueFd in(::open(source.c_str(), O_RDONLY | O_CLOEXEC));
  if (!in) return common::ErrnoStatus(errno, absl::StrCat("open(", source, ")"));
  char buf[1 << 16];
  int64_t total = 0;
  for (;;) {
    const ssize_t n = ::read(in.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return common::ErrnoStatus(errno, absl::StrCat("read(", source, ")"));
    }
    if (n == 0) break;
    total += n;
    if (total > size) break;
    if (archive_write_data(a, buf, static_cast<size_t>(n)) != n) {
      return ArchiveError(a, absl::StrCat("writing ", out, " (adding ", source, ")"));
    }
  }
  if (total != size) return absl::DataLossError(absl::StrCat(source, ": changed size while archived"));
  return static_cast<size_t>(total);
}

}  // namespace

absl::StatusOr<Compression> ParseCompression(absl::string_view name) {
  if (name == "none") return Compression::kNone;
  if (name == "gzip" || name == "gz") return Compression::kGzip;
  if (name == "zstd" || name == "zst") return Compression::kZstd;
  if (name == "xz") return Compression::kXz;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown compression '", name, "' (none, gzip, zstd, xz)"));
}

absl::StatusOr<TreeStats> WriteArchive(const Manifest& manifest, absl::string_view out_view,
                                       const ArchiveOptions& options) {
  const std::string out(out_view);
  struct stat st;
  if (::lstat(out.c_str(), &st) == 0) {
    if (!options.replace) {
      return absl::AlreadyExistsError(absl::StrCat(out, " exists (use --force to replace it)"));
    }
    if (S_ISDIR(st.st_mode)) {
      return absl::FailedPreconditionError(absl::StrCat(out, " exists and is a directory"));
    }
  }
  std::string tmp = absl::StrCat(out, ".tmp-XXXXXX");
  common::UniqueFd fd(::mkostemp(tmp.data(), O_CLOEXEC));
  if (!fd) return common::ErrnoStatus(errno, absl::StrCat("mkostemp(", tmp, ")"));
  bool keep = false;
  absl::Cleanup cleanup = [&] {
    if (!keep) ::unlink(tmp.c_str());
  };
  if (::fchmod(fd.get(), 0644) != 0) return common::ErrnoStatus(errno, absl::StrCat("fchmod(", tmp, ")"));

  std::unique_ptr<struct archive, ArchiveDeleter> a(archive_write_new());
  if (a == nullptr) return absl::ResourceExhaustedError("archive_write_new failed");
  RETURN_IF_ERROR(Configure(a.get(), options));
  if (archive_write_open_fd(a.get(), fd.get()) != ARCHIVE_OK) return ArchiveError(a.get(), tmp);

  TreeStats stats;
  int64_t ino = 0;
  for (const auto& [path, e] : manifest.entries()) {
    std::unique_ptr<struct archive_entry, EntryDeleter> entry(archive_entry_new());
    archive_entry_copy_pathname(entry.get(), path.c_str() + 1);  // "usr/bin/x"
    archive_entry_set_uid(entry.get(), 0);
    archive_entry_set_gid(entry.get(), 0);
    archive_entry_set_mtime(entry.get(), options.mtime, 0);
    archive_entry_set_ino64(entry.get(), ++ino);
    archive_entry_set_dev(entry.get(), 0);
    archive_entry_set_nlink(entry.get(), e.kind == Entry::Kind::kDir ? 2 : 1);
    archive_entry_set_size(entry.get(), 0);
    int64_t size = 0;
    switch (e.kind) {
      case Entry::Kind::kDir:
        archive_entry_set_mode(entry.get(), S_IFDIR | e.mode);
        break;
      case Entry::Kind::kFile: {
        struct stat s;
        if (::stat(e.source.c_str(), &s) != 0) {
          return common::ErrnoStatus(errno, absl::StrCat("stat(", e.source, ")"));
        }
        size = s.st_size;
        archive_entry_set_mode(entry.get(), S_IFREG | e.mode);
        archive_entry_set_size(entry.get(), size);
        break;
      }
      case Entry::Kind::kSymlink:
        archive_entry_set_mode(entry.get(), S_IFLNK | 0777);
        archive_entry_copy_symlink(entry.get(), e.target.c_str());
        break;
      case Entry::Kind::kCharDevice:
        archive_entry_set_mode(entry.get(), S_IFCHR | e.mode);
        archive_entry_set_rdev(entry.get(), makedev(e.major, e.minor));
        break;
    }
    if (archive_write_header(a.get(), entry.get()) != ARCHIVE_OK) {
      return ArchiveError(a.get(), absl::StrCat("writing ", out, " (header for ", path, ")"));
    }
    if (e.kind == Entry::Kind::kFile) {
      ASSIGN_OR_RETURN(const size_t n, CopyData(a.get(), e.source, size, out));
      stats.files++;
      stats.bytes += n;
    }
  }
  if (archive_write_close(a.get()) != ARCHIVE_OK) return ArchiveError(a.get(), absl::StrCat("writing ", out));
  if (::fsync(fd.get()) != 0) return common::ErrnoStatus(errno, absl::StrCat("fsync(", tmp, ")"));
  if (::rename(tmp.c_str(), out.c_str()) != 0) {
    return common::ErrnoStatus(errno, absl::StrCat("rename(", tmp, ", ", out, ")"));
  }
  keep = true;
  return stats;
}

}  // namespace rootfs
