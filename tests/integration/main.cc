// main() of the integration tests: skips (exit 77, Meson's skip code) when
// not root, checks that Meson passed the binaries' paths, and makes the test
// process a child subreaper so that whatever an init leaves behind comes back
// to the test and is killed and reaped there.
#include <stdio.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "tests/integration/harness.h"

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  if (geteuid() != 0) {
    fprintf(stderr, "integration tests need root (pid namespaces, subreaper checks): skipping\n");
    return 77;
  }
  if (access(itest::InitPath().c_str(), X_OK) != 0 ||
      access(itest::ProbePath("sigrec").c_str(), X_OK) != 0) {
    fprintf(stderr, "MINIPOD_INIT and PROBE_* must name the built binaries (run via meson test)\n");
    return 1;
  }
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
    perror("prctl(PR_SET_CHILD_SUBREAPER)");
    return 1;
  }
  const int rc = RUN_ALL_TESTS();
  itest::KillAllDescendants();
  return rc;
}
