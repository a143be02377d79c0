#include "sandbox/run_config.h"

#include <stdint.h>

#include <limits>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace sandbox {

std::string NsChoice::ToString() const {
  switch (kind) {
    case Kind::kNew: return "new";
    case Kind::kHost: return "host";
    case Kind::kContainer: return absl::StrCat("container:", target);
    case Kind::kPath: return absl::StrCat("ns:", target);
  }
  return "?";
}

bool RunConfig::needs_device_cgroup() const {
  for (const BindSpec& b : binds) {
    if (b.dev) return true;
  }
  return false;
}

std::vector<UserMount> MountOrder(const RunConfig& config) {
  size_t binds = 0, tmpfs = 0;
  for (const UserMount& m : config.mount_order) {
    (m.kind == UserMount::Kind::kBind ? binds : tmpfs) += 1;
    const size_t limit = m.kind == UserMount::Kind::kBind ? config.binds.size() : config.tmpfs.size();
    if (m.index >= limit) binds = tmpfs = SIZE_MAX;  // inconsistent: fall back
  }
  if (binds == config.binds.size() && tmpfs == config.tmpfs.size()) return config.mount_order;
  std::vector<UserMount> order;
  for (size_t i = 0; i < config.binds.size(); ++i) order.push_back({UserMount::Kind::kBind, i});
  for (size_t i = 0; i < config.tmpfs.size(); ++i) order.push_back({UserMount::Kind::kTmpfs, i});
  return order;
}

std::vector<std::string> CommandEnvironment(const RunConfig& config, const char* caller_term) {
  std::vector<std::string> env = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"};
  // The host name is ours to say only in a uts namespace of our own.
  if (config.uts.is_new()) env.push_back(absl::StrCat("HOSTNAME=", config.hostname));
  env.push_back(config.uid == 0 ? "HOME=/root" : "HOME=/");
  if (caller_term != nullptr && *caller_term != '\0') env.push_back(absl::StrCat("TERM=", caller_term));
  for (const std::string& kv : config.env) {
    const absl::string_view key = absl::string_view(kv).substr(0, kv.find('=') + 1);
    bool replaced = false;
    for (std::string& existing : env) {
      if (absl::StartsWith(existing, key)) {
        existing = kv;
        replaced = true;
        break;
      }
    }
    if (!replaced) env.push_back(kv);
  }
  return env;
}

}  // namespace sandbox
