/*
 * The C test programs' one check: prints a TAP-like "ok N - what" or "not ok N - what" (with
 * libpdsm's last message under a failure) and counts both; main() prints "# P passed, F
 * failed" and exits 1 when `failed` is not 0. Flushed at once, so a crash leaves every line
 * before it on the test's stdout.
 */
#ifndef PDSM_TEST_CHECK_H
#define PDSM_TEST_CHECK_H

#include <stdio.h>

#include "pdsm.h"

static int passed, failed;
static void check(int ok, const char *what) {
  printf("%sok %d - %s\n", ok ? "" : "not ", passed + failed + 1, what);
  if (ok)
    passed++;
  else {
    failed++;
    printf("#   last message: %s\n", pdsm_last_message());
  }
  fflush(stdout);
}

#endif
