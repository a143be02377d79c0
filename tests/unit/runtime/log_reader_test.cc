// `minipod logs` on real files: logs written by CriLogWriter into memfds,
// the output in memfds or pipes; --tail checked against a slow model on
// many generated logs, -f with a writer running and an eventfd as the
// monitor's end.
#include "runtime/log_reader.h"

#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "runtime/cri_log.h"
#include "tests/testing/cri_log_oracle.h"
#include "tests/testing/memfd.h"

namespace runtime {
namespace {

constexpr int64_t kT0 = 1796477356;  // 2026-12-05T13:29:16Z
constexpr absl::string_view kWarning =
    "warning: the log holds lines that are not CRI records; they are shown as they are\n";

common::UniqueFd MemFd() {
  common::UniqueFd fd(testing_util::NewMemFd("log-reader-test"));
  EXPECT_TRUE(fd.valid()) << strerror(errno);
  return fd;
}

using testing_util::Contents;

void WriteAll(int fd, absl::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    ASSERT_GT(n, 0) << strerror(errno);
    data.remove_prefix(static_cast<size_t>(n));
  }
}

// A log in a memfd and a writer whose clock ticks one second per call.
struct Log {
  explicit Log(size_t max = kCriMaxContent)
      : fd(MemFd()),
        writer(common::UniqueFd(::dup(fd.get())), [this] { return timespec{now++, 0}; }, max) {}
  void Out(absl::string_view s) { ASSERT_TRUE(writer.Append(LogStream::kStdout, s).ok()); }
  void Err(absl::string_view s) { ASSERT_TRUE(writer.Append(LogStream::kStderr, s).ok()); }
  void Raw(absl::string_view s) { WriteAll(fd.get(), s); }
  common::UniqueFd fd;
  int64_t now = kT0;
  CriLogWriter writer;
};

// A directory under /tmp, removed with its files even when a test fails.
struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/log-reader-test.XXXXXX";
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

std::string Ts(int64_t seconds) { return FormatCriTimestamp({seconds, 0}); }

struct Shown {
  absl::Status status;
  LogSummary summary;
  std::string out, err;
};

Shown Show(int log_fd, const LogOptions& options, bool same_fd = false) {
  common::UniqueFd out = MemFd(), err = MemFd();
  Shown s;
  absl::StatusOr<LogSummary> r = ShowLogs(log_fd, out.get(), same_fd ? out.get() : err.get(), options);
  s.status = r.status();
  if (r.ok()) s.summary = *r;
  s.out = Contents(out.get());
  s.err = Contents(err.get());
  return s;
}

LogOptions Tail(uint64_t n) {
  LogOptions o;
  o.tail = n;
  return o;
}

TEST(ShowLogs, EachStreamGoesToItsDescriptor) {
  Log log;
  log.Out("out one\nout two\n");
  log.Err("err one\n");
  log.Out("out three\n");
  const Shown s = Show(log.fd.get(), {});
  ASSERT_TRUE(s.status.ok()) << s.status;
  EXPECT_EQ(s.out, "out one\nout two\nout three\n");
  EXPECT_EQ(s.err, "err one\n");
  EXPECT_EQ(s.summary.records, 4u);
  EXPECT_EQ(s.summary.malformed, 0u);
  EXPECT_FALSE(s.summary.output_closed);
}

TEST(ShowLogs, PartialRecordsAreJoinedAndAnUnterminatedEndStaysSo) {
  Log log(/*max=*/4);
  log.Out("abcdefghij\n");  // P abcd, P efgh, F ij
  log.Err("e");
  log.Out("prompt> ");
  ASSERT_TRUE(log.writer.Flush(LogStream::kStdout).ok());
  ASSERT_TRUE(log.writer.Flush(LogStream::kStderr).ok());
  const Shown s = Show(log.fd.get(), {});
  ASSERT_TRUE(s.status.ok()) << s.status;
  EXPECT_EQ(s.out, "abcdefghij\nprompt> ");
  EXPECT_EQ(s.err, "e");
}

TEST(ShowLogs, OneDescriptorForBothKeepsTheOrder) {
  Log log;
  log.Out("1\n");
  log.Err("2\n");
  log.Out("3");
  log.Err("4\n");
  log.Out("\n");
  const Shown s = Show(log.fd.get(), {}, /*same_fd=*/true);
  ASSERT_TRUE(s.status.ok()) << s.status;
  EXPECT_EQ(s.out, "1\n2\n4\n3\n");
}

TEST(ShowLogs, TimestampsAreTheFirstFragments) {
  Log log(/*max=*/3);
  log.Out("abcd");   // kT0: P abc, d held
  log.Out("ef\n");   // kT0+1: F def
  log.Err("x\n");    // kT0+2
  const Shown s = Show(log.fd.get(), [] {
    LogOptions o;
    o.timestamps = true;
    return o;
  }());
  ASSERT_TRUE(s.status.ok()) << s.status;
  EXPECT_EQ(s.out, Ts(kT0) + " abcdef\n");
  EXPECT_EQ(s.err, Ts(kT0 + 2) + " x\n");
}

TEST(ShowLogs, TailCountsLinesNotRecords) {
  Log log(/*max=*/2);
  log.Out("first\n");   // P fi, P rs, F t
  log.Out("sec");       // held
  log.Err("e1\n");      // F e1 (between the records of "second")
  log.Out("ond\n");     // P se, P co, F nd
  log.Err("e2\n");
  log.Out("ab");
  ASSERT_TRUE(log.writer.Flush(LogStream::kStdout).ok());  // P ab: an unterminated last line
  struct Case {
    uint64_t n;
    std::string out, err;
  };
  for (const Case& c : std::vector<Case>{
           {0, "", ""},
           {1, "ab", ""},
           {2, "ab", "e2\n"},
           {3, "second\nab", "e2\n"},
           {4, "second\nab", "e1\ne2\n"},
           {5, "first\nsecond\nab", "e1\ne2\n"},
           {6, "first\nsecond\nab", "e1\ne2\n"},
           {1000, "first\nsecond\nab", "e1\ne2\n"},
       }) {
    const Shown s = Show(log.fd.get(), Tail(c.n));
    ASSERT_TRUE(s.status.ok()) << s.status;
    EXPECT_EQ(s.out, c.out) << "--tail " << c.n;
    EXPECT_EQ(s.err, c.err) << "--tail " << c.n;
    for (size_t block : {1, 3, 7, 64}) {  // the same answer whatever the block size
      LogOptions o = Tail(c.n);
      o.block_size = block;
      const Shown b = Show(log.fd.get(), o);
      EXPECT_EQ(b.out, c.out) << "--tail " << c.n << " block " << block;
      EXPECT_EQ(b.err, c.err) << "--tail " << c.n << " block " << block;
    }
  }
}

TEST(ShowLogs, TailOfAnEmptyLog) {
  Log log;
  const Shown s = Show(log.fd.get(), Tail(10));
  ASSERT_TRUE(s.status.ok()) << s.status;
  EXPECT_EQ(s.out, "");
  EXPECT_EQ(s.err, "");
}

TEST(ShowLogs, TailOfAFileManyBlocksLong) {
  Log log;
  std::string chunk;
  for (int i = 0; i < 20000; ++i) chunk += "line " + std::to_string(i) + "\n";
  log.Out(chunk);
  log.Err(std::string(40000, 'e') + "\n");  // three records, longer than a block
  log.Out("last\n");
  struct stat st {};
  ASSERT_EQ(::fstat(log.fd.get(), &st), 0);
  ASSERT_GT(st.st_size, 20 * 4096);
  for (size_t block : {4096, 65536}) {
    LogOptions o = Tail(3);
    o.block_size = block;
    const Shown s = Show(log.fd.get(), o);
    ASSERT_TRUE(s.status.ok()) << s.status;
    EXPECT_EQ(s.out, "line 19999\nlast\n");
    EXPECT_EQ(s.err, std::string(40000, 'e') + "\n");
    EXPECT_EQ(s.summary.records, 5u);  // only the end of the file was read
  }
}

// Generated logs, small records so lines span many P records, some
// malformed lines, an unterminated end: the reader and the model agree.
TEST(ShowLogs, TailAgreesWithTheModelOnGeneratedLogs) {
  std::mt19937 rng(20261205);
  for (int round = 0; round < 300; ++round) {
    Log log(/*max=*/1 + rng() % 6);
    const int writes = static_cast<int>(rng() % 40);
    for (int w = 0; w < writes; ++w) {
      std::string data;
      const int len = static_cast<int>(rng() % 12);
      for (int k = 0; k < len; ++k) data += "ab\ncd \n"[rng() % 7];
      switch (rng() % 8) {
        case 0:
          log.Raw(rng() % 2 ? std::string("junk line\n") : std::string("\n"));
          break;
        case 1:
          ASSERT_TRUE(log.writer.Flush(rng() % 2 ? LogStream::kStdout : LogStream::kStderr).ok());
          break;
        default:
          if (rng() % 2) {
            log.Out(data);
          } else {
            log.Err(data);
          }
      }
    }
    if (rng() % 4 == 0) log.Raw("2026-12-05T13:29:16Z stdout F cut");  // no '\n'
    const std::string file = Contents(log.fd.get());
    for (int q = 0; q < 4; ++q) {
      LogOptions o;
      if (q > 0) o.tail = rng() % 12;
      o.timestamps = rng() % 2;
      o.block_size = 1 + rng() % 50;
      const bool same = rng() % 2;
      const Shown s = Show(log.fd.get(), o, same);
      ASSERT_TRUE(s.status.ok()) << s.status;
      const testing_util::OracleOutput want = testing_util::ShowLogsOracle(file, o.tail, o.timestamps, same);
      ASSERT_EQ(s.out, want.out) << "round " << round << " tail " << (o.tail ? *o.tail : -1) << "\n" << file;
      ASSERT_EQ(s.err, want.err) << "round " << round << " tail " << (o.tail ? *o.tail : -1) << "\n" << file;
    }
  }
}

TEST(ShowLogs, MalformedLinesArePrintedAsTheyAreAfterOneWarning) {
  Log log;
  log.Out("good\n");
  log.Raw("not a record\n");
  log.Out("par");
  log.Raw(std::string("2026-12-05T13:29:16Z stdin F x\0y\n", 33));
  log.Out("tial\n");
  const Shown s = Show(log.fd.get(), {});
  ASSERT_TRUE(s.status.ok()) << s.status;
  EXPECT_EQ(s.out, "good\npartial\n");
  EXPECT_EQ(s.err, std::string(kWarning) + "not a record\n" + std::string("2026-12-05T13:29:16Z stdin F x\0y\n", 33));
  EXPECT_EQ(s.summary.malformed, 2u);
  EXPECT_EQ(s.summary.records, 2u);
}

TEST(ShowLogs, AHugeLineIsStreamedNotLoaded) {
  Log log;
  log.Out("before\n");
  const std::string huge(4 << 20, 'h');
  log.Raw(huge);  // no '\n', no header: one malformed line of 4 MiB
  LogOptions o = Tail(1);
  o.block_size = 4096;
  const Shown s = Show(log.fd.get(), o);
  ASSERT_TRUE(s.status.ok()) << s.status;
  EXPECT_EQ(s.out, "");
  EXPECT_EQ(s.err, std::string(kWarning) + huge + "\n");
}

TEST(ShowLogs, ATornLastRecordIsPrinted) {
  Log log;
  log.Out("whole\n");
  log.Raw(Ts(kT0) + " stdout F cut sho");
  const Shown s = Show(log.fd.get(), {});
  ASSERT_TRUE(s.status.ok()) << s.status;
  EXPECT_EQ(s.out, "whole\ncut sho\n");
  const Shown t = Show(log.fd.get(), Tail(1));
  EXPECT_EQ(t.out, "cut sho\n");
}

TEST(ShowLogs, SinceAndUntilPickLinesByTheirFirstRecord) {
  Log log(/*max=*/2);
  log.Out("a\n");     // kT0
  log.Out("bbb");     // kT0+1: P bb
  log.Out("b\n");     // kT0+2: F bb... the line started at kT0+1
  log.Err("c\n");     // kT0+3
  log.Out("d\n");     // kT0+4
  LogOptions o;
  o.since = CriTime{kT0 + 1, 0};
  o.until = CriTime{kT0 + 4, 0};
  const Shown s = Show(log.fd.get(), o);
  ASSERT_TRUE(s.status.ok()) << s.status;
  EXPECT_EQ(s.out, "bbbb\n");
  EXPECT_EQ(s.err, "c\n");
  o.since = CriTime{kT0 + 2, 0};  // the line started before: left out whole
  const Shown t = Show(log.fd.get(), o);
  EXPECT_EQ(t.out, "");
  EXPECT_EQ(t.err, "c\n");
}

TEST(ShowLogs, AFullOutputIsAnError) {
  Log log;
  log.Out("x\n");
  common::UniqueFd full(::open("/dev/full", O_WRONLY | O_CLOEXEC));
  if (!full) GTEST_SKIP() << "no /dev/full: " << strerror(errno);
  const absl::StatusOr<LogSummary> r = ShowLogs(log.fd.get(), full.get(), full.get(), {});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted) << r.status();
}

// SIGPIPE keeps its default action here: ShowLogs must not die of it.
TEST(ShowLogs, AReaderGoingAwayEndsItQuietly) {
  struct sigaction dfl {}, old {};
  dfl.sa_handler = SIG_DFL;
  ASSERT_EQ(::sigaction(SIGPIPE, &dfl, &old), 0);
  Log log;
  log.Out("x\n");
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  ::close(p[0]);
  common::UniqueFd w(p[1]);
  const absl::StatusOr<LogSummary> r = ShowLogs(log.fd.get(), w.get(), w.get(), {});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->output_closed);
  sigset_t pending;
  ASSERT_EQ(sigpending(&pending), 0);
  EXPECT_FALSE(sigismember(&pending, SIGPIPE));
  ::sigaction(SIGPIPE, &old, nullptr);
}

TEST(ShowLogs, ANonRegularLogIsRefused) {
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  common::UniqueFd r(p[0]), w(p[1]);
  EXPECT_EQ(ShowLogs(r.get(), 1, 2, {}).status().code(), absl::StatusCode::kFailedPrecondition);
}

// Reads fd (non-blocking) into *acc until it holds want or 10 s pass.
bool ReadUntil(int fd, const std::string& want, std::string* acc) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (acc->find(want) == std::string::npos) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    struct pollfd p = {fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[4096];
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) acc->append(buf, static_cast<size_t>(n));
    if (n == 0) return acc->find(want) != std::string::npos;
  }
  return true;
}

struct Follower {
  Follower(int log_fd, LogOptions options) {
    int p[2];
    EXPECT_EQ(::pipe2(p, O_CLOEXEC), 0);
    out_r = common::UniqueFd(p[0]);
    out_w = common::UniqueFd(p[1]);
    EXPECT_EQ(::fcntl(out_r.get(), F_SETFL, O_NONBLOCK), 0);
    stop = common::UniqueFd(::eventfd(0, EFD_CLOEXEC));
    options.follow = true;
    options.stop_fd = stop.get();
    options.poll_ms = 200;
    result = std::async(std::launch::async, [log_fd, options, w = out_w.get()] {
      return ShowLogs(log_fd, w, w, options);
    });
  }
  ~Follower() { Stop(); }
  void Stop() {
    const uint64_t one = 1;
    if (stop) (void)!::write(stop.get(), &one, sizeof one);
  }
  // The result within 10 s.
  absl::StatusOr<LogSummary> Wait() {
    Stop();
    if (result.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
      return absl::DeadlineExceededError("ShowLogs -f did not return");
    }
    return result.get();
  }
  common::UniqueFd out_r, out_w, stop;
  std::future<absl::StatusOr<LogSummary>> result;
  std::string seen;
};

TEST(ShowLogsFollow, PrintsWhatIsAppendedUntilTheStopDescriptor) {
  Log log;
  log.Out("before\n");
  Follower f(log.fd.get(), {});
  ASSERT_TRUE(ReadUntil(f.out_r.get(), "before\n", &f.seen)) << f.seen;
  log.Out("one\n");
  ASSERT_TRUE(ReadUntil(f.out_r.get(), "one\n", &f.seen)) << f.seen;
  log.Err("two ");
  ASSERT_TRUE(log.writer.Flush(LogStream::kStderr).ok());  // a P record: printed as it comes
  ASSERT_TRUE(ReadUntil(f.out_r.get(), "two ", &f.seen)) << f.seen;
  log.Err("halves\n");
  ASSERT_TRUE(ReadUntil(f.out_r.get(), "two halves\n", &f.seen)) << f.seen;
  // The monitor writes its last record and exits: printed, then the end.
  log.Out("last\n");
  const absl::StatusOr<LogSummary> r = f.Wait();
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(ReadUntil(f.out_r.get(), "last\n", &f.seen)) << f.seen;
  EXPECT_EQ(f.seen, "before\none\ntwo halves\nlast\n");
  EXPECT_FALSE(r->output_closed);
}

TEST(ShowLogsFollow, FollowsFromTheTail) {
  Log log;
  log.Out("a\nb\nc\n");
  LogOptions o;
  o.tail = 1;
  Follower f(log.fd.get(), o);
  ASSERT_TRUE(ReadUntil(f.out_r.get(), "c\n", &f.seen)) << f.seen;
  log.Out("d\n");
  ASSERT_TRUE(ReadUntil(f.out_r.get(), "d\n", &f.seen)) << f.seen;
  ASSERT_TRUE(f.Wait().ok());
  EXPECT_EQ(f.seen, "c\nd\n");
}

TEST(ShowLogsFollow, EndsWhenTheReaderGoesAway) {
  Log log;
  log.Out("x\n");
  common::UniqueFd stop(::eventfd(0, EFD_CLOEXEC));
  int p[2];
  ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
  common::UniqueFd r(p[0]), w(p[1]);
  LogOptions o;
  o.follow = true;
  o.stop_fd = stop.get();
  o.poll_ms = 200;
  auto result = std::async(std::launch::async, [&] { return ShowLogs(log.fd.get(), w.get(), w.get(), o); });
  struct StopOnExit {  // destroyed before the future waits for the thread
    int fd;
    ~StopOnExit() {
      const uint64_t one = 1;
      (void)!::write(fd, &one, sizeof one);
    }
  } stop_on_exit{stop.get()};
  std::string seen;
  ASSERT_EQ(::fcntl(r.get(), F_SETFL, O_NONBLOCK), 0);
  ASSERT_TRUE(ReadUntil(r.get(), "x\n", &seen));
  r.Reset();  // `minipod logs -f | head -1`: head has exited
  const bool done = result.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
  ASSERT_TRUE(done) << "ShowLogs -f did not notice the reader going away";
  const absl::StatusOr<LogSummary> s = result.get();
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_TRUE(s->output_closed);
}

// A writer thread appends as fast as it can while ShowLogs follows and
// reads records half-written: every line comes out once, whole, in order.
TEST(ShowLogsFollow, KeepsUpWithAWriterThread) {
  common::UniqueFd log = MemFd();
  common::UniqueFd out = MemFd();
  common::UniqueFd stop(::eventfd(0, EFD_CLOEXEC));
  LogOptions o;
  o.follow = true;
  o.stop_fd = stop.get();
  o.poll_ms = 100;
  auto result = std::async(std::launch::async, [&] { return ShowLogs(log.get(), out.get(), out.get(), o); });
  std::string want;
  std::thread writer([&] {
    CriLogWriter w(common::UniqueFd(::dup(log.get())), CriLogWriter::RealtimeClock, /*max_content=*/7);
    for (int i = 0; i < 3000; ++i) {
      const std::string line = "line " + std::to_string(i) + (i % 10 == 0 ? std::string(30, '+') : "") + "\n";
      want += line;
      // Split at an odd place: a line across two reads.
      const size_t cut = line.size() / 3;
      EXPECT_TRUE(w.Append(i % 3 ? LogStream::kStdout : LogStream::kStderr, line.substr(0, cut)).ok());
      EXPECT_TRUE(w.Append(i % 3 ? LogStream::kStdout : LogStream::kStderr, line.substr(cut)).ok());
    }
    const uint64_t one = 1;
    (void)!::write(stop.get(), &one, sizeof one);
  });
  writer.join();
  ASSERT_EQ(result.wait_for(std::chrono::seconds(20)), std::future_status::ready);
  const absl::StatusOr<LogSummary> r = result.get();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->malformed, 0u);
  const std::string got = Contents(out.get());
  // stdout and stderr lines interleave by writing order, and each line was
  // written whole before the next: the output is exactly the input.
  EXPECT_EQ(got.size(), want.size());
  EXPECT_TRUE(got == want);
}

TEST(ShowLogsFollow, AnAlreadyEndedContainerPrintsAllAndReturns) {
  Log log;
  log.Out("only\n");
  Follower f(log.fd.get(), {});
  f.Stop();
  const absl::StatusOr<LogSummary> r = f.Wait();
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(ReadUntil(f.out_r.get(), "only\n", &f.seen));
  EXPECT_EQ(f.seen, "only\n");
}

TEST(OpenLogForReading, OnlyARegularFileByItsName) {
  TempDir tmp;
  const common::UniqueFd& dfd = tmp.fd;
  ASSERT_TRUE(dfd.valid());
  common::UniqueFd created(::openat(dfd.get(), "ctr.log", O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
  ASSERT_TRUE(created.valid());
  EXPECT_TRUE(OpenLogForReading(dfd.get(), "ctr.log").ok());
  ASSERT_EQ(::symlinkat("ctr.log", dfd.get(), "link.log"), 0);
  EXPECT_FALSE(OpenLogForReading(dfd.get(), "link.log").ok());
  ASSERT_EQ(::mkfifoat(dfd.get(), "fifo.log", 0600), 0);
  EXPECT_EQ(OpenLogForReading(dfd.get(), "fifo.log").status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(OpenLogForReading(dfd.get(), "../x").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(OpenLogForReading(dfd.get(), "missing.log").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace runtime
