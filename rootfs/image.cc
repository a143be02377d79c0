// The image's parts as a BuildConfig: init, argv, --with-minipod files,
// the modules' kernel release; rootfs::Build writes it.
#include "rootfs/image.h"

#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/absl/status_util.h"
#include "rootfs/build_plan.h"
#include "rootfs/image_argv.h"
#include "rootfs/modules.h"

namespace rootfs {
namespace {

// Enough of a user database for `minipod run -u` and for tools that look
// up root; an --add or --nss /etc/passwd wins.
constexpr absl::string_view kPasswd =
    "root:x:0:0:root:/root:/bin/sh\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";
constexpr absl::string_view kGroup = "root:x:0:\nnogroup:x:65534:\n";

struct ArchiveReadDeleter {
  void operator()(struct archive* a) const { archive_read_free(a); }
};

// A member's bytes, refused past limit.
absl::StatusOr<std::string> ReadMember(struct archive* a, const std::string& image, absl::string_view name,
                                       size_t limit) {
  std::string data;
  char buf[4096];
  for (;;) {
    const la_ssize_t n = archive_read_data(a, buf, sizeof buf);
    if (n < 0) return absl::DataLossError(absl::StrCat(image, ": ", archive_error_string(a)));
    if (n == 0) return data;
    if (data.size() + static_cast<size_t>(n) > limit) {
      return absl::FailedPreconditionError(absl::StrCat(image, ": ", name, " is larger than ", limit, " bytes"));
    }
    data.append(buf, static_cast<size_t>(n));
  }
}

bool IsDir(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// The release the modules come from: --kernel-release, else the kernel's
// file name.
absl::StatusOr<std::string> ModulesRelease(const ImageConfig& c) {
  if (!c.kernel_release.empty()) return c.kernel_release;
  std::string kernel = c.kernel;
  if (kernel.empty()) {
    absl::StatusOr<std::string> k = DefaultKernel();
    if (!k.ok()) return common::Annotate(k.status(), "--module needs the kernel's release: give --kernel or --kernel-release");
    kernel = *k;
  }
  std::string release = KernelReleaseFromPath(kernel);
  if (release.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--kernel ", kernel, ": the file name is not vmlinuz-RELEASE; give --kernel-release"));
  }
  return release;
}

}  // namespace

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

bool VersionLess(absl::string_view a, absl::string_view b) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (IsDigit(a[i]) && IsDigit(b[j])) {
      // Numbers: skip leading zeros, then the longer is larger, then bytes.
      while (i < a.size() && a[i] == '0') ++i;
      while (j < b.size() && b[j] == '0') ++j;
      size_t ei = i, ej = j;
      while (ei < a.size() && IsDigit(a[ei])) ++ei;
      while (ej < b.size() && IsDigit(b[ej])) ++ej;
      if (ei - i != ej - j) return ei - i < ej - j;
      const int c = a.substr(i, ei - i).compare(b.substr(j, ej - j));
      if (c != 0) return c < 0;
      i = ei;
      j = ej;
      continue;
    }
    if (a[i] != b[j]) return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[j]);
    ++i;
    ++j;
  }
  return a.size() - i < b.size() - j;
}

std::string NewestVmlinuz(const std::vector<std::string>& names) {
  std::string best;
  for (const std::string& n : names) {
    if (!absl::StartsWith(n, "vmlinuz-") || n.size() == 8) continue;
    if (best.empty() || VersionLess(best, n)) best = n;
  }
  return best;
}

std::string KernelReleaseFromPath(absl::string_view path) {
  const size_t slash = path.rfind('/');
  absl::string_view name = slash == absl::string_view::npos ? path : path.substr(slash + 1);
  if (!absl::ConsumePrefix(&name, "vmlinuz-") && !absl::ConsumePrefix(&name, "vmlinux-")) return "";
  if (name.empty() || name == "." || name == ".." || name.size() > 200) return "";
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return "";
  }
  return std::string(name);
}

absl::StatusOr<std::string> DefaultKernel(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return common::ErrnoStatus(errno, absl::StrCat("opendir(", dir, ")"));
  std::vector<std::string> names;
  while (struct dirent* e = ::readdir(d)) names.emplace_back(e->d_name);
  ::closedir(d);
  const std::string newest = NewestVmlinuz(names);
  if (newest.empty()) return absl::NotFoundError(absl::StrCat("no ", dir, "/vmlinuz-* kernel"));
  return absl::StrCat(dir == "/" ? "" : dir, "/", newest);
}

absl::StatusOr<ImageContents> InspectImage(const std::string& path) {
  std::unique_ptr<struct archive, ArchiveReadDeleter> a(archive_read_new());
  if (a == nullptr) return absl::ResourceExhaustedError("archive_read_new");
  archive_read_support_filter_gzip(a.get());
  archive_read_support_filter_xz(a.get());
  archive_read_support_filter_zstd(a.get());
  archive_read_support_format_cpio(a.get());
  if (archive_read_open_filename(a.get(), path.c_str(), 64 << 10) != ARCHIVE_OK) {
    const int err = archive_errno(a.get());
    // libarchive reports an unknown format as EILSEQ.
    if (err > 0 && err != EILSEQ) return common::ErrnoStatus(err, absl::StrCat("open(", path, ")"));
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": not a cpio image (", archive_error_string(a.get()), ")"));
  }
  ImageContents out;
  const std::string argv_name(kArgvPath.substr(1));
  const std::string modules_name(kModuleListPath.substr(1));
  for (;;) {
    struct archive_entry* e = nullptr;
    const int r = archive_read_next_header(a.get(), &e);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
      if (out.entries.empty()) {
        return absl::FailedPreconditionError(
            absl::StrCat(path, ": not a cpio image (", archive_error_string(a.get()), ")"));
      }
      return absl::DataLossError(absl::StrCat(path, ": ", archive_error_string(a.get())));
    }
    const char* name_c = archive_entry_pathname(e);
    std::string name = name_c == nullptr ? "" : name_c;
    if (absl::StartsWith(name, "./")) name.erase(0, 2);
    if (name == argv_name) {
      ASSIGN_OR_RETURN(const std::string bytes, ReadMember(a.get(), path, kArgvPath, kMaxArgvBytes));
      absl::StatusOr<std::vector<std::string>> words = DecodeArgv(bytes);
      if (!words.ok()) return common::Annotate(words.status(), absl::StrCat(path, ": ", kArgvPath));
      out.has_command = true;
      out.command = *std::move(words);
    } else if (name == modules_name) {
      ASSIGN_OR_RETURN(const std::string text, ReadMember(a.get(), path, kModuleListPath, 1 << 20));
      out.modules = absl::StrSplit(text, '\n', absl::SkipEmpty());
    }
    std::string shown = absl::StrCat("/", name);
    if (archive_entry_filetype(e) == AE_IFDIR) {
      if (shown != "/") shown += "/";
    } else if (archive_entry_filetype(e) == AE_IFLNK) {
      const char* target = archive_entry_symlink(e);
      absl::StrAppend(&shown, " -> ", target == nullptr ? "" : target);
    }
    out.entries.push_back(std::move(shown));
  }
  return out;
}

absl::StatusOr<BuildResult> BuildImage(const ImageConfig& c) {
  if (c.output.empty()) return absl::InvalidArgumentError("missing -o OUT");
  if (c.init_path.empty()) return absl::InvalidArgumentError("no minipod-init for /init");
  ASSIGN_OR_RETURN(const OutputSpec spec, ChooseOutput(c.output, "", c.compress));
  if (spec.kind == OutputSpec::Kind::kTar || spec.kind == OutputSpec::Kind::kOci) {
    return absl::InvalidArgumentError(
        absl::StrCat("output '", c.output, "': an image is a cpio initramfs (.cpio, .cpio.gz, .cpio.zst, .cpio.xz)"));
  }
  BuildConfig b;
  b.output = c.output;
  b.format = "cpio";
  b.compress = c.compress;
  b.force = c.force;
  b.binaries = c.binaries;
  b.adds = c.adds;
  b.init_path = c.init_path;
  b.nss = c.nss;
  b.strip = c.strip;
  b.allow_missing = c.allow_missing;
  b.epoch = c.epoch;
  b.report = c.report;
  b.modules = c.modules;
  const bool with_minipod = !c.minipod_path.empty();
  if (with_minipod) {
    // Debug information is no use in a guest (and most of a debug build).
    b.placed.push_back({c.minipod_path, std::string(kImageMinipod), 0755, /*strip=*/true});
    b.placed.push_back({c.init_path, absl::StrCat(kImageLibDir, "/minipod-init"), 0755});
    b.placed.push_back({c.monitor_path, absl::StrCat(kImageLibDir, "/minipod-monitor"), 0755});
    b.generated.push_back({"/etc/passwd", std::string(kPasswd), 0644, /*fallback=*/true});
    b.generated.push_back({"/etc/group", std::string(kGroup), 0644, /*fallback=*/true});
  }
  if (!c.modules.empty() || with_minipod) {
    absl::StatusOr<std::string> release = ModulesRelease(c);
    if (!release.ok() && !c.modules.empty()) return release.status();
    const std::string dir = release.ok() ? absl::StrCat(c.modules_root, "/", *release) : "";
    if (release.ok() && !IsDir(dir) && !c.modules.empty()) {
      return absl::NotFoundError(absl::StrCat("--module: no ", dir, ": the modules of kernel ", *release,
                                              " are not installed (give --kernel or --kernel-release)"));
    }
    if (with_minipod) {
      // `minipod run` puts an overlay over the container's root; Debian
      // builds overlayfs as a module.
      if (release.ok() && IsDir(dir)) {
        if (std::find(b.modules.begin(), b.modules.end(), "overlay") == b.modules.end()) b.modules.push_back("overlay");
      } else if (c.report) {
        c.report(absl::StrCat("warning: --with-minipod: no modules for the kernel (",
                              release.ok() ? dir : release.status().message(),
                              "): overlay not added; minipod run needs overlayfs in the guest"));
      }
    }
    if (!b.modules.empty()) {
      b.kernel_dir = dir;
    }
  }
  if (!c.command.empty()) {
    absl::StatusOr<std::string> argv = EncodeArgv(c.command);
    if (!argv.ok()) return common::Annotate(argv.status(), "--cmd");
    b.generated.push_back({std::string(kArgvPath), *std::move(argv), 0644, /*fallback=*/false});
  }
  return Build(b);
}

}  // namespace rootfs
