#include "rootfs/elf.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rootfs {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

using Bytes = std::vector<uint8_t>;

Bytes ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

absl::Span<const uint8_t> Span(const std::string& s) {
  return absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

std::string Message(const absl::Status& s) { return std::string(s.message()); }

bool SameInfo(const ElfInfo& a, const ElfInfo& b) {
  return a.is_64 == b.is_64 && a.big_endian == b.big_endian && a.machine == b.machine &&
         a.osabi == b.osabi && a.type == b.type && a.has_dynamic == b.has_dynamic &&
         a.interp == b.interp && a.needed == b.needed && a.rpath == b.rpath &&
         a.runpath == b.runpath && a.has_rpath == b.has_rpath && a.has_runpath == b.has_runpath &&
         a.soname == b.soname;
}

// A scratch directory under the test's TempDir, removed afterwards.
class Scratch {
 public:
  Scratch() {
    std::string tmpl = ::testing::TempDir() + "/elf_test_XXXXXX";
    path_ = ::mkdtemp(tmpl.data()) ? tmpl : "";
  }
  ~Scratch() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  std::string Write(const std::string& name, const std::string& text) {
    const std::string p = path_ + "/" + name;
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
  // Runs a shell command in the directory; true on exit status 0.
  bool Run(const std::string& cmd) {
    return std::system(("cd '" + path_ + "' && " + cmd + " >/dev/null 2>&1").c_str()) == 0;
  }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A minimal ELF image laid out by hand, in either class and byte order:
// one PT_LOAD over the whole file, a PT_INTERP, and a PT_DYNAMIC that is
// the last thing in the file, so that every proper prefix is truncated.
constexpr uint64_t kBase = 0x10000;
enum Phdr { kLoadPhdr, kInterpPhdr, kDynamicPhdr, kPhdrCount };
enum Dyn { kNeeded1, kNeeded2, kRunpath, kSoname, kStrtab, kStrsz, kNull, kDynCount };
constexpr uint64_t kDtDebug = 21;  // an entry the reader ignores

struct HandElf {
  bool is64 = true;
  bool big = false;
  Bytes bytes;
  size_t interp_off = 0, strtab_off = 0, dyn_off = 0;
  uint64_t soname_index = 0, strsz = 0;

  size_t word() const { return is64 ? 8 : 4; }
  uint64_t max() const { return is64 ? ~uint64_t{0} : 0xffffffffu; }
  void Put(size_t off, uint64_t v, size_t width) {
    for (size_t i = 0; i < width; ++i) {
      const size_t shift = 8 * (big ? width - 1 - i : i);
      bytes[off + i] = static_cast<uint8_t>(v >> shift);
    }
  }
  size_t phoff() const { return is64 ? 64 : 52; }
  size_t phentsize() const { return is64 ? 56 : 32; }
  void SetPhnum(uint64_t n) { Put(is64 ? 56 : 44, n, 2); }
  void SetPhentsize(uint64_t n) { Put(is64 ? 54 : 42, n, 2); }
  void SetPhoff(uint64_t off) { Put(is64 ? 32 : 28, off, word()); }
  void SetType(int i, uint32_t type) { Put(phoff() + i * phentsize(), type, 4); }
  void SetOffset(int i, uint64_t v) { Put(phoff() + i * phentsize() + (is64 ? 8 : 4), v, word()); }
  void SetVaddr(int i, uint64_t v) { Put(phoff() + i * phentsize() + (is64 ? 16 : 8), v, word()); }
  void SetFilesz(int i, uint64_t v) {
    Put(phoff() + i * phentsize() + (is64 ? 32 : 16), v, word());
  }
  void SetDyn(int j, uint64_t tag, uint64_t val) {
    Put(dyn_off + j * 2 * word(), tag, word());
    Put(dyn_off + j * 2 * word() + word(), val, word());
  }
  void SetDynVal(int j, uint64_t val) { Put(dyn_off + j * 2 * word() + word(), val, word()); }
  void SetDynTag(int j, uint64_t tag) { Put(dyn_off + j * 2 * word(), tag, word()); }
};

HandElf MakeHandElf(bool is64, bool big) {
  HandElf e;
  e.is64 = is64;
  e.big = big;
  const std::string interp("/lib/ld-hand.so.1\0", 18);
  // Offset 0 is the empty string, as a linker writes it.
  const std::vector<std::string> strings = {"", "libfoo.so.1", "libbar.so.2", "$ORIGIN/../lib",
                                            "libhand.so.1"};
  std::string strtab;
  std::vector<uint64_t> index;
  for (const std::string& s : strings) {
    index.push_back(strtab.size());
    strtab.append(s).push_back('\0');
  }
  e.interp_off = e.phoff() + kPhdrCount * e.phentsize();
  e.strtab_off = e.interp_off + interp.size();
  e.dyn_off = (e.strtab_off + strtab.size() + 7) & ~size_t{7};
  e.soname_index = index[4];
  e.strsz = strtab.size();
  e.bytes.assign(e.dyn_off + kDynCount * 2 * e.word(), 0);
  const uint8_t ident[] = {0x7f, 'E', 'L', 'F', static_cast<uint8_t>(is64 ? 2 : 1),
                           static_cast<uint8_t>(big ? 2 : 1), 1};
  std::copy(std::begin(ident), std::end(ident), e.bytes.begin());
  e.Put(16, 3, 2);                     // e_type ET_DYN
  e.Put(18, big ? 21 : 62, 2);         // e_machine EM_PPC64 or EM_X86_64
  e.Put(20, 1, 4);                     // e_version
  e.SetPhoff(e.phoff());
  e.Put(is64 ? 52 : 40, is64 ? 64 : 52, 2);  // e_ehsize
  e.SetPhentsize(e.phentsize());
  e.SetPhnum(kPhdrCount);
  const uint32_t types[kPhdrCount] = {1, 3, 2};
  const uint64_t offsets[kPhdrCount] = {0, e.interp_off, e.dyn_off};
  const uint64_t sizes[kPhdrCount] = {e.bytes.size(), interp.size(), kDynCount * 2 * e.word()};
  for (int i = 0; i < kPhdrCount; ++i) {
    e.SetType(i, types[i]);
    e.SetOffset(i, offsets[i]);
    e.SetVaddr(i, kBase + offsets[i]);
    e.SetFilesz(i, sizes[i]);
  }
  std::copy(interp.begin(), interp.end(), e.bytes.begin() + e.interp_off);
  std::copy(strtab.begin(), strtab.end(), e.bytes.begin() + e.strtab_off);
  e.SetDyn(kNeeded1, 1, index[1]);
  e.SetDyn(kNeeded2, 1, index[2]);
  e.SetDyn(kRunpath, 29, index[3]);
  e.SetDyn(kSoname, 14, index[4]);
  e.SetDyn(kStrtab, 5, kBase + e.strtab_off);
  e.SetDyn(kStrsz, 10, strtab.size());
  e.SetDyn(kNull, 0, 0);
  return e;
}

struct Variant {
  bool is64, big;
};
const Variant kVariants[] = {{true, false}, {true, true}, {false, false}, {false, true}};

std::string Name(const Variant& v) {
  return std::string(v.is64 ? "ELF64" : "ELF32") + (v.big ? " MSB" : " LSB");
}

TEST(ParseElf, HandBuiltInEveryClassAndByteOrder) {
  for (const Variant& v : kVariants) {
    SCOPED_TRACE(Name(v));
    const HandElf e = MakeHandElf(v.is64, v.big);
    absl::StatusOr<ElfInfo> info = ParseElf(e.bytes, "hand");
    ASSERT_TRUE(info.ok()) << info.status();
    EXPECT_EQ(info->is_64, v.is64);
    EXPECT_EQ(info->big_endian, v.big);
    EXPECT_EQ(info->machine, v.big ? 21 : 62);
    EXPECT_EQ(info->type, 3);
    EXPECT_TRUE(info->has_dynamic);
    EXPECT_EQ(info->interp, "/lib/ld-hand.so.1");
    EXPECT_THAT(info->needed, ElementsAre("libfoo.so.1", "libbar.so.2"));
    EXPECT_TRUE(info->has_runpath);
    EXPECT_EQ(info->runpath, "$ORIGIN/../lib");
    EXPECT_FALSE(info->has_rpath);
    EXPECT_EQ(info->rpath, "");
    EXPECT_EQ(info->soname, "libhand.so.1");
  }
}

TEST(ParseElf, BigEndianHeaderWithOnlyPtInterp) {
  // ELF64 MSB, EM_S390, one PT_INTERP: every multi-byte field swapped.
  Bytes b(64 + 56 + 16, 0);
  const uint8_t ident[] = {0x7f, 'E', 'L', 'F', 2, 2, 1};
  std::copy(std::begin(ident), std::end(ident), b.begin());
  auto put = [&b](size_t off, uint64_t v, size_t width) {
    for (size_t i = 0; i < width; ++i) {
      b[off + i] = static_cast<uint8_t>(v >> (8 * (width - 1 - i)));
    }
  };
  put(16, 2, 2);    // ET_EXEC
  put(18, 22, 2);   // EM_S390
  put(20, 1, 4);
  put(32, 64, 8);   // e_phoff
  put(54, 56, 2);   // e_phentsize
  put(56, 1, 2);    // e_phnum
  put(64, 3, 4);    // PT_INTERP
  put(64 + 8, 120, 8);
  put(64 + 32, 16, 8);
  const char kInterp[] = "/lib/ld64.so.1";
  std::copy(kInterp, kInterp + sizeof kInterp, b.begin() + 120);
  absl::StatusOr<ElfInfo> info = ParseElf(b, "be");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_TRUE(info->big_endian);
  EXPECT_EQ(info->machine, 22);
  EXPECT_EQ(info->type, 2);
  EXPECT_EQ(info->interp, "/lib/ld64.so.1");
  EXPECT_FALSE(info->has_dynamic);
  EXPECT_TRUE(info->needed.empty());
}

struct Hostile {
  const char* name;
  std::function<void(HandElf&)> mutate;
  const char* error;  // "" when the result must still parse
};

const std::vector<Hostile>& HostileCases() {
  static const auto* cases = new std::vector<Hostile>{
      {"class", [](HandElf& e) { e.bytes[4] = 3; }, "unknown ELF class 3"},
      {"data", [](HandElf& e) { e.bytes[5] = 0; }, "unknown ELF data encoding 0"},
      {"version", [](HandElf& e) { e.bytes[6] = 2; }, "unknown ELF version 2"},
      {"phoff huge", [](HandElf& e) { e.SetPhoff(e.max() - 8); }, "truncated program header table"},
      {"phoff past end", [](HandElf& e) { e.SetPhoff(e.bytes.size()); },
       "truncated program header table"},
      {"phnum huge", [](HandElf& e) { e.SetPhnum(0xfffe); }, "truncated program header table"},
      {"PN_XNUM", [](HandElf& e) { e.SetPhnum(0xffff); }, "PN_XNUM"},
      {"phentsize small", [](HandElf& e) { e.SetPhentsize(8); }, "e_phentsize 8 is smaller"},
      {"phentsize zero", [](HandElf& e) { e.SetPhentsize(0); }, "e_phentsize 0 is smaller"},
      {"interp offset wraps",
       [](HandElf& e) {
         e.SetOffset(kInterpPhdr, e.max() - 0xf);
         e.SetFilesz(kInterpPhdr, 0x20);
       },
       "PT_INTERP outside the file"},
      {"interp size wraps", [](HandElf& e) { e.SetFilesz(kInterpPhdr, e.max()); },
       "PT_INTERP outside the file"},
      {"interp without NUL", [](HandElf& e) { e.SetFilesz(kInterpPhdr, 17); },
       "PT_INTERP not NUL-terminated"},
      {"interp empty", [](HandElf& e) { e.SetOffset(kInterpPhdr, e.strtab_off); },
       "empty PT_INTERP"},
      {"two interps", [](HandElf& e) { e.SetType(kLoadPhdr, 3); }, "more than one PT_INTERP"},
      {"two dynamics", [](HandElf& e) { e.SetType(kInterpPhdr, 2); }, "more than one PT_DYNAMIC"},
      {"dynamic offset wraps",
       [](HandElf& e) {
         e.SetOffset(kDynamicPhdr, e.max() - 0xf);
         e.SetFilesz(kDynamicPhdr, 0x40);
       },
       "PT_DYNAMIC outside the file"},
      {"dynamic past end", [](HandElf& e) { e.SetFilesz(kDynamicPhdr, 1 << 20); },
       "PT_DYNAMIC outside the file"},
      {"no DT_NULL", [](HandElf& e) { e.SetDynTag(kNull, kDtDebug); },
       "PT_DYNAMIC without DT_NULL"},
      {"DT_NULL cut off by p_filesz",
       [](HandElf& e) { e.SetFilesz(kDynamicPhdr, kNull * 2 * e.word() + 2 * e.word() - 1); },
       "PT_DYNAMIC without DT_NULL"},
      {"no DT_STRTAB", [](HandElf& e) { e.SetDynTag(kStrtab, kDtDebug); },
       "DT_NEEDED without DT_STRTAB"},
      {"DT_STRTAB below every PT_LOAD", [](HandElf& e) { e.SetDynVal(kStrtab, 5); },
       "DT_STRTAB 0x5 is not inside any PT_LOAD"},
      {"DT_STRTAB past the PT_LOAD",
       [](HandElf& e) { e.SetDynVal(kStrtab, kBase + e.bytes.size()); },
       "is not inside any PT_LOAD"},
      {"no PT_LOAD", [](HandElf& e) { e.SetType(kLoadPhdr, 6); }, "is not inside any PT_LOAD"},
      {"PT_LOAD offset wraps", [](HandElf& e) { e.SetOffset(kLoadPhdr, e.max() - 0xf); },
       "DT_STRTAB outside the file"},
      {"PT_LOAD beyond the file", [](HandElf& e) { e.SetOffset(kLoadPhdr, 1 << 20); },
       "DT_STRTAB outside the file"},
      {"DT_STRSZ beyond the file", [](HandElf& e) { e.SetDynVal(kStrsz, e.max()); },
       "DT_STRSZ beyond the file"},
      {"DT_STRSZ beyond the PT_LOAD",
       [](HandElf& e) { e.SetFilesz(kLoadPhdr, e.strtab_off + 4); },
       "DT_STRSZ beyond its PT_LOAD segment"},
      {"string without NUL", [](HandElf& e) { e.SetDynVal(kStrsz, e.soname_index + 3); },
       "DT_SONAME string not NUL-terminated in DT_STRTAB"},
      {"needed outside DT_STRTAB", [](HandElf& e) { e.SetDynVal(kNeeded2, e.strsz); },
       "DT_NEEDED string outside DT_STRTAB"},
      {"needed far outside", [](HandElf& e) { e.SetDynVal(kNeeded1, e.max()); },
       "DT_NEEDED string outside DT_STRTAB"},
      {"runpath outside", [](HandElf& e) { e.SetDynVal(kRunpath, e.strsz + 100); },
       "DT_RUNPATH string outside DT_STRTAB"},
      {"empty needed", [](HandElf& e) { e.SetDynVal(kNeeded1, 0); }, "empty DT_NEEDED"},
      // Still valid: the segment bounds a table without DT_STRSZ, and a
      // file without program headers has nothing to read.
      {"no DT_STRSZ", [](HandElf& e) { e.SetDynTag(kStrsz, kDtDebug); }, ""},
      {"no program headers", [](HandElf& e) { e.SetPhnum(0); }, ""},
  };
  return *cases;
}

TEST(ParseElf, HostileFieldsAreErrors) {
  for (const Variant& v : kVariants) {
    for (const Hostile& c : HostileCases()) {
      SCOPED_TRACE(Name(v) + ": " + c.name);
      HandElf e = MakeHandElf(v.is64, v.big);
      c.mutate(e);
      absl::StatusOr<ElfInfo> info = ParseElf(e.bytes, "/tmp/x");
      if (*c.error == '\0') {
        EXPECT_TRUE(info.ok()) << info.status();
        continue;
      }
      ASSERT_FALSE(info.ok());
      EXPECT_EQ(info.status().code(), absl::StatusCode::kFailedPrecondition);
      EXPECT_THAT(Message(info.status()), StartsWith("/tmp/x: "));
      EXPECT_THAT(Message(info.status()), HasSubstr(c.error));
    }
  }
}

TEST(ParseElf, WiderProgramHeaderEntriesAreSkippedOver) {
  // e_phentsize above the struct size: entries are found at multiples of it.
  HandElf e = MakeHandElf(/*is64=*/true, /*big=*/false);
  const size_t old_size = e.bytes.size();
  Bytes table(e.bytes.begin() + 64, e.bytes.begin() + 64 + kPhdrCount * 56);
  e.bytes.resize(old_size + kPhdrCount * 64, 0);
  for (int i = 0; i < kPhdrCount; ++i) {
    std::copy(table.begin() + i * 56, table.begin() + (i + 1) * 56,
              e.bytes.begin() + old_size + i * 64);
  }
  e.SetPhoff(old_size);
  e.SetPhentsize(64);
  absl::StatusOr<ElfInfo> info = ParseElf(e.bytes, "wide");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->soname, "libhand.so.1");
}

TEST(ParseElf, NotElfIsFailedPrecondition) {
  for (const std::string s : {"", "\x7f", "\x7f" "EL", "#!/bin/sh\n", "\x7f" "ELG..........."}) {
    absl::StatusOr<ElfInfo> info = ParseElf(Span(s), "x");
    EXPECT_EQ(info.status().code(), absl::StatusCode::kFailedPrecondition) << s;
    EXPECT_EQ(info.status().message(), "x: not an ELF file");
  }
  EXPECT_EQ(ParseElf(Span("\x7f" "ELF"), "x").status().message(), "x: truncated ELF header");
}

TEST(LooksLikeElf, Magic) {
  EXPECT_TRUE(LooksLikeElf(Span("\x7f" "ELF")));
  EXPECT_FALSE(LooksLikeElf(Span("\x7f" "EL")));
  EXPECT_FALSE(LooksLikeElf(Span("#!/bin/sh")));
}

TEST(ParseElf, EveryProperPrefixOfAHandBuiltFileIsAnError) {
  for (const Variant& v : kVariants) {
    SCOPED_TRACE(Name(v));
    const HandElf e = MakeHandElf(v.is64, v.big);
    for (size_t n = 0; n < e.bytes.size(); ++n) {
      EXPECT_FALSE(ParseElf(absl::MakeConstSpan(e.bytes.data(), n), "prefix").ok()) << n;
    }
  }
}

// Deterministic mutations: bit flips, bytes and whole words set to values
// that sit at the edges (0, all ones, the file size).
void Mutate(Bytes& b, std::mt19937& rng) {
  const int edits = 1 + static_cast<int>(rng() % 4);
  for (int k = 0; k < edits; ++k) {
    // Half of the edits land in the headers, where the offsets are.
    const size_t limit = (rng() % 2 == 0) ? std::min<size_t>(b.size(), 512) : b.size();
    const size_t pos = rng() % limit;
    switch (rng() % 4) {
      case 0:
        b[pos] ^= static_cast<uint8_t>(1u << (rng() % 8));
        break;
      case 1:
        b[pos] = static_cast<uint8_t>(rng());
        break;
      default: {
        const uint64_t values[] = {0, ~uint64_t{0}, 0x7fffffff, 0x80000000, b.size(), b.size() - 1,
                                   0xffff};
        const uint64_t val = values[rng() % std::size(values)];
        const size_t at = pos & ~size_t{3};
        for (size_t i = 0; i < 8 && at + i < b.size(); ++i) {
          b[at + i] = static_cast<uint8_t>(val >> (8 * i));
        }
        break;
      }
    }
  }
}

void CheckMutations(const Bytes& original, int rounds, uint32_t seed) {
  std::mt19937 rng(seed);
  int ok = 0;
  for (int r = 0; r < rounds; ++r) {
    Bytes b = original;
    Mutate(b, rng);
    absl::StatusOr<ElfInfo> info = ParseElf(b, "mutant");
    if (!info.ok()) continue;
    ++ok;
    EXPECT_EQ(info->interp.find('\0'), std::string::npos);
    EXPECT_LE(info->interp.size(), 4096u);
    for (const std::string& n : info->needed) EXPECT_FALSE(n.empty());
  }
  // Some mutants still parse (most edits miss the fields that matter).
  EXPECT_GT(ok, 0);
}

TEST(ParseElf, RandomMutationsOfAHandBuiltFile) {
  for (const Variant& v : kVariants) {
    SCOPED_TRACE(Name(v));
    CheckMutations(MakeHandElf(v.is64, v.big).bytes, 2000, 1234);
  }
}

// --- Host binaries and files built with gcc at test time.

TEST(ReadElf, HostLs) {
#if !defined(__x86_64__)
  GTEST_SKIP() << "expects an x86-64 glibc host";
#endif
  absl::StatusOr<ElfInfo> info = ReadElf("/bin/ls");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_TRUE(info->is_64);
  EXPECT_FALSE(info->big_endian);
  EXPECT_EQ(info->machine, 62);  // EM_X86_64
  EXPECT_TRUE(info->has_dynamic);
  EXPECT_EQ(info->interp, "/lib64/ld-linux-x86-64.so.2");
  EXPECT_THAT(info->needed, ::testing::Contains("libc.so.6"));
}

TEST(ReadElf, HostSharedLibraryHasSoname) {
  const std::string lib = "/lib/x86_64-linux-gnu/libz.so.1";
  if (::access(lib.c_str(), R_OK) != 0) GTEST_SKIP() << "no " << lib;
  absl::StatusOr<ElfInfo> info = ReadElf(lib);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->soname, "libz.so.1");
  EXPECT_EQ(info->type, 3);  // ET_DYN
  EXPECT_EQ(info->interp, "");
  EXPECT_THAT(info->needed, ::testing::Contains("libc.so.6"));
}

constexpr char kLibSource[] = "int libx_answer(void) { return 42; }\n";
constexpr char kMainSource[] =
    "int libx_answer(void);\nint main(void) { return libx_answer() != 42; }\n";

TEST(ReadElf, RpathAndRunpathFromGcc) {
  Scratch dir;
  dir.Write("x.c", kLibSource);
  const std::string common =
      "gcc -shared -fPIC -Wl,-soname,libx.so.1 -Wl,-rpath,'$ORIGIN/../lib' -o ";
  if (!dir.Run(common + "librpath.so x.c -Wl,--disable-new-dtags")) GTEST_SKIP() << "no gcc";
  ASSERT_TRUE(dir.Run(common + "librunpath.so x.c -Wl,--enable-new-dtags"));

  absl::StatusOr<ElfInfo> rpath = ReadElf(dir / "librpath.so");
  ASSERT_TRUE(rpath.ok()) << rpath.status();
  EXPECT_TRUE(rpath->has_rpath);
  EXPECT_EQ(rpath->rpath, "$ORIGIN/../lib");
  EXPECT_FALSE(rpath->has_runpath);
  EXPECT_EQ(rpath->soname, "libx.so.1");

  absl::StatusOr<ElfInfo> runpath = ReadElf(dir / "librunpath.so");
  ASSERT_TRUE(runpath.ok()) << runpath.status();
  EXPECT_TRUE(runpath->has_runpath);
  EXPECT_EQ(runpath->runpath, "$ORIGIN/../lib");
  EXPECT_FALSE(runpath->has_rpath);
  EXPECT_EQ(runpath->rpath, "");
}

TEST(ReadElf, NeededInLinkOrder) {
  Scratch dir;
  dir.Write("x.c", kLibSource);
  dir.Write("main.c", kMainSource);
  if (!dir.Run("gcc -shared -fPIC -Wl,-soname,libx.so.1 -o libx.so x.c")) GTEST_SKIP() << "no gcc";
  ASSERT_TRUE(dir.Run("gcc -Wl,--no-as-needed -o main main.c -L. -lx"));
  absl::StatusOr<ElfInfo> info = ReadElf(dir / "main");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_THAT(info->needed, ElementsAre("libx.so.1", "libc.so.6"));
  EXPECT_FALSE(info->interp.empty());
  EXPECT_FALSE(info->has_rpath || info->has_runpath);
}

TEST(ReadElf, StaticBinaryHasNoInterpreterAndNoNeeds) {
  Scratch dir;
  dir.Write("main.c", "int main(void) { return 0; }\n");
  if (!dir.Run("gcc -static -o static main.c")) GTEST_SKIP() << "gcc -static does not link here";
  absl::StatusOr<ElfInfo> info = ReadElf(dir / "static");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->interp, "");
  EXPECT_TRUE(info->needed.empty());
}

TEST(ReadElf, ThirtyTwoBit) {
  Scratch dir;
  dir.Write("x.c", kLibSource);
  // -nostdlib: a 32-bit libc is often missing, the compiler alone suffices.
  if (!dir.Run("gcc -m32 -shared -fPIC -nostdlib -Wl,-soname,libx32.so.1 -Wl,-rpath,/opt/x32 "
               "-Wl,--disable-new-dtags -o libx32.so x.c")) {
    GTEST_SKIP() << "gcc -m32 does not work here";
  }
  dir.Write("main.c", "int libx_answer(void);\nvoid start(void) { libx_answer(); }\n");
  ASSERT_TRUE(dir.Run("gcc -m32 -fPIE -pie -nostdlib -Wl,-e,start -Wl,--no-as-needed "
                      "-Wl,-dynamic-linker,/lib/ld-linux.so.2 -o main32 main.c -L. -lx32"));
  absl::StatusOr<ElfInfo> lib = ReadElf(dir / "libx32.so");
  ASSERT_TRUE(lib.ok()) << lib.status();
  EXPECT_FALSE(lib->is_64);
  EXPECT_EQ(lib->machine, 3);  // EM_386
  EXPECT_EQ(lib->soname, "libx32.so.1");
  EXPECT_EQ(lib->rpath, "/opt/x32");
  absl::StatusOr<ElfInfo> exe = ReadElf(dir / "main32");
  ASSERT_TRUE(exe.ok()) << exe.status();
  EXPECT_FALSE(exe->is_64);
  EXPECT_EQ(exe->interp, "/lib/ld-linux.so.2");
  EXPECT_THAT(exe->needed, ElementsAre("libx32.so.1"));
}

// A small real shared object, built once for the prefix and mutation tests.
Bytes SmallSharedObject(Scratch& dir) {
  dir.Write("x.c", kLibSource);
  if (!dir.Run("gcc -shared -fPIC -Wl,-soname,libx.so.1 -Wl,-rpath,/opt/x -o libx.so x.c")) {
    return {};
  }
  return ReadBytes(dir / "libx.so");
}

TEST(ParseElf, EveryPrefixOfARealSharedObject) {
  Scratch dir;
  const Bytes full = SmallSharedObject(dir);
  if (full.empty()) GTEST_SKIP() << "no gcc";
  absl::StatusOr<ElfInfo> whole = ParseElf(full, "libx.so");
  ASSERT_TRUE(whole.ok()) << whole.status();
  ASSERT_EQ(whole->soname, "libx.so.1");
  for (size_t n = 0; n < full.size(); ++n) {
    // Each prefix, copied so that ASan would see a read past its end.
    const Bytes prefix(full.begin(), full.begin() + n);
    absl::StatusOr<ElfInfo> info = ParseElf(prefix, "prefix");
    // A prefix that parses holds everything the reader looked at, so it
    // gives the same answer; one without the headers never parses.
    if (info.ok()) {
      EXPECT_TRUE(SameInfo(*info, *whole)) << n;
    } else {
      EXPECT_THAT(Message(info.status()), StartsWith("prefix: ")) << n;
    }
    if (n < 64 + 56) {
      EXPECT_FALSE(info.ok()) << n;
    }
  }
}

TEST(ParseElf, RandomMutationsOfARealSharedObject) {
  Scratch dir;
  const Bytes full = SmallSharedObject(dir);
  if (full.empty()) GTEST_SKIP() << "no gcc";
  CheckMutations(full, 3000, 42);
}

TEST(ReadElf, Errors) {
  Scratch dir;
  absl::StatusOr<ElfInfo> missing = ReadElf(dir / "missing");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(Message(missing.status()), HasSubstr(dir / "missing"));
  EXPECT_THAT(Message(missing.status()), HasSubstr("No such file or directory"));

  absl::StatusOr<ElfInfo> directory = ReadElf(dir / "");
  EXPECT_FALSE(directory.ok());
  EXPECT_THAT(Message(directory.status()), HasSubstr("not a regular file"));

  absl::StatusOr<ElfInfo> empty = ReadElf(dir.Write("empty", ""));
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(Message(empty.status()), HasSubstr("empty file"));

  const std::string text = dir.Write("script", "#!/bin/sh\necho hi\n");
  absl::StatusOr<ElfInfo> script = ReadElf(text);
  EXPECT_EQ(script.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(script.status().message(), text + ": not an ELF file");

  // A FIFO would block open(2) without O_NONBLOCK.
  ASSERT_EQ(::mkfifo((dir / "fifo").c_str(), 0600), 0);
  absl::StatusOr<ElfInfo> fifo = ReadElf(dir / "fifo");
  EXPECT_THAT(Message(fifo.status()), HasSubstr("not a regular file"));

  // Malformed content keeps the path in front.
  const HandElf e = MakeHandElf(/*is64=*/true, /*big=*/false);
  Bytes cut(e.bytes.begin(), e.bytes.begin() + 70);
  const std::string short_elf = dir.Write("short", std::string(cut.begin(), cut.end()));
  EXPECT_EQ(ReadElf(short_elf).status().message(), short_elf + ": truncated program header table");
}

// --- Scripts.

struct ShebangCase {
  std::string head;
  std::string interpreter;
  std::string argument;
};

TEST(ParseShebang, KernelSplitting) {
  const std::string a300(300, 'a');
  const std::string path253 = "/" + std::string(252, 'p');
  const ShebangCase cases[] = {
      {"#!/bin/sh\n", "/bin/sh", ""},
      {"#!/bin/sh -e\necho hi\n", "/bin/sh", "-e"},
      {"#!/usr/bin/env python3\n", "/usr/bin/env", "python3"},
      {"#! /usr/bin/awk -f  \n", "/usr/bin/awk", "-f"},
      // The rest of the line is one argument, inner spaces kept.
      {"#!/usr/bin/env -S python3 -u\n", "/usr/bin/env", "-S python3 -u"},
      {"#!\t/bin/sh\t-x\t \n", "/bin/sh", "-x"},
      {"#!/bin/sh\t \t\n", "/bin/sh", ""},
      // No newline in a short file: the NUL padding ends the line.
      {"#!/bin/sh", "/bin/sh", ""},
      {"#!/bin/sh -e", "/bin/sh", "-e"},
      // The kernel does not treat '\r' as white space.
      {"#!/bin/sh\r\n", "/bin/sh\r", ""},
      {"#!/usr/bin/env python3\r\n", "/usr/bin/env", "python3\r"},
      // A NUL ends the name, and hides a later newline.
      {std::string("#!/bin/sh\0 -x\n", 14), "/bin/sh", ""},
      {std::string("#!/bin/sh -x\0y\n", 15), "/bin/sh", "-x"},
      // Past 255 bytes: the argument is cut silently (buf[255] is dropped).
      {"#!/bin/sh " + a300, "/bin/sh", a300.substr(0, 245)},
      {"#!/bin/sh " + a300 + "\n", "/bin/sh", a300.substr(0, 245)},
      // The longest names: ended by a space in the last byte, or a newline
      // within the buffer.
      {"#!" + path253 + " x", path253, ""},
      {"#!" + path253 + "\n", path253, ""},
  };
  for (const ShebangCase& c : cases) {
    SCOPED_TRACE(c.head.substr(0, 40));
    absl::StatusOr<Shebang> s = ParseShebang(Span(c.head), "script");
    ASSERT_TRUE(s.ok()) << s.status();
    EXPECT_EQ(s->interpreter, c.interpreter);
    EXPECT_EQ(s->argument, c.argument);
  }
}

TEST(ParseShebang, Errors) {
  for (const std::string head : {"", "#", "/bin/sh", " #!/bin/sh", "\x7f" "ELF"}) {
    absl::StatusOr<Shebang> s = ParseShebang(Span(head), "f");
    EXPECT_EQ(s.status().code(), absl::StatusCode::kFailedPrecondition) << head;
    EXPECT_EQ(s.status().message(), "f: not a script");
  }
  const std::string path254 = "/" + std::string(253, 'p');
  const std::string bad[] = {
      "#!",
      "#!\n",
      "#!  \t \n",
      std::string("#!\0/bin/sh\n", 11),
      "#!" + std::string(300, ' '),
      // The interpreter runs to the end of the buffer: ENOEXEC.
      "#!/" + std::string(300, 'p'),
      "#!" + path254,
      "#! " + path254 + "\n",
  };
  for (const std::string& head : bad) {
    SCOPED_TRACE(head.substr(0, 40));
    absl::StatusOr<Shebang> s = ParseShebang(Span(head), "f");
    ASSERT_FALSE(s.ok()) << s->interpreter;
    EXPECT_EQ(s.status().code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_THAT(Message(s.status()), StartsWith("f: "));
  }
}

}  // namespace
}  // namespace rootfs
