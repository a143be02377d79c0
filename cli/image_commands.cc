// `minipod image build` (an initramfs for `minipod vm` or QEMU) and
// `minipod image kernel` (the cached PVH vmlinux of a bzImage).
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cli/build_env.h"
#include "cli/commands.h"
#include "common/absl/self_path.h"
#include "common/absl/status_util.h"
#include "rootfs/image.h"
#include "rootfs/image_argv.h"
#include "rootfs/kernel_image.h"

namespace minipod {
namespace {

using cli::ArgKind;

absl::StatusOr<int> RunImageBuild(const cli::ParsedArgs& args) {
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  rootfs::ImageConfig c;
  c.output = args.Value("output");
  if (c.output.empty()) return absl::InvalidArgumentError("missing -o IMAGE");
  c.compress = args.Value("compress");
  c.force = args.Has("force");
  c.binaries = args.operands();
  c.adds = args.Values("add");
  c.modules = args.Values("module");
  c.kernel = args.Value("kernel");
  c.kernel_release = args.Value("kernel-release");
  if (args.Has("cmd")) {
    const std::string cmd = args.Value("cmd");
    absl::StatusOr<std::vector<std::string>> words = rootfs::SplitCommand(cmd);
    if (!words.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--cmd '", cmd, "': ", words.status().message()));
    }
    c.command = *std::move(words);
  }
  ASSIGN_OR_RETURN(c.init_path, FindInit("minipod image build"));
  if (args.Has("with-minipod")) {
    std::string dir;
    RETURN_IF_ERROR(SelfDir(&dir, &c.minipod_path));
    ASSIGN_OR_RETURN(const common::UniqueFd monitor, OpenMonitor(&c.monitor_path));
  }
  c.nss = args.Has("nss");
  c.strip = args.Has("strip");
  c.allow_missing = args.Has("allow-missing");
  ASSIGN_OR_RETURN(c.epoch, SourceDateEpoch());
  c.report = [](absl::string_view line) {
    fprintf(stderr, "minipod image build: %.*s\n", static_cast<int>(line.size()), line.data());
  };
  ASSIGN_OR_RETURN(const rootfs::BuildResult r, rootfs::BuildImage(c));
  printf("%s: %zu files, %zu entries, %zu bytes in %.2fs\n", c.output.c_str(), r.stats.files, r.entries,
         r.stats.bytes, SecondsSince(start));
  return 0;
}

absl::StatusOr<int> RunImageKernel(const cli::ParsedArgs& args) {
  if (args.operands().size() > 1) return absl::InvalidArgumentError("one KERNEL at most");
  std::string kernel;
  if (args.operands().empty()) {
    ASSIGN_OR_RETURN(kernel, rootfs::DefaultKernel());
  } else {
    kernel = args.operands()[0];
  }
  if (!args.Has("pvh")) {
    printf("%s\n", kernel.c_str());
    return 0;
  }
  ASSIGN_OR_RETURN(const std::string vmlinux, rootfs::CachedPvhKernel(kernel));
  printf("%s\n", vmlinux.c_str());
  return 0;
}

absl::StatusOr<int> RunImageInspect(const cli::ParsedArgs& args) {
  if (args.operands().size() != 1) return absl::InvalidArgumentError("give one IMAGE");
  ASSIGN_OR_RETURN(const rootfs::ImageContents c, rootfs::InspectImage(args.operands()[0]));
  printf("command: %s\n", c.has_command ? rootfs::QuoteCommand(c.command).c_str() : "(none: minipod.cmd= or the init's arguments)");
  printf("modules: %zu\n", c.modules.size());
  for (const std::string& m : c.modules) printf("  %s\n", m.c_str());
  printf("entries: %zu\n", c.entries.size());
  for (const std::string& e : c.entries) printf("  %s\n", e.c_str());
  return 0;
}

}  // namespace

std::vector<Command> ImageCommands() {
  std::vector<Command> commands;
  commands.push_back(Command{
      {"image", "build"},
      "-o IMAGE [OPTIONS] [BIN...]",
      "build a bootable initramfs: minipod-init, binaries, modules, a default command",
      "Writes IMAGE, a cpio initramfs (.cpio, .cpio.gz, .cpio.zst, .cpio.xz)\n"
      "for `minipod vm` or `qemu -initrd`: minipod-init as /init and /sbin/init,\n"
      "each BIN (looked up in PATH when it has no slash) with the libraries the\n"
      "loader would load for it, --add files, kernel modules and their\n"
      "dependencies for the kernel the image is meant for (--kernel, default\n"
      "the newest /boot/vmlinuz-*, whose name vmlinuz-R gives the release R),\n"
      "loaded at boot in order. --cmd CMD is the command the init runs when the\n"
      "kernel command line names none (/etc/minipod/argv), split like a shell\n"
      "without expansions: blanks separate words, '...' is literal, \"...\" takes\n"
      "\\\" \\\\ \\$ \\` escapes, a backslash outside quotes keeps the next character.\n"
      "--with-minipod adds minipod itself (/usr/bin/minipod, minipod-init and\n"
      "minipod-monitor in /usr/lib/minipod, overlayfs, /etc/passwd and group)\n"
      "so containers and pods run in the guest. Reproducible (owner 0:0, mtime\n"
      "SOURCE_DATE_EPOCH, default 0) and built without privileges.\n"
      "Exit status: 0, 1 on failure, 2 on a usage error.",
      {
          {"output", 'o', ArgKind::kValue, "IMAGE", "the initramfs to write"},
          {"cmd", 0, ArgKind::kValue, "CMD", "the default command, split into words like a shell"},
          kModuleOption,
          {"kernel", 0, ArgKind::kValue, "PATH", "the kernel the image is for (default: newest /boot/vmlinuz-*)"},
          {"kernel-release", 0, ArgKind::kValue, "R", "modules from /lib/modules/R (default: from --kernel's name)"},
          kAddOption,
          {"with-minipod", 0, ArgKind::kFlag, "", "minipod, its init and monitor, so containers run in the guest"},
          kNssOption,
          kStripOption,
          kAllowMissingOption,
          {"compress", 0, ArgKind::kValue, "ALGO", "none, gzip, zstd or xz (default: from IMAGE)"},
          {"force", 'f', ArgKind::kFlag, "", "replace IMAGE if it exists (atomically)"},
      },
      RunImageBuild,
  });
  commands.push_back(Command{
      {"image", "inspect"},
      "IMAGE",
      "show an image's default command, modules and entries",
      "Reads IMAGE (a cpio initramfs, compressed or not) and prints the command\n"
      "boot mode runs by default (/etc/minipod/argv, quoted so that --cmd takes\n"
      "it back), the modules in load order (/etc/minipod/modules) and every\n"
      "entry, directories with a trailing '/', links with their target.",
      {},
      RunImageInspect,
  });
  commands.push_back(Command{
      {"image", "kernel"},
      "[--pvh] [KERNEL]",
      "print the kernel minipod vm boots, or its cached PVH vmlinux",
      "Prints KERNEL (default: the newest /boot/vmlinuz-* by version). With\n"
      "--pvh, prints the uncompressed vmlinux extracted from that bzImage for\n"
      "QEMU's PVH entry (no self-decompression: a much faster boot under TCG),\n"
      "extracting it on first use into the cache ($MINIPOD_CACHE/kernels,\n"
      "/var/cache/minipod/kernels for root, else ~/.cache/minipod/kernels).\n"
      "Fails (status 1) when the kernel has no PVH entry or its compression\n"
      "is not gzip, xz or zstd: boot the bzImage then.",
      {
          {"pvh", 0, ArgKind::kFlag, "", "the cached PVH vmlinux instead of the bzImage"},
      },
      RunImageKernel,
  });
  return commands;
}

}  // namespace minipod
