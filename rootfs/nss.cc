#include "rootfs/nss.h"

#include "absl/strings/str_cat.h"
#include "common/status_util.h"

namespace rootfs {

const char kNsswitchConf[] =
    "passwd:         files\n"
    "group:          files\n"
    "shadow:         files\n"
    "hosts:          files dns\n"
    "networks:       files\n"
    "protocols:      files\n"
    "services:       files\n"
    "ethers:         files\n"
    "rpc:            files\n";
const char kPasswd[] =
    "root:x:0:0:root:/root:/bin/sh\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";
const char kGroup[] =
    "root:x:0:\n"
    "nogroup:x:65534:\n";
const char kHosts[] =
    "127.0.0.1\tlocalhost\n"
    "::1\t\tlocalhost ip6-localhost ip6-loopback\n";

absl::Status AddNss(Manifest& manifest, Staging& staging, Resolver& resolver, const std::string& like) {
  // glibc 2.34 and later have both built into libc.so.6 and keep these as
  // stubs; older and other builds dlopen them, so they go in either way.
  for (const char* module : {"libnss_files.so.2", "libnss_dns.so.2"}) {
    ASSIGN_OR_RETURN(const Closure closure, resolver.ResolveLibrary(module, like));
    for (const std::string& path : closure.files) {
      RETURN_IF_ERROR(common::Annotate(manifest.AddHostPath(path).status(), "--nss"));
    }
  }
  const struct {
    const char* path;
    const char* text;
  } files[] = {
      {"/etc/nsswitch.conf", kNsswitchConf},
      {"/etc/passwd", kPasswd},
      {"/etc/group", kGroup},
      {"/etc/hosts", kHosts},
  };
  for (const auto& f : files) {
    if (manifest.Contains(f.path)) continue;
    ASSIGN_OR_RETURN(const std::string source, staging.WriteFile(f.path, f.text, 0644));
    RETURN_IF_ERROR(manifest.AddFile(f.path, source, 0644));
  }
  return absl::OkStatus();
}

}  // namespace rootfs
