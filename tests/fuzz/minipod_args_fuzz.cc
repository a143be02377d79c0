// Fuzzes the minipod command's option parser and the parsers of option
// values (--add SRC[:DST], output format and compression, image paths):
// NUL-separated words, parsed against rootfs build's option table; and the
// same words as a `minipod run` command line (binds, ids, env, paths).
#include <stddef.h>
#include <stdint.h>

#include <string>
#include <vector>

#include "rootfs/build_plan.h"
#include "rootfs/manifest.h"
#include "cli/args.h"
#include "cli/run_options.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return 0;
  static const std::vector<minipod::cli::OptionSpec> kSpecs = {
      {"output", 'o', minipod::cli::ArgKind::kValue, "OUT", ""},
      {"format", 0, minipod::cli::ArgKind::kValue, "FMT", ""},
      {"compress", 0, minipod::cli::ArgKind::kValue, "C", ""},
      {"add", 0, minipod::cli::ArgKind::kList, "SRC[:DST]", ""},
      {"force", 'f', minipod::cli::ArgKind::kFlag, "", ""},
      {"strip", 's', minipod::cli::ArgKind::kFlag, "", ""},
  };
  std::vector<std::string> args;
  std::string cur;
  for (size_t i = 0; i < size; ++i) {
    if (data[i] == '\0') {
      args.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(static_cast<char>(data[i]));
    }
  }
  args.push_back(cur);
  if (auto run = minipod::cli::Parse(minipod::cli::RunOptions(), args, /*stop_at_operand=*/true); run.ok()) {
    if (auto config = minipod::cli::ParseRunConfig(*run, "/work/dir"); config.ok()) {
      for (const sandbox::BindSpec& b : config->binds) {
        // Checked paths only: absolute, no ".." component, never / or
        // inside /proc.
        const std::string& d = b.dest;
        const bool dotdot = d.find("/../") != std::string::npos || (d.size() >= 3 && d.compare(d.size() - 3, 3, "/..") == 0);
        if (d.empty() || d[0] != '/' || d == "/" || dotdot || d == "/proc" || d.rfind("/proc/", 0) == 0) {
          __builtin_trap();
        }
      }
      // Host paths come out absolute; the order names every bind and tmpfs once.
      for (const sandbox::BindSpec& b : config->binds) {
        if (b.source.empty() || b.source[0] != '/') __builtin_trap();
      }
      if (!config->rootfs.empty() && config->rootfs[0] != '/') __builtin_trap();
      if (!config->upper.empty() && config->upper[0] != '/') __builtin_trap();
      // Namespace files are absolute host paths; container names are names.
      for (const sandbox::NsChoice* ns : {&config->net, &config->ipc, &config->pid, &config->uts}) {
        if (ns->kind == sandbox::NsChoice::Kind::kPath && (ns->target.empty() || ns->target[0] != '/')) __builtin_trap();
        if (ns->kind == sandbox::NsChoice::Kind::kContainer &&
            (ns->target.empty() || ns->target.find('/') != std::string::npos)) {
          __builtin_trap();
        }
      }
      if (sandbox::MountOrder(*config).size() != config->binds.size() + config->tmpfs.size()) __builtin_trap();
      (void)sandbox::CommandEnvironment(*config, "xterm");
    }
  }
  auto parsed = minipod::cli::Parse(kSpecs, args);
  if (!parsed.ok()) return 0;
  (void)rootfs::ChooseOutput(parsed->Value("output"), parsed->Value("format"),
                             parsed->Value("compress"));
  for (const std::string& a : parsed->Values("add")) {
    // Absolute sources only: a relative one would be resolved on the host.
    if (!a.empty() && a[0] == '/') (void)rootfs::ParseAddSpec(a);
  }
  for (const std::string& op : parsed->operands()) {
    (void)rootfs::NormalizeImagePath(op);
    (void)rootfs::ResolveLinkText("/usr/lib", op);
  }
  return 0;
}
