// The init's signal tables, names and forwarded set, natively (glibc). The
// same checks run against the musl build in musl_checks.cc.
#include "init/signals.h"

#include <gtest/gtest.h>

#include "tests/unit/init/signal_checks.h"

namespace init {
namespace {

struct GtestReport {
  const char* group;
  void operator()(bool ok, const char* what, int got, int want) const {
    EXPECT_TRUE(ok) << group << ": " << what << ": got " << got << ", want " << want;
  }
};

TEST(SignalChecksTest, SignalTable) { checks::CheckSignalTable(GtestReport{"table"}); }
TEST(SignalChecksTest, NamesAndNumbers) { checks::CheckNamesAndNumbers(GtestReport{"names"}); }
TEST(SignalChecksTest, ForwardedSet) { checks::CheckForwardedSet(GtestReport{"forwarded"}); }

TEST(SignalsTest, MaskBits) {
  EXPECT_EQ(SignalBit(1), 1u);
  EXPECT_EQ(SignalBit(64), uint64_t{1} << 63);
  EXPECT_TRUE(HasSignal(SignalBit(34), 34));
  EXPECT_FALSE(HasSignal(SignalBit(34), 35));
}

TEST(SignalsTest, RewritesApplyAfterJobControl) {
  Config c;
  ResetRewrites(c);
  c.rewrite[SIGTERM] = SIGINT;
  c.rewrite[SIGUSR1] = 0;
  c.rewrite[SIGTTIN] = SIGUSR2;  // dropped anyway under tini's job control
  EXPECT_EQ(ForwardedAs(c, SIGTERM), SIGINT);
  EXPECT_EQ(ForwardedAs(c, SIGUSR1), 0);
  EXPECT_EQ(ForwardedAs(c, SIGTTIN), 0);
  c.job_control = JobControl::kStopSelf;
  EXPECT_EQ(ForwardedAs(c, SIGTTIN), SIGUSR2);
}

}  // namespace
}  // namespace init
