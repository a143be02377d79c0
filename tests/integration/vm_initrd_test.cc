// minipod vm's initrd on a file system that fills up: the image that would
// not fit decompressed goes in as it is, whole, with what the run appends.
// Root: a small tmpfs in a mount namespace of this process's own.
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "common/absl/file_util.h"
#include "rootfs/archive_writer.h"
#include "rootfs/manifest.h"
#include "rootfs/tree_writer.h"
#include "vm/initrd.h"

namespace {

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream f(path, std::ios::binary);
  f << data;
  ASSERT_TRUE(f.good()) << path;
}

TEST(VmInitrd, AFullTmpdirTakesTheImageAsItIs) {
  std::string dir = absl::StrCat(::testing::TempDir(), "/vm-initrd.XXXXXX");
  ASSERT_NE(::mkdtemp(dir.data()), nullptr);
  const std::string small = dir + "/small";
  ASSERT_EQ(::mkdir(small.c_str(), 0700), 0);
  // Ours alone: the tmpfs goes with this namespace, whatever happens.
  // A container without CAP_SYS_ADMIN has neither: skipped, saying so.
  if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
      ::mount("tmpfs", small.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=0700") != 0) {
    const int err = errno;
    (void)rootfs::RemoveTree(dir);
    GTEST_SKIP() << "cannot mount a tmpfs in a mount namespace of our own: " << strerror(err);
  }

  // 512 KiB of zeros: a few hundred bytes of gzip, far more than 64 KiB out.
  const std::string big = dir + "/zeros";
  WriteFile(big, std::string(512 << 10, '\0'));
  rootfs::Manifest m;
  ASSERT_TRUE(m.AddFile("/zeros", big, 0644).ok());
  const std::string image = dir + "/image.cpio.gz";
  rootfs::ArchiveOptions o;
  o.compression = rootfs::Compression::kGzip;
  ASSERT_TRUE(rootfs::WriteArchive(m, image, o).ok());
  const std::string extra = dir + "/extra";
  WriteFile(extra, "EXTRA");
  const std::string gz = *common::ReadFileToString(image);
  ASSERT_LT(gz.size(), size_t{32} << 10);

  ASSERT_TRUE(vm::MayExpand(image, size_t{8} << 20));
  absl::StatusOr<common::UniqueFd> fd = vm::AssembleInitrd(image, extra, small, size_t{8} << 20);
  ASSERT_TRUE(fd.ok()) << fd.status();
  const std::string got = *common::ReadFileToString(absl::StrCat("/proc/self/fd/", fd->get()));
  std::string want = gz;
  want.append((4 - want.size() % 4) % 4, '\0');
  want += "EXTRA";
  EXPECT_EQ(got.size(), want.size());
  EXPECT_TRUE(got == want) << "the initrd is not the image as it is";

  fd->Reset();
  EXPECT_EQ(::umount2(small.c_str(), MNT_DETACH), 0);
  (void)rootfs::RemoveTree(dir);
}

}  // namespace
