/* Print the first two u64 of remote n's MO, read whole: never half of a batch. */
#include <inttypes.h>
#include <pdsm.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  pdsm_node *node;
  uint64_t v[2];
  int rc = pdsm_open_remote(NULL, argc > 1 ? atoi(argv[1]) : 0, PDSM_READ_ONLY, &node);
  if (rc == PDSM_OK) rc = pdsm_read_consistent(node, PDSM_MO, 0, 0, v, sizeof v, 0);
  if (rc != PDSM_OK) return fprintf(stderr, "%s: %s\n", pdsm_strerror(rc), pdsm_last_message()), 1;
  printf("%" PRIu64 " %" PRIu64 "\n", v[0], v[1]);
  pdsm_close(node);
  return 0;
}
