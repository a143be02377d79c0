#include "rootfs/oci_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <nettle/sha2.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <memory>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/status_util.h"
#include "common/unique_fd.h"
#include "rootfs/archive_writer.h"
#include "rootfs/build_plan.h"

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

std::string Descriptor(absl::string_view media_type, const Blob& b) {
  return absl::StrCat("{\"mediaType\":", JsonString(media_type), ",\"digest\":", JsonString(b.digest),
                      ",\"size\":", b.size, "}");
}

absl::StatusOr<TreeStats> BuildLayout(const Manifest& manifest, const std::string& layout,
                                      const OciOptions& o) {
  for (const char* d : {"/blobs", "/blobs/sha256"}) {
    const std::string p = layout + d;
    if (::mkdir(p.c_str(), 0755) != 0) return common::ErrnoStatus(errno, absl::StrCat("mkdir(", p, ")"));
  }
  RETURN_IF_ERROR(WriteFileAt(layout + "/oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}"));

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

  std::vector<std::string> entrypoint;
  for (const std::string& e : o.entrypoint) entrypoint.push_back(JsonString(e));
  std::string config_obj = "{\"Env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"]";
  if (!entrypoint.empty()) {
    absl::StrAppend(&config_obj, ",\"Entrypoint\":[", absl::StrJoin(entrypoint, ","), "]");
  }
  absl::StrAppend(&config_obj, "}");
  const std::string created = Rfc3339(o.created);
  const std::string config = absl::StrCat(
      "{\"created\":", JsonString(created), ",\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":",
      config_obj, ",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[", JsonString(layer.digest),
      "]},\"history\":[{\"created\":", JsonString(created),
      ",\"created_by\":\"minipod rootfs build\"}]}");
  ASSIGN_OR_RETURN(const Blob config_blob, PutBlob(layout, config));
  const std::string image_manifest = absl::StrCat(
      "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":",
      Descriptor("application/vnd.oci.image.config.v1+json", config_blob), ",\"layers\":[",
      Descriptor("application/vnd.oci.image.layer.v1.tar", layer), "]}");
  ASSIGN_OR_RETURN(const Blob manifest_blob, PutBlob(layout, image_manifest));
  const std::string index = absl::StrCat(
      "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[{"
      "\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":",
      JsonString(manifest_blob.digest), ",\"size\":", manifest_blob.size,
      ",\"annotations\":{\"org.opencontainers.image.ref.name\":\"latest\"}}]}");
  RETURN_IF_ERROR(WriteFileAt(layout + "/index.json", index));
  return stats;
}

}  // namespace

std::string JsonString(absl::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          absl::StrAppendFormat(&out, "\\u%04x", c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
  return out;
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
  ASSIGN_OR_RETURN(const TreeStats stats, BuildLayout(manifest, layout, o));
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
