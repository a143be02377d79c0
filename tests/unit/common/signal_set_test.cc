#include "common/signal_set.h"

#include <gtest/gtest.h>

namespace common {
namespace {

struct Case {
  const char* text;
  int expected;
};

TEST(ParseSignalTest, NamesNumbersAndAliases) {
  const Case cases[] = {
      {"TERM", SIGTERM},   {"SIGTERM", SIGTERM},   {"sigterm", SIGTERM},
      {"term", SIGTERM},   {"15", SIGTERM},        {"9", SIGKILL},
      {"HUP", SIGHUP},     {"SIGUSR1", SIGUSR1},   {"WINCH", SIGWINCH},
      {"IOT", SIGABRT},    {"CLD", SIGCHLD},       {"POLL", SIGIO},
      {"64", 64},          {"RTMIN", SIGRTMIN},    {"SIGRTMIN+3", SIGRTMIN + 3},
      {"RTMAX", SIGRTMAX}, {"RTMAX-1", SIGRTMAX - 1},
  };
  for (const Case& c : cases) EXPECT_EQ(ParseSignal(c.text), c.expected) << c.text;
}

TEST(ParseSignalTest, RejectsGarbage) {
  const char* bad[] = {"",      "0",        "65",       "-1",      "SIG",
                       "TERMX", "RTMIN-1",  "RTMAX+1",  "RTMIN+99", "1234567890",
                       "SIGSIGTERM", " 15", "15 ",      "RTMIN+"};
  for (const char* b : bad) EXPECT_EQ(ParseSignal(b), 0) << b;
  EXPECT_EQ(ParseSignal(nullptr), 0);
}

TEST(SignalNameOfTest, RoundTripsEveryNumber) {
  for (int sig = 1; sig <= SIGRTMAX; ++sig) {
    if (sig > SIGSYS && sig < SIGRTMIN) continue;  // libc-reserved numbers
    char buf[16];
    const std::string name = SignalNameOf(sig, buf);
    EXPECT_EQ(ParseSignal(name.c_str()), sig) << name;
  }
  char buf[16];
  EXPECT_STREQ(SignalNameOf(SIGTERM, buf), "TERM");
  EXPECT_STREQ(SignalNameOf(SIGRTMIN, buf), "RTMIN");
  EXPECT_STREQ(SignalNameOf(SIGRTMIN + 2, buf), "RTMIN+2");
}

}  // namespace
}  // namespace common
