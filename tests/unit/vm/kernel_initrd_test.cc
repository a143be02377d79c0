// The kernel choice (version order, release from the name, unreadable
// kernels) and the initrd: argv encoding, the merged module list, the extra
// archive read back with libarchive, and the concatenation with its padding.
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/absl/file_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rootfs/archive_writer.h"
#include "rootfs/manifest.h"
#include "rootfs/staging.h"
#include "rootfs/tree_writer.h"
#include "vm/image_expand.h"
#include "vm/initrd.h"
#include "vm/kernel_choice.h"

namespace vm {
namespace {

using ::testing::HasSubstr;

class TempDir {
 public:
  TempDir() {
    std::string t = absl::StrCat(::testing::TempDir(), "/vmtest.XXXXXX");
    EXPECT_NE(::mkdtemp(t.data()), nullptr);
    path_ = t;
  }
  ~TempDir() { (void)rootfs::RemoveTree(path_); }
  const std::string& path() const { return path_; }
  std::string Write(const std::string& name, const std::string& data, mode_t mode = 0644) const {
    const std::string p = absl::StrCat(path_, "/", name);
    std::ofstream(p, std::ios::binary) << data;
    ::chmod(p.c_str(), mode);
    return p;
  }

 private:
  std::string path_;
};

TEST(VersionLess, NumbersCompareAsNumbers) {
  EXPECT_TRUE(VersionLess("vmlinuz-6.1.0-9-amd64", "vmlinuz-6.1.0-57-amd64"));
  EXPECT_TRUE(VersionLess("vmlinuz-5.10.0", "vmlinuz-6.1.0"));
  EXPECT_TRUE(VersionLess("vmlinuz-6.1", "vmlinuz-6.1.0"));
  EXPECT_FALSE(VersionLess("vmlinuz-6.10", "vmlinuz-6.9"));
  EXPECT_FALSE(VersionLess("a", "a"));
  EXPECT_TRUE(VersionLess("vmlinuz-6.01", "vmlinuz-6.2"));
}

TEST(NewestVmlinuz, PicksByVersion) {
  EXPECT_EQ(NewestVmlinuz({"config-6.1.0", "vmlinuz-6.1.0-9-amd64", "vmlinuz-6.1.0-57-amd64",
                           "vmlinuz-5.10.0-30-amd64", "initrd.img-7.0", "vmlinuz-"}),
            "vmlinuz-6.1.0-57-amd64");
  EXPECT_EQ(NewestVmlinuz({"System.map"}), "");
}

TEST(KernelReleaseFromPath, Names) {
  EXPECT_EQ(KernelReleaseFromPath("/boot/vmlinuz-6.1.0-57-amd64"), "6.1.0-57-amd64");
  EXPECT_EQ(KernelReleaseFromPath("vmlinux-6.9"), "6.9");
  EXPECT_EQ(KernelReleaseFromPath("/x/bzImage"), "");
  EXPECT_EQ(KernelReleaseFromPath("/x/vmlinuz-"), "");
  EXPECT_EQ(KernelReleaseFromPath("/x/vmlinuz-.."), "");
  EXPECT_EQ(KernelReleaseFromPath("/x/vmlinuz-a b"), "");
}

TEST(ChooseKernel, NewestInBootDirAndErrors) {
  TempDir d;
  d.Write("vmlinuz-6.1.0-9-amd64", "old");
  d.Write("vmlinuz-6.1.0-57-amd64", "new");
  absl::StatusOr<KernelChoice> c = ChooseKernel("", /*no_pvh=*/false, d.path());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->image, d.path() + "/vmlinuz-6.1.0-57-amd64");
  EXPECT_EQ(c->release, "6.1.0-57-amd64");
  EXPECT_EQ(c->boot, c->image);  // no PVH kernel in this build
  EXPECT_FALSE(c->pvh);

  TempDir empty;
  absl::StatusOr<KernelChoice> none = ChooseKernel("", false, empty.path());
  ASSERT_FALSE(none.ok());
  EXPECT_THAT(none.status().message(), HasSubstr("no kernel to boot"));

  absl::StatusOr<KernelChoice> missing = ChooseKernel(d.path() + "/nope", false, d.path());
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.status().message(), HasSubstr("nope"));
  EXPECT_FALSE(ChooseKernel(d.path(), false, d.path()).ok());  // a directory
  EXPECT_FALSE(ChooseKernel(d.Write("vmlinuz-empty", ""), false, d.path()).ok());
}

TEST(EncodeArgv, WordsAndLimits) {
  EXPECT_EQ(*EncodeArgv({"sh", "-c", "echo 'a b'\n"}), std::string("sh\0-c\0echo 'a b'\n\0", 18));
  EXPECT_FALSE(EncodeArgv({}).ok());
  EXPECT_FALSE(EncodeArgv({std::string("a\0b", 3)}).ok());
  EXPECT_FALSE(EncodeArgv(std::vector<std::string>(65, "x")).ok());
  EXPECT_TRUE(EncodeArgv(std::vector<std::string>(64, "x")).ok());
  EXPECT_FALSE(EncodeArgv({std::string(4096, 'x')}).ok());
  EXPECT_TRUE(EncodeArgv({std::string(4095, 'x')}).ok());
}

TEST(MergeModuleList, KeepsTheImagesFirstWithoutRepeats) {
  EXPECT_EQ(MergeModuleList("/lib/modules/r/a.ko\n/lib/modules/r/b.ko\n", "/lib/modules/r/b.ko\n/lib/modules/r/c.ko\n"),
            "/lib/modules/r/a.ko\n/lib/modules/r/b.ko\n/lib/modules/r/c.ko\n");
  EXPECT_EQ(MergeModuleList("", "/x.ko\n"), "/x.ko\n");
}

// A fixture /lib/modules/R with three plain modules standing in for the
// 9p stack (virtio_pci needs virtio; 9p needs 9pnet).
std::string ModulesFixture(const TempDir& d, const std::string& release) {
  const std::string root = d.path() + "/modules";
  const std::string dir = root + "/" + release;
  ::mkdir(root.c_str(), 0755);
  ::mkdir(dir.c_str(), 0755);
  ::mkdir((dir + "/kernel").c_str(), 0755);
  for (const char* m : {"virtio", "virtio_pci", "9pnet", "9pnet_virtio", "9p"}) {
    std::ofstream(absl::StrCat(dir, "/kernel/", m, ".ko")) << "module " << m;
  }
  std::ofstream(dir + "/modules.dep") << "kernel/virtio.ko:\n"
                                         "kernel/virtio_pci.ko: kernel/virtio.ko\n"
                                         "kernel/9pnet.ko:\n"
                                         "kernel/9pnet_virtio.ko: kernel/9pnet.ko kernel/virtio.ko\n"
                                         "kernel/9p.ko: kernel/9pnet.ko\n";
  return root;
}

// An image with its own module list, as `rootfs build --module` leaves it.
std::string ImageWithModuleList(const TempDir& d, const std::string& list) {
  rootfs::Manifest m;
  EXPECT_TRUE(m.AddFile("/etc/minipod/modules", d.Write("image-list", list), 0644).ok());
  EXPECT_TRUE(m.AddFile("/init", d.Write("init", "#!/bin/sh\n"), 0755).ok());
  const std::string image = d.path() + "/image.cpio.gz";
  rootfs::ArchiveOptions o;
  o.compression = rootfs::Compression::kGzip;
  EXPECT_TRUE(rootfs::WriteArchive(m, image, o).ok());
  return image;
}

TEST(ReadImageFile, FindsAMemberInACompressedCpio) {
  TempDir d;
  const std::string image = ImageWithModuleList(d, "/lib/modules/r/overlay.ko\n");
  EXPECT_EQ(*ReadImageFile(image, "/etc/minipod/modules"), "/lib/modules/r/overlay.ko\n");
  EXPECT_TRUE(absl::IsNotFound(ReadImageFile(image, "/etc/minipod/argv").status()));
  EXPECT_FALSE(ReadImageFile(image, "/etc/minipod/modules", 4).ok());
  EXPECT_FALSE(ReadImageFile(d.Write("junk", "not an archive at all"), "/x").ok());
  EXPECT_FALSE(ReadImageFile(d.path() + "/missing", "/x").ok());
}

TEST(WriteExtraArchive, CommandModulesAndTheMergedList) {
  TempDir d;
  const std::string root = ModulesFixture(d, "6.1.0-t");
  absl::StatusOr<rootfs::Staging> staging = rootfs::Staging::Create();
  ASSERT_TRUE(staging.ok());
  ExtraConfig c;
  c.has_command = true;
  c.command = {"sh", "-c", "exit 3"};
  c.nine_p = true;
  c.kernel_release = "6.1.0-t";
  c.modules_root = root;
  c.image_modules = "/lib/modules/6.1.0-t/overlay.ko\n";
  c.image_modules_dep = "overlay.ko:\n";
  const std::string out = d.path() + "/extra.cpio.gz";
  absl::StatusOr<bool> wrote = WriteExtraArchive(c, *staging, out);
  ASSERT_TRUE(wrote.ok()) << wrote.status();
  EXPECT_TRUE(*wrote);
  EXPECT_EQ(*ReadImageFile(out, "/etc/minipod/argv"), std::string("sh\0-c\0exit 3\0", 13));
  EXPECT_EQ(*ReadImageFile(out, "/etc/minipod/modules"),
            "/lib/modules/6.1.0-t/overlay.ko\n"
            "/lib/modules/6.1.0-t/kernel/virtio.ko\n"
            "/lib/modules/6.1.0-t/kernel/virtio_pci.ko\n"
            "/lib/modules/6.1.0-t/kernel/9pnet.ko\n"
            "/lib/modules/6.1.0-t/kernel/9pnet_virtio.ko\n"
            "/lib/modules/6.1.0-t/kernel/9p.ko\n");
  EXPECT_EQ(*ReadImageFile(out, "/lib/modules/6.1.0-t/kernel/9p.ko"), "module 9p");
  EXPECT_EQ(*ReadImageFile(out, ModulesDepPath("6.1.0-t")),
            "overlay.ko:\n"
            "kernel/virtio.ko:\n"
            "kernel/virtio_pci.ko: kernel/virtio.ko\n"
            "kernel/9pnet.ko:\n"
            "kernel/9pnet_virtio.ko: kernel/9pnet.ko kernel/virtio.ko\n"
            "kernel/9p.ko: kernel/9pnet.ko\n");
  EXPECT_TRUE(absl::IsNotFound(ReadImageFile(out, "/init").status()));
}

TEST(WriteExtraArchive, NothingToAdd) {
  TempDir d;
  absl::StatusOr<rootfs::Staging> staging = rootfs::Staging::Create();
  ASSERT_TRUE(staging.ok());
  absl::StatusOr<bool> wrote = WriteExtraArchive(ExtraConfig{}, *staging, d.path() + "/x.cpio.gz");
  ASSERT_TRUE(wrote.ok());
  EXPECT_FALSE(*wrote);
  EXPECT_NE(::access((d.path() + "/x.cpio.gz").c_str(), F_OK), 0);
}

TEST(WriteExtraArchive, MissingModulesNameTheDirectory) {
  TempDir d;
  absl::StatusOr<rootfs::Staging> staging = rootfs::Staging::Create();
  ASSERT_TRUE(staging.ok());
  ExtraConfig c;
  c.nine_p = true;
  c.kernel_release = "9.9.9-none";
  c.modules_root = d.path();
  absl::StatusOr<bool> wrote = WriteExtraArchive(c, *staging, d.path() + "/x.cpio.gz");
  ASSERT_FALSE(wrote.ok());
  EXPECT_THAT(wrote.status().message(), HasSubstr("9p modules"));
  EXPECT_THAT(wrote.status().message(), HasSubstr("9.9.9-none"));
}

TEST(AssembleInitrd, ImagePaddingThenExtraInANamelessFile) {
  TempDir d;
  const std::string image = d.Write("image", "12345");
  const std::string extra = d.Write("extra", "EXTRA");
  absl::StatusOr<common::UniqueFd> fd = AssembleInitrd(image, extra, d.path());
  ASSERT_TRUE(fd.ok()) << fd.status();
  absl::StatusOr<std::string> data = common::ReadFileToString(absl::StrCat("/proc/self/fd/", fd->get()));
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_EQ(*data, std::string("12345\0\0\0EXTRA", 13));
  // Nothing with a name was left in the directory but the two inputs.
  int entries = 0;
  for (const char* name : {"image", "extra"}) entries += ::access((d.path() + "/" + name).c_str(), F_OK) == 0;
  EXPECT_EQ(entries, 2);
  absl::StatusOr<common::UniqueFd> only = AssembleInitrd("", extra, d.path());
  ASSERT_TRUE(only.ok());
  EXPECT_EQ(*common::ReadFileToString(absl::StrCat("/proc/self/fd/", only->get())), "EXTRA");
  EXPECT_FALSE(AssembleInitrd(d.path() + "/missing", extra, d.path()).ok());
}


// One file, /init, in a newc cpio with the given compression; its bytes.
std::string Archive(const TempDir& d, const std::string& name, rootfs::Compression c,
                    const std::string& body = "#!/bin/sh\n") {
  rootfs::Manifest m;
  EXPECT_TRUE(m.AddFile("/init", d.Write(name + ".src", body), 0755).ok());
  const std::string path = d.path() + "/" + name;
  rootfs::ArchiveOptions o;
  o.compression = c;
  EXPECT_TRUE(rootfs::WriteArchive(m, path, o).ok());
  return *common::ReadFileToString(path);
}

std::string Padded(std::string s) {
  s.append((4 - s.size() % 4) % 4, '\0');
  return s;
}

// ExpandImage into a string: the result, or the error.
struct Expanded {
  absl::StatusOr<bool> done;
  std::string out;
};
Expanded Expand(absl::string_view image, size_t limit = 1 << 20) {
  Expanded e;
  e.done = ExpandImage(image, limit, [&](absl::string_view piece) {
    e.out.append(piece.data(), piece.size());
    return absl::OkStatus();
  });
  return e;
}

TEST(ExpandImage, EveryCodecToItsCpioPadded) {
  TempDir d;
  const std::string plain = Archive(d, "plain", rootfs::Compression::kNone);
  ASSERT_EQ(plain.substr(0, 6), "070701");
  for (auto c : {rootfs::Compression::kGzip, rootfs::Compression::kZstd, rootfs::Compression::kXz}) {
    const Expanded e = Expand(Archive(d, "c" + std::to_string(static_cast<int>(c)), c));
    ASSERT_TRUE(e.done.ok()) << e.done.status();
    EXPECT_TRUE(*e.done);
    EXPECT_EQ(e.out, Padded(plain));
  }
}

TEST(ExpandImage, ConcatenatedStreamsWithZerosBetween) {
  TempDir d;
  const std::string a = Archive(d, "a", rootfs::Compression::kNone, "first");
  const std::string b = Archive(d, "b", rootfs::Compression::kNone, "second, longer");
  const std::string image = Archive(d, "a.gz", rootfs::Compression::kGzip, "first") + std::string(7, '\0') +
                            Archive(d, "b.zst", rootfs::Compression::kZstd, "second, longer") +
                            std::string(512, '\0');
  const Expanded e = Expand(image);
  ASSERT_TRUE(e.done.ok()) << e.done.status();
  EXPECT_TRUE(*e.done);
  EXPECT_EQ(e.out, Padded(a) + Padded(b));
}

TEST(ExpandImage, LeavesAloneWhatItDoesNotExpand) {
  TempDir d;
  const std::string gz = Archive(d, "x.gz", rootfs::Compression::kGzip);
  const std::string plain = Archive(d, "x", rootfs::Compression::kNone);
  // An uncompressed archive, alone or after a compressed one.
  EXPECT_FALSE(*Expand(plain).done);
  EXPECT_FALSE(*Expand(gz + plain).done);
  // lz4 (not ours to decompress), junk after the stream, nothing at all.
  EXPECT_FALSE(*Expand(std::string("\x02\x21\x4c\x18", 4) + "rest").done);
  EXPECT_FALSE(*Expand(gz + "junk").done);
  EXPECT_FALSE(*Expand("").done);
  EXPECT_FALSE(*Expand(std::string(64, '\0')).done);
  // A compressed stream that is no newc archive (an old-style initrd).
  rootfs::Manifest m;
  const std::string raw = d.path() + "/raw.gz";
  {
    // gzip of text, through the archive writer's own compressor: a tar.
    ASSERT_TRUE(m.AddFile("/f", d.Write("f", "text"), 0644).ok());
    rootfs::ArchiveOptions o;
    o.format = rootfs::ArchiveFormat::kTar;
    o.compression = rootfs::Compression::kGzip;
    ASSERT_TRUE(rootfs::WriteArchive(m, raw, o).ok());
  }
  EXPECT_FALSE(*Expand(*common::ReadFileToString(raw)).done);
  // More than the limit.
  EXPECT_FALSE(*Expand(gz, plain.size() - 1).done);
  EXPECT_TRUE(*Expand(gz, Padded(plain).size()).done);
}

TEST(ExpandImage, CorruptOrCutStreamsAreErrorsWithTheirOffset) {
  TempDir d;
  const std::string gz = Archive(d, "x.gz", rootfs::Compression::kGzip);
  for (auto c : {rootfs::Compression::kGzip, rootfs::Compression::kZstd, rootfs::Compression::kXz}) {
    const std::string z = Archive(d, "c" + std::to_string(static_cast<int>(c)), c);
    const Expanded cut = Expand(gz + std::string(4, '\0') + z.substr(0, z.size() - 6));
    ASSERT_FALSE(cut.done.ok()) << static_cast<int>(c);
    EXPECT_THAT(cut.done.status().message(), HasSubstr(absl::StrCat("at byte ", gz.size() + 4)));
  }
  std::string bad = gz;
  for (size_t i = 20; i < bad.size() - 8; ++i) bad[i] = static_cast<char>(bad[i] ^ 0x5a);
  const Expanded e = Expand(bad);
  ASSERT_FALSE(e.done.ok());
  EXPECT_THAT(e.done.status().message(), HasSubstr("gzip stream at byte 0"));
}

TEST(ExpandImage, ASinkErrorStopsIt) {
  TempDir d;
  const absl::StatusOr<bool> done =
      ExpandImage(Archive(d, "x.gz", rootfs::Compression::kGzip), 1 << 20,
                  [](absl::string_view) { return absl::UnavailableError("disk full"); });
  ASSERT_FALSE(done.ok());
  EXPECT_EQ(done.status().message(), "disk full");
}

TEST(AssembleInitrd, ExpandsACompressedImageWithinTheLimit) {
  TempDir d;
  const std::string plain = Archive(d, "x", rootfs::Compression::kNone);
  const std::string gz = Archive(d, "x.gz", rootfs::Compression::kGzip);
  const std::string image = d.path() + "/x.gz";
  const std::string extra = d.Write("extra", "EXTRA");
  const auto read = [](const common::UniqueFd& fd) {
    return *common::ReadFileToString(absl::StrCat("/proc/self/fd/", fd.get()));
  };
  EXPECT_TRUE(MayExpand(image, 1 << 20));
  absl::StatusOr<common::UniqueFd> fd = AssembleInitrd(image, extra, d.path(), 1 << 20);
  ASSERT_TRUE(fd.ok()) << fd.status();
  EXPECT_EQ(read(*fd), Padded(plain) + "EXTRA");
  // Over the limit, or with no limit: the image as it is.
  EXPECT_FALSE(MayExpand(image, gz.size() - 1));
  EXPECT_FALSE(MayExpand(image, 0));
  fd = AssembleInitrd(image, extra, d.path(), gz.size());
  ASSERT_TRUE(fd.ok()) << fd.status();
  EXPECT_EQ(read(*fd), Padded(gz) + "EXTRA");
  fd = AssembleInitrd(image, "", d.path(), 0);
  ASSERT_TRUE(fd.ok()) << fd.status();
  EXPECT_EQ(read(*fd), gz);
  // Not compressed: never a candidate.
  EXPECT_FALSE(MayExpand(d.path() + "/x", 1 << 20));
  // A corrupt stream names the image.
  std::string bad = gz;
  bad.resize(bad.size() / 2);
  const absl::StatusOr<common::UniqueFd> broken = AssembleInitrd(d.Write("bad.gz", bad), "", d.path(), 1 << 20);
  ASSERT_FALSE(broken.ok());
  EXPECT_THAT(broken.status().message(), HasSubstr("bad.gz"));
  EXPECT_THAT(broken.status().message(), HasSubstr("cut short"));
}

}  // namespace
}  // namespace vm
