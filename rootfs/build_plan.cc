#include "rootfs/build_plan.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/absl/status_util.h"

namespace rootfs {
namespace {

struct Suffix {
  absl::string_view text;
  OutputSpec::Kind kind;
  Compression compression;
};

constexpr Suffix kSuffixes[] = {
    {".cpio", OutputSpec::Kind::kCpio, Compression::kNone},
    {".cpio.gz", OutputSpec::Kind::kCpio, Compression::kGzip},
    {".cpio.zst", OutputSpec::Kind::kCpio, Compression::kZstd},
    {".cpio.xz", OutputSpec::Kind::kCpio, Compression::kXz},
    {".tar", OutputSpec::Kind::kTar, Compression::kNone},
    {".tar.gz", OutputSpec::Kind::kTar, Compression::kGzip},
    {".tgz", OutputSpec::Kind::kTar, Compression::kGzip},
    {".tar.zst", OutputSpec::Kind::kTar, Compression::kZstd},
    {".tar.xz", OutputSpec::Kind::kTar, Compression::kXz},
};

// Up to 64 levels of directories below an --add source.
constexpr int kMaxDepth = 64;

absl::Status AddTreeAt(Manifest& m, const std::string& src, const std::string& dest, int depth) {
  if (depth > kMaxDepth) {
    return absl::InvalidArgumentError(absl::StrCat(src, ": directories nested too deep"));
  }
  struct stat st;
  if (::lstat(src.c_str(), &st) != 0) return common::ErrnoStatus(errno, absl::StrCat("lstat(", src, ")"));
  if (S_ISREG(st.st_mode)) return m.AddFile(dest, src, st.st_mode);
  if (S_ISLNK(st.st_mode)) {
    std::vector<char> buf(4097);
    const ssize_t n = ::readlink(src.c_str(), buf.data(), buf.size());
    if (n < 0) return common::ErrnoStatus(errno, absl::StrCat("readlink(", src, ")"));
    if (static_cast<size_t>(n) >= buf.size()) {
      return absl::InvalidArgumentError(absl::StrCat(src, ": symlink too long"));
    }
    return m.AddSymlink(dest, absl::string_view(buf.data(), static_cast<size_t>(n)));
  }
  if (!S_ISDIR(st.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat(src, ": not a regular file, directory or symlink"));
  }
  // A directory merges into what the image already has at that name, through
  // the image's own links (a tree's bin/ lands in usr/bin/ when the image
  // has /bin -> usr/bin), as cp -r and tar do with an existing link to a
  // directory. Files and links are placed at their own name.
  ASSIGN_OR_RETURN(const std::string real_dest, ResolveInImage(m, dest));
  RETURN_IF_ERROR(m.AddDir(real_dest, st.st_mode));
  DIR* dir = ::opendir(src.c_str());
  if (dir == nullptr) return common::ErrnoStatus(errno, absl::StrCat("opendir(", src, ")"));
  std::vector<std::string> names;
  errno = 0;
  while (struct dirent* d = ::readdir(dir)) {
    if (strcmp(d->d_name, ".") != 0 && strcmp(d->d_name, "..") != 0) names.emplace_back(d->d_name);
  }
  const int err = errno;
  ::closedir(dir);
  if (err != 0) return common::ErrnoStatus(err, absl::StrCat("readdir(", src, ")"));
  std::sort(names.begin(), names.end());
  for (const std::string& n : names) {
    RETURN_IF_ERROR(AddTreeAt(m, absl::StrCat(src, "/", n),
                              real_dest == "/" ? absl::StrCat("/", n) : absl::StrCat(real_dest, "/", n), depth + 1));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<OutputSpec> ChooseOutput(absl::string_view out, absl::string_view format,
                                        absl::string_view compress) {
  OutputSpec spec;
  const Suffix* by_suffix = nullptr;
  for (const Suffix& s : kSuffixes) {
    if (absl::EndsWith(out, s.text) && out.size() > s.text.size() &&
        (by_suffix == nullptr || s.text.size() > by_suffix->text.size())) {
      by_suffix = &s;
    }
  }
  if (format.empty()) {
    if (by_suffix != nullptr) {
      spec.kind = by_suffix->kind;
      spec.compression = by_suffix->compression;
    }
  } else {
    if (format == "dir") {
      spec.kind = OutputSpec::Kind::kDir;
    } else if (format == "cpio") {
      spec.kind = OutputSpec::Kind::kCpio;
    } else if (format == "tar") {
      spec.kind = OutputSpec::Kind::kTar;
    } else if (format == "oci") {
      spec.kind = OutputSpec::Kind::kOci;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown format '", format, "' (dir, cpio, tar, oci)"));
    }
    if (spec.kind == OutputSpec::Kind::kOci && by_suffix != nullptr && by_suffix->kind == OutputSpec::Kind::kTar) {
      if (by_suffix->compression != Compression::kNone || !compress.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("output '", out, "': an OCI archive is an uncompressed .tar"));
      }
      spec.oci_tar = true;
      return spec;
    }
    if (by_suffix != nullptr && by_suffix->kind != spec.kind) {
      return absl::InvalidArgumentError(absl::StrCat("output '", out, "' ends in '",
                                                     by_suffix->text, "' but --format is ", format));
    }
    if (by_suffix != nullptr) spec.compression = by_suffix->compression;
  }
  if (!compress.empty()) {
    absl::StatusOr<Compression> c = ParseCompression(compress);
    if (!c.ok()) return c.status();
    if (by_suffix != nullptr && by_suffix->compression != *c) {
      return absl::InvalidArgumentError(absl::StrCat("output '", out, "' ends in '",
                                                     by_suffix->text, "' but --compress is ", compress));
    }
    spec.compression = *c;
  }
  if (spec.compression != Compression::kNone &&
      (spec.kind == OutputSpec::Kind::kDir || spec.kind == OutputSpec::Kind::kOci)) {
    return absl::InvalidArgumentError("--compress applies to cpio and tar output only");
  }
  return spec;
}

absl::StatusOr<AddSpec> ParseAddSpec(absl::string_view spec) {
  if (spec.empty()) return absl::InvalidArgumentError("empty --add");
  AddSpec out;
  size_t colon = absl::string_view::npos;
  for (size_t i = 0; i < spec.size(); ++i) {
    if (spec[i] == '\\' && i + 1 < spec.size() && (spec[i + 1] == ':' || spec[i + 1] == '\\')) {
      out.source += spec[++i];
    } else if (spec[i] == ':') {
      colon = i;
      break;
    } else {
      out.source += spec[i];
    }
  }
  if (out.source.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("--add '", spec, "': no source"));
  }
  std::string dest;
  if (colon != absl::string_view::npos) {
    dest = std::string(spec.substr(colon + 1));
  } else if (out.source[0] == '/') {
    dest = out.source;
  } else {
    char* abs = ::realpath(out.source.c_str(), nullptr);
    if (abs == nullptr) return common::ErrnoStatus(errno, absl::StrCat("realpath(", out.source, ")"));
    dest = abs;
    ::free(abs);
  }
  absl::StatusOr<std::string> norm = NormalizeImagePath(dest);
  if (!norm.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--add '", spec, "': ", norm.status().message()));
  }
  out.dest = *norm;
  return out;
}

absl::Status AddHostTree(Manifest& manifest, const std::string& source, const std::string& dest) {
  return AddTreeAt(manifest, source, dest, 0);
}

absl::Status AddInitSkeleton(Manifest& m, const std::string& init_path) {
  struct stat st;
  if (::stat(init_path.c_str(), &st) != 0) {
    return common::ErrnoStatus(errno, absl::StrCat("stat(", init_path, ")"));
  }
  RETURN_IF_ERROR(m.AddFile("/init", init_path, 0755));
  // One copy: /sbin/init links to it, through /sbin's own link when the
  // image has merged /usr (/sbin -> usr/sbin).
  std::string sbin = "/sbin";
  if (auto it = m.entries().find(sbin);
      it != m.entries().end() && it->second.kind == Entry::Kind::kSymlink) {
    sbin = ResolveLinkText("/", it->second.target);
  }
  RETURN_IF_ERROR(m.AddSymlink(sbin + "/init", "/init"));
  for (const char* d : {"/proc", "/sys", "/dev", "/run", "/etc"}) RETURN_IF_ERROR(m.AddDir(d, 0755));
  RETURN_IF_ERROR(m.AddDir("/tmp", 01777));
  RETURN_IF_ERROR(m.AddDir("/root", 0700));
  // The kernel opens /dev/console for PID 1 before /init runs.
  RETURN_IF_ERROR(m.AddCharDevice("/dev/console", 0600, 5, 1));
  return m.AddCharDevice("/dev/null", 0666, 1, 3);
}

}  // namespace rootfs
