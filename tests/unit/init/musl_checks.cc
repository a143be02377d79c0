// The init's signal-number-dependent checks (signal_checks.h), compiled and
// linked exactly like minipod-init: static musl, no C++ runtime. musl's
// SIGRTMIN is 35 and its sigfillset leaves 32-34 out, so logic that leans
// on libc's idea of the signals passes under glibc and fails here.
// Exits 0 when every check passes, 1 otherwise, 77 (skip) when the init was
// built without musl.
#include <stdio.h>

#include "tests/unit/init/signal_checks.h"

namespace {

int g_checks = 0;
int g_failures = 0;

struct PrintReport {
  const char* group;
  void operator()(bool ok, const char* what, int got, int want) const {
    ++g_checks;
    if (ok) return;
    ++g_failures;
    printf("FAIL %s: %s: got %d, want %d\n", group, what, got, want);
  }
};

}  // namespace

int main() {
#ifdef __GLIBC__
  printf("SKIP: minipod-init is built against glibc here (no musl-tools), nothing musl to check\n");
  return 77;
#else
  printf("libc SIGRTMIN is %d\n", static_cast<int>(SIGRTMIN));
  init::checks::CheckSignalTable(PrintReport{"table"});
  init::checks::CheckNamesAndNumbers(PrintReport{"names"});
  init::checks::CheckForwardedSet(PrintReport{"forwarded"});
  printf("%d checks, %d failed\n", g_checks, g_failures);
  return g_failures == 0 ? 0 : 1;
#endif
}
