// PVH kernel extraction on synthetic bzImages: a minimal boot protocol
// header in front of a gzip, xz or zstd payload holding a tiny x86-64 ELF
// with (or without) the Xen PHYS32_ENTRY note; then the cache, without root.
#include "rootfs/kernel_image.h"

#include <dirent.h>
#include <elf.h>
#include <fcntl.h>
#include <lzma.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rootfs/tree_writer.h"

namespace rootfs {
namespace {

using ::testing::HasSubstr;

template <typename T>
void Append(std::string& s, const T& v) {
  s.append(reinterpret_cast<const char*>(&v), sizeof v);
}

// An ELF64 x86-64 header, one PT_NOTE program header and its notes: a GNU
// note first, then (with_pvh) "Xen" type 18 with a 4-byte entry.
std::string TinyKernelElf(bool with_pvh, uint32_t xen_type = 18, const char* xen_name = "Xen") {
  std::string notes;
  auto note = [&notes](const char* name, uint32_t type, uint32_t desc) {
    Elf64_Nhdr nh{static_cast<Elf64_Word>(strlen(name) + 1), 4, type};
    Append(notes, nh);
    std::string n(name, strlen(name) + 1);
    n.resize((n.size() + 3) & ~size_t{3}, '\0');
    notes += n;
    Append(notes, desc);
  };
  note("GNU", 3, 0x12345678);
  if (with_pvh) note(xen_name, xen_type, 0x1000000);
  Elf64_Ehdr eh{};
  memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_ident[EI_VERSION] = EV_CURRENT;
  eh.e_type = ET_EXEC;
  eh.e_machine = EM_X86_64;
  eh.e_version = EV_CURRENT;
  eh.e_phoff = sizeof eh;
  eh.e_ehsize = sizeof eh;
  eh.e_phentsize = sizeof(Elf64_Phdr);
  eh.e_phnum = 1;
  Elf64_Phdr ph{};
  ph.p_type = PT_NOTE;
  ph.p_offset = sizeof eh + sizeof ph;
  ph.p_filesz = notes.size();
  ph.p_align = 4;
  std::string elf;
  Append(elf, eh);
  Append(elf, ph);
  elf += notes;
  elf += std::string(4096, 'K');  // "code", so the payload compresses
  return elf;
}

std::string Gzip(const std::string& in) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, in.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::string Xz(const std::string& in) {
  std::string out(in.size() + 4096, '\0');
  size_t pos = 0;
  EXPECT_EQ(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC32, nullptr, reinterpret_cast<const uint8_t*>(in.data()),
                                    in.size(), reinterpret_cast<uint8_t*>(out.data()), &pos, out.size()),
            LZMA_OK);
  out.resize(pos);
  return out;
}

std::string Zstd(const std::string& in) {
  std::string out(ZSTD_compressBound(in.size()), '\0');
  const size_t n = ZSTD_compress(out.data(), out.size(), in.data(), in.size(), 19);
  EXPECT_FALSE(ZSTD_isError(n));
  out.resize(n);
  return out;
}

// A bzImage: setup_sects sectors of setup after the boot sector, the
// payload 16 bytes into the protected-mode code, and the 4-byte size the
// kernel's build appends after xz and zstd payloads.
std::string BzImage(const std::string& payload, uint8_t setup_sects = 1, uint16_t protocol = 0x020f,
                    int32_t length_delta = 0) {
  const size_t code = (static_cast<size_t>(setup_sects == 0 ? 4 : setup_sects) + 1) * 512;
  std::string img(code + 16, '\0');
  img[0x1f1] = static_cast<char>(setup_sects);
  img[0x1fe] = '\x55';
  img[0x1ff] = '\xaa';
  memcpy(&img[0x202], "HdrS", 4);
  memcpy(&img[0x206], &protocol, 2);
  const uint32_t offset = 16;
  const uint32_t length = static_cast<uint32_t>(static_cast<int64_t>(payload.size()) + 4 + length_delta);
  memcpy(&img[0x248], &offset, 4);
  memcpy(&img[0x24c], &length, 4);
  img += payload;
  img += std::string("\x10\x20\x00\x00", 4);  // the size trailer
  return img;
}

TEST(KernelImageTest, ExtractsEachCompression) {
  const std::string elf = TinyKernelElf(/*with_pvh=*/true);
  const struct {
    const char* name;
    std::string payload;
    PayloadCompression want;
  } cases[] = {
      {"gzip", Gzip(elf), PayloadCompression::kGzip},
      {"xz", Xz(elf), PayloadCompression::kXz},
      {"zstd", Zstd(elf), PayloadCompression::kZstd},
  };
  for (const auto& c : cases) {
    for (uint8_t sects : {uint8_t{0}, uint8_t{1}, uint8_t{30}}) {
      const std::string img = BzImage(c.payload, sects);
      absl::StatusOr<BzImagePayload> p = ParseBzImage(img);
      ASSERT_TRUE(p.ok()) << c.name << ": " << p.status();
      EXPECT_EQ(p->compression, c.want) << c.name;
      EXPECT_EQ(p->offset, (sects == 0 ? 5u : sects + 1u) * 512 + 16);
      absl::StatusOr<std::string> got = ExtractPvhKernel(img);
      ASSERT_TRUE(got.ok()) << c.name << ": " << got.status();
      EXPECT_EQ(*got, elf) << c.name;
    }
  }
}

TEST(KernelImageTest, TruncatedPayloadsAreErrorsNotCrashes) {
  const std::string elf = TinyKernelElf(/*with_pvh=*/true);
  for (const std::string& payload : {Gzip(elf), Xz(elf), Zstd(elf)}) {
    const std::string cut = payload.substr(0, payload.size() / 2);
    const absl::StatusOr<std::string> got = ExtractPvhKernel(BzImage(cut, 1, 0x020f, -4));
    ASSERT_FALSE(got.ok());
    EXPECT_TRUE(absl::IsDataLoss(got.status())) << got.status();
  }
  // The header claims more than the file holds.
  const std::string img = BzImage(Gzip(elf), 1, 0x020f, 1000);
  EXPECT_THAT(std::string(ParseBzImage(img).status().message()), HasSubstr("outside"));
  // Shorter than the header.
  EXPECT_FALSE(ParseBzImage(img.substr(0, 0x240)).ok());
  EXPECT_FALSE(ParseBzImage("").ok());
}

TEST(KernelImageTest, RefusesWhatIsNoUsableBzImage) {
  const std::string elf = TinyKernelElf(/*with_pvh=*/true);
  std::string no_magic = BzImage(Gzip(elf));
  memcpy(&no_magic[0x202], "HdrX", 4);
  EXPECT_THAT(std::string(ParseBzImage(no_magic).status().message()), HasSubstr("HdrS"));
  EXPECT_THAT(std::string(ParseBzImage(BzImage(Gzip(elf), 1, 0x0206)).status().message()),
              HasSubstr("older than 2.08"));
  for (const std::string& magic : {std::string("\x02\x21\x4c\x18", 4), std::string("BZh9"),
                                  std::string("\x5d\x00\x00\x80", 4), std::string("\x89LZO")}) {
    const absl::StatusOr<std::string> got = ExtractPvhKernel(BzImage(magic + "rest"));
    ASSERT_FALSE(got.ok());
    EXPECT_TRUE(absl::IsFailedPrecondition(got.status())) << got.status();
    EXPECT_THAT(std::string(got.status().message()), HasSubstr("unsupported, booting the bzImage"));
  }
}

TEST(KernelImageTest, AKernelWithoutTheXenNoteHasNoPvhEntry) {
  for (const std::string& elf : {TinyKernelElf(false), TinyKernelElf(true, 17), TinyKernelElf(true, 18, "Xe"),
                                 TinyKernelElf(true, 18, "XenX")}) {
    const absl::StatusOr<std::string> got = ExtractPvhKernel(BzImage(Zstd(elf)));
    ASSERT_FALSE(got.ok());
    EXPECT_TRUE(absl::IsFailedPrecondition(got.status())) << got.status();
  }
  EXPECT_FALSE(CheckPvhElf("not an elf").ok());
  std::string elf = TinyKernelElf(true);
  EXPECT_TRUE(CheckPvhElf(elf).ok());
  // Each truncation of the file is refused without reading past it.
  const size_t note_end = sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr) + 2 * (sizeof(Elf64_Nhdr) + 8);
  for (size_t n = 0; n < note_end; ++n) EXPECT_FALSE(CheckPvhElf(elf.substr(0, n)).ok()) << n;
  EXPECT_TRUE(CheckPvhElf(elf.substr(0, note_end)).ok());
  elf[EI_CLASS] = ELFCLASS32;
  EXPECT_FALSE(CheckPvhElf(elf).ok());
}

TEST(KernelImageTest, OutputIsCapped) {
  const std::string big(4 << 20, '\0');
  for (const std::string& payload : {Gzip(big), Xz(big), Zstd(big)}) {
    const absl::StatusOr<std::string> got = DecompressPayload(payload, DetectCompression(payload), 1 << 20);
    ASSERT_FALSE(got.ok());
    EXPECT_TRUE(absl::IsResourceExhausted(got.status())) << got.status();
    EXPECT_EQ(DecompressPayload(payload, DetectCompression(payload), 4 << 20).value_or(""), big);
  }
}

class KernelCacheTest : public testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/minipod-kcache-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ASSERT_EQ(::setenv("MINIPOD_CACHE", (dir_ + "/cache").c_str(), 1), 0);
  }
  void TearDown() override {
    (void)RemoveTree(dir_);
    ::unsetenv("MINIPOD_CACHE");
  }
  std::string WriteKernel(const std::string& name, const std::string& bytes) {
    const std::string path = dir_ + "/" + name;
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    EXPECT_GE(fd, 0);
    EXPECT_EQ(::write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
    ::close(fd);
    return path;
  }
  std::vector<std::string> CacheEntries() {
    std::vector<std::string> names;
    const std::string kdir = dir_ + "/cache/kernels";
    if (DIR* d = ::opendir(kdir.c_str())) {
      while (struct dirent* e = ::readdir(d)) {
        if (e->d_name[0] != '.' || strlen(e->d_name) > 2) names.emplace_back(e->d_name);
      }
      ::closedir(d);
    }
    names.erase(std::remove(names.begin(), names.end(), ".."), names.end());
    return names;
  }
  std::string dir_;
};

TEST_F(KernelCacheTest, ExtractsOnceThenHitsTheCache) {
  const std::string elf = TinyKernelElf(true);
  const std::string kernel = WriteKernel("vmlinuz-6.1.0-test", BzImage(Xz(elf)));
  absl::StatusOr<std::string> first = CachedPvhKernel(kernel);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_THAT(*first, HasSubstr("/cache/kernels/vmlinuz-6.1.0-test-"));
  struct stat st1, st2, dst;
  ASSERT_EQ(::stat(first->c_str(), &st1), 0);
  EXPECT_EQ(static_cast<size_t>(st1.st_size), elf.size());
  ASSERT_EQ(::stat((dir_ + "/cache/kernels").c_str(), &dst), 0);
  EXPECT_EQ(dst.st_mode & 07777, 0700u);
  absl::StatusOr<std::string> second = CachedPvhKernel(kernel);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(*second, *first);
  ASSERT_EQ(::stat(second->c_str(), &st2), 0);
  EXPECT_EQ(st2.st_ino, st1.st_ino);  // not rewritten
  EXPECT_EQ(st2.st_mtim.tv_nsec, st1.st_mtim.tv_nsec);
  EXPECT_EQ(st2.st_mtim.tv_sec, st1.st_mtim.tv_sec);
  // A replaced kernel gets a new entry; the old one goes.
  WriteKernel("vmlinuz-6.1.0-test", BzImage(Gzip(elf)));
  absl::StatusOr<std::string> third = CachedPvhKernel(kernel);
  ASSERT_TRUE(third.ok()) << third.status();
  EXPECT_NE(*third, *first);
  EXPECT_EQ(CacheEntries(), std::vector<std::string>{third->substr(third->rfind('/') + 1)});
}

TEST_F(KernelCacheTest, NoPvhLeavesNothingAndPlantedEntriesAreRefused) {
  const std::string kernel = WriteKernel("vmlinuz-nopvh", BzImage(Gzip(TinyKernelElf(false))));
  absl::StatusOr<std::string> got = CachedPvhKernel(kernel);
  ASSERT_FALSE(got.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(got.status())) << got.status();
  EXPECT_THAT(std::string(got.status().message()), HasSubstr(kernel));
  EXPECT_TRUE(CacheEntries().empty());
  EXPECT_FALSE(CachedPvhKernel(dir_ + "/missing").ok());

  // A symlink where the entry would be is not followed.
  const std::string good = WriteKernel("vmlinuz-good", BzImage(Gzip(TinyKernelElf(true))));
  struct stat st;
  ASSERT_EQ(::stat(good.c_str(), &st), 0);
  const std::string entry = dir_ + "/cache/kernels/" + PvhCacheName(good, st);
  ASSERT_EQ(::symlink("/etc/passwd", entry.c_str()), 0);
  EXPECT_FALSE(CachedPvhKernel(good).ok());
}

}  // namespace
}  // namespace rootfs
