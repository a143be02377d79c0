// What `rootfs build` and `image build` share around the library call:
// the options with the same meaning, SOURCE_DATE_EPOCH from the environment
// and the elapsed time they report.
#pragma once

#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "cli/args.h"

namespace minipod {

inline constexpr cli::OptionSpec kAddOption{"add", 0, cli::ArgKind::kList, "SRC[:DST]",
                                            "copy a file or tree into the image ('\\:' is a ':' in SRC)"};
inline constexpr cli::OptionSpec kNssOption{"nss", 0, cli::ArgKind::kFlag, "",
                                            "NSS modules and /etc files so id, whoami and getent work"};
inline constexpr cli::OptionSpec kModuleOption{"module", 'm', cli::ArgKind::kList, "NAME",
                                               "a kernel module (or alias) with its modules.dep closure"};
inline constexpr cli::OptionSpec kStripOption{"strip", 0, cli::ArgKind::kFlag, "", "store stripped copies of ELF files"};
inline constexpr cli::OptionSpec kAllowMissingOption{"allow-missing", 0, cli::ArgKind::kFlag, "",
                                                     "warn about a missing library instead of failing"};

// SOURCE_DATE_EPOCH (reproducible-builds.org), 0 when unset or empty.
inline absl::StatusOr<int64_t> SourceDateEpoch() {
  const char* s = ::getenv("SOURCE_DATE_EPOCH");
  if (s == nullptr || *s == '\0') return 0;
  int64_t v = 0;
  if (!absl::SimpleAtoi(s, &v) || v < 0) {
    return absl::InvalidArgumentError(absl::StrCat("SOURCE_DATE_EPOCH='", s, "' is not a time"));
  }
  return v;
}

inline double SecondsSince(const struct timespec& start) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<double>(now.tv_sec - start.tv_sec) +
         static_cast<double>(now.tv_nsec - start.tv_nsec) / 1e9;
}

}  // namespace minipod
