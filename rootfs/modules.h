// Kernel modules for an image (`minipod rootfs build --module NAME`): the
// modules.dep closure of each NAME in modprobe's load order, copied (and
// decompressed) under /lib/modules/R, with the list minipod-init loads at
// boot. Parent side only: reads files and calls uname(2); loads nothing.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "rootfs/manifest.h"
#include "rootfs/staging.h"

namespace rootfs {

// Where minipod-init finds the load list: one absolute image path per line,
// dependencies first.
inline constexpr absl::string_view kModuleListPath = "/etc/minipod/modules";

struct ModuleOptions {
  std::string modules_root = "/lib/modules";  // tests point this at a fixture
  std::string kernel_release;                 // "" : uname(2)'s release
};

struct ModulePlan {
  std::string release;
  // Module files relative to modules_root/release, as modules.dep names
  // them (compression suffix included), dependencies first, each once.
  std::vector<std::string> load_order;
  std::vector<std::string> notes;  // "ext4: built into the kernel"
};

// Pure planning from the index files' text, so it can be fuzzed. Each NAME
// is looked up as kmod does: '-' and '_' are the same; first by module name
// in modules.dep, then modules.builtin (a note, not an error), then the
// patterns of modules.alias (every module an alias matches). The load order
// follows modprobe: a module's modules.dep list from last to first, then its
// softdep "pre:" modules, the module, its "post:" modules. A soft dependency
// that would close a cycle is cut; a cycle of hard dependencies is an error.
absl::StatusOr<ModulePlan> PlanModules(const std::vector<std::string>& names,
                                       absl::string_view modules_dep,
                                       absl::string_view modules_alias,
                                       absl::string_view modules_softdep,
                                       absl::string_view modules_builtin,
                                       absl::string_view release);

// Reads the index files of modules_root/R (missing alias, softdep and
// builtin files are fine; a missing modules.dep is an error naming the
// directory), plans, and adds to the manifest: each module as
// /lib/modules/R/<path> without its .xz/.zst/.gz suffix (decompressed into
// staging; mode 0644), a modules.dep covering exactly those modules, and
// kModuleListPath. Adds nothing when every NAME is built in. Call it after
// the host binaries are in: an image /lib that is a symlink (merged /usr) is
// followed, so the files land where the image's /lib/modules resolves.
absl::StatusOr<ModulePlan> AddKernelModules(Manifest& manifest, Staging& staging,
                                            const std::vector<std::string>& names,
                                            const ModuleOptions& options);

// Whether a modules.alias pattern matches: fnmatch(3) with flags 0, as kmod
// does; false when either holds a NUL byte.
bool AliasPatternMatches(absl::string_view pattern, absl::string_view text);

}  // namespace rootfs
