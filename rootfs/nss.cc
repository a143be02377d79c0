#include "rootfs/nss.h"

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/absl/file_util.h"
#include "common/absl/status_util.h"

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

std::vector<std::string> NsswitchSources(absl::string_view text) {
  std::vector<std::string> sources;
  absl::flat_hash_set<std::string> seen;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (const size_t hash = line.find('#'); hash != absl::string_view::npos) line = line.substr(0, hash);
    const size_t colon = line.find(':');
    if (colon == absl::string_view::npos) continue;
    bool in_action = false;  // inside "[NOTFOUND=return]"
    for (absl::string_view word : absl::StrSplit(line.substr(colon + 1), absl::ByAnyChar(" \t\r"), absl::SkipEmpty())) {
      if (in_action || word[0] == '[') {
        in_action = word.back() != ']';
        continue;
      }
      // A module name is made of what a file name may hold.
      bool ok = true;
      for (char c : word) ok = ok && (absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-');
      if (ok && seen.insert(std::string(word)).second) sources.emplace_back(word);
    }
  }
  return sources;
}

absl::Status AddNss(Manifest& manifest, Staging& staging, Resolver& resolver, const std::string& like,
                    std::vector<std::string>* warnings) {
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

  // The image's nsswitch.conf, ours or the one given, says what glibc will
  // dlopen. glibc 2.34 and later have files and dns built into libc.so.6
  // and keep their modules as stubs; other builds dlopen them, so they go
  // in either way.
  std::vector<std::string> sources = {"files", "dns"};
  const auto conf = manifest.entries().find("/etc/nsswitch.conf");
  if (conf != manifest.entries().end() && conf->second.kind == Entry::Kind::kFile) {
    ASSIGN_OR_RETURN(const std::string text, common::ReadFileToString(conf->second.source, 1 << 20));
    for (std::string& s : NsswitchSources(text)) {
      if (s != "files" && s != "dns") sources.push_back(std::move(s));
    }
  }
  for (const std::string& source : sources) {
    const std::string module = absl::StrCat("libnss_", source, ".so.2");
    absl::StatusOr<Closure> closure = resolver.ResolveLibrary(module, like);
    if (!closure.ok()) {
      if (!absl::IsNotFound(closure.status()) || source == "files" || source == "dns") {
        return common::Annotate(closure.status(), "--nss");
      }
      if (warnings != nullptr) {
        warnings->push_back(absl::StrCat("--nss: nsswitch.conf names '", source, "' but ", module,
                                         " is not on this host; lookups skip it"));
      }
      continue;
    }
    for (const std::string& path : closure->files) {
      RETURN_IF_ERROR(common::Annotate(manifest.AddHostPath(path).status(), "--nss"));
    }
  }
  return absl::OkStatus();
}

}  // namespace rootfs
