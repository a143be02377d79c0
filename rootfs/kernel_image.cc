// The bzImage header, the payload's decompression (zlib, liblzma, libzstd,
// linked statically with libarchive already) and the PVH note check, then
// the private cache of extracted kernels.
#include "rootfs/kernel_image.h"

#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <lzma.h>
#include <nettle/sha2.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/absl/dir_stream.h"
#include "common/absl/status_util.h"
#include "common/unique_fd.h"
#include "rootfs/bundle_cache.h"

namespace rootfs {
namespace {

// Offsets in the boot protocol's setup header.
constexpr size_t kSetupSects = 0x1f1;
constexpr size_t kBootFlag = 0x1fe;   // 0xaa55
constexpr size_t kHeaderMagic = 0x202;  // "HdrS"
constexpr size_t kVersion = 0x206;
constexpr size_t kPayloadOffset = 0x248;
constexpr size_t kPayloadLength = 0x24c;
constexpr uint16_t kMinProtocol = 0x0208;  // payload_offset/length appeared in 2.08

constexpr uint32_t kXenNotePhys32Entry = 18;  // XEN_ELFNOTE_PHYS32_ENTRY

// A bzImage larger than this is no kernel.
constexpr size_t kMaxBzImage = size_t{256} << 20;

uint16_t Le16(absl::string_view s, size_t off) {
  return static_cast<uint16_t>(static_cast<uint8_t>(s[off]) | static_cast<uint8_t>(s[off + 1]) << 8);
}
uint32_t Le32(absl::string_view s, size_t off) {
  return static_cast<uint32_t>(Le16(s, off)) | static_cast<uint32_t>(Le16(s, off + 2)) << 16;
}

// Grows out by up to one chunk for a decompressor to fill; false past limit.
constexpr size_t kChunk = size_t{1} << 20;

absl::Status TooLarge(size_t limit) {
  return absl::ResourceExhaustedError(absl::StrCat("the kernel decompresses to more than ", limit, " bytes"));
}

absl::StatusOr<std::string> Gunzip(absl::string_view in, size_t limit) {
  z_stream z{};
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) return absl::InternalError("inflateInit2 failed");
  std::string out;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(std::min<size_t>(in.size(), UINT32_MAX));
  int r = Z_OK;
  while (r == Z_OK) {
    if (out.size() >= limit) {
      inflateEnd(&z);
      return TooLarge(limit);
    }
    const size_t used = out.size();
    const size_t grow = std::min(kChunk, limit - used);
    out.resize(used + grow);
    z.next_out = reinterpret_cast<Bytef*>(out.data() + used);
    z.avail_out = static_cast<uInt>(grow);
    r = inflate(&z, Z_NO_FLUSH);
    out.resize(used + grow - z.avail_out);
    if (r == Z_BUF_ERROR && z.avail_out != 0) break;  // input exhausted
    if (r == Z_BUF_ERROR) r = Z_OK;  // no room: grow and go on
  }
  inflateEnd(&z);
  if (r == Z_STREAM_END) return out;
  if (r == Z_BUF_ERROR) return absl::DataLossError("the gzip payload is truncated");
  return absl::DataLossError(absl::StrCat("the gzip payload is corrupt (zlib error ", r, ")"));
}

absl::StatusOr<std::string> Unxz(absl::string_view in, size_t limit) {
  lzma_stream s = LZMA_STREAM_INIT;
  // The kernel's xz uses a dictionary of at most 64 MiB; a stream that asks
  // for more memory than this is refused rather than allocated.
  if (lzma_stream_decoder(&s, uint64_t{256} << 20, 0) != LZMA_OK) {
    return absl::InternalError("lzma_stream_decoder failed");
  }
  std::string out;
  s.next_in = reinterpret_cast<const uint8_t*>(in.data());
  s.avail_in = in.size();
  lzma_ret r = LZMA_OK;
  while (r == LZMA_OK) {
    if (out.size() >= limit) {
      lzma_end(&s);
      return TooLarge(limit);
    }
    const size_t used = out.size();
    const size_t grow = std::min(kChunk, limit - used);
    out.resize(used + grow);
    s.next_out = reinterpret_cast<uint8_t*>(out.data() + used);
    s.avail_out = grow;
    // LZMA_FINISH: no more input will come, so a truncated stream is
    // LZMA_BUF_ERROR instead of a wait for more.
    r = lzma_code(&s, LZMA_FINISH);
    out.resize(used + grow - s.avail_out);
    if (r == LZMA_BUF_ERROR && s.avail_out == 0) r = LZMA_OK;
  }
  lzma_end(&s);
  if (r == LZMA_STREAM_END) return out;
  if (r == LZMA_BUF_ERROR) return absl::DataLossError("the xz payload is truncated");
  if (r == LZMA_MEMLIMIT_ERROR) return absl::ResourceExhaustedError("the xz payload needs too much memory");
  return absl::DataLossError(absl::StrCat("the xz payload is corrupt (liblzma error ", static_cast<int>(r), ")"));
}

absl::StatusOr<std::string> Unzstd(absl::string_view in, size_t limit) {
  ZSTD_DCtx* ctx = ZSTD_createDCtx();
  if (ctx == nullptr) return absl::ResourceExhaustedError("ZSTD_createDCtx failed");
  std::string out;
  ZSTD_inBuffer input{in.data(), in.size(), 0};
  size_t r = 1;
  absl::Status error;
  while (r != 0) {
    if (out.size() >= limit) {
      error = TooLarge(limit);
      break;
    }
    const size_t used = out.size();
    const size_t grow = std::min(kChunk, limit - used);
    out.resize(used + grow);
    ZSTD_outBuffer output{out.data() + used, grow, 0};
    r = ZSTD_decompressStream(ctx, &output, &input);
    out.resize(used + output.pos);
    if (ZSTD_isError(r)) {
      error = absl::DataLossError(absl::StrCat("the zstd payload is corrupt (", ZSTD_getErrorName(r), ")"));
      break;
    }
    // r == 0: the frame is complete; bytes after it are the kernel's size
    // trailer. All input taken, room left and the frame unfinished: truncated.
    if (r != 0 && input.pos == input.size && output.pos < grow) {
      error = absl::DataLossError("the zstd payload is truncated");
      break;
    }
  }
  ZSTD_freeDCtx(ctx);
  if (!error.ok()) return error;
  return out;
}

bool TrustedOwner(const struct stat& st) { return st.st_uid == ::geteuid() || st.st_uid == 0; }

std::string Sha256Hex(absl::string_view data, size_t bytes) {
  sha256_ctx ctx;
  sha256_init(&ctx);
  sha256_update(&ctx, data.size(), reinterpret_cast<const uint8_t*>(data.data()));
  uint8_t digest[SHA256_DIGEST_SIZE];
  sha256_digest(&ctx, sizeof digest, digest);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), std::min(bytes, sizeof digest)));
}

// The name up to its identity hash: entries with this prefix are the same
// kernel path's, older ones once the name differs.
std::string CachePrefix(absl::string_view kernel_path) {
  const size_t slash = kernel_path.rfind('/');
  absl::string_view base = slash == absl::string_view::npos ? kernel_path : kernel_path.substr(slash + 1);
  // Never empty, never hidden: the temporaries start with '.'.
  std::string safe = base.empty() || base[0] == '.' ? "k" : "";
  for (char c : base.substr(0, 64)) {
    safe += (absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_') ? c : '_';
  }
  return absl::StrCat(safe, "-", Sha256Hex(kernel_path, 4), "-");  // k + base + path hash
}

absl::StatusOr<std::string> ReadAllFd(int fd, const std::string& path, size_t size) {
  if (size > kMaxBzImage) {
    return absl::FailedPreconditionError(absl::StrCat(path, ": ", size, " bytes is too large for a kernel image"));
  }
  std::string data(size, '\0');
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::pread(fd, data.data() + done, size - done, static_cast<off_t>(done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return common::ErrnoStatus(errno, absl::StrCat("read(", path, ")"));
    }
    if (n == 0) break;  // shrank meanwhile: the parser sees the short image
    done += static_cast<size_t>(n);
  }
  data.resize(done);
  return data;
}

absl::Status WriteAll(int fd, absl::string_view data, const std::string& what) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return common::ErrnoStatus(errno, absl::StrCat("write(", what, ")"));
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

// A cached entry that we may use: a regular file of ours (or root's) that
// nobody else can write; false when there is none.
absl::StatusOr<bool> UsableEntry(int dfd, const std::string& name, const std::string& path) {
  common::UniqueFd fd(::openat(dfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return false;
    return common::ErrnoStatus(errno, absl::StrCat("open(", path, ")"));
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return common::ErrnoStatus(errno, absl::StrCat("fstat(", path, ")"));
  if (!S_ISREG(st.st_mode) || !TrustedOwner(st) || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0 || st.st_size == 0) {
    return absl::PermissionDeniedError(
        absl::StrCat(path, ": not a kernel this cache wrote (owner, mode or type); remove it"));
  }
  return true;
}

// Removes the other entries for the same kernel path (older versions of it).
void PruneOlder(int dfd, const std::string& dir, const std::string& prefix, const std::string& keep) {
  absl::StatusOr<common::DirStream> stream = common::OpenDirStream(dfd, dir);
  if (!stream.ok()) return;
  std::vector<std::string> old;
  while (struct dirent* e = ::readdir(stream->get())) {
    const absl::string_view n = e->d_name;
    if (absl::StartsWith(n, prefix) && absl::EndsWith(n, ".vmlinux") && n != keep) old.emplace_back(n);
  }
  for (const std::string& n : old) (void)::unlinkat(dfd, n.c_str(), 0);
}

// Links the complete file behind fd into the cache as name: O_TMPFILE files
// are linked through /proc/self/fd (allowed without CAP_DAC_READ_SEARCH);
// another caller that got there first wins, with the same content.
absl::Status LinkInto(int fd, int dfd, const std::string& name, const std::string& path) {
  const std::string proc = absl::StrCat("/proc/self/fd/", fd);
  if (::linkat(AT_FDCWD, proc.c_str(), dfd, name.c_str(), AT_SYMLINK_FOLLOW) == 0 || errno == EEXIST) {
    return absl::OkStatus();
  }
  return common::ErrnoStatus(errno, absl::StrCat("link(", path, ")"));
}

}  // namespace

const char* PayloadCompressionName(PayloadCompression c) {
  switch (c) {
    case PayloadCompression::kGzip: return "gzip";
    case PayloadCompression::kXz: return "xz";
    case PayloadCompression::kZstd: return "zstd";
    case PayloadCompression::kLzma: return "lzma";
    case PayloadCompression::kBzip2: return "bzip2";
    case PayloadCompression::kLz4: return "lz4";
    case PayloadCompression::kLzo: return "lzo";
    case PayloadCompression::kUnknown: break;
  }
  return "unknown";
}

PayloadCompression DetectCompression(absl::string_view p) {
  if (absl::StartsWith(p, "\x1f\x8b")) return PayloadCompression::kGzip;
  if (absl::StartsWith(p, absl::string_view("\xfd" "7zXZ\0", 6))) return PayloadCompression::kXz;
  if (absl::StartsWith(p, "\x28\xb5\x2f\xfd")) return PayloadCompression::kZstd;
  if (absl::StartsWith(p, absl::string_view("\x5d\x00\x00", 3))) return PayloadCompression::kLzma;
  if (absl::StartsWith(p, "BZh")) return PayloadCompression::kBzip2;
  if (absl::StartsWith(p, "\x02\x21\x4c\x18")) return PayloadCompression::kLz4;
  if (absl::StartsWith(p, "\x89LZO")) return PayloadCompression::kLzo;
  return PayloadCompression::kUnknown;
}

absl::StatusOr<BzImagePayload> ParseBzImage(absl::string_view image) {
  if (image.size() < kPayloadLength + 4) {
    return absl::FailedPreconditionError(absl::StrCat("not a bzImage: ", image.size(), " bytes is too short"));
  }
  if (image.substr(kHeaderMagic, 4) != "HdrS" || Le16(image, kBootFlag) != 0xaa55) {
    return absl::FailedPreconditionError("not a bzImage: no x86 boot protocol header (HdrS)");
  }
  BzImagePayload p;
  p.protocol = Le16(image, kVersion);
  if (p.protocol < kMinProtocol) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "boot protocol %d.%02d is older than 2.08: no payload fields", p.protocol >> 8, p.protocol & 0xff));
  }
  size_t setup_sects = static_cast<uint8_t>(image[kSetupSects]);
  if (setup_sects == 0) setup_sects = 4;
  const size_t code = (setup_sects + 1) * 512;
  const uint64_t offset = uint64_t{code} + Le32(image, kPayloadOffset);
  const uint64_t length = Le32(image, kPayloadLength);
  if (length == 0 || offset > image.size() || length > image.size() - offset) {
    return absl::FailedPreconditionError(absl::StrCat("bzImage payload at ", offset, " (", length,
                                                      " bytes) lies outside the ", image.size(), "-byte file"));
  }
  p.offset = static_cast<size_t>(offset);
  p.length = static_cast<size_t>(length);
  p.compression = DetectCompression(image.substr(p.offset, p.length));
  return p;
}

absl::StatusOr<std::string> DecompressPayload(absl::string_view payload, PayloadCompression compression,
                                              size_t limit) {
  switch (compression) {
    case PayloadCompression::kGzip: return Gunzip(payload, limit);
    case PayloadCompression::kXz: return Unxz(payload, limit);
    case PayloadCompression::kZstd: return Unzstd(payload, limit);
    default: break;
  }
  return absl::FailedPreconditionError(absl::StrCat("a ", PayloadCompressionName(compression),
                                                    "-compressed kernel is unsupported, booting the bzImage"));
}

absl::Status CheckPvhElf(absl::string_view elf) {
  Elf64_Ehdr eh;
  if (elf.size() < sizeof eh || !absl::StartsWith(elf, ELFMAG)) {
    return absl::FailedPreconditionError("the decompressed kernel is not an ELF file");
  }
  memcpy(&eh, elf.data(), sizeof eh);
  if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_machine != EM_X86_64) {
    return absl::FailedPreconditionError("the decompressed kernel is not a little-endian x86-64 ELF64 file");
  }
  if (eh.e_phentsize < sizeof(Elf64_Phdr) || eh.e_phoff > elf.size() ||
      uint64_t{eh.e_phnum} * eh.e_phentsize > elf.size() - eh.e_phoff) {
    return absl::FailedPreconditionError("the decompressed kernel's program headers lie outside it");
  }
  for (size_t i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph;
    memcpy(&ph, elf.data() + eh.e_phoff + i * eh.e_phentsize, sizeof ph);
    if (ph.p_type != PT_NOTE) continue;
    if (ph.p_offset > elf.size() || ph.p_filesz > elf.size() - ph.p_offset) {
      return absl::FailedPreconditionError("the decompressed kernel's PT_NOTE segment lies outside it");
    }
    const uint64_t align = ph.p_align == 8 ? 8 : 4;
    absl::string_view notes = elf.substr(ph.p_offset, ph.p_filesz);
    while (notes.size() >= sizeof(Elf64_Nhdr)) {
      Elf64_Nhdr nh;
      memcpy(&nh, notes.data(), sizeof nh);
      const uint64_t name_len = (uint64_t{nh.n_namesz} + align - 1) & ~(align - 1);
      const uint64_t desc_len = (uint64_t{nh.n_descsz} + align - 1) & ~(align - 1);
      const uint64_t rest = notes.size() - sizeof nh;
      if (name_len > rest || desc_len > rest - name_len) break;  // a truncated note ends the segment
      const absl::string_view name = notes.substr(sizeof nh, nh.n_namesz);
      if (nh.n_type == kXenNotePhys32Entry && name == absl::string_view("Xen\0", 4) &&
          (nh.n_descsz == 4 || nh.n_descsz == 8)) {
        return absl::OkStatus();
      }
      notes.remove_prefix(static_cast<size_t>(sizeof nh + name_len + desc_len));
    }
  }
  return absl::FailedPreconditionError("the kernel has no PVH entry (no Xen note XEN_ELFNOTE_PHYS32_ENTRY)");
}

absl::StatusOr<std::string> ExtractPvhKernel(absl::string_view bzimage) {
  ASSIGN_OR_RETURN(const BzImagePayload p, ParseBzImage(bzimage));
  ASSIGN_OR_RETURN(std::string elf, DecompressPayload(bzimage.substr(p.offset, p.length), p.compression, kMaxVmlinux));
  RETURN_IF_ERROR(CheckPvhElf(elf));
  return elf;
}

std::string PvhCacheName(absl::string_view kernel_path, const struct stat& st) {
  const std::string identity =
      absl::StrCat(st.st_dev, " ", st.st_ino, " ", st.st_size, " ", st.st_mtim.tv_sec, ".", st.st_mtim.tv_nsec, " ",
                   st.st_ctim.tv_sec, ".", st.st_ctim.tv_nsec);
  return absl::StrCat(CachePrefix(kernel_path), Sha256Hex(identity, 8), ".vmlinux");
}

absl::StatusOr<std::string> KernelCacheDir() {
  ASSIGN_OR_RETURN(const std::string cache, CacheDir("the PVH kernel cache"));
  return absl::StrCat(cache, "/kernels");
}

absl::StatusOr<std::string> CachedPvhKernel(const std::string& kernel) {
  common::UniqueFd kfd(::open(kernel.c_str(), O_RDONLY | O_CLOEXEC));
  if (!kfd) return common::ErrnoStatus(errno, absl::StrCat("open(", kernel, ")"));
  struct stat st;
  if (::fstat(kfd.get(), &st) != 0) return common::ErrnoStatus(errno, absl::StrCat("fstat(", kernel, ")"));
  if (!S_ISREG(st.st_mode)) return absl::FailedPreconditionError(absl::StrCat(kernel, ": not a regular file"));
  // The key covers the path as given; a relative one is the working directory's.
  std::string abs = kernel;
  if (kernel[0] != '/') {
    char cwd[4096];
    if (::getcwd(cwd, sizeof cwd) == nullptr) return common::ErrnoStatus(errno, "getcwd()");
    abs = absl::StrCat(cwd, "/", kernel);
  }
  const std::string name = PvhCacheName(abs, st);

  ASSIGN_OR_RETURN(const std::string dir, KernelCacheDir());
  const std::string path = absl::StrCat(dir, "/", name);
  RETURN_IF_ERROR(OpenPrivateDir(dir.substr(0, dir.rfind('/'))).status());
  ASSIGN_OR_RETURN(const common::UniqueFd dfd, OpenPrivateDir(dir));
  ASSIGN_OR_RETURN(const bool cached, UsableEntry(dfd.get(), name, path));
  if (cached) return path;

  ASSIGN_OR_RETURN(const std::string image, ReadAllFd(kfd.get(), kernel, static_cast<size_t>(st.st_size)));
  absl::StatusOr<std::string> elf = ExtractPvhKernel(image);
  if (!elf.ok()) return common::Annotate(elf.status(), kernel);

  // Unnamed until complete; a named temporary where O_TMPFILE is missing
  // (or /proc is not mounted to link it through).
  common::UniqueFd out(::openat(dfd.get(), ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644));
  std::string tmp_name;
  if (!out) {
    tmp_name = absl::StrCat(".tmp-", name, "-", ::getpid());
    out = common::UniqueFd(
        ::openat(dfd.get(), tmp_name.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (!out) return common::ErrnoStatus(errno, absl::StrCat("open(", dir, "/", tmp_name, ")"));
  }
  absl::Status s = WriteAll(out.get(), *elf, path);
  if (s.ok() && ::fchmod(out.get(), 0644) != 0) s = common::ErrnoStatus(errno, absl::StrCat("chmod(", path, ")"));
  if (s.ok() && ::fdatasync(out.get()) != 0) s = common::ErrnoStatus(errno, absl::StrCat("fdatasync(", path, ")"));
  if (s.ok() && tmp_name.empty()) {
    s = LinkInto(out.get(), dfd.get(), name, path);
    if (!s.ok()) {
      // No /proc to link through: write it again under a temporary name.
      tmp_name = absl::StrCat(".tmp-", name, "-", ::getpid());
      out = common::UniqueFd(
          ::openat(dfd.get(), tmp_name.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644));
      s = out ? WriteAll(out.get(), *elf, path) : common::ErrnoStatus(errno, absl::StrCat("open(", dir, "/", tmp_name, ")"));
      if (s.ok() && ::fdatasync(out.get()) != 0) s = common::ErrnoStatus(errno, absl::StrCat("fdatasync(", path, ")"));
    }
  }
  if (!tmp_name.empty()) {
    if (s.ok() && ::renameat(dfd.get(), tmp_name.c_str(), dfd.get(), name.c_str()) != 0) {
      s = common::ErrnoStatus(errno, absl::StrCat("rename(", dir, "/", tmp_name, ", ", path, ")"));
    }
    if (!s.ok()) (void)::unlinkat(dfd.get(), tmp_name.c_str(), 0);
  }
  RETURN_IF_ERROR(s);
  PruneOlder(dfd.get(), dir, CachePrefix(abs), name);
  return path;
}

}  // namespace rootfs
