/*
 * Consistent-read torture against running daemons (docs/design.md §3b):
 *   torture writer DIR CLIENT MS   on remote CLIENT: for MS ms, store counter i into WORDS
 *                                  words of RO spread over several replication pages, each
 *                                  update inside pdsm_write_begin/end; prints the count.
 *   torture reader DIR CLIENT MS   on the master: for MS ms, read the same words of RO slice
 *                                  CLIENT with pdsm_read_consistent and count reads whose
 *                                  words differ (torn); prints "reads R distinct D torn T busy B".
 * A torn read means a batch was applied in two parts or the seqlock let a half-applied
 * batch through. Exit 0 when it ran, 1 on an error (message on stderr).
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pdsm.h"

#define WORDS 8
#define STRIDE 520 /* bytes between words: 8 words over 4 KiB, several per 1024-byte page, unaligned to pages */
#define SPAN ((WORDS - 1) * STRIDE + 8) /* bytes from the first word to the end of the last */

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int die(int rc) {
  fprintf(stderr, "torture: %s: %s\n", pdsm_strerror(rc), pdsm_last_message());
  return 1;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: torture writer|reader DIR CLIENT MS\n");
    return 2;
  }
  int client = atoi(argv[3]);
  uint64_t end = now_ms() + (uint64_t)strtoull(argv[4], NULL, 10);
  pdsm_node *node;
  int writer = strcmp(argv[1], "writer") == 0;
  int rc = writer ? pdsm_open_remote(argv[2], client, 0, &node) : pdsm_open_master(argv[2], PDSM_READ_ONLY, &node);
  if (rc != PDSM_OK) return die(rc);
  size_t size;
  unsigned char *ro = pdsm_slice(node, PDSM_RO, client, &size);
  if (ro == NULL || size < SPAN) return die(PDSM_ERR_RANGE);

  if (writer) {
    uint64_t i = 0;
    while (now_ms() < end) {
      for (int k = 0; k < 1000; k++) {
        i++;
        if ((rc = pdsm_write_begin(node, PDSM_RO, client)) != PDSM_OK) return die(rc);
        for (int w = 0; w < WORDS; w++) *(volatile uint64_t *)(ro + w * STRIDE) = i;
        if ((rc = pdsm_write_end(node, PDSM_RO, client)) != PDSM_OK) return die(rc);
      }
    }
    printf("%" PRIu64 "\n", i);
  } else {
    uint64_t reads = 0, torn = 0, busy = 0, distinct = 0, last = UINT64_MAX;
    uint64_t buf[SPAN / 8];
    while (now_ms() < end) {
      rc = pdsm_read_consistent(node, PDSM_RO, client, 0, buf, sizeof buf, 1000);
      if (rc == PDSM_ERR_BUSY) {
        busy++;
        continue;
      }
      if (rc != PDSM_OK) return die(rc);
      reads++;
      uint64_t first = buf[0];
      for (int w = 1; w < WORDS; w++)
        if (buf[w * STRIDE / 8] != first) {
          torn++;
          break;
        }
      if (first != last) distinct++;
      last = first;
    }
    printf("reads %" PRIu64 " distinct %" PRIu64 " torn %" PRIu64 " busy %" PRIu64 " last %" PRIu64 "\n", reads,
           distinct, torn, busy, last);
  }
  pdsm_close(node);
  return 0;
}
