#include "rootfs/oci_writer.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rootfs/build_plan.h"

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

TEST(JsonString, Escapes) {
  EXPECT_EQ(JsonString("a\"b\\c\n\x01"), "\"a\\\"b\\\\c\\n\\u0001\"");
}

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

}  // namespace
}  // namespace rootfs
