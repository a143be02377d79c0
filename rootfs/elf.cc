// Reads ELF headers, program headers and the dynamic section from bytes in
// memory, in either class and byte order, checking every offset against the
// image first. ReadElf maps a file (open, fstat, mmap, munmap); the parent
// side only.
#include "rootfs/elf.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <optional>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "common/absl/status_util.h"
#include "common/unique_fd.h"

namespace rootfs {
namespace {

// The few ELF constants used here, spelled out so that the reader does not
// depend on the host's <elf.h>.
constexpr size_t kIdentSize = 16;  // EI_NIDENT
constexpr size_t kIdentClass = 4, kIdentData = 5, kIdentVersion = 6, kIdentOsAbi = 7;
constexpr uint32_t kPtLoad = 1, kPtDynamic = 2, kPtInterp = 3;
constexpr uint64_t kDtNull = 0, kDtNeeded = 1, kDtStrtab = 5, kDtStrsz = 10, kDtSoname = 14,
                   kDtRpath = 15, kDtRunpath = 29;
// e_phnum's escape value: the real count would be in section 0's sh_info.
// Neither the kernel's binfmt_elf nor glibc's ld.so reads it (both take
// e_phnum as the count), so such a file is refused rather than read in a
// way no loader would.
constexpr uint64_t kPnXnum = 0xffff;
// A dynamic section is a few dozen entries; this bounds the work a hostile
// p_filesz can cause. Program headers are bounded by e_phnum's 16 bits.
constexpr uint64_t kMaxDynamicEntries = 100000;
// The kernel refuses a PT_INTERP longer than PATH_MAX.
constexpr uint64_t kMaxInterp = 4096;
// binfmt_script reads this much of a script (BINPRM_BUF_SIZE).
constexpr size_t kBinprmBufSize = 256;

// Field offsets and sizes that differ between ELFCLASS32 and ELFCLASS64.
struct Layout {
  size_t word;  // Elf_Addr, Elf_Off, Elf_Xword
  size_t ehdr_size, e_phoff, e_phentsize, e_phnum;
  size_t phdr_size, p_offset, p_vaddr, p_filesz;
  size_t dyn_size;  // d_tag then d_val, each one word
};
constexpr Layout kLayout32 = {4, 52, 28, 42, 44, 32, 4, 8, 16, 8};
constexpr Layout kLayout64 = {8, 64, 32, 54, 56, 56, 8, 16, 32, 16};

struct Segment {
  uint64_t offset = 0;
  uint64_t vaddr = 0;
  uint64_t filesz = 0;
};

// The image with its byte order. Every read is preceded by a Contains()
// check; Get() itself does not check.
class Image {
 public:
  Image(absl::Span<const uint8_t> bytes, bool big_endian) : bytes_(bytes), big_(big_endian) {}
  uint64_t size() const { return bytes_.size(); }
  // [off, off + len) lies inside the image; written so it cannot wrap.
  bool Contains(uint64_t off, uint64_t len) const { return off <= size() && len <= size() - off; }
  uint64_t Get(uint64_t off, size_t width) const {
    uint64_t v = 0;
    for (size_t i = 0; i < width; ++i) {
      const uint64_t b = bytes_[off + i];
      v = big_ ? (v << 8) | b : v | (b << (8 * i));
    }
    return v;
  }
  const uint8_t* At(uint64_t off) const { return bytes_.data() + off; }

 private:
  absl::Span<const uint8_t> bytes_;
  bool big_;
};

absl::Status Malformed(absl::string_view what, absl::string_view reason) {
  return absl::FailedPreconditionError(absl::StrCat(what, ": ", reason));
}

const char* TagName(uint64_t tag) {
  switch (tag) {
    case kDtNeeded:
      return "DT_NEEDED";
    case kDtSoname:
      return "DT_SONAME";
    case kDtRpath:
      return "DT_RPATH";
    case kDtRunpath:
      return "DT_RUNPATH";
  }
  return "dynamic";
}

// The string table as bytes of the image. DT_STRTAB is an address, so it is
// found through the PT_LOAD that maps it, as ld.so would see it in memory.
absl::StatusOr<absl::Span<const uint8_t>> StringTable(const Image& image,
                                                      const std::vector<Segment>& loads,
                                                      uint64_t strtab,
                                                      std::optional<uint64_t> strsz,
                                                      absl::string_view what) {
  for (const Segment& load : loads) {
    if (strtab < load.vaddr || strtab - load.vaddr >= load.filesz) continue;
    const uint64_t delta = strtab - load.vaddr;
    if (delta > std::numeric_limits<uint64_t>::max() - load.offset ||
        load.offset + delta >= image.size()) {
      return Malformed(what, "DT_STRTAB outside the file");
    }
    const uint64_t off = load.offset + delta;
    const uint64_t in_segment = load.filesz - delta;
    uint64_t len;
    if (strsz.has_value()) {
      if (!image.Contains(off, *strsz)) return Malformed(what, "DT_STRSZ beyond the file");
      if (*strsz > in_segment) return Malformed(what, "DT_STRSZ beyond its PT_LOAD segment");
      len = *strsz;
    } else {
      // Linkers always write DT_STRSZ; without it the segment bounds the table.
      len = std::min(in_segment, image.size() - off);
    }
    return absl::MakeConstSpan(image.At(off), static_cast<size_t>(len));
  }
  return Malformed(what, absl::StrCat("DT_STRTAB 0x", absl::Hex(strtab),
                                      " is not inside any PT_LOAD segment"));
}

absl::StatusOr<std::string> TableString(absl::Span<const uint8_t> table, uint64_t tag,
                                        uint64_t offset, absl::string_view what) {
  if (offset >= table.size()) {
    return Malformed(what, absl::StrCat(TagName(tag), " string outside DT_STRTAB"));
  }
  const uint8_t* start = table.data() + offset;
  const void* nul = std::memchr(start, '\0', table.size() - offset);
  if (nul == nullptr) {
    return Malformed(what, absl::StrCat(TagName(tag), " string not NUL-terminated in DT_STRTAB"));
  }
  return std::string(reinterpret_cast<const char*>(start),
                     static_cast<size_t>(static_cast<const uint8_t*>(nul) - start));
}

// Reads the dynamic section's string entries into info. Repeated DT_SONAME,
// DT_RPATH or DT_RUNPATH: the last wins, as in ld.so's l_info[].
absl::Status ReadDynamic(const Image& image, const Layout& layout, const Segment& dynamic,
                         const std::vector<Segment>& loads, absl::string_view what,
                         ElfInfo& info) {
  std::optional<uint64_t> strtab, strsz;
  std::vector<std::pair<uint64_t, uint64_t>> strings;  // (tag, offset), in order
  const uint64_t count = dynamic.filesz / layout.dyn_size;
  bool terminated = false;
  for (uint64_t i = 0; i < count && i < kMaxDynamicEntries; ++i) {
    const uint64_t at = dynamic.offset + i * layout.dyn_size;  // inside: checked by the caller
    const uint64_t tag = image.Get(at, layout.word);
    const uint64_t val = image.Get(at + layout.word, layout.word);
    if (tag == kDtNull) {
      terminated = true;
      break;
    }
    if (tag == kDtStrtab) strtab = val;
    if (tag == kDtStrsz) strsz = val;
    if (tag == kDtNeeded || tag == kDtSoname || tag == kDtRpath || tag == kDtRunpath) {
      strings.emplace_back(tag, val);
    }
  }
  if (!terminated) {
    return Malformed(what, count > kMaxDynamicEntries
                               ? absl::StrCat("more than ", kMaxDynamicEntries,
                                              " dynamic entries before DT_NULL")
                               : "PT_DYNAMIC without DT_NULL");
  }
  if (strings.empty()) return absl::OkStatus();
  if (!strtab.has_value()) {
    return Malformed(what, absl::StrCat(TagName(strings.front().first), " without DT_STRTAB"));
  }
  ASSIGN_OR_RETURN(const absl::Span<const uint8_t> table,
                   StringTable(image, loads, *strtab, strsz, what));
  for (const auto& [tag, offset] : strings) {
    ASSIGN_OR_RETURN(std::string s, TableString(table, tag, offset, what));
    switch (tag) {
      case kDtNeeded:
        if (s.empty()) return Malformed(what, "empty DT_NEEDED name");
        info.needed.push_back(std::move(s));
        break;
      case kDtSoname:
        info.soname = std::move(s);
        break;
      case kDtRpath:
        info.rpath = std::move(s);
        info.has_rpath = true;
        break;
      case kDtRunpath:
        info.runpath = std::move(s);
        info.has_runpath = true;
        break;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadInterp(const Image& image, const Segment& interp,
                                       absl::string_view what) {
  if (!image.Contains(interp.offset, interp.filesz)) {
    return Malformed(what, "PT_INTERP outside the file");
  }
  if (interp.filesz > kMaxInterp) return Malformed(what, "PT_INTERP longer than PATH_MAX");
  const uint8_t* start = image.At(interp.offset);
  const void* nul = std::memchr(start, '\0', static_cast<size_t>(interp.filesz));
  if (nul == nullptr) return Malformed(what, "PT_INTERP not NUL-terminated");
  const size_t len = static_cast<size_t>(static_cast<const uint8_t*>(nul) - start);
  if (len == 0) return Malformed(what, "empty PT_INTERP");
  return std::string(reinterpret_cast<const char*>(start), len);
}

bool SpaceTab(uint8_t c) { return c == ' ' || c == '\t'; }

}  // namespace

bool LooksLikeElf(absl::Span<const uint8_t> head) {
  return head.size() >= 4 && head[0] == 0x7f && head[1] == 'E' && head[2] == 'L' &&
         head[3] == 'F';
}

absl::StatusOr<ElfInfo> ParseElf(absl::Span<const uint8_t> bytes, absl::string_view what) {
  if (!LooksLikeElf(bytes)) {
    return absl::FailedPreconditionError(absl::StrCat(what, ": not an ELF file"));
  }
  if (bytes.size() < kIdentSize) return Malformed(what, "truncated ELF header");
  ElfInfo info;
  const uint8_t elf_class = bytes[kIdentClass];
  const uint8_t data = bytes[kIdentData];
  if (elf_class != 1 && elf_class != 2) {
    return Malformed(what, absl::StrCat("unknown ELF class ", int{elf_class}));
  }
  if (data != 1 && data != 2) {
    return Malformed(what, absl::StrCat("unknown ELF data encoding ", int{data}));
  }
  if (bytes[kIdentVersion] != 1) {
    return Malformed(what, absl::StrCat("unknown ELF version ", int{bytes[kIdentVersion]}));
  }
  info.is_64 = elf_class == 2;
  info.big_endian = data == 2;
  info.osabi = bytes[kIdentOsAbi];
  const Layout& layout = info.is_64 ? kLayout64 : kLayout32;
  const Image image(bytes, info.big_endian);
  if (!image.Contains(0, layout.ehdr_size)) return Malformed(what, "truncated ELF header");
  info.type = static_cast<uint16_t>(image.Get(16, 2));     // e_type
  info.machine = static_cast<uint16_t>(image.Get(18, 2));  // e_machine

  const uint64_t phoff = image.Get(layout.e_phoff, layout.word);
  const uint64_t phentsize = image.Get(layout.e_phentsize, 2);
  const uint64_t phnum = image.Get(layout.e_phnum, 2);
  if (phnum == kPnXnum) return Malformed(what, "e_phnum is PN_XNUM, which no loader supports");
  if (phnum > 0 && phentsize < layout.phdr_size) {
    return Malformed(what, absl::StrCat("e_phentsize ", phentsize,
                                        " is smaller than a program header (", layout.phdr_size,
                                        ")"));
  }
  // At most 65534 entries of at most 65535 bytes: the product fits easily.
  if (!image.Contains(phoff, phnum * phentsize)) {
    return Malformed(what, "truncated program header table");
  }

  std::vector<Segment> loads;
  std::optional<Segment> interp, dynamic;
  for (uint64_t i = 0; i < phnum; ++i) {
    const uint64_t at = phoff + i * phentsize;
    const uint32_t type = static_cast<uint32_t>(image.Get(at, 4));
    Segment s;
    s.offset = image.Get(at + layout.p_offset, layout.word);
    s.vaddr = image.Get(at + layout.p_vaddr, layout.word);
    s.filesz = image.Get(at + layout.p_filesz, layout.word);
    if (type == kPtLoad) {
      loads.push_back(s);
    } else if (type == kPtInterp) {
      // The kernel takes the first and ld.so the last; two is not a real file.
      if (interp.has_value()) return Malformed(what, "more than one PT_INTERP");
      interp = s;
    } else if (type == kPtDynamic) {
      if (dynamic.has_value()) return Malformed(what, "more than one PT_DYNAMIC");
      dynamic = s;
    }
  }
  if (interp.has_value()) {
    ASSIGN_OR_RETURN(info.interp, ReadInterp(image, *interp, what));
  }
  if (dynamic.has_value()) {
    info.has_dynamic = true;
    if (!image.Contains(dynamic->offset, dynamic->filesz)) {
      return Malformed(what, "PT_DYNAMIC outside the file");
    }
    RETURN_IF_ERROR(ReadDynamic(image, layout, *dynamic, loads, what, info));
  }
  return info;
}

absl::StatusOr<ElfInfo> ReadElf(const std::string& path) {
  // O_NONBLOCK so that a FIFO does not hang the open; O_NOCTTY for a tty.
  common::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (!fd) return common::ErrnoStatus(errno, absl::StrCat("open(", path, ")"));
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) {
    return common::ErrnoStatus(errno, absl::StrCat("fstat(", path, ")"));
  }
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(path, ": not a regular file"));
  }
  if (st.st_size == 0) {
    return absl::FailedPreconditionError(absl::StrCat(path, ": empty file, not an ELF file"));
  }
  // A file truncated by someone else while mapped would raise SIGBUS; the
  // inputs are host files that are not expected to change under us.
  const size_t size = static_cast<size_t>(st.st_size);
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd.get(), 0);
  if (map == MAP_FAILED) return common::ErrnoStatus(errno, absl::StrCat("mmap(", path, ")"));
  absl::Cleanup unmap = [map, size] { ::munmap(map, size); };
  return ParseElf(absl::MakeConstSpan(static_cast<const uint8_t*>(map), size), path);
}

// binfmt_script's reading of the first line (fs/binfmt_script.c since
// Linux 5.1), on a copy of the first BINPRM_BUF_SIZE bytes padded with
// NULs as the kernel's buffer is. Indices stand for its pointers.
absl::StatusOr<Shebang> ParseShebang(absl::Span<const uint8_t> head, absl::string_view what) {
  if (head.size() < 2 || head[0] != '#' || head[1] != '!') {
    return absl::FailedPreconditionError(absl::StrCat(what, ": not a script"));
  }
  uint8_t buf[kBinprmBufSize] = {};
  std::memcpy(buf, head.data(), std::min(head.size(), kBinprmBufSize));
  const size_t buf_end = kBinprmBufSize - 1;
  // Inclusive ranges [first, last], as the kernel's helpers; npos if none.
  constexpr size_t kNone = static_cast<size_t>(-1);
  auto next_non_spacetab = [&](size_t first, size_t last) {
    for (; first <= last; ++first)
      if (!SpaceTab(buf[first])) return first;
    return kNone;
  };
  auto next_terminator = [&](size_t first, size_t last) {
    for (; first <= last; ++first)
      if (SpaceTab(buf[first]) || buf[first] == '\0') return first;
    return kNone;
  };
  // strnchr: the newline counts only before the first NUL.
  size_t i_end = kNone;
  for (size_t i = 0; i < kBinprmBufSize && buf[i] != '\0'; ++i) {
    if (buf[i] == '\n') {
      i_end = i;
      break;
    }
  }
  if (i_end == kNone) {
    // No newline: the line is cut at the buffer's end, which is fine for
    // the argument but not for the interpreter's path (ENOEXEC).
    const size_t name = next_non_spacetab(2, buf_end);
    if (name == kNone) {
      return absl::FailedPreconditionError(absl::StrCat(what, ": no interpreter after #!"));
    }
    if (next_terminator(name, buf_end) == kNone) {
      return absl::FailedPreconditionError(absl::StrCat(
          what, ": #! interpreter path cut off at ", kBinprmBufSize, " bytes"));
    }
    i_end = buf_end;
  }
  while (i_end > 2 && SpaceTab(buf[i_end - 1])) --i_end;
  const size_t i_name = next_non_spacetab(2, i_end);
  if (i_name == kNone || i_name == i_end) {
    return absl::FailedPreconditionError(absl::StrCat(what, ": no interpreter after #!"));
  }
  const size_t i_sep = next_terminator(i_name, i_end);
  size_t i_arg = kNone;
  if (i_sep != kNone && buf[i_sep] != '\0') i_arg = next_non_spacetab(i_sep, i_end);
  // The kernel ends both strings at i_end, at i_sep, or at an earlier NUL.
  auto c_string = [&](size_t from, size_t to) {
    size_t end = from;
    while (end < to && buf[end] != '\0') ++end;
    return std::string(reinterpret_cast<const char*>(buf + from), end - from);
  };
  Shebang shebang;
  shebang.interpreter = c_string(i_name, i_sep == kNone ? i_end : i_sep);
  // "#!\0..." passes the checks above; the kernel then fails to open "".
  if (shebang.interpreter.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(what, ": no interpreter after #!"));
  }
  if (i_arg != kNone) shebang.argument = c_string(i_arg, i_end);
  return shebang;
}

}  // namespace rootfs
