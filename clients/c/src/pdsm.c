/*
 * libpdsm: registry files, attach, slices, status records and the ST seqlock
 * (docs/design.md §3, §3b; README "Registry files" and "Status segment"). Every number in
 * a registry file is hostile until checked: keys must be real SysV keys, sizes must agree
 * with each other and with what the kernel reports for the segment. System calls live
 * behind platform.h.
 */
#include "pdsm.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomics.h"
#include "platform.h"

#if defined(_MSC_VER)
#define PDSM_THREAD_LOCAL __declspec(thread)
#else
#define PDSM_THREAD_LOCAL _Thread_local
#endif

#define ST_RECORD 64
#define ST_PEER_HEARD 16
#define ST_LAST_BATCH 8
#define ST_PEER_STATE 24
#define ST_BATCHES 32
#define MAX_REMOTES 16384
#define MAX_REGISTRY_BYTES 65536
#define MAX_KEY 0x7fffffffu
#define DEFAULT_TIMEOUT_MS 200u
#define MAX_PATH_BYTES 4096

struct seg {
  uint32_t key;
  size_t size;
  int listed;
  void *base;
  void *handle;
};

struct pdsm_node {
  char socket_path[MAX_PATH_BYTES]; /* the daemon's control socket (Windows: pipe), for pdsm_flush */
  int socket_rc;                    /* not PDSM_OK: socket_path could not be made, socket_why says why */
  char socket_why[PDSM_WHY_SIZE];
  int master;
  int client_id;
  int remotes;
  size_t seg_size;
  int read_only;
  int global; /* PDSM_namespace Global: Windows mappings in Global\ (else Local\) */
  struct seg s[4];
};

static PDSM_THREAD_LOCAL char last_message[PDSM_WHY_SIZE + 64];

static int fail(int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(last_message, sizeof last_message, fmt, ap);
  va_end(ap);
  return code;
}

const char *pdsm_last_message(void) { return last_message; }

const char *pdsm_strerror(int code) {
  switch (code) {
    case PDSM_OK: return "PDSM_OK: success";
    case PDSM_ERR_USAGE: return "PDSM_ERR_USAGE: invalid argument";
    case PDSM_ERR_REGISTRY:
      return "PDSM_ERR_REGISTRY: registry file missing, malformed, a symlink or not a regular file";
    case PDSM_ERR_SEGMENT: return "PDSM_ERR_SEGMENT: a shared memory segment is missing or cannot be attached";
    case PDSM_ERR_SEGMENT_SIZE: return "PDSM_ERR_SEGMENT_SIZE: a segment's size differs from the registry's";
    case PDSM_ERR_RANGE: return "PDSM_ERR_RANGE: offset, length, slice or flow out of range";
    case PDSM_ERR_BUSY: return "PDSM_ERR_BUSY: no stable generation in time";
    case PDSM_ERR_NO_STATUS: return "PDSM_ERR_NO_STATUS: the registry lists no status segment";
    case PDSM_ERR_NOMEM: return "PDSM_ERR_NOMEM: out of memory";
    case PDSM_ERR_UNSUPPORTED: return "PDSM_ERR_UNSUPPORTED: not available on this platform";
    case PDSM_ERR_DAEMON: return "PDSM_ERR_DAEMON: no daemon answers on the control socket, or it refused";
    default: return "PDSM_ERR_UNKNOWN: unknown error code";
  }
}

uint64_t pdsm_now_ns(void) { return pdsm_platform_now_ns(); }

/* ---- registry parsing ------------------------------------------------------------- */

/* Strict unsigned number: hex after "0x" when hex, else decimal; no sign, no spaces, no
 * overflow past max. */
static int parse_number(const char *text, size_t len, int hex, uint64_t max, uint64_t *out) {
  uint64_t v = 0;
  size_t i = 0;
  if (hex) {
    if (len < 3 || text[0] != '0' || (text[1] != 'x' && text[1] != 'X')) return 0;
    i = 2;
  }
  if (i == len) return 0;
  for (; i < len; i++) {
    char c = text[i];
    unsigned d;
    if (c >= '0' && c <= '9')
      d = (unsigned)(c - '0');
    else if (hex && c >= 'a' && c <= 'f')
      d = (unsigned)(c - 'a' + 10);
    else if (hex && c >= 'A' && c <= 'F')
      d = (unsigned)(c - 'A' + 10);
    else
      return 0;
    uint64_t base = hex ? 16 : 10;
    if (v > (max - d) / base) return 0;
    v = v * base + d;
  }
  *out = v;
  return 1;
}

#define MAX_TOKENS 8
struct tokens {
  const char *t[MAX_TOKENS];
  size_t len[MAX_TOKENS];
  int n;
};

/* Split on single spaces; more than MAX_TOKENS tokens or an empty token fails. */
static int split(const char *line, size_t len, struct tokens *out) {
  out->n = 0;
  size_t start = 0;
  for (size_t i = 0; i <= len; i++) {
    if (i == len || line[i] == ' ') {
      if (i == start || out->n == MAX_TOKENS) return 0;
      out->t[out->n] = line + start;
      out->len[out->n] = i - start;
      out->n++;
      start = i + 1;
    }
  }
  return 1;
}

static int token_is(const struct tokens *tk, int i, const char *word) {
  return tk->len[i] == strlen(word) && memcmp(tk->t[i], word, tk->len[i]) == 0;
}

static const char *const SEG_NAMES[4] = {"MO", "RO", "BC", "ST"};

/* "PDSM_<X>_key 0x<hex> PDSM_<X>_size <dec>[ Number_of_segs <dec> Seg_size <dec>]":
 * returns the segment index, or -1 when the line is not a segment line. *bad is set when it
 * starts like one but is malformed. */
static int segment_line(const struct tokens *tk, struct seg *s, uint64_t *segs, uint64_t *seg_size, int *bad) {
  *bad = 0;
  if (tk->n < 1 || tk->len[0] != 11 || memcmp(tk->t[0], "PDSM_", 5) != 0 || memcmp(tk->t[0] + 7, "_key", 4) != 0)
    return -1;
  int which = -1;
  for (int i = 0; i < 4; i++)
    if (memcmp(tk->t[0] + 5, SEG_NAMES[i], 2) == 0) which = i;
  if (which < 0) return -1;
  char size_word[16];
  snprintf(size_word, sizeof size_word, "PDSM_%s_size", SEG_NAMES[which]);
  uint64_t key, size;
  *bad = 1;
  if (tk->n != 4 && tk->n != 8) return which;
  if (!parse_number(tk->t[1], tk->len[1], 1, MAX_KEY, &key) || key == 0) return which;
  if (!token_is(tk, 2, size_word) || !parse_number(tk->t[3], tk->len[3], 0, (uint64_t)SIZE_MAX, &size) || size == 0)
    return which;
  if (tk->n == 8) {
    if (!token_is(tk, 4, "Number_of_segs") || !parse_number(tk->t[5], tk->len[5], 0, MAX_REMOTES, segs)) return which;
    if (!token_is(tk, 6, "Seg_size") || !parse_number(tk->t[7], tk->len[7], 0, (uint64_t)SIZE_MAX, seg_size))
      return which;
  } else {
    *segs = 0;
    *seg_size = 0;
  }
  *bad = 0;
  s->key = (uint32_t)key;
  s->size = (size_t)size;
  s->listed = 1;
  return which;
}

#define NAMESPACE_WORD "PDSM_namespace"

/* "PDSM_namespace Global|Local" (issue 15): 1 Global, 0 Local, -1 when the line starts with
 * the word but the value is anything else (refused, never guessed). Returns -2 for a line that
 * is not a namespace line. */
static int namespace_line(const char *line, size_t len) {
  size_t w = strlen(NAMESPACE_WORD);
  if (len < w || memcmp(line, NAMESPACE_WORD, w) != 0 || (len > w && line[w] != ' ')) return -2;
  if (len == w + 7 && memcmp(line + w, " Global", 7) == 0) return 1;
  if (len == w + 6 && memcmp(line + w, " Local", 6) == 0) return 0;
  return -1;
}

static int parse_registry(const char *path, char *text, pdsm_node *node) {
  uint64_t segs = 0, seg_size = 0;
  int line_no = 0, namespace_seen = 0;
  char *p = text;
  while (*p != '\0') {
    char *nl = strchr(p, '\n');
    size_t len = nl ? (size_t)(nl - p) : strlen(p);
    line_no++;
    struct tokens tk;
    struct seg s = {0, 0, 0, NULL, NULL};
    uint64_t ls = 0, lss = 0;
    int bad = 0, which = -1;
    if (split(p, len, &tk)) which = segment_line(&tk, &s, &ls, &lss, &bad);
    int ns = line_no > 2 ? namespace_line(p, len) : -2;
    if (ns == -1) {
      size_t w = strlen(NAMESPACE_WORD);
      size_t vlen = len > w ? len - w - 1 : 0;
      return fail(PDSM_ERR_REGISTRY, "registry file %s line %d: PDSM_namespace \"%.*s\" is neither Global nor Local",
                  path, line_no, (int)(vlen > 64 ? 64 : vlen), len > w ? p + w + 1 : "");
    }
    if (ns >= 0) {
      if (namespace_seen++)
        return fail(PDSM_ERR_REGISTRY, "registry file %s line %d: PDSM_namespace listed twice", path, line_no);
      node->global = ns;
    }
    if (line_no <= 2) {
      int want = line_no == 1 ? PDSM_MO : PDSM_RO;
      if (which != want || bad)
        return fail(PDSM_ERR_REGISTRY, "registry file %s line %d: expected the PDSM_%s_key line", path, line_no,
                    SEG_NAMES[want]);
      if (node->master && tk.n != 8)
        return fail(PDSM_ERR_REGISTRY, "registry file %s line %d: expected Number_of_segs and Seg_size", path, line_no);
      if (!node->master && tk.n != 4)
        return fail(PDSM_ERR_REGISTRY, "registry file %s line %d: a remote's line has no Number_of_segs", path,
                    line_no);
      if (line_no == 1) {
        segs = ls;
        seg_size = lss;
      } else if (node->master && (ls != segs || lss != seg_size)) {
        return fail(PDSM_ERR_REGISTRY, "registry file %s: the MO and RO lines disagree on Number_of_segs or Seg_size",
                    path);
      }
    } else if (bad || (which >= 0 && tk.n != 4)) {
      return fail(PDSM_ERR_REGISTRY, "registry file %s line %d: malformed PDSM_%s_key line", path, line_no,
                  SEG_NAMES[which]);
    } else if (which >= 0 && (which == PDSM_MO || which == PDSM_RO || node->s[which].listed)) {
      return fail(PDSM_ERR_REGISTRY, "registry file %s line %d: PDSM_%s_key listed twice", path, line_no,
                  SEG_NAMES[which]);
    }
    if (which >= 0 && !bad) node->s[which] = s;
    if (!nl) break;
    p = nl + 1;
  }
  if (line_no < 2) return fail(PDSM_ERR_REGISTRY, "registry file %s lacks the MO and RO lines", path);
  if (node->master) {
    if (segs == 0 || seg_size == 0 || seg_size > SIZE_MAX / segs)
      return fail(PDSM_ERR_REGISTRY, "registry file %s: Number_of_segs %llu or Seg_size %llu is out of range", path,
                  (unsigned long long)segs, (unsigned long long)seg_size);
    if (node->s[PDSM_MO].size != segs * seg_size || node->s[PDSM_RO].size != segs * seg_size)
      return fail(PDSM_ERR_SEGMENT_SIZE, "registry file %s: MO and RO must be Number_of_segs x Seg_size = %llu bytes",
                  path, (unsigned long long)(segs * seg_size));
    node->remotes = (int)segs;
    node->seg_size = (size_t)seg_size;
  } else {
    if (node->s[PDSM_MO].size != node->s[PDSM_RO].size)
      return fail(PDSM_ERR_SEGMENT_SIZE, "registry file %s: MO has %zu bytes and RO %zu", path, node->s[PDSM_MO].size,
                  node->s[PDSM_RO].size);
    node->remotes = 1;
    node->seg_size = node->s[PDSM_MO].size;
  }
  if (node->s[PDSM_ST].listed) {
    size_t records = node->master ? 2u * (size_t)node->remotes + 1u : 3u;
    if (node->s[PDSM_ST].size < (records + 1) * ST_RECORD)
      return fail(PDSM_ERR_SEGMENT_SIZE, "registry file %s: ST has %zu bytes, too few for %zu records", path,
                  node->s[PDSM_ST].size, records);
  }
  return PDSM_OK;
}

/* ---- open and close --------------------------------------------------------------- */

static const char *registry_folder(const char *dir, char *buf, size_t size) {
  if (dir != NULL && *dir != '\0') return dir;
  return pdsm_platform_registry_dir(buf, size);
}

static int open_node(const char *dir, int master, int client_id, unsigned flags, pdsm_node **out) {
  if (out == NULL) return fail(PDSM_ERR_USAGE, "out must not be NULL");
  *out = NULL;
  if ((flags & ~PDSM_READ_ONLY) != 0) return fail(PDSM_ERR_USAGE, "unknown flags 0x%x", flags);
  if (!master && (client_id < 0 || client_id >= MAX_REMOTES))
    return fail(PDSM_ERR_USAGE, "client id %d is out of range 0..%d", client_id, MAX_REMOTES - 1);
  char folder_buf[MAX_PATH_BYTES];
  const char *folder = registry_folder(dir, folder_buf, sizeof folder_buf);
  if (folder == NULL) return fail(PDSM_ERR_USAGE, "registry folder path is too long");
  char path[MAX_PATH_BYTES];
  int n = master ? snprintf(path, sizeof path, "%s/pdsm_master_registry", folder)
                 : snprintf(path, sizeof path, "%s/%s_%d", folder, "pdsm_registry_client", client_id);
  if (n < 0 || (size_t)n >= sizeof path) return fail(PDSM_ERR_USAGE, "registry folder path is too long");

  pdsm_node *node = calloc(1, sizeof *node);
  char *text = malloc(MAX_REGISTRY_BYTES + 1);
  if (node == NULL || text == NULL) {
    free(node);
    free(text);
    return fail(PDSM_ERR_NOMEM, "out of memory");
  }
  node->master = master;
  node->client_id = master ? -1 : client_id;
  /* Only pdsm_flush needs the control path: when it cannot be made (Windows: the folder does
   * not resolve or hash), the open still succeeds and pdsm_flush says why. */
  node->socket_rc = pdsm_platform_control_path(folder, master, client_id, node->socket_path, sizeof node->socket_path,
                                               node->socket_why);
  node->read_only = (flags & PDSM_READ_ONLY) != 0;
  char why[PDSM_WHY_SIZE];
  int rc = pdsm_platform_read_file(path, text, MAX_REGISTRY_BYTES, why);
  if (rc != PDSM_OK)
    rc = fail(rc, "%s", why);
  else
    rc = parse_registry(path, text, node);
  free(text);
  for (int i = 0; rc == PDSM_OK && i < 4; i++) {
    struct seg *s = &node->s[i];
    if (!s->listed) continue;
    rc = pdsm_platform_attach(s->key, s->size, node->read_only, node->global, &s->base, &s->handle, why);
    if (rc != PDSM_OK) rc = fail(rc, "%s %s (listed in %s)", SEG_NAMES[i], why, path);
  }
  if (rc != PDSM_OK) {
    pdsm_close(node);
    return rc;
  }
  *out = node;
  return PDSM_OK;
}

int pdsm_open_master(const char *dir, unsigned flags, pdsm_node **out) { return open_node(dir, 1, -1, flags, out); }

int pdsm_open_remote(const char *dir, int client_id, unsigned flags, pdsm_node **out) {
  return open_node(dir, 0, client_id, flags, out);
}

void pdsm_close(pdsm_node *node) {
  if (node == NULL) return;
  for (int i = 0; i < 4; i++) pdsm_platform_detach(node->s[i].base, node->s[i].handle);
  free(node);
}

int pdsm_is_master(const pdsm_node *node) { return node != NULL && node->master; }
int pdsm_client_id(const pdsm_node *node) { return node == NULL ? -1 : node->client_id; }
int pdsm_remotes(const pdsm_node *node) { return node == NULL ? 0 : node->remotes; }

/* ---- segments and slices ---------------------------------------------------------- */

static int valid_seg(const pdsm_node *node, enum pdsm_segment_name seg) {
  return node != NULL && (int)seg >= 0 && (int)seg < 4;
}

void *pdsm_segment(const pdsm_node *node, enum pdsm_segment_name seg, size_t *size) {
  if (!valid_seg(node, seg)) {
    fail(PDSM_ERR_USAGE, "no node or no such segment %d", (int)seg);
    return NULL;
  }
  const struct seg *s = &node->s[seg];
  if (s->base == NULL) {
    fail(PDSM_ERR_RANGE, "the registry lists no %s segment", SEG_NAMES[seg]);
    return NULL;
  }
  if (size != NULL) *size = s->size;
  return s->base;
}

/* Data of slice n of seg: base and length, or an error code. */
static int slice_of(const pdsm_node *node, enum pdsm_segment_name seg, int n, unsigned char **base, size_t *len) {
  if (!valid_seg(node, seg) || seg == PDSM_ST) return fail(PDSM_ERR_USAGE, "slices are of MO, RO or BC");
  const struct seg *s = &node->s[seg];
  if (s->base == NULL) return fail(PDSM_ERR_RANGE, "the registry lists no %s segment", SEG_NAMES[seg]);
  if (seg == PDSM_BC || !node->master) {
    if (n != 0 && n != node->client_id)
      return fail(PDSM_ERR_RANGE, "slice %d: %s has one slice here", n, SEG_NAMES[seg]);
    *base = s->base;
    *len = s->size;
    return PDSM_OK;
  }
  if (n < 0 || n >= node->remotes) return fail(PDSM_ERR_RANGE, "slice %d is out of range 0..%d", n, node->remotes - 1);
  *base = (unsigned char *)s->base + (size_t)n * node->seg_size;
  *len = node->seg_size;
  return PDSM_OK;
}

void *pdsm_slice(const pdsm_node *node, enum pdsm_segment_name seg, int n, size_t *size) {
  unsigned char *base;
  size_t len;
  if (slice_of(node, seg, n, &base, &len) != PDSM_OK) return NULL;
  if (size != NULL) *size = len;
  return base;
}

/* ---- status records and the seqlock ------------------------------------------------ */

/* The status record of the flow that carries seg (slice n); *incoming says its direction. */
static int record_of(const pdsm_node *node, enum pdsm_segment_name seg, int n, unsigned char **rec, int *incoming) {
  if (!valid_seg(node, seg) || seg == PDSM_ST) return fail(PDSM_ERR_USAGE, "flows are of MO, RO or BC");
  if (node->s[PDSM_ST].base == NULL)
    return fail(PDSM_ERR_NO_STATUS, "the registry lists no status segment (PDSM_ST_key): the daemon is too old");
  if (node->s[seg].base == NULL) return fail(PDSM_ERR_RANGE, "the registry lists no %s segment", SEG_NAMES[seg]);
  size_t index;
  if (!node->master) {
    index = seg == PDSM_MO ? 0 : seg == PDSM_BC ? 1 : 2;
    *incoming = seg != PDSM_RO;
  } else if (seg == PDSM_BC) {
    index = 2u * (size_t)node->remotes;
    *incoming = 0;
  } else {
    if (n < 0 || n >= node->remotes)
      return fail(PDSM_ERR_RANGE, "slice %d is out of range 0..%d", n, node->remotes - 1);
    index = seg == PDSM_RO ? (size_t)n : (size_t)node->remotes + (size_t)n;
    *incoming = seg == PDSM_RO;
  }
  *rec = (unsigned char *)node->s[PDSM_ST].base + index * ST_RECORD;
  return PDSM_OK;
}

int pdsm_status(const pdsm_node *node, enum pdsm_segment_name seg, int n, pdsm_flow_status *out) {
  unsigned char *rec;
  int incoming;
  if (out == NULL) return fail(PDSM_ERR_USAGE, "out must not be NULL");
  int rc = record_of(node, seg, n, &rec, &incoming);
  if (rc != PDSM_OK) return rc;
  out->generation = PDSM_LOAD_ACQUIRE_U64((uint64_t *)rec);
  out->last_batch_ns = PDSM_LOAD_RELAXED_U64((uint64_t *)(rec + ST_LAST_BATCH));
  out->peer_heard_ns = PDSM_LOAD_RELAXED_U64((uint64_t *)(rec + ST_PEER_HEARD));
  out->peer_state = PDSM_LOAD_RELAXED_U32((uint32_t *)(rec + ST_PEER_STATE));
  out->batches = PDSM_LOAD_RELAXED_U64((uint64_t *)(rec + ST_BATCHES));
  return PDSM_OK;
}

uint64_t pdsm_read_begin(const pdsm_node *node, enum pdsm_segment_name seg, int n) {
  unsigned char *rec;
  int incoming;
  if (record_of(node, seg, n, &rec, &incoming) != PDSM_OK) return 1;
  return PDSM_LOAD_ACQUIRE_U64((uint64_t *)rec);
}

int pdsm_read_retry(const pdsm_node *node, enum pdsm_segment_name seg, int n, uint64_t generation) {
  unsigned char *rec;
  int incoming;
  if (record_of(node, seg, n, &rec, &incoming) != PDSM_OK) return 1;
  PDSM_FENCE_ACQUIRE();
  return (generation & 1u) != 0 || PDSM_LOAD_RELAXED_U64((uint64_t *)rec) != generation;
}

static int writable_record(const pdsm_node *node, enum pdsm_segment_name seg, int n, unsigned char **rec) {
  int incoming;
  int rc = record_of(node, seg, n, rec, &incoming);
  if (rc != PDSM_OK) return rc;
  if (incoming)
    return fail(PDSM_ERR_USAGE, "%s is an incoming flow here: the daemon owns its generation", SEG_NAMES[seg]);
  if (node->read_only) return fail(PDSM_ERR_USAGE, "the node was opened read-only");
  return PDSM_OK;
}

int pdsm_write_begin(const pdsm_node *node, enum pdsm_segment_name seg, int n) {
  unsigned char *rec;
  int rc = writable_record(node, seg, n, &rec);
  if (rc != PDSM_OK) return rc;
  PDSM_ADD_SEQ_CST_U64((uint64_t *)rec);
  PDSM_FENCE_RELEASE();
  return PDSM_OK;
}

int pdsm_write_end(const pdsm_node *node, enum pdsm_segment_name seg, int n) {
  unsigned char *rec;
  int rc = writable_record(node, seg, n, &rec);
  if (rc != PDSM_OK) return rc;
  PDSM_ADD_RELEASE_U64((uint64_t *)rec);
  return PDSM_OK;
}

static int range_of(const pdsm_node *node, enum pdsm_segment_name seg, int n, size_t offset, size_t len,
                    unsigned char **at) {
  unsigned char *base;
  size_t size;
  int rc = slice_of(node, seg, n, &base, &size);
  if (rc != PDSM_OK) return rc;
  if (offset > size || len > size - offset)
    return fail(PDSM_ERR_RANGE, "offset %zu length %zu is outside %s (%zu bytes)", offset, len, SEG_NAMES[seg], size);
  *at = base + offset;
  return PDSM_OK;
}

/* Copy with relaxed atomic loads (8-byte words where both sides are aligned), so the copy
 * racing with the daemon's stores is well defined; the generation check decides if it counts. */
static void copy_in(unsigned char *dst, const unsigned char *src, size_t len) {
  size_t i = 0;
  if (((uintptr_t)dst & 7u) == 0 && ((uintptr_t)src & 7u) == 0)
    for (; i + 8 <= len; i += 8) *(uint64_t *)(dst + i) = PDSM_LOAD_RELAXED_U64((const uint64_t *)(src + i));
  for (; i < len; i++) dst[i] = PDSM_LOAD_RELAXED_U8(src + i);
}

static void copy_out(unsigned char *dst, const unsigned char *src, size_t len) {
  size_t i = 0;
  if (((uintptr_t)dst & 7u) == 0 && ((uintptr_t)src & 7u) == 0)
    for (; i + 8 <= len; i += 8) PDSM_STORE_RELAXED_U64((uint64_t *)(dst + i), *(const uint64_t *)(src + i));
  for (; i < len; i++) PDSM_STORE_RELAXED_U8(dst + i, src[i]);
}

int pdsm_read_consistent(const pdsm_node *node, enum pdsm_segment_name seg, int n, size_t offset, void *dst, size_t len,
                         unsigned timeout_ms) {
  unsigned char *rec, *at;
  int incoming;
  if (dst == NULL && len > 0) return fail(PDSM_ERR_USAGE, "dst must not be NULL");
  int rc = record_of(node, seg, n, &rec, &incoming);
  if (rc == PDSM_OK) rc = range_of(node, seg, n, offset, len, &at);
  if (rc != PDSM_OK) return rc;
  uint64_t limit = timeout_ms == 0 ? DEFAULT_TIMEOUT_MS : timeout_ms;
  uint64_t deadline = pdsm_platform_monotonic_ms() + limit;
  volatile uint64_t *gen = (volatile uint64_t *)rec;
  /* Spins: a batch is applied in microseconds. The clock is read every 64 tries. */
  for (uint64_t tries = 0;; tries++) {
    uint64_t before = PDSM_LOAD_ACQUIRE_U64((uint64_t *)gen);
    if ((before & 1u) == 0) {
      copy_in(dst, at, len);
      PDSM_FENCE_ACQUIRE();
      if (PDSM_LOAD_RELAXED_U64((uint64_t *)gen) == before) return PDSM_OK;
    }
    if ((tries & 63u) == 63u && pdsm_platform_monotonic_ms() > deadline) break;
  }
  return fail(PDSM_ERR_BUSY, "%s flow: no stable generation within %llu ms", SEG_NAMES[seg], (unsigned long long)limit);
}

int pdsm_write_consistent(const pdsm_node *node, enum pdsm_segment_name seg, int n, size_t offset, const void *src,
                          size_t len) {
  unsigned char *at;
  if (src == NULL && len > 0) return fail(PDSM_ERR_USAGE, "src must not be NULL");
  int rc = range_of(node, seg, n, offset, len, &at);
  if (rc == PDSM_OK) rc = pdsm_write_begin(node, seg, n);
  if (rc != PDSM_OK) return rc;
  copy_out(at, src, len);
  return pdsm_write_end(node, seg, n);
}

/* ---- flush on demand -------------------------------------------------------------- */

#define FLUSH_TIMEOUT_MS 10000u
#define MAX_ANSWER_BYTES 65536

int pdsm_flush(const pdsm_node *node, enum pdsm_segment_name seg, int n, unsigned timeout_ms) {
  if (node == NULL) return fail(PDSM_ERR_USAGE, "node must not be NULL");
  char line[128];
  if (!node->master) {
    if (seg != PDSM_RO) return fail(PDSM_ERR_RANGE, "a remote sends only RO: flush PDSM_RO");
    snprintf(line, sizeof line, "{\"cmd\":\"flush\",\"flow\":\"ro\"}\n");
  } else if (seg == PDSM_BC) {
    if (node->s[PDSM_BC].base == NULL) return fail(PDSM_ERR_RANGE, "the registry lists no BC segment");
    snprintf(line, sizeof line, "{\"cmd\":\"flush\",\"flow\":\"bc\"}\n");
  } else if (seg == PDSM_MO) {
    if (n < -1 || n >= node->remotes)
      return fail(PDSM_ERR_RANGE, "slice %d is out of range -1..%d", n, node->remotes - 1);
    if (n == -1)
      snprintf(line, sizeof line, "{\"cmd\":\"flush\",\"flow\":\"mo\"}\n");
    else
      snprintf(line, sizeof line, "{\"cmd\":\"flush\",\"flow\":\"mo\",\"client\":%d}\n", n);
  } else {
    return fail(PDSM_ERR_RANGE, "the master sends MO and BC: flush PDSM_MO or PDSM_BC");
  }
  if (node->socket_rc != PDSM_OK) return fail(node->socket_rc, "%s", node->socket_why);
  char *answer = malloc(MAX_ANSWER_BYTES);
  if (answer == NULL) return fail(PDSM_ERR_NOMEM, "out of memory");
  char why[PDSM_WHY_SIZE];
  int rc = pdsm_platform_request(node->socket_path, line, answer, MAX_ANSWER_BYTES,
                                 timeout_ms == 0 ? FLUSH_TIMEOUT_MS : timeout_ms, why);
  if (rc != PDSM_OK)
    rc = fail(rc, "%s", why);
  else if (strstr(answer, "\"error\"") != NULL)
    rc = fail(PDSM_ERR_DAEMON, "the daemon on %s refused the flush: %.200s", node->socket_path, answer);
  else if (strstr(answer, "\"flushed\"") == NULL)
    rc = fail(PDSM_ERR_DAEMON, "the daemon on %s sent an unexpected answer: %.200s", node->socket_path, answer);
  else if (strstr(answer, "\"outcome\":\"busy\"") != NULL)
    rc = fail(PDSM_ERR_BUSY, "writers hold the flow's generation odd or moving: nothing was sent (%.200s)", answer);
  free(answer);
  return rc;
}
