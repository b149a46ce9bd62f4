/*
 * libpdsm on Windows, against segments a node.exe made with the addon's Windows backend
 * (test/portability/windows-c-library.test.ts runs it under Wine; its fixture win-c.mjs made
 * remote CLIENT's MO, RO, BC and ST at keys KEY..KEY+3 and wrote pdsm_registry_client_CLIENT
 * in DIR with the daemons' own formatter):
 *   test_win.exe DIR CLIENT KEY
 * MO holds u64 0x1122334455667788 at 0 and "from node.exe" at 16; the MO-in record has
 * generation 4, peer up, 7 batches; the BC-in record stays odd (a batch that never ends).
 * Writes u64 0xcafef00d12345678 and "from C" at 0 and 16 of RO in one generation, for node.exe
 * to read. Also writes hostile registry files of its own into DIR (clients 8 and 9) and a folder
 * (client 10). Prints "ok N - ..." / "not ok N - ..." and "# P passed, F failed"; exits 1 when
 * anything failed.
 */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pdsm.h"

#include "check.h"

/* rc is code and the last message holds every one of the (up to two) texts. */
static void check_error(int rc, int code, const char *a, const char *b, const char *what) {
  const char *m = pdsm_last_message();
  check(rc == code && strstr(m, a) != NULL && (b == NULL || strstr(m, b) != NULL), what);
}

static const char *dir;

static void write_registry(int client, unsigned mo_key, unsigned size) {
  char path[MAX_PATH], text[256];
  snprintf(path, sizeof path, "%s/pdsm_registry_client_%d", dir, client);
  snprintf(text, sizeof text, "PDSM_MO_key 0x%x PDSM_MO_size %u\nPDSM_RO_key 0x%x PDSM_RO_size %u\n", mo_key, size,
           mo_key + 1, size);
  FILE *f = fopen(path, "wb"); /* "\n" endings, as the daemons write */
  if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0) exit(2);
}

int main(int argc, char **argv) {
  if (argc != 4) return fprintf(stderr, "usage: test_win DIR CLIENT KEY\n"), 2;
  dir = argv[1];
  int client = atoi(argv[2]);
  unsigned key = (unsigned)strtoul(argv[3], NULL, 0);
  char text[128];
  pdsm_node *node = NULL;

  int rc = pdsm_open_remote(dir, client, 0, &node);
  check(rc == PDSM_OK, "opens the remote's segments through the registry file node.exe wrote");
  if (rc != PDSM_OK) return printf("# %s\n", pdsm_last_message()), 1;
  check(!pdsm_is_master(node) && pdsm_client_id(node) == client && pdsm_remotes(node) == 1, "a remote, its id");
  size_t mo = 0, ro = 0, bc = 0, st = 0;
  int have = pdsm_segment(node, PDSM_MO, &mo) && pdsm_segment(node, PDSM_RO, &ro) && pdsm_segment(node, PDSM_BC, &bc) &&
             pdsm_segment(node, PDSM_ST, &st);
  check(have && mo == 8192 && ro == 8192 && bc == 4096 && st == 4096, "MO, RO, BC and ST at the registry's sizes");

  unsigned char in[32];
  uint64_t word;
  rc = pdsm_read_consistent(node, PDSM_MO, 0, 0, in, sizeof in, 0);
  memcpy(&word, in, 8);
  check(rc == PDSM_OK && word == 0x1122334455667788u && strcmp((char *)in + 16, "from node.exe") == 0,
        "a consistent read of MO gives what node.exe stored");
  pdsm_flow_status s;
  rc = pdsm_status(node, PDSM_MO, 0, &s);
  check(rc == PDSM_OK && s.generation == 4 && s.peer_state == PDSM_PEER_UP && s.batches == 7 &&
            s.last_batch_ns == 1700000000123456789u && s.peer_heard_ns == 1700000000987654321u,
        "the MO-in status record as node.exe wrote it");
  check(*(volatile uint64_t *)pdsm_segment(node, PDSM_BC, NULL) == 0x0bc0bcu, "BC is mapped: a plain load");
  rc = pdsm_read_consistent(node, PDSM_BC, 0, 0, in, 8, 50);
  check(rc == PDSM_ERR_BUSY, "a consistent read of BC while its generation stays odd: PDSM_ERR_BUSY");

  pdsm_flow_status before, after;
  pdsm_status(node, PDSM_RO, 0, &before);
  unsigned char out[32] = {0};
  word = 0xcafef00d12345678u;
  memcpy(out, &word, 8);
  strcpy((char *)out + 16, "from C");
  rc = pdsm_write_consistent(node, PDSM_RO, 0, 0, out, sizeof out);
  pdsm_status(node, PDSM_RO, 0, &after);
  check(rc == PDSM_OK && after.generation == before.generation + 2, "a consistent write of RO: one even generation on");
  check_error(pdsm_write_consistent(node, PDSM_MO, 0, 0, out, 8), PDSM_ERR_USAGE, "incoming", NULL,
              "MO is incoming on a remote: no consistent write");

  pdsm_node *ro_node = NULL;
  MEMORY_BASIC_INFORMATION mbi;
  rc = pdsm_open_remote(dir, client, PDSM_READ_ONLY, &ro_node);
  check(rc == PDSM_OK && VirtualQuery(pdsm_segment(ro_node, PDSM_RO, NULL), &mbi, sizeof mbi) != 0 &&
            mbi.Protect == PAGE_READONLY,
        "PDSM_READ_ONLY maps the views read-only (PAGE_READONLY)");
  check_error(pdsm_write_consistent(ro_node, PDSM_RO, 0, 0, out, 8), PDSM_ERR_USAGE, "read-only", NULL,
              "and refuses a consistent write");
  pdsm_close(ro_node);

  int64_t skew = (int64_t)(pdsm_now_ns() / 1000000000u) - (int64_t)time(NULL);
  check(skew >= -2 && skew <= 2, "pdsm_now_ns() is Unix time (FILETIME converted)");

  SetEnvironmentVariableA("PDSM_REGISTRY_DIR", dir);
  rc = pdsm_open_remote(NULL, client, PDSM_READ_ONLY, &ro_node);
  check(rc == PDSM_OK, "no folder given: $PDSM_REGISTRY_DIR");
  pdsm_close(ro_node);
  SetEnvironmentVariableA("PDSM_REGISTRY_DIR", NULL);
  char temp[MAX_PATH + 1];
  DWORD n = GetTempPathA(sizeof temp, temp);
  if (n > 1 && temp[n - 1] == '\\') temp[n - 1] = '\0';
  snprintf(text, sizeof text, "%s/pdsm_registry_client_4095 does not exist", temp);
  check_error(pdsm_open_remote(NULL, 4095, 0, &ro_node), PDSM_ERR_REGISTRY, text, NULL,
              "nor that: the temp folder (GetTempPathW)");

  check_error(pdsm_open_remote(dir, 7, 0, &ro_node), PDSM_ERR_REGISTRY, "pdsm_registry_client_7 does not exist", NULL,
              "a missing registry file: PDSM_ERR_REGISTRY naming it");
  write_registry(8, key + 0x100, 8192);
  snprintf(text, sizeof text, "key 0x%x: OpenFileMappingW Local\\pdsm-%x: no such mapping", key + 0x100, key + 0x100);
  check_error(pdsm_open_remote(dir, 8, 0, &ro_node), PDSM_ERR_SEGMENT, text, "pdsm_registry_client_8",
              "a registry naming a key with no mapping: PDSM_ERR_SEGMENT naming key, mapping and file");
  write_registry(9, key, 4096);
  snprintf(text, sizeof text, "segment key 0x%x (Local\\pdsm-%x) has 8192 bytes but the registry says 4096", key, key);
  check_error(pdsm_open_remote(dir, 9, 0, &ro_node), PDSM_ERR_SEGMENT_SIZE, text, NULL,
              "a registry understating a segment's size: PDSM_ERR_SEGMENT_SIZE with both sizes");
  snprintf(text, sizeof text, "%s/pdsm_registry_client_10", dir);
  CreateDirectoryA(text, NULL);
  check_error(pdsm_open_remote(dir, 10, 0, &ro_node), PDSM_ERR_REGISTRY, "is not a regular file", NULL,
              "a folder in the registry file's place: PDSM_ERR_REGISTRY");
  check(ro_node == NULL, "a failed open leaves no node");

  pdsm_close(node);
  pdsm_close(NULL);
  printf("# %d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
