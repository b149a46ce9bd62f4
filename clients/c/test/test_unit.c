/*
 * libpdsm unit tests without a daemon: the test plays the daemon, creating the segments and
 * writing the registry files itself, then checks every call and every refusal.
 *   test_unit DIR KEY_BASE     (segments at the master's keys K..K+3 and remote 0's K+0x28..)
 * Prints TAP-like lines "ok N - ..." / "not ok N - ..." and "# P passed, F failed"; exits
 * 1 when anything failed. It removes the segments it made.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "pdsm.h"

#include "check.h"

static const char *dir;
static unsigned base;
static int ids[16];
static int nids;

static void *make_segment(unsigned key, size_t size) {
  int id = shmget((key_t)key, size, IPC_CREAT | IPC_EXCL | 0600);
  if (id < 0) {
    fprintf(stderr, "test_unit: shmget 0x%x: %s\n", key, strerror(errno));
    exit(2);
  }
  ids[nids++] = id;
  void *p = shmat(id, NULL, 0);
  if (p == (void *)-1) exit(2);
  memset(p, 0, size);
  return p;
}

static void write_file(const char *name, const char *text) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  if (f == NULL) exit(2);
  fputs(text, f);
  fclose(f);
}

/* Play the daemon's control socket for one connection in a child process: read one request
 * line, answer `reply` when it equals `expect`, else an error naming what came. Returns the
 * child's pid once the socket listens. */
static int listen_at(const char *path) {
  struct sockaddr_un sa;
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  if (strlen(path) >= sizeof sa.sun_path) exit(2);
  memcpy(sa.sun_path, path, strlen(path));
  unlink(path);
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 1) != 0) exit(2);
  return fd;
}

static pid_t fake_control(const char *path, const char *expect, const char *reply) {
  int fd = listen_at(path);
  pid_t pid = fork();
  if (pid != 0) {
    close(fd);
    return pid;
  }
  int c = accept(fd, NULL, NULL);
  char line[512];
  size_t got = 0;
  while (got < sizeof line - 1) {
    ssize_t n = read(c, line + got, 1);
    if (n <= 0 || line[got] == '\n') break;
    got++;
  }
  line[got] = '\0';
  char out[1024];
  if (strcmp(line, expect) == 0)
    snprintf(out, sizeof out, "%s\n", reply);
  else
    snprintf(out, sizeof out, "{\"error\":\"unexpected request %s\"}\n", line);
  if (write(c, out, strlen(out)) < 0) _exit(1);
  close(c);
  _exit(0);
}

static void test_flush(pdsm_node *node) {
  char sock[4096];
  snprintf(sock, sizeof sock, "%s/pdsm_remote_0.sock", dir);
  unlink(sock);
  check(pdsm_flush(node, PDSM_RO, 0, 500) == PDSM_ERR_DAEMON && strstr(pdsm_last_message(), sock) != NULL &&
            strstr(pdsm_last_message(), "no such socket") != NULL,
        "pdsm_flush without a daemon is PDSM_ERR_DAEMON and names the socket");
  check(pdsm_flush(node, PDSM_MO, 0, 500) == PDSM_ERR_RANGE, "a remote flushes only RO");
  check(pdsm_flush(NULL, PDSM_RO, 0, 500) == PDSM_ERR_USAGE, "pdsm_flush of no node is PDSM_ERR_USAGE");
  const char *want = "{\"cmd\":\"flush\",\"flow\":\"ro\"}";
  const struct {
    const char *reply;
    int rc;
    const char *what;
  } cases[] = {
      {"{\"flushed\":[{\"flow\":\"ro\",\"outcome\":\"sent\",\"pages\":1}]}", PDSM_OK,
       "pdsm_flush sends the flush line and takes the daemon's answer: PDSM_OK"},
      {"{\"flushed\":[{\"flow\":\"ro\",\"outcome\":\"busy\",\"pages\":0}]}", PDSM_ERR_BUSY,
       "a flow whose writers held the generation is PDSM_ERR_BUSY"},
      {"{\"error\":\"no\"}", PDSM_ERR_DAEMON, "a refused flush is PDSM_ERR_DAEMON"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    pid_t pid = fake_control(sock, want, cases[i].reply);
    int rc = pdsm_flush(node, PDSM_RO, 0, 5000);
    int status = 0;
    waitpid(pid, &status, 0);
    check(rc == cases[i].rc, cases[i].what);
  }
  /* Listens, never answers: the flush must give up after its timeout. */
  int quiet = listen_at(sock);
  int rc = pdsm_flush(node, PDSM_RO, 0, 200);
  check(rc == PDSM_ERR_DAEMON && strstr(pdsm_last_message(), "no answer from the daemon") != NULL,
        "a daemon that does not answer: PDSM_ERR_DAEMON after the timeout");
  close(quiet);
  unlink(sock);
}

static void remote_registry(const char *extra, unsigned mo_size, unsigned st_key) {
  char text[1024];
  snprintf(text, sizeof text,
           "PDSM_MO_key 0x%x PDSM_MO_size %u\nPDSM_RO_key 0x%x PDSM_RO_size 4096\n%sPDSM_ST_key 0x%x PDSM_ST_size "
           "4096\nPDSM_port 1\n",
           base + 0x28, mo_size, base + 0x29, extra, st_key);
  write_file("pdsm_registry_client_0", text);
}

static int open_remote_code(void) {
  pdsm_node *n = NULL;
  int rc = pdsm_open_remote(dir, 0, 0, &n);
  pdsm_close(n);
  return rc;
}

static int open_text_code(const char *text) {
  write_file("pdsm_registry_client_0", text);
  return open_remote_code();
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: test_unit DIR KEY_BASE\n");
    return 2;
  }
  dir = argv[1];
  base = (unsigned)strtoul(argv[2], NULL, 0);
  char text[1024];

  /* Remote 0: MO, RO, BC of 4096 and ST, as a daemon would make them. */
  uint64_t *mo = make_segment(base + 0x28, 4096);
  uint64_t *ro = make_segment(base + 0x29, 4096);
  make_segment(base + 0x2a, 8192);
  uint64_t *st = make_segment(base + 0x2b, 4096);

  check(open_remote_code() == PDSM_ERR_REGISTRY, "a missing registry file is PDSM_ERR_REGISTRY");
  check(strstr(pdsm_last_message(), "does not exist") != NULL, "and the message says the file does not exist");

  char bc_line[128];
  snprintf(bc_line, sizeof bc_line, "PDSM_BC_key 0x%x PDSM_BC_size 8192\n", base + 0x2a);
  remote_registry(bc_line, 4096, base + 0x2b);
  pdsm_node *node = NULL;
  check(pdsm_open_remote(dir, 0, 0, &node) == PDSM_OK && node != NULL, "a remote's registry opens");
  size_t size = 0;
  volatile uint64_t *mo_view = pdsm_segment(node, PDSM_MO, &size);
  check(mo_view != NULL && size == 4096, "MO is attached with its size");
  mo[3] = 77;
  check(mo_view[3] == 77, "a store by another mapping is seen through the library's");
  check(pdsm_segment(node, PDSM_BC, &size) != NULL && size == 8192, "BC is attached when listed");
  check(!pdsm_is_master(node) && pdsm_client_id(node) == 0 && pdsm_remotes(node) == 1, "node identity: remote 0");
  check(pdsm_slice(node, PDSM_RO, 0, &size) != NULL && size == 4096, "a remote's slice 0 is its whole RO");
  check(pdsm_slice(node, PDSM_RO, 1, NULL) == NULL, "a remote has no slice 1");

  /* Status records: remote 0 = MO in, 1 = BC in, 2 = RO out. */
  st[0] = 4;
  st[1] = 1111;
  st[2] = 2222;
  ((uint32_t *)st)[6] = PDSM_PEER_UP;
  st[4] = 9;
  pdsm_flow_status fs;
  check(pdsm_status(node, PDSM_MO, 0, &fs) == PDSM_OK && fs.generation == 4 && fs.last_batch_ns == 1111 &&
            fs.peer_heard_ns == 2222 && fs.peer_state == PDSM_PEER_UP && fs.batches == 9,
        "pdsm_status reads every field of record 0 (MO in)");
  st[16] = 6;
  check(pdsm_status(node, PDSM_RO, 0, &fs) == PDSM_OK && fs.generation == 6, "RO's flow is record 2");

  uint64_t pair[2] = {0, 0};
  mo[10] = 5;
  mo[11] = 6;
  check(pdsm_read_consistent(node, PDSM_MO, 0, 80, pair, sizeof pair, 0) == PDSM_OK && pair[0] == 5 && pair[1] == 6,
        "a consistent read copies while the generation is even");
  st[0] = 5;
  check(pdsm_read_consistent(node, PDSM_MO, 0, 80, pair, sizeof pair, 20) == PDSM_ERR_BUSY,
        "a generation stuck odd gives PDSM_ERR_BUSY after the timeout");
  check(pdsm_read_begin(node, PDSM_MO, 0) == 5 && pdsm_read_retry(node, PDSM_MO, 0, 5),
        "read_retry says retry while odd");
  st[0] = 8;
  check(!pdsm_read_retry(node, PDSM_MO, 0, pdsm_read_begin(node, PDSM_MO, 0)),
        "read_retry is 0 for a stable even generation");
  check(pdsm_read_consistent(node, PDSM_MO, 0, 4090, pair, 8, 0) == PDSM_ERR_RANGE,
        "a read past the end is PDSM_ERR_RANGE");
  check(pdsm_read_consistent(node, PDSM_MO, 0, SIZE_MAX, pair, 8, 0) == PDSM_ERR_RANGE,
        "an offset that would overflow is PDSM_ERR_RANGE");

  uint64_t vals[3] = {1, 2, 3};
  check(pdsm_write_consistent(node, PDSM_RO, 0, 8, vals, sizeof vals) == PDSM_OK && ro[1] == 1 && ro[3] == 3 &&
            st[16] == 8,
        "a consistent write stores and bumps RO-out's generation by two");
  check(pdsm_write_consistent(node, PDSM_MO, 0, 0, vals, 8) == PDSM_ERR_USAGE, "writing an incoming flow is refused");
  check(pdsm_write_begin(node, PDSM_RO, 0) == PDSM_OK && st[16] == 9 && pdsm_write_end(node, PDSM_RO, 0) == PDSM_OK &&
            st[16] == 10,
        "write_begin makes the generation odd, write_end even");
  check(pdsm_status(node, PDSM_ST, 0, &fs) == PDSM_ERR_USAGE, "ST carries no flow");
  check(pdsm_segment(node, (enum pdsm_segment_name)7, NULL) == NULL, "an unknown segment is refused");
  test_flush(node);
  pdsm_close(node);

  pdsm_node *ro_node = NULL;
  check(pdsm_open_remote(dir, 0, PDSM_READ_ONLY, &ro_node) == PDSM_OK, "a read-only open works");
  check(pdsm_write_consistent(ro_node, PDSM_RO, 0, 0, vals, 8) == PDSM_ERR_USAGE, "and refuses consistent writes");
  pdsm_close(ro_node);

  /* PDSM_REGISTRY_DIR is the default folder. */
  setenv("PDSM_REGISTRY_DIR", dir, 1);
  check(pdsm_open_remote(NULL, 0, 0, &node) == PDSM_OK, "dir NULL uses $PDSM_REGISTRY_DIR");
  pdsm_close(node);
  unsetenv("PDSM_REGISTRY_DIR");

  /* Hostile registry files. */
  remote_registry("", 8192, base + 0x2b);
  check(open_remote_code() == PDSM_ERR_SEGMENT_SIZE, "MO and RO sizes that disagree are PDSM_ERR_SEGMENT_SIZE");
  snprintf(text, sizeof text, "PDSM_MO_key 0x%x PDSM_MO_size 8192\nPDSM_RO_key 0x%x PDSM_RO_size 8192\n", base + 0x28,
           base + 0x29);
  check(open_text_code(text) == PDSM_ERR_SEGMENT_SIZE,
        "a size larger than the kernel's segment is PDSM_ERR_SEGMENT_SIZE");
  check(strstr(pdsm_last_message(), "has 4096 bytes but the registry says 8192") != NULL,
        "and the message names both sizes");
  snprintf(text, sizeof text, "PDSM_MO_key 0x%x PDSM_MO_size 4096\nPDSM_RO_key 0x%x PDSM_RO_size 4096\n", base + 0x30,
           base + 0x31);
  check(open_text_code(text) == PDSM_ERR_SEGMENT, "a segment that does not exist is PDSM_ERR_SEGMENT");
  check(open_text_code("PDSM_RO_key 0x1 PDSM_RO_size 4096\nPDSM_MO_key 0x2 PDSM_MO_size 4096\n") == PDSM_ERR_REGISTRY,
        "RO before MO is PDSM_ERR_REGISTRY");
  check(open_text_code("PDSM_MO_key 0x0 PDSM_MO_size 4096\nPDSM_RO_key 0x2 PDSM_RO_size 4096\n") == PDSM_ERR_REGISTRY,
        "key 0 (IPC_PRIVATE) is refused");
  check(open_text_code("PDSM_MO_key 0x80000000 PDSM_MO_size 4096\nPDSM_RO_key 0x2 PDSM_RO_size 4096\n") ==
            PDSM_ERR_REGISTRY,
        "a key past 31 bits is refused");
  check(open_text_code("PDSM_MO_key 0x1 PDSM_MO_size 99999999999999999999999\nPDSM_RO_key 0x2 PDSM_RO_size 4096\n") ==
            PDSM_ERR_REGISTRY,
        "a size that overflows is refused");
  check(open_text_code("PDSM_MO_key 0x1 PDSM_MO_size -4096\nPDSM_RO_key 0x2 PDSM_RO_size 4096\n") == PDSM_ERR_REGISTRY,
        "a negative size is refused");
  check(open_text_code("PDSM_MO_key 0x1 PDSM_MO_size 4096\n") == PDSM_ERR_REGISTRY, "a file with one line is refused");
  check(open_text_code("") == PDSM_ERR_REGISTRY, "an empty file is refused");
  snprintf(text, sizeof text,
           "PDSM_MO_key 0x%x PDSM_MO_size 4096\nPDSM_RO_key 0x%x PDSM_RO_size 4096\nPDSM_ST_key 0x%x PDSM_ST_size 64\n",
           base + 0x28, base + 0x29, base + 0x2b);
  check(open_text_code(text) == PDSM_ERR_SEGMENT_SIZE, "an ST too small for its records is refused");
  snprintf(
      text, sizeof text,
      "PDSM_MO_key 0x%x PDSM_MO_size 4096\nPDSM_RO_key 0x%x PDSM_RO_size 4096\nPDSM_MO_key 0x1 PDSM_MO_size 4096\n",
      base + 0x28, base + 0x29);
  check(open_text_code(text) == PDSM_ERR_REGISTRY, "a second MO line is refused");

  /* PDSM_namespace (issue 15): Global or Local is accepted (POSIX attaches by key either way),
   * anything else is refused naming the value, and so is a second line. */
  const char *const good_ns[] = {"PDSM_namespace Global\n", "PDSM_namespace Local\n"};
  for (int i = 0; i < 2; i++) {
    snprintf(text, sizeof text, "PDSM_MO_key 0x%x PDSM_MO_size 4096\nPDSM_RO_key 0x%x PDSM_RO_size 4096\n%s",
             base + 0x28, base + 0x29, good_ns[i]);
    check(open_text_code(text) == PDSM_OK, good_ns[i]);
  }
  const char *const bad_ns[] = {"global", "GLOBAL", "Session", "Global ", " Global", "", "Local Global"};
  for (size_t i = 0; i < sizeof bad_ns / sizeof bad_ns[0]; i++) {
    char want[128];
    snprintf(text, sizeof text,
             "PDSM_MO_key 0x%x PDSM_MO_size 4096\nPDSM_RO_key 0x%x PDSM_RO_size 4096\nPDSM_namespace %s\n", base + 0x28,
             base + 0x29, bad_ns[i]);
    snprintf(want, sizeof want, "PDSM_namespace \"%s\" is neither Global nor Local", bad_ns[i]);
    check(open_text_code(text) == PDSM_ERR_REGISTRY && strstr(pdsm_last_message(), want) != NULL, want);
  }
  snprintf(text, sizeof text,
           "PDSM_MO_key 0x%x PDSM_MO_size 4096\nPDSM_RO_key 0x%x PDSM_RO_size 4096\nPDSM_namespace Local\n"
           "PDSM_namespace Local\n",
           base + 0x28, base + 0x29);
  check(open_text_code(text) == PDSM_ERR_REGISTRY && strstr(pdsm_last_message(), "listed twice") != NULL,
        "a second PDSM_namespace line is refused");

  /* A registry without ST: data works, status calls say why not. */
  snprintf(text, sizeof text, "PDSM_MO_key 0x%x PDSM_MO_size 4096\nPDSM_RO_key 0x%x PDSM_RO_size 4096\nPDSM_pid 1\n",
           base + 0x28, base + 0x29);
  write_file("pdsm_registry_client_0", text);
  check(pdsm_open_remote(dir, 0, 0, &node) == PDSM_OK, "a registry without ST opens");
  check(pdsm_status(node, PDSM_MO, 0, &fs) == PDSM_ERR_NO_STATUS, "and status is PDSM_ERR_NO_STATUS");
  pdsm_close(node);

  char path[4096], target[4096];
  snprintf(path, sizeof path, "%s/pdsm_registry_client_0", dir);
  snprintf(target, sizeof target, "%s/elsewhere", dir);
  rename(path, target);
  check(symlink(target, path) == 0 && open_remote_code() == PDSM_ERR_REGISTRY,
        "a registry that is a symlink is refused");
  check(strstr(pdsm_last_message(), "symlink") != NULL, "and the message says so");
  unlink(path);
  check(
      pdsm_open_remote(dir, -1, 0, &node) == PDSM_ERR_USAGE && pdsm_open_remote(dir, 16384, 0, &node) == PDSM_ERR_USAGE,
      "client ids outside 0..16383 are PDSM_ERR_USAGE");
  check(pdsm_open_remote(dir, 0, 0x80, &node) == PDSM_ERR_USAGE, "unknown flags are PDSM_ERR_USAGE");

  /* Master with 2 remotes: slices of 4096, records RO n = n, MO n = 2 + n, BC = 4. */
  uint64_t *mmo = make_segment(base, 8192);
  make_segment(base + 1, 8192);
  uint64_t *mst = make_segment(base + 3, 4096);
  snprintf(text, sizeof text,
           "PDSM_MO_key 0x%x PDSM_MO_size 8192 Number_of_segs 2 Seg_size 4096\n"
           "PDSM_RO_key 0x%x PDSM_RO_size 8192 Number_of_segs 2 Seg_size 4096\n"
           "PDSM_ST_key 0x%x PDSM_ST_size 4096\n",
           base, base + 1, base + 3);
  write_file("pdsm_master_registry", text);
  check(pdsm_open_master(dir, 0, &node) == PDSM_OK && pdsm_is_master(node) && pdsm_remotes(node) == 2,
        "the master's registry opens with 2 remotes");
  uint64_t *s1 = pdsm_slice(node, PDSM_MO, 1, &size);
  check(s1 != NULL && size == 4096 && (unsigned char *)s1 - (unsigned char *)pdsm_segment(node, PDSM_MO, NULL) == 4096,
        "MO slice 1 is at 4096");
  check(pdsm_slice(node, PDSM_MO, 2, NULL) == NULL && pdsm_slice(node, PDSM_MO, -1, NULL) == NULL,
        "slices outside 0..1 are refused");
  check(pdsm_write_consistent(node, PDSM_MO, 1, 0, vals, 8) == PDSM_OK && mmo[512] == 1 && mst[(2 + 1) * 8] == 2,
        "a consistent write to MO slice 1 bumps record 3");
  mst[1 * 8] = 3;
  check(pdsm_read_consistent(node, PDSM_RO, 1, 0, pair, 8, 10) == PDSM_ERR_BUSY, "RO slice 1 reads through record 1");
  check(pdsm_segment(node, PDSM_BC, NULL) == NULL &&
            pdsm_write_consistent(node, PDSM_BC, 0, 0, vals, 8) == PDSM_ERR_RANGE,
        "a master without BC has no BC flow");
  pdsm_close(node);
  snprintf(text, sizeof text,
           "PDSM_MO_key 0x%x PDSM_MO_size 8192 Number_of_segs 2 Seg_size 4096\n"
           "PDSM_RO_key 0x%x PDSM_RO_size 8192 Number_of_segs 3 Seg_size 4096\n",
           base, base + 1);
  write_file("pdsm_master_registry", text);
  check(pdsm_open_master(dir, 0, &node) == PDSM_ERR_REGISTRY,
        "MO and RO lines that disagree on Number_of_segs are refused");
  snprintf(text, sizeof text,
           "PDSM_MO_key 0x%x PDSM_MO_size 8192 Number_of_segs 4 Seg_size 4096\n"
           "PDSM_RO_key 0x%x PDSM_RO_size 8192 Number_of_segs 4 Seg_size 4096\n",
           base, base + 1);
  write_file("pdsm_master_registry", text);
  check(pdsm_open_master(dir, 0, &node) == PDSM_ERR_SEGMENT_SIZE, "Number_of_segs x Seg_size must be the segment size");

  int named = 1;
  for (int code = 0; code <= PDSM_ERR_DAEMON; code++)
    if (strncmp(pdsm_strerror(code), code == 0 ? "PDSM_OK" : "PDSM_ERR_", code == 0 ? 7 : 9) != 0) named = 0;
  check(named && strncmp(pdsm_strerror(999), "PDSM_ERR_UNKNOWN", 16) == 0,
        "pdsm_strerror names every code, and unknown ones");
  check(pdsm_now_ns() > 1600000000ull * 1000000000ull, "pdsm_now_ns is Unix time in ns");

  for (int i = 0; i < nids; i++) shmctl(ids[i], IPC_RMID, NULL);
  printf("# %d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
