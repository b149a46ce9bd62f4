/*
 * pdsm_example: attach to a PDSM remote's segments the way existing C clients do, and
 * store or load 64-bit values.
 *
 *   cc -O2 -Wall -o pdsm_example pdsm_example.c
 *   ./pdsm_example [-d registry_dir] -n client_id store RO 0 42     # plain store into RO
 *   ./pdsm_example -n 3 load MO 8                                  # plain load from MO
 *   ./pdsm_example -n 3 cstore 0 7 1024 7                           # stores travel in one batch
 *   ./pdsm_example -n 3 cload MO 0 1024                             # loads see one whole batch
 *
 * The registry file's first two lines are read with fscanf exactly as the seed's clients
 * do; segments are attached with shmget(key, size, 0666) (no IPC_CREAT) and shmat. On
 * Windows (x86_64-w64-mingw32-gcc -O2 -o pdsm_example.exe pdsm_example.c) they are the
 * daemon's named file mappings, opened with OpenFileMapping: `Local\pdsm-<key in hex>`, or
 * `Global\pdsm-<key in hex>` when the registry file ends with `PDSM_namespace Global`. The
 * status segment (ST) line, when present, gives the seqlock of docs/design.md §3b:
 *   remote records: 0 = MO in, 1 = BC in, 2 = RO out; u64 generation at offset 0 of each
 *   64-byte record; odd while a batch is applied (in) or a writer writes (out).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _WIN32
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#else
#include <sys/ipc.h>
#include <sys/shm.h>
#endif

#define ST_RECORD 64
#define ST_MO_IN 0
#define ST_BC_IN 1
#define ST_RO_OUT 2

struct seg {
  const char *name;
  unsigned key;
  int size;
  unsigned char *base;
};

static int die(const char *what) {
  fprintf(stderr, "pdsm_example: %s\n", what);
  return 1;
}

/* PDSM_namespace Global: the Windows mappings are in Global\ (else Local\); POSIX has none. */
static int global_namespace;

#ifdef _WIN32
static unsigned char *attach(struct seg *s) {
  char name[64];
  snprintf(name, sizeof name, "%s\\pdsm-%x", global_namespace ? "Global" : "Local", s->key);
  HANDLE h = OpenFileMappingA(FILE_MAP_READ | FILE_MAP_WRITE, FALSE, name);
  /* A view larger than the mapping fails, as shmget does with a size larger than the segment. */
  void *p =
      h != NULL ? MapViewOfFile(h, FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, (SIZE_T)s->size) : NULL;
  DWORD err = GetLastError();
  if (h != NULL) CloseHandle(h); /* the view keeps the mapping alive */
  if (p == NULL) {
    fprintf(stderr, "pdsm_example: %s %s %s size %d: Windows error %lu\n",
            h == NULL ? "OpenFileMapping" : "MapViewOfFile", s->name, name, s->size,
            (unsigned long)err);
    return NULL;
  }
  s->base = p;
  return p;
}
#else
static unsigned char *attach(struct seg *s) {
  int id = shmget((key_t)s->key, (size_t)s->size, 0666);
  if (id < 0) {
    fprintf(stderr, "pdsm_example: shmget %s key 0x%x size %d: %s\n", s->name, s->key, s->size,
            strerror(errno));
    return NULL;
  }
  void *p = shmat(id, NULL, 0);
  if (p == (void *)-1) {
    fprintf(stderr, "pdsm_example: shmat %s: %s\n", s->name, strerror(errno));
    return NULL;
  }
  s->base = p;
  return p;
}
#endif

static volatile uint64_t *generation(struct seg *st, int record) {
  return (volatile uint64_t *)(st->base + record * ST_RECORD);
}

static struct seg *pick(const char *name, struct seg *mo, struct seg *ro, struct seg *bc) {
  if (strcmp(name, "MO") == 0) return mo;
  if (strcmp(name, "RO") == 0) return ro;
  if (strcmp(name, "BC") == 0 && bc->key != 0) return bc;
  return NULL;
}

static int offset_ok(struct seg *s, const char *text, long *out) {
  char *end;
  long off = strtol(text, &end, 0);
  if (*end != '\0' || off < 0 || off % 8 != 0 || off + 8 > s->size) {
    fprintf(stderr, "pdsm_example: offset %s is not an 8-aligned offset inside %s (size %d)\n",
            text, s->name, s->size);
    return 0;
  }
  *out = off;
  return 1;
}

int main(int argc, char **argv) {
  const char *dir = getenv("PDSM_REGISTRY_DIR");
  int client = -1, i = 1;
  if (dir == NULL || *dir == '\0') dir = "/tmp";
  for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
    if (strcmp(argv[i], "-d") == 0)
      dir = argv[i + 1];
    else if (strcmp(argv[i], "-n") == 0)
      client = atoi(argv[i + 1]);
    else
      return die("usage: pdsm_example [-d dir] -n client_id store|load|cstore|cload ...");
  }
  if (client < 0 || i >= argc)
    return die("usage: pdsm_example [-d dir] -n client_id store|load|cstore|cload ...");

  char path[4096];
  snprintf(path, sizeof path, "%s/%s_%d", dir, "pdsm_registry_client", client);
  FILE *f = fopen(path, "r");
  if (f == NULL) {
    fprintf(stderr, "pdsm_example: cannot open %s: %s\n", path, strerror(errno));
    return 1;
  }
  struct seg mo = {"MO", 0, 0, NULL}, ro = {"RO", 0, 0, NULL}, bc = {"BC", 0, 0, NULL},
             st = {"ST", 0, 0, NULL};
  /* The two lines every existing client reads, in exactly this shape (docs/design.md §3). */
  if (fscanf(f, "PDSM_MO_key %x PDSM_MO_size %d\n", &mo.key, &mo.size) != 2 ||
      fscanf(f, "PDSM_RO_key %x PDSM_RO_size %d\n", &ro.key, &ro.size) != 2) {
    fclose(f);
    return die("registry file is malformed");
  }
  /* Optional lines that follow: BC and ST; on Windows the last says which namespace. */
  char line[256];
  while (fgets(line, sizeof line, f) != NULL) {
    if (sscanf(line, "PDSM_BC_key %x PDSM_BC_size %d", &bc.key, &bc.size) == 2) continue;
    if (sscanf(line, "PDSM_ST_key %x PDSM_ST_size %d", &st.key, &st.size) == 2) continue;
    if (strncmp(line, "PDSM_namespace ", 15) == 0) {
      char *value = line + 15;
      value[strcspn(value, "\r\n")] = '\0';
      if (strcmp(value, "Global") != 0 && strcmp(value, "Local") != 0) {
        fclose(f);
        fprintf(stderr, "pdsm_example: PDSM_namespace \"%s\" is neither Global nor Local\n", value);
        return 1;
      }
      global_namespace = strcmp(value, "Global") == 0;
    }
  }
  fclose(f);
  if (attach(&mo) == NULL || attach(&ro) == NULL) return 1;
  if (bc.key != 0 && attach(&bc) == NULL) return 1;

  const char *cmd = argv[i++];
  if (strcmp(cmd, "store") == 0 || strcmp(cmd, "load") == 0) {
    struct seg *s = i < argc ? pick(argv[i], &mo, &ro, &bc) : NULL;
    long off;
    if (s == NULL) return die("segment must be MO, RO or BC");
    if (i + 1 >= argc || !offset_ok(s, argv[i + 1], &off)) return 1;
    volatile uint64_t *word = (volatile uint64_t *)(s->base + off);
    if (cmd[0] == 's') {
      if (i + 2 >= argc) return die("store needs a value");
      *word = strtoull(argv[i + 2], NULL, 0);
    } else {
      printf("%" PRIu64 "\n", *word);
    }
    return 0;
  }

  if (st.key == 0 || attach(&st) == NULL)
    return die("the registry lists no status segment (PDSM_ST_key)");
  if (strcmp(cmd, "cstore") == 0) {
    /* Writer rule: make the RO-out generation odd, write, make it even. */
    volatile uint64_t *gen = generation(&st, ST_RO_OUT);
    if (i + 1 >= argc || (argc - i) % 2 != 0) return die("cstore needs OFFSET VALUE pairs");
    __atomic_add_fetch(gen, 1, __ATOMIC_SEQ_CST);
    for (int k = i; k + 1 < argc; k += 2) {
      long off;
      if (!offset_ok(&ro, argv[k], &off)) {
        __atomic_add_fetch(gen, 1, __ATOMIC_SEQ_CST);
        return 1;
      }
      __atomic_store_n((uint64_t *)(ro.base + off), strtoull(argv[k + 1], NULL, 0),
                       __ATOMIC_RELAXED);
    }
    __atomic_add_fetch(gen, 1, __ATOMIC_SEQ_CST);
    return 0;
  }
  if (strcmp(cmd, "cload") == 0) {
    /* Reader rule: read the generation, copy, read it again; retry while odd or changed. */
    struct seg *s = i < argc ? pick(argv[i], &mo, &ro, &bc) : NULL;
    if (s == NULL || s == &ro) return die("cload reads MO or BC");
    volatile uint64_t *gen = generation(&st, s == &mo ? ST_MO_IN : ST_BC_IN);
    int n = argc - i - 1;
    if (n <= 0 || n > 64) return die("cload needs 1 to 64 offsets");
    long offs[64];
    uint64_t vals[64];
    for (int k = 0; k < n; k++)
      if (!offset_ok(s, argv[i + 1 + k], &offs[k])) return 1;
    for (long tries = 0; tries < 10000000; tries++) {
      uint64_t before = __atomic_load_n(gen, __ATOMIC_ACQUIRE);
      if (before & 1) continue;
      for (int k = 0; k < n; k++)
        vals[k] = __atomic_load_n((uint64_t *)(s->base + offs[k]), __ATOMIC_RELAXED);
      __atomic_thread_fence(__ATOMIC_ACQUIRE);
      if (__atomic_load_n(gen, __ATOMIC_ACQUIRE) == before) {
        for (int k = 0; k < n; k++) printf("%" PRIu64 "%c", vals[k], k + 1 < n ? ' ' : '\n');
        return 0;
      }
    }
    return die("no stable generation: the daemon kept applying batches");
  }
  return die("command must be store, load, cstore or cload");
}
