// --nss: what user, group and host lookups need inside an image. glibc
// loads an NSS module by name (libnss_<source>.so.2) for each source that
// /etc/nsswitch.conf lists, so no ELF file names them; they and the few
// /etc files that make `id`, `whoami` and `getent` answer are added here.
#pragma once

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "rootfs/closure.h"
#include "rootfs/manifest.h"
#include "rootfs/staging.h"

namespace rootfs {

// /etc/nsswitch.conf, /etc/passwd, /etc/group and /etc/hosts unless the
// manifest has them already (an --add wins), then the NSS module of every
// source the image's nsswitch.conf names (libnss_<source>.so.2, e.g.
// "systemd" from the host's own file) and of "files" and "dns", with their
// own needs, resolved for the ELF class and machine of like (a binary in the
// image). A source whose module the host lacks is a warning: glibc skips it
// too.
absl::Status AddNss(Manifest& manifest, Staging& staging, Resolver& resolver, const std::string& like,
                    std::vector<std::string>* warnings);

// The service names nsswitch.conf text uses, in first-seen order:
// "passwd: files systemd [NOTFOUND=return] db" -> files, systemd, db.
std::vector<std::string> NsswitchSources(absl::string_view text);

// The generated files' contents, for tests.
extern const char kNsswitchConf[];
extern const char kPasswd[];
extern const char kGroup[];
extern const char kHosts[];

}  // namespace rootfs
