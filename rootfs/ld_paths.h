// Where glibc's ld.so looks for a library, as data: the directories of
// /etc/ld.so.conf and its includes, the built-in default directories and
// the hwcaps subdirectories per machine, and the dynamic string tokens
// ($ORIGIN, $LIB, $PLATFORM) of DT_RPATH, DT_RUNPATH and DT_NEEDED.
// Reads files only; never runs ld.so or ldconfig.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "rootfs/elf.h"

namespace rootfs {

// What ld.so substitutes and searches for one ELF machine and class, as
// Debian's glibc 2.36 has it built in.
struct LoaderTraits {
  std::string lib;                        // $LIB: "lib/x86_64-linux-gnu"
  std::string platform;                   // $PLATFORM (AT_PLATFORM): "x86_64"
  std::vector<std::string> default_dirs;  // searched last, in this order
};
LoaderTraits TraitsFor(const ElfInfo& elf);

// One ld.so.conf file's text: the directories it lists, in order, and the
// include patterns (made absolute against conf_dir, the including file's
// directory). "hwcap" lines are ignored, as ldconfig does.
struct LdSoConfText {
  std::vector<std::string> dirs;
  std::vector<std::string> includes;
};
LdSoConfText ParseLdSoConfText(absl::string_view text, absl::string_view conf_dir);

// The directories of path and, depth-first in glob order, its includes;
// each directory once. A missing file yields nothing, as for ldconfig; an
// include cycle is cut.
absl::StatusOr<std::vector<std::string>> ReadLdSoConf(const std::string& path);

// Expands $ORIGIN, $LIB and $PLATFORM (also written ${...}) in one search
// path element or DT_NEEDED name. As in ld.so, a bare token must end at
// '/' or the end of the text, and anything else after '$' stays literal.
std::string ExpandDst(absl::string_view text, absl::string_view origin,
                                     const LoaderTraits& traits);

// "a:b::c" -> {"a", "b", "c"}, each with trailing slashes removed; empty
// elements (the current directory at run time, meaningless in an image)
// are dropped.
std::vector<std::string> SplitSearchPath(absl::string_view path);

// Directory part of a path, lexically: "/a/b" -> "/a", "/a" -> "/".
std::string DirName(absl::string_view path);

}  // namespace rootfs
