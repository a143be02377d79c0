// The CRI log writer on real files (memfds, /dev/full, a pipe with no
// reader, a file size limit), the timestamp format and the record parser.
#include "runtime/cri_log.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/memfd.h"

namespace runtime {
namespace {

using ::testing::ElementsAre;

constexpr int64_t kT0 = 1796477356;  // 2026-12-05T13:29:16Z
constexpr absl::string_view kTs = "2026-12-05T13:29:16.123456789Z";

CriLogWriter::Clock FixedClock(int64_t seconds = kT0, long nanos = 123456789) {
  return [seconds, nanos] { return timespec{seconds, nanos}; };
}

common::UniqueFd MemFd() {
  common::UniqueFd fd(testing_util::NewMemFd("cri-log-test"));
  EXPECT_TRUE(fd.valid()) << strerror(errno);
  return fd;
}

using testing_util::Contents;

// The writer and a duplicate of its descriptor to read the file through.
struct LogFile {
  explicit LogFile(size_t max = kCriMaxContent, CriLogWriter::Clock clock = FixedClock())
      : reader(MemFd()), writer(common::UniqueFd(::dup(reader.get())), std::move(clock), max) {}
  std::string text() const { return Contents(reader.get()); }
  std::vector<std::string> lines() const {
    std::vector<std::string> v = absl::StrSplit(text(), '\n');
    if (!v.empty() && v.back().empty()) v.pop_back();
    return v;
  }
  common::UniqueFd reader;
  CriLogWriter writer;
};

// A directory under /tmp, removed with its files even when a test fails.
struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/cri-log-test.XXXXXX";
    if (::mkdtemp(tmpl) != nullptr) path = tmpl;
    fd = common::UniqueFd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  }
  ~TempDir() {
    if (DIR* d = ::opendir(path.c_str())) {
      while (const struct dirent* e = ::readdir(d)) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) ::unlinkat(fd.get(), e->d_name, 0);
      }
      ::closedir(d);
    }
    if (!path.empty()) ::rmdir(path.c_str());
  }
  std::string path;
  common::UniqueFd fd;
};

std::string Rec(absl::string_view stream, absl::string_view tag, absl::string_view content) {
  return std::string(kTs) + " " + std::string(stream) + " " + std::string(tag) + " " + std::string(content);
}

TEST(CriTimestamp, NineDigitsUtc) {
  EXPECT_EQ(FormatCriTimestamp({kT0, 123456789}), kTs);
  EXPECT_EQ(FormatCriTimestamp({kT0, 0}), "2026-12-05T13:29:16.000000000Z");
  EXPECT_EQ(FormatCriTimestamp({0, 1}), "1970-01-01T00:00:00.000000001Z");
  EXPECT_EQ(FormatCriTimestamp({1709164800, 5}), "2024-02-29T00:00:00.000000005Z");
  EXPECT_EQ(FormatCriTimestamp({-3600, 0}), "1969-12-31T23:00:00.000000000Z");
  // Outside what four year digits can write: clamped, still parseable.
  EXPECT_EQ(FormatCriTimestamp({INT64_MAX / 2, 0}), "9999-12-31T23:59:59.999999999Z");
  EXPECT_EQ(FormatCriTimestamp({INT64_MIN / 2, 7}), "0000-01-01T00:00:00.000000000Z");
}

TEST(CriTimestamp, ParsesWhatTheRuntimesWrite) {
  EXPECT_EQ(ParseCriTimestamp(kTs), (CriTime{kT0, 123456789}));
  // containerd (Go's RFC3339Nano drops trailing zeros), conmon (local
  // time with an offset).
  EXPECT_EQ(ParseCriTimestamp("2026-12-05T13:29:16.1234Z"), (CriTime{kT0, 123400000}));
  EXPECT_EQ(ParseCriTimestamp("2026-12-05T13:29:16Z"), (CriTime{kT0, 0}));
  EXPECT_EQ(ParseCriTimestamp("2026-12-05T14:29:16.5+01:00"), (CriTime{kT0, 500000000}));
  EXPECT_EQ(ParseCriTimestamp("2026-12-05T08:59:16-04:30"), (CriTime{kT0, 0}));
  EXPECT_EQ(ParseCriTimestamp("1970-01-01T00:00:00Z"), (CriTime{0, 0}));
  EXPECT_EQ(ParseCriTimestamp("1969-12-31T23:00:00Z"), (CriTime{-3600, 0}));
  EXPECT_EQ(ParseCriTimestamp("2024-02-29T00:00:00Z"), (CriTime{1709164800, 0}));
  EXPECT_EQ(ParseCriTimestamp("0000-01-01T00:00:00Z"), (CriTime{-62167219200, 0}));
  EXPECT_EQ(ParseCriTimestamp("9999-12-31T23:59:59.999999999Z"), (CriTime{253402300799, 999999999}));
  EXPECT_EQ(ParseCriTimestamp("2000-02-29T00:00:00Z"), (CriTime{951782400, 0}));
}

TEST(CriTimestamp, RejectsWhatIsNotRfc3339) {
  for (absl::string_view bad : {
           "", "2026-12-05", "2026-12-05T13:29:16", "2026-12-05 13:29:16Z", "2026-12-05t13:29:16Z",
           "2026-13-05T13:29:16Z", "2026-00-05T13:29:16Z", "2026-02-29T13:29:16Z", "1900-02-29T00:00:00Z",
           "2026-04-31T00:00:00Z", "2026-12-00T00:00:00Z", "2026-12-05T24:00:00Z", "2026-12-05T13:60:16Z",
           "2026-12-05T13:29:60Z", "2026-12-05T13:29:16.Z", "2026-12-05T13:29:16.1234567890Z",
           "2026-12-05T13:29:16+0100", "2026-12-05T13:29:16+24:00", "2026-12-05T13:29:16+01:60",
           "2026-12-05T13:29:16Zx", "2026-12-05T13:29:16z", "+2026-12-05T13:29:16Z", "2026-1-05T13:29:16Z",
           "2026-12-05T13:29:1\xff" "Z",
       }) {
    EXPECT_FALSE(ParseCriTimestamp(bad).has_value()) << bad;
  }
}

TEST(CriLogWriter, SeveralLinesInOneRead) {
  LogFile f;
  ASSERT_TRUE(f.writer.Append(LogStream::kStdout, "one\ntwo\nthree\n").ok());
  EXPECT_THAT(f.lines(), ElementsAre(Rec("stdout", "F", "one"), Rec("stdout", "F", "two"),
                                     Rec("stdout", "F", "three")));
  EXPECT_EQ(f.writer.pending(LogStream::kStdout), 0u);
}

TEST(CriLogWriter, ALineAcrossReadsIsOneRecord) {
  LogFile f;
  ASSERT_TRUE(f.writer.Append(LogStream::kStdout, "hel").ok());
  EXPECT_EQ(f.text(), "");
  EXPECT_EQ(f.writer.pending(LogStream::kStdout), 3u);
  ASSERT_TRUE(f.writer.Append(LogStream::kStdout, "lo\nwor").ok());
  ASSERT_TRUE(f.writer.Append(LogStream::kStdout, "ld\n").ok());
  EXPECT_THAT(f.lines(), ElementsAre(Rec("stdout", "F", "hello"), Rec("stdout", "F", "world")));
}

TEST(CriLogWriter, ExactlyTheMaximumIsOneFullRecord) {
  LogFile f;
  const std::string line(kCriMaxContent, 'x');
  ASSERT_TRUE(f.writer.Append(LogStream::kStdout, line).ok());
  EXPECT_EQ(f.text(), "");  // it may still end here: wait for the '\n'
  ASSERT_TRUE(f.writer.Append(LogStream::kStdout, "\n").ok());
  EXPECT_THAT(f.lines(), ElementsAre(Rec("stdout", "F", line)));
}

TEST(CriLogWriter, LongerLinesAreCutIntoPartialRecordsOfTheMaximum) {
  LogFile f;
  const std::string a(kCriMaxContent, 'a');
  ASSERT_TRUE(f.writer.Append(LogStream::kStdout, a + "b\n").ok());
  ASSERT_TRUE(f.writer.Append(LogStream::kStdout, a + a + "\n").ok());
  EXPECT_THAT(f.lines(), ElementsAre(Rec("stdout", "P", a), Rec("stdout", "F", "b"), Rec("stdout", "P", a),
                                     Rec("stdout", "F", a)));
}

TEST(CriLogWriter, APendingTailPastTheMaximumGoesOutAsItGrows) {
  LogFile f(/*max=*/8);
  ASSERT_TRUE(f.writer.Append(LogStream::kStdout, "12345").ok());
  ASSERT_TRUE(f.writer.Append(LogStream::kStdout, "6789").ok());
  EXPECT_THAT(f.lines(), ElementsAre(Rec("stdout", "P", "12345678")));
  EXPECT_EQ(f.writer.pending(LogStream::kStdout), 1u);
  ASSERT_TRUE(f.writer.Append(LogStream::kStdout, std::string(20, 'z')).ok());
  EXPECT_EQ(f.writer.pending(LogStream::kStdout), 5u);
  ASSERT_TRUE(f.writer.Append(LogStream::kStdout, "\n").ok());
  EXPECT_THAT(f.lines(), ElementsAre(Rec("stdout", "P", "12345678"), Rec("stdout", "P", "9zzzzzzz"),
                                     Rec("stdout", "P", "zzzzzzzz"), Rec("stdout", "F", "zzzzz")));
}

TEST(CriLogWriter, TheDefaultMaximumIsTheKubelets16KiB) {
  LogFile f;
  // Two reads of 10000 bytes and the end of the line: 16384 + 3616.
  ASSERT_TRUE(f.writer.Append(LogStream::kStderr, std::string(10000, 'q')).ok());
  ASSERT_TRUE(f.writer.Append(LogStream::kStderr, std::string(10000, 'q')).ok());
  ASSERT_TRUE(f.writer.Append(LogStream::kStderr, "\n").ok());
  EXPECT_THAT(f.lines(), ElementsAre(Rec("stderr", "P", std::string(16384, 'q')),
                                     Rec("stderr", "F", std::string(3616, 'q'))));
}

TEST(CriLogWriter, CarriageReturnsEmptyLinesAndNulBytesAreKept) {
  LogFile f;
  const std::string input("crlf\r\n\n\nnul\0byte\n\r\n", 19);
  ASSERT_TRUE(f.writer.Append(LogStream::kStdout, input).ok());
  EXPECT_THAT(f.lines(), ElementsAre(Rec("stdout", "F", "crlf\r"), Rec("stdout", "F", ""), Rec("stdout", "F", ""),
                                     Rec("stdout", "F", std::string("nul\0byte", 8)), Rec("stdout", "F", "\r")));
  // Every record reads back to its bytes.
  std::string back;
  for (const std::string& line : f.lines()) {
    const auto r = ParseCriLine(line);
    ASSERT_TRUE(r.has_value()) << line;
    back.append(r->content.data(), r->content.size());
    if (!r->partial) back.push_back('\n');
  }
  EXPECT_EQ(back, input);
}

TEST(CriLogWriter, TheTwoStreamsKeepTheirOwnTails) {
  LogFile f;
  ASSERT_TRUE(f.writer.Append(LogStream::kStdout, "out par").ok());
  ASSERT_TRUE(f.writer.Append(LogStream::kStderr, "err one\nerr tw").ok());
  ASSERT_TRUE(f.writer.Append(LogStream::kStdout, "tial\n").ok());
  ASSERT_TRUE(f.writer.Append(LogStream::kStderr, "o\n").ok());
  EXPECT_THAT(f.lines(), ElementsAre(Rec("stderr", "F", "err one"), Rec("stdout", "F", "out partial"),
                                     Rec("stderr", "F", "err two")));
}

TEST(CriLogWriter, FlushWritesTheTailAsAPartialRecord) {
  LogFile f;
  ASSERT_TRUE(f.writer.Append(LogStream::kStdout, "done\nprompt> ").ok());
  ASSERT_TRUE(f.writer.Flush(LogStream::kStderr).ok());  // nothing pending there
  ASSERT_TRUE(f.writer.Flush(LogStream::kStdout).ok());
  ASSERT_TRUE(f.writer.Flush(LogStream::kStdout).ok());  // nothing left
  EXPECT_THAT(f.lines(), ElementsAre(Rec("stdout", "F", "done"), Rec("stdout", "P", "prompt> ")));
  EXPECT_EQ(f.writer.pending(LogStream::kStdout), 0u);
}

TEST(CriLogWriter, EachCallTakesTheClockOnce) {
  int64_t now = kT0;
  LogFile f(kCriMaxContent, [&now] { return timespec{now++, 0}; });
  ASSERT_TRUE(f.writer.Append(LogStream::kStdout, "a\nb\n").ok());
  ASSERT_TRUE(f.writer.Append(LogStream::kStdout, "c").ok());
  ASSERT_TRUE(f.writer.Flush(LogStream::kStdout).ok());
  EXPECT_THAT(f.lines(), ElementsAre("2026-12-05T13:29:16.000000000Z stdout F a",
                                     "2026-12-05T13:29:16.000000000Z stdout F b",
                                     "2026-12-05T13:29:18.000000000Z stdout P c"));
}

TEST(CriLogWriter, AFullDiskIsReportedAndNotFatal) {
  common::UniqueFd full(::open("/dev/full", O_WRONLY | O_CLOEXEC));
  if (!full) GTEST_SKIP() << "no /dev/full: " << strerror(errno);
  CriLogWriter w(std::move(full), FixedClock());
  const absl::Status s = w.Append(LogStream::kStdout, "one\ntwo\nthr");
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;  // ENOSPC
  EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("write(CRI log"));
  EXPECT_EQ(w.write_errors(), 2u);
  EXPECT_EQ(w.dropped_bytes(), 6u);
  EXPECT_EQ(w.pending(LogStream::kStdout), 3u);  // the tail is kept for its line
  EXPECT_FALSE(w.Flush(LogStream::kStdout).ok());
  EXPECT_EQ(w.write_errors(), 3u);
  EXPECT_EQ(w.last_error().code(), absl::StatusCode::kResourceExhausted);
}

TEST(CriLogWriter, APipeWithNoReaderIsReportedAndNotFatal) {
  struct sigaction ignore {}, old {};
  ignore.sa_handler = SIG_IGN;
  ASSERT_EQ(::sigaction(SIGPIPE, &ignore, &old), 0);
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  ::close(p[0]);
  CriLogWriter w(common::UniqueFd(p[1]), FixedClock());
  const absl::Status s = w.Append(LogStream::kStderr, "x\n");
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("Broken pipe"));
  EXPECT_FALSE(w.Append(LogStream::kStderr, "y\n").ok());
  EXPECT_EQ(w.write_errors(), 2u);
  ::sigaction(SIGPIPE, &old, nullptr);
}

// A write cut short by a file size limit leaves part of a record in the
// file; the next record starts with the '\n' that ends it.
TEST(CriLogWriter, ATornRecordIsEndedBeforeTheNextOne) {
  LogFile f;
  ASSERT_TRUE(f.writer.Append(LogStream::kStdout, "first\n").ok());
  const size_t size = f.text().size();
  struct rlimit old {};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
  if (old.rlim_cur != RLIM_INFINITY && old.rlim_cur < size + 4096) GTEST_SKIP() << "RLIMIT_FSIZE already low";
  struct sigaction ignore {}, old_action {};
  ignore.sa_handler = SIG_IGN;
  ASSERT_EQ(::sigaction(SIGXFSZ, &ignore, &old_action), 0);
  struct rlimit low = old;
  low.rlim_cur = size + 20;  // 20 bytes of the next record fit
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &low), 0);
  const absl::Status torn = f.writer.Append(LogStream::kStdout, "second line\n");
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &old), 0);
  ::sigaction(SIGXFSZ, &old_action, nullptr);
  EXPECT_FALSE(torn.ok());  // EFBIG
  EXPECT_EQ(f.writer.write_errors(), 1u);
  ASSERT_EQ(f.text().size(), size + 20);

  ASSERT_TRUE(f.writer.Append(LogStream::kStdout, "third\n").ok());
  const std::vector<std::string> lines = f.lines();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], Rec("stdout", "F", "first"));
  EXPECT_EQ(lines[1], std::string(kTs).substr(0, 20));
  EXPECT_FALSE(ParseCriLine(lines[1]).has_value());
  EXPECT_EQ(lines[2], Rec("stdout", "F", "third"));
  // Once ended, no further '\n' is added.
  ASSERT_TRUE(f.writer.Append(LogStream::kStdout, "fourth\n").ok());
  EXPECT_EQ(f.lines().size(), 4u);
}

TEST(CriLogWriter, OpenLogFileCreatesAPrivateFileForAppending) {
  TempDir tmp;
  const common::UniqueFd& dfd = tmp.fd;
  ASSERT_TRUE(dfd.valid());
  {
    auto fd = CriLogWriter::OpenLogFile(dfd.get(), "ctr.log");
    ASSERT_TRUE(fd.ok()) << fd.status();
    struct stat st {};
    ASSERT_EQ(::fstat(fd->get(), &st), 0);
    EXPECT_EQ(st.st_mode & 077, 0u);
    const int flags = ::fcntl(fd->get(), F_GETFL);
    EXPECT_TRUE(flags & O_APPEND);
    EXPECT_FALSE(flags & O_NONBLOCK);
    EXPECT_TRUE(::fcntl(fd->get(), F_GETFD) & FD_CLOEXEC);
    CriLogWriter w(std::move(*fd), FixedClock());
    ASSERT_TRUE(w.Append(LogStream::kStdout, "a\n").ok());
  }
  {  // Opened again: appends after what is there.
    auto fd = CriLogWriter::OpenLogFile(dfd.get(), "ctr.log");
    ASSERT_TRUE(fd.ok()) << fd.status();
    CriLogWriter w(std::move(*fd), FixedClock());
    ASSERT_TRUE(w.Append(LogStream::kStdout, "b\n").ok());
  }
  common::UniqueFd r(::openat(dfd.get(), "ctr.log", O_RDONLY | O_CLOEXEC));
  EXPECT_EQ(Contents(r.get()), Rec("stdout", "F", "a") + "\n" + Rec("stdout", "F", "b") + "\n");

  // A symlink planted where the log goes is not followed, a FIFO does not
  // block the open, and a path is not a name.
  ASSERT_EQ(::symlinkat("/etc/passwd", dfd.get(), "link.log"), 0);
  EXPECT_FALSE(CriLogWriter::OpenLogFile(dfd.get(), "link.log").ok());
  ASSERT_EQ(::mkfifoat(dfd.get(), "fifo.log", 0600), 0);
  const auto fifo = CriLogWriter::OpenLogFile(dfd.get(), "fifo.log");
  EXPECT_FALSE(fifo.ok());
  // With a reader the open succeeds, and the type check refuses it.
  common::UniqueFd reader(::openat(dfd.get(), "fifo.log", O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  ASSERT_TRUE(reader.valid());
  const auto fifo2 = CriLogWriter::OpenLogFile(dfd.get(), "fifo.log");
  EXPECT_EQ(fifo2.status().code(), absl::StatusCode::kFailedPrecondition) << fifo2.status();
  for (absl::string_view bad : {"", ".", "..", "a/b", "../ctr.log"}) {
    EXPECT_EQ(CriLogWriter::OpenLogFile(dfd.get(), bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

TEST(ParseCriLine, GoodLines) {
  struct Case {
    std::string line;
    LogStream stream;
    bool partial;
    std::string content;
  };
  const std::vector<Case> cases = {
      {Rec("stdout", "F", "hello world"), LogStream::kStdout, false, "hello world"},
      {Rec("stdout", "F", "hello world") + "\n", LogStream::kStdout, false, "hello world"},
      {Rec("stderr", "P", "  spaced  "), LogStream::kStderr, true, "  spaced  "},
      {Rec("stdout", "F", ""), LogStream::kStdout, false, ""},
      {Rec("stdout", "F:x:y", "tags"), LogStream::kStdout, false, "tags"},
      {Rec("stdout", "P:", "tags"), LogStream::kStdout, true, "tags"},
      {Rec("stdout", "F", std::string("\0\r\xff\x1b[2J", 7)), LogStream::kStdout, false,
       std::string("\0\r\xff\x1b[2J", 7)},
      {"2016-10-06T00:17:09.669794202Z stdout P log content 1", LogStream::kStdout, true, "log content 1"},
      {"2019-04-30T02:12:41.8443515Z stdout F message", LogStream::kStdout, false, "message"},
      {"2019-04-30T04:12:41+02:00 stderr F message", LogStream::kStderr, false, "message"},
      {Rec("stdout", "F", std::string(100000, 'x')), LogStream::kStdout, false, std::string(100000, 'x')},
  };
  for (const Case& c : cases) {
    const auto r = ParseCriLine(c.line);
    ASSERT_TRUE(r.has_value()) << c.line.substr(0, 80);
    EXPECT_EQ(r->stream, c.stream);
    EXPECT_EQ(r->partial, c.partial);
    EXPECT_EQ(r->content, c.content);
  }
  const std::string line = Rec("stdout", "F", "x");
  const auto r = ParseCriLine(line);
  EXPECT_EQ(r->timestamp, kTs);
  EXPECT_EQ(r->time, (CriTime{kT0, 123456789}));
}

TEST(ParseCriLine, BadLines) {
  const std::string ts(kTs);
  for (const std::string& bad : std::vector<std::string>{
           "",
           "\n",
           "hello",
           ts,
           ts + " ",
           ts + " stdout",
           ts + " stdout ",
           ts + " stdout F",  // no space before the (empty) content
           ts + " stdin F x",
           ts + " STDOUT F x",
           ts + " stdout X x",
           ts + " stdout PF x",
           ts + " stdout  F x",
           ts + "  stdout F x",
           " " + ts + " stdout F x",
           "2026-12-05T13:29:16 stdout F x",
           "2026-13-05T13:29:16Z stdout F x",
           ts + " stdout F two\nlines",
           ts + " stdout F x\n\n",
           ts + " stdout F:" + std::string(40, 't') + " header longer than the limit",
           ts.substr(0, 15),
           std::string("2026-12-05T13:29:16.123456789Z\0stdout F x", 41),
       }) {
    EXPECT_FALSE(ParseCriLine(bad).has_value()) << bad;
  }
}

TEST(ParseCriHeader, AsksForMoreOnlyWhileTheHeaderMayStillComplete) {
  const std::string line = Rec("stdout", "F", "content");
  CriHeader h;
  for (size_t n = 0; n < line.size(); ++n) {
    const CriHeaderResult r = ParseCriHeader(absl::string_view(line).substr(0, n), /*complete=*/false, &h);
    if (n < kTs.size() + 10) {
      EXPECT_EQ(r, CriHeaderResult::kNeedMore) << n;
    } else {
      EXPECT_EQ(r, CriHeaderResult::kOk) << n;
      EXPECT_EQ(h.content_offset, kTs.size() + 10);
    }
  }
  // 64 bytes without a complete header: malformed, whatever follows.
  const std::string junk(kCriMaxHeader, 'j');
  EXPECT_EQ(ParseCriHeader(junk.substr(0, 63), false, &h), CriHeaderResult::kNeedMore);
  EXPECT_EQ(ParseCriHeader(junk, false, &h), CriHeaderResult::kMalformed);
  EXPECT_EQ(ParseCriHeader(junk + "more", false, &h), CriHeaderResult::kMalformed);
  EXPECT_EQ(ParseCriHeader("x", /*complete=*/true, &h), CriHeaderResult::kMalformed);
  // A bad field is malformed as soon as it is delimited.
  EXPECT_EQ(ParseCriHeader("2026-13-05T13:29:16Z ", false, &h), CriHeaderResult::kMalformed);
  EXPECT_EQ(ParseCriHeader(std::string(kTs) + " std", false, &h), CriHeaderResult::kNeedMore);
  EXPECT_EQ(ParseCriHeader(std::string(kTs) + " stdin ", false, &h), CriHeaderResult::kMalformed);
}

}  // namespace
}  // namespace runtime
