/*
 * Store a value and flush it, against running daemons (README "Flush on demand"):
 *   flush_value DIR remote CLIENT VALUE   on remote CLIENT: RO word 0 = VALUE, pdsm_flush(PDSM_RO)
 *   flush_value DIR master SLICE VALUE    on the master: MO slice SLICE word 0 = VALUE, pdsm_flush(PDSM_MO, SLICE)
 * Prints pdsm_strerror of the flush's code (and the last message when it failed); exits 0
 * when the flush returned PDSM_OK, 1 otherwise.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pdsm.h"

int main(int argc, char **argv) {
  if (argc != 5 || (strcmp(argv[2], "remote") != 0 && strcmp(argv[2], "master") != 0)) {
    fprintf(stderr, "usage: flush_value DIR remote|master N VALUE\n");
    return 2;
  }
  int master = strcmp(argv[2], "master") == 0;
  int n = atoi(argv[3]);
  uint64_t value = strtoull(argv[4], NULL, 0);
  pdsm_node *node = NULL;
  int rc = master ? pdsm_open_master(argv[1], 0, &node) : pdsm_open_remote(argv[1], n, 0, &node);
  if (rc != PDSM_OK) {
    fprintf(stderr, "open: %s: %s\n", pdsm_strerror(rc), pdsm_last_message());
    return 1;
  }
  volatile uint64_t *words = pdsm_slice(node, master ? PDSM_MO : PDSM_RO, n, NULL);
  if (words == NULL) {
    fprintf(stderr, "slice: %s\n", pdsm_last_message());
    pdsm_close(node);
    return 1;
  }
  words[0] = value;
  rc = pdsm_flush(node, master ? PDSM_MO : PDSM_RO, n, 0);
  printf("%s\n", pdsm_strerror(rc));
  if (rc != PDSM_OK) printf("%s\n", pdsm_last_message());
  pdsm_close(node);
  return rc == PDSM_OK ? 0 : 1;
}
