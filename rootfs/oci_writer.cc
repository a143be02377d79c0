#include "rootfs/oci_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <nettle/sha2.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <memory>
#include <optional>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/absl/status_util.h"
#include "common/unique_fd.h"
#include "rootfs/archive_writer.h"
#include "rootfs/build_plan.h"
#include "rootfs/elf.h"
#include "rootfs/json.h"

namespace rootfs {
namespace {

struct Blob {
  std::string digest;  // sha256:...
  int64_t size = 0;
};

absl::Status WriteFileAt(const std::string& path, absl::string_view data) {
  common::UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!fd) return common::ErrnoStatus(errno, absl::StrCat("create(", path, ")"));
  for (size_t done = 0; done < data.size();) {
    const ssize_t n = ::write(fd.get(), data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return common::ErrnoStatus(errno, absl::StrCat("write(", path, ")"));
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

std::string Hex(const unsigned char* p, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) absl::StrAppendFormat(&out, "%02x", p[i]);
  return out;
}

std::string Sha256(absl::string_view data) {
  sha256_ctx ctx;
  sha256_init(&ctx);
  sha256_update(&ctx, data.size(), reinterpret_cast<const uint8_t*>(data.data()));
  uint8_t md[SHA256_DIGEST_SIZE];
  sha256_digest(&ctx, sizeof md, md);
  return absl::StrCat("sha256:", Hex(md, sizeof md));
}

// Stores data as a blob named by its digest.
absl::StatusOr<Blob> PutBlob(const std::string& layout, absl::string_view data) {
  Blob b{Sha256(data), static_cast<int64_t>(data.size())};
  RETURN_IF_ERROR(WriteFileAt(absl::StrCat(layout, "/blobs/sha256/", b.digest.substr(7)), data));
  return b;
}

std::string Rfc3339(int64_t t) {
  const time_t tt = static_cast<time_t>(t);
  struct tm tm;
  gmtime_r(&tt, &tm);
  return absl::StrFormat("%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

using Json = nlohmann::ordered_json;  // keys in insertion order: stable bytes

// Compact, no spaces: the bytes (and so the digests) depend only on content.
std::string Dump(const Json& j) { return j.dump(-1, ' ', /*ensure_ascii=*/false, Json::error_handler_t::strict); }

Json Descriptor(absl::string_view media_type, const Blob& b) {
  return Json{{"mediaType", std::string(media_type)}, {"digest", b.digest}, {"size", b.size}};
}

// The host's platform, for an image without ELF files.
Platform HostPlatform() {
#if defined(__x86_64__)
  return {"amd64", ""};
#elif defined(__aarch64__)
  return {"arm64", "v8"};
#elif defined(__i386__)
  return {"386", ""};
#elif defined(__arm__)
  return {"arm", ""};
#elif defined(__riscv) && __riscv_xlen == 64
  return {"riscv64", ""};
#elif defined(__powerpc64__) && defined(__LITTLE_ENDIAN__)
  return {"ppc64le", ""};
#elif defined(__s390x__)
  return {"s390x", ""};
#else
#error "no OCI architecture name for this host"
#endif
}

absl::StatusOr<TreeStats> BuildLayout(const Manifest& manifest, const std::string& layout,
                                      const OciOptions& o) {
  for (const char* d : {"/blobs", "/blobs/sha256"}) {
    const std::string p = layout + d;
    if (::mkdir(p.c_str(), 0755) != 0) return common::ErrnoStatus(errno, absl::StrCat("mkdir(", p, ")"));
  }
  RETURN_IF_ERROR(WriteFileAt(layout + "/oci-layout", Dump(Json{{"imageLayoutVersion", "1.0.0"}})));

  // The layer: an uncompressed tar, so its digest is also its diff_id.
  const std::string layer_tmp = layout + "/layer.tar";
  ArchiveOptions ao;
  ao.format = ArchiveFormat::kTar;
  ao.mtime = o.created;
  ASSIGN_OR_RETURN(const TreeStats stats, WriteArchive(manifest, layer_tmp, ao));
  ASSIGN_OR_RETURN(const std::string layer_digest, Sha256File(layer_tmp));
  struct stat st;
  if (::stat(layer_tmp.c_str(), &st) != 0) return common::ErrnoStatus(errno, "stat(layer.tar)");
  const Blob layer{layer_digest, st.st_size};
  const std::string layer_path = absl::StrCat(layout, "/blobs/sha256/", layer_digest.substr(7));
  if (::rename(layer_tmp.c_str(), layer_path.c_str()) != 0) {
    return common::ErrnoStatus(errno, absl::StrCat("rename(", layer_tmp, ")"));
  }

  ASSIGN_OR_RETURN(const Platform platform, ImagePlatform(manifest));
  Json config_obj{{"Env", Json::array({"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"})}};
  if (!o.entrypoint.empty()) config_obj["Entrypoint"] = o.entrypoint;
  const std::string created = Rfc3339(o.created);
  Json config{{"created", created}, {"architecture", platform.architecture}};
  if (!platform.variant.empty()) config["variant"] = platform.variant;
  config["os"] = "linux";
  config["config"] = config_obj;
  config["rootfs"] = Json{{"type", "layers"}, {"diff_ids", Json::array({layer.digest})}};
  config["history"] = Json::array({Json{{"created", created}, {"created_by", "minipod rootfs build"}}});
  ASSIGN_OR_RETURN(const Blob config_blob, PutBlob(layout, Dump(config)));
  const Json image_manifest{
      {"schemaVersion", 2},
      {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
      {"config", Descriptor("application/vnd.oci.image.config.v1+json", config_blob)},
      {"layers", Json::array({Descriptor("application/vnd.oci.image.layer.v1.tar", layer)})}};
  ASSIGN_OR_RETURN(const Blob manifest_blob, PutBlob(layout, Dump(image_manifest)));
  Json entry = Descriptor("application/vnd.oci.image.manifest.v1+json", manifest_blob);
  entry["annotations"] = Json{{"org.opencontainers.image.ref.name", "latest"}};
  const std::string index = Dump(Json{{"schemaVersion", 2},
                                      {"mediaType", "application/vnd.oci.image.index.v1+json"},
                                      {"manifests", Json::array({entry})}});
  RETURN_IF_ERROR(WriteFileAt(layout + "/index.json", index));
  return stats;
}

}  // namespace

absl::StatusOr<Platform> PlatformOfElf(absl::Span<const uint8_t> head, absl::string_view what) {
  if (head.size() < 20) return absl::InvalidArgumentError(absl::StrCat(what, ": truncated ELF header"));
  const bool is_64 = head[4] == 2;
  const bool big = head[5] == 2;
  const uint16_t m = big ? static_cast<uint16_t>(head[18] << 8 | head[19]) : static_cast<uint16_t>(head[19] << 8 | head[18]);
  switch (m) {
    case 62:  // EM_X86_64
      if (is_64) return Platform{"amd64", ""};
      break;  // x32 has no OCI name
    case 3:  // EM_386
      return Platform{"386", ""};
    case 183:  // EM_AARCH64
      if (is_64) return Platform{"arm64", "v8"};
      break;
    case 40:  // EM_ARM: the variant (v5, v6, v7) is not in the header
      return Platform{"arm", ""};
    case 243:  // EM_RISCV
      if (is_64) return Platform{"riscv64", ""};
      break;
    case 21:  // EM_PPC64
      return Platform{big ? "ppc64" : "ppc64le", ""};
    case 22:  // EM_S390
      if (is_64) return Platform{"s390x", ""};
      break;
    case 8:  // EM_MIPS
      return Platform{std::string(is_64 ? "mips64" : "mips") + (big ? "" : "le"), ""};
    case 258:  // EM_LOONGARCH
      if (is_64) return Platform{"loong64", ""};
      break;
  }
  return absl::InvalidArgumentError(absl::StrCat(what, ": ELF machine ", m, (is_64 ? " (64-bit)" : " (32-bit)"),
                                                 " has no OCI architecture name"));
}

absl::StatusOr<Platform> ImagePlatform(const Manifest& manifest) {
  std::optional<Platform> found;
  std::string found_in;
  for (const auto& [path, e] : manifest.entries()) {
    if (e.kind != Entry::Kind::kFile) continue;
    common::UniqueFd fd(::open(e.source.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return common::ErrnoStatus(errno, absl::StrCat("open(", e.source, ")"));
    uint8_t head[20];
    const ssize_t n = ::pread(fd.get(), head, sizeof head, 0);
    if (n < 0) return common::ErrnoStatus(errno, absl::StrCat("read(", e.source, ")"));
    if (n < 4 || !LooksLikeElf(absl::MakeConstSpan(head, static_cast<size_t>(n)))) continue;
    ASSIGN_OR_RETURN(const Platform p, PlatformOfElf(absl::MakeConstSpan(head, static_cast<size_t>(n)), path));
    if (!found) {
      found = p;
      found_in = path;
    } else if (found->architecture != p.architecture || found->variant != p.variant) {
      return absl::InvalidArgumentError(absl::StrCat("the image mixes architectures: ", found_in, " is ",
                                                     found->architecture, ", ", path, " is ", p.architecture));
    }
  }
  if (!found) return HostPlatform();
  return *found;
}

absl::StatusOr<std::string> Sha256File(const std::string& path) {
  common::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return common::ErrnoStatus(errno, absl::StrCat("open(", path, ")"));
  sha256_ctx ctx;
  sha256_init(&ctx);
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return common::ErrnoStatus(errno, absl::StrCat("read(", path, ")"));
    if (n == 0) break;
    sha256_update(&ctx, static_cast<size_t>(n), reinterpret_cast<const uint8_t*>(buf));
  }
  uint8_t md[SHA256_DIGEST_SIZE];
  sha256_digest(&ctx, sizeof md, md);
  return absl::StrCat("sha256:", Hex(md, sizeof md));
}

absl::StatusOr<TreeStats> WriteOci(const Manifest& manifest, absl::string_view out_view,
                                   const OciOptions& o) {
  std::string out(out_view);
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  struct stat st;
  const bool exists = ::lstat(out.c_str(), &st) == 0;
  if (exists && !o.replace) {
    return absl::AlreadyExistsError(absl::StrCat(out, " exists (use --force to replace it)"));
  }
  if (exists && S_ISDIR(st.st_mode) && !o.as_tar) {
    // The old layout is removed after the swap: never through a mount.
    RETURN_IF_ERROR(common::Annotate(CheckNoMounts(out), absl::StrCat("not replacing ", out)));
  }
  std::string layout = absl::StrCat(out, ".layout-XXXXXX");
  if (::mkdtemp(layout.data()) == nullptr) {
    return common::ErrnoStatus(errno, absl::StrCat("mkdtemp(", layout, ")"));
  }
  absl::Cleanup cleanup = [&] { (void)RemoveTree(layout); };
  if (::chmod(layout.c_str(), 0755) != 0) return common::ErrnoStatus(errno, absl::StrCat("chmod(", layout, ")"));
  absl::StatusOr<TreeStats> built = BuildLayout(manifest, layout, o);
  if (!built.ok()) return common::Annotate(built.status(), absl::StrCat("writing ", out));
  const TreeStats stats = *built;
  if (o.as_tar) {
    Manifest files;
    RETURN_IF_ERROR(AddHostTree(files, layout, "/"));
    ArchiveOptions ao;
    ao.format = ArchiveFormat::kTar;
    ao.mtime = o.created;
    ao.replace = o.replace;
    RETURN_IF_ERROR(WriteArchive(files, out, ao).status());
    return stats;
  }
  if (exists && !S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(out, " exists and is not a directory"));
  }
  if (!exists) {
    if (::rename(layout.c_str(), out.c_str()) != 0) {
      return common::ErrnoStatus(errno, absl::StrCat("rename(", layout, ", ", out, ")"));
    }
  } else if (::renameat2(AT_FDCWD, layout.c_str(), AT_FDCWD, out.c_str(), RENAME_EXCHANGE) != 0) {
    return common::ErrnoStatus(errno, absl::StrCat("renameat2(", layout, ", ", out, ")"));
  }
  return stats;
}

}  // namespace rootfs
