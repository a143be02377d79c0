// --nss and --strip on a manifest: which entries they add or replace.
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rootfs/closure.h"
#include "rootfs/nss.h"
#include "rootfs/staging.h"
#include "rootfs/strip.h"

namespace rootfs {
namespace {

using ::testing::HasSubstr;

off_t SizeOf(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? st.st_size : -1;
}

TEST(Nss, ModulesAndEtcFilesUnlessGiven) {
  if (::access("/usr/lib/x86_64-linux-gnu/libnss_files.so.2", R_OK) != 0) {
    GTEST_SKIP() << "expects an x86-64 glibc host with Debian's multiarch paths (/usr/lib/x86_64-linux-gnu)";
  }
  auto staging = Staging::Create();
  ASSERT_TRUE(staging.ok()) << staging.status();
  Manifest m;
  // A passwd file given with --add beats the generated one.
  ASSERT_TRUE(m.AddFile("/etc/passwd", "/etc/hostname", 0644).ok());
  Resolver resolver(ClosureOptions{});
  ASSERT_TRUE(AddNss(m, *staging, resolver, "/bin/sh", nullptr).ok());
  const auto& e = m.entries();
  EXPECT_TRUE(e.contains("/usr/lib/x86_64-linux-gnu/libnss_files.so.2"));
  EXPECT_TRUE(e.contains("/usr/lib/x86_64-linux-gnu/libnss_dns.so.2"));
  EXPECT_TRUE(e.contains("/usr/lib/x86_64-linux-gnu/libc.so.6"));
  EXPECT_EQ(e.at("/etc/passwd").source, "/etc/hostname");
  ASSERT_TRUE(e.contains("/etc/nsswitch.conf"));
  EXPECT_EQ(e.at("/etc/nsswitch.conf").mode, 0644u);
  EXPECT_EQ(SizeOf(e.at("/etc/nsswitch.conf").source), static_cast<off_t>(strlen(kNsswitchConf)));
  EXPECT_TRUE(e.contains("/etc/group"));
  EXPECT_TRUE(e.contains("/etc/hosts"));
}

TEST(Nss, SourcesOfAGivenNsswitchConfComeWithTheirModules) {
  EXPECT_THAT(NsswitchSources("# x\npasswd:  files systemd\ngroup: files [NOTFOUND=return] db\n"
                              "hosts: files mdns4_minimal [NOTFOUND=return] dns\nbad line\nnetgroup: nis\r\n"
                              "x: [ !UNAVAIL=return ] compat ../evil\n"),
              ::testing::ElementsAre("files", "systemd", "db", "mdns4_minimal", "dns", "nis", "compat"));
  auto staging = Staging::Create();
  ASSERT_TRUE(staging.ok());
  auto conf = staging->WriteFile("nsswitch.conf", "passwd: files systemd\nhosts: files mpfx-none\n", 0644);
  ASSERT_TRUE(conf.ok());
  Manifest m;
  ASSERT_TRUE(m.AddFile("/etc/nsswitch.conf", *conf, 0644).ok());
  Resolver resolver(ClosureOptions{});
  std::vector<std::string> warnings;
  ASSERT_TRUE(AddNss(m, *staging, resolver, "/bin/sh", &warnings).ok());
  if (::access("/lib/x86_64-linux-gnu/libnss_systemd.so.2", F_OK) == 0) {
    EXPECT_TRUE(m.entries().contains("/usr/lib/x86_64-linux-gnu/libnss_systemd.so.2"));
  }
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_THAT(warnings[0], HasSubstr("'mpfx-none' but libnss_mpfx-none.so.2 is not on this host"));
}

TEST(Nss, ErrorNamesAMissingLikeBinary) {
  auto staging = Staging::Create();
  ASSERT_TRUE(staging.ok());
  Manifest m;
  Resolver resolver(ClosureOptions{});
  const absl::Status s = AddNss(m, *staging, resolver, "/nonexistent/bin", nullptr);
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("/nonexistent/bin"));
}

TEST(Strip, ReplacesElfFilesWithSmallerCopiesAndLeavesTheRest) {
  auto staging = Staging::Create();
  ASSERT_TRUE(staging.ok());
  const std::string dir = staging->dir();
  if (std::system(absl::StrCat("printf 'int main(void){return 0;}\\n' > ", dir,
                               "/m.c && gcc -g -o ", dir, "/m ", dir, "/m.c && gcc -g -c -o ", dir,
                               "/m.o ", dir, "/m.c && echo text > ", dir, "/t")
                      .c_str()) != 0) {
    GTEST_SKIP() << "gcc cannot build the fixtures here";
  }
  Manifest m;
  ASSERT_TRUE(m.AddFile("/bin/m", dir + "/m", 0755).ok());
  ASSERT_TRUE(m.AddFile("/lib/m.o", dir + "/m.o", 0644).ok());
  ASSERT_TRUE(m.AddFile("/etc/t", dir + "/t", 0644).ok());
  auto n = StripElfFiles(m, *staging);
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 2u);
  const auto& e = m.entries();
  EXPECT_NE(e.at("/bin/m").source, dir + "/m");
  EXPECT_LT(SizeOf(e.at("/bin/m").source), SizeOf(dir + "/m"));
  EXPECT_LT(SizeOf(e.at("/lib/m.o").source), SizeOf(dir + "/m.o"));
  EXPECT_EQ(e.at("/etc/t").source, dir + "/t");
  EXPECT_EQ(e.at("/bin/m").mode, 0755u);
  // The stripped executable still runs.
  EXPECT_EQ(std::system(e.at("/bin/m").source.c_str()), 0);
}

}  // namespace
}  // namespace rootfs
