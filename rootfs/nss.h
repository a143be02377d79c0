// --nss: what user, group and host lookups need inside an image. glibc
// loads an NSS module by name (libnss_<source>.so.2) for each source that
// /etc/nsswitch.conf lists, so no ELF file names them; they and the few
// /etc files that make `id`, `whoami` and `getent` answer are added here.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "rootfs/closure.h"
#include "rootfs/manifest.h"
#include "rootfs/staging.h"

namespace rootfs {

// The NSS modules for the "files" and "dns" sources with their own needs,
// resolved for the ELF class and machine of like (a binary in the image),
// plus /etc/nsswitch.conf, /etc/passwd, /etc/group and /etc/hosts unless
// the manifest has them already (an --add wins).
absl::Status AddNss(Manifest& manifest, Staging& staging, Resolver& resolver, const std::string& like);

// The generated files' contents, for tests.
extern const char kNsswitchConf[];
extern const char kPasswd[];
extern const char kGroup[];
extern const char kHosts[];

}  // namespace rootfs
