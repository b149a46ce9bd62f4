/* On remote n, store VALUE and 2*VALUE into RO words 0 and 1, so they travel in one batch. */
#include <pdsm.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  pdsm_node *node;
  if (argc != 3) return fprintf(stderr, "usage: store CLIENT_ID VALUE\n"), 2;
  uint64_t value = strtoull(argv[2], NULL, 0), v[2] = {value, 2 * value};
  int rc = pdsm_open_remote(NULL, atoi(argv[1]), 0, &node);
  if (rc == PDSM_OK) rc = pdsm_write_consistent(node, PDSM_RO, 0, 0, v, sizeof v);
  if (rc != PDSM_OK) return fprintf(stderr, "%s: %s\n", pdsm_strerror(rc), pdsm_last_message()), 1;
  pdsm_close(node);
  return 0;
}
