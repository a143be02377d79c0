#include "rootfs/oci_writer.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rootfs/build_plan.h"
#include "rootfs/json.h"

namespace rootfs {
namespace {

using ::testing::HasSubstr;

std::string Shell(const std::string& cmd, int* status = nullptr) {
  std::string out;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (p == nullptr) return "<popen failed>";
  char buf[4096];
  for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  const int st = pclose(p);
  if (status != nullptr) *status = st;
  return out;
}

class OciWriterTest : public testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/minipod-oci-XXXXXX";
    dir_ = mkdtemp(tmpl);
    ASSERT_TRUE(m_.AddFile("/bin/true", "/bin/true", 0755).ok());
    ASSERT_TRUE(m_.AddDir("/tmp", 01777).ok());
    options_.entrypoint = {"/bin/true"};
    options_.created = 1700000000;
  }
  void TearDown() override { (void)RemoveTree(dir_); }
  std::string dir_;
  Manifest m_;
  OciOptions options_;
};

TEST_F(OciWriterTest, LayoutIsReproducible) {
  ASSERT_TRUE(WriteOci(m_, dir_ + "/a", options_).ok());
  ASSERT_TRUE(WriteOci(m_, dir_ + "/b", options_).ok());
  int st = 0;
  EXPECT_EQ(Shell("diff -r " + dir_ + "/a " + dir_ + "/b", &st), "");
  EXPECT_EQ(st, 0);
  EXPECT_EQ(Shell("cat " + dir_ + "/a/oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
  // Every blob is named by its own digest.
  EXPECT_EQ(Shell("cd " + dir_ + "/a/blobs/sha256 && for f in *; do echo \"$f  $f\"; done | sha256sum -c --quiet"), "");
  auto again = WriteOci(m_, dir_ + "/a", options_);
  EXPECT_EQ(again.status().code(), absl::StatusCode::kAlreadyExists);
}

TEST_F(OciWriterTest, TarOfTheLayoutIsReproducible) {
  options_.as_tar = true;
  ASSERT_TRUE(WriteOci(m_, dir_ + "/a.tar", options_).ok());
  ASSERT_TRUE(WriteOci(m_, dir_ + "/b.tar", options_).ok());
  EXPECT_EQ(Shell("cmp " + dir_ + "/a.tar " + dir_ + "/b.tar"), "");
  EXPECT_THAT(Shell("tar -tf " + dir_ + "/a.tar"), HasSubstr("index.json"));
  EXPECT_EQ(Shell("ls " + dir_ + " | grep -c layout-"), "0\n") << "no temporary left";
}

TEST_F(OciWriterTest, AcceptedBySkopeoAndUmoci) {
  if (access("/usr/bin/skopeo", X_OK) != 0 || access("/usr/bin/umoci", X_OK) != 0) {
    GTEST_SKIP() << "skopeo or umoci not installed (scripts/setup installs them)";
  }
  ASSERT_TRUE(WriteOci(m_, dir_ + "/img", options_).ok());
  int st = 0;
  const std::string inspect = Shell("skopeo inspect --config oci:" + dir_ + "/img:latest", &st);
  EXPECT_EQ(st, 0) << inspect;
  EXPECT_THAT(inspect, HasSubstr("\"Entrypoint\""));
  EXPECT_THAT(inspect, HasSubstr("/bin/true"));
  const std::string unpack =
      Shell("umoci unpack --rootless --image " + dir_ + "/img:latest " + dir_ + "/bundle", &st);
  EXPECT_EQ(st, 0) << unpack;
  EXPECT_EQ(Shell("cmp /bin/true " + dir_ + "/bundle/rootfs/bin/true"), "");
}

// A hand-written ELF header: just what PlatformOfElf and ImagePlatform read.
std::string ElfHeader(bool is_64, bool big, uint16_t machine) {
  std::string h(64, '\0');
  h[0] = 0x7f;
  h[1] = 'E';
  h[2] = 'L';
  h[3] = 'F';
  h[4] = is_64 ? 2 : 1;
  h[5] = big ? 2 : 1;
  h[6] = 1;
  h[big ? 19 : 18] = static_cast<char>(machine & 0xff);
  h[big ? 18 : 19] = static_cast<char>(machine >> 8);
  return h;
}

absl::Span<const uint8_t> Bytes(const std::string& s) {
  return absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

TEST(PlatformOfElf, MachinesMapToOciNames) {
  struct Case {
    bool is_64, big;
    uint16_t machine;
    const char* arch;
    const char* variant;
  } cases[] = {
      {true, false, 62, "amd64", ""},      {false, false, 3, "386", ""},
      {true, false, 183, "arm64", "v8"},   {false, false, 40, "arm", ""},
      {true, false, 243, "riscv64", ""},   {true, false, 21, "ppc64le", ""},
      {true, true, 21, "ppc64", ""},       {true, true, 22, "s390x", ""},
      {false, true, 8, "mips", ""},        {true, false, 8, "mips64le", ""},
      {true, false, 258, "loong64", ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.arch);
    const std::string h = ElfHeader(c.is_64, c.big, c.machine);
    absl::StatusOr<Platform> p = PlatformOfElf(Bytes(h), "f");
    ASSERT_TRUE(p.ok()) << p.status();
    EXPECT_EQ(p->architecture, c.arch);
    EXPECT_EQ(p->variant, c.variant);
  }
  // x32 and an unknown machine have no OCI name; a short header is an error.
  EXPECT_FALSE(PlatformOfElf(Bytes(ElfHeader(false, false, 62)), "f").ok());
  EXPECT_THAT(PlatformOfElf(Bytes(ElfHeader(true, false, 9999)), "f").status().message(), HasSubstr("f: ELF machine 9999"));
  EXPECT_FALSE(PlatformOfElf(Bytes(std::string("\x7f" "ELF", 4)), "f").ok());
}

class ImagePlatformTest : public OciWriterTest {
 protected:
  std::string Write(const std::string& name, const std::string& data) {
    const std::string path = dir_ + "/" + name;
    FILE* f = fopen(path.c_str(), "w");
    if (f == nullptr) return "";
    fwrite(data.data(), 1, data.size(), f);
    fclose(f);
    return path;
  }
};

TEST_F(ImagePlatformTest, FromTheElfFilesNotTheHost) {
  Manifest m;
  ASSERT_TRUE(m.AddFile("/bin/a", Write("a", ElfHeader(true, false, 183)), 0755).ok());
  ASSERT_TRUE(m.AddFile("/etc/text", Write("t", "not an ELF file\n"), 0644).ok());
  ASSERT_TRUE(m.AddFile("/lib/b.so", Write("b", ElfHeader(true, false, 183)), 0644).ok());
  absl::StatusOr<Platform> p = ImagePlatform(m);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->architecture, "arm64");
  EXPECT_EQ(p->variant, "v8");

  // The config says so.
  ASSERT_TRUE(WriteOci(m, dir_ + "/img", options_).ok());
  const std::string cfg = Shell("cd " + dir_ + "/img && cat $(grep -l '\"architecture\"' blobs/sha256/*)");
  EXPECT_THAT(cfg, HasSubstr("\"architecture\":\"arm64\",\"variant\":\"v8\",\"os\":\"linux\""));

  ASSERT_TRUE(m.AddFile("/bin/c", Write("c", ElfHeader(true, true, 22)), 0755).ok());
  absl::StatusOr<Platform> mixed = ImagePlatform(m);
  ASSERT_FALSE(mixed.ok());
  EXPECT_THAT(mixed.status().message(), HasSubstr("mixes architectures: /bin/a is arm64, /bin/c is s390x"));
}

TEST_F(ImagePlatformTest, NoElfFileMeansTheHost) {
  Manifest m;
  ASSERT_TRUE(m.AddFile("/etc/text", Write("t", "text\n"), 0644).ok());
  absl::StatusOr<Platform> p = ImagePlatform(m);
  ASSERT_TRUE(p.ok()) << p.status();
#if defined(__x86_64__)
  EXPECT_EQ(p->architecture, "amd64");
#endif
  EXPECT_FALSE(p->architecture.empty());
}

TEST(Json, NamesThatAreNotUtf8AreBase64) {
  EXPECT_TRUE(IsUtf8("caf\xc3\xa9"));
  EXPECT_TRUE(IsUtf8("\xf0\x9f\x98\x80"));
  EXPECT_FALSE(IsUtf8("bad\xff"));
  EXPECT_FALSE(IsUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsUtf8("\xed\xa0\x80"));      // a surrogate
  EXPECT_FALSE(IsUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsUtf8("\xe2\x82"));          // truncated
  EXPECT_EQ(BytesToJson("caf\xc3\xa9").dump(), "\"caf\xc3\xa9\"");
  EXPECT_EQ(BytesToJson("bad\xff").dump(), "{\"base64\":\"YmFk/w==\"}");
}

}  // namespace
}  // namespace rootfs
