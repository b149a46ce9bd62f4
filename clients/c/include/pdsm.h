/*
 * libpdsm: attach a C program to the segments of a PDSM node (docs/design.md §3, §3b).
 *
 *   pdsm_node *node;
 *   if (pdsm_open_remote(NULL, 3, 0, &node) != PDSM_OK) { fprintf(stderr, "%s\n", pdsm_last_message()); return 1; }
 *   volatile uint64_t *ro = pdsm_segment(node, PDSM_RO, NULL);
 *   ro[0] = 42;                          // a plain store: travels to slice 3 of the master's RO
 *   pdsm_close(node);
 *
 * The library finds a node's segments through its registry file (the master's
 * pdsm_master_registry or remote n's pdsm_registry_client_<n>, in the folder given, else
 * $PDSM_REGISTRY_DIR, else /tmp, on Windows the user's temp folder as GetTempPathW gives it),
 * attaches them without ever creating one, and checks every size the file claims against the
 * size the kernel reports. It gives the status segment's seqlock both ways: a consistent read
 * copies an incoming flow's data only while the daemon is not applying a batch, a consistent
 * write makes a multi-word update travel in one batch.
 *
 * Errors are stable codes (enum pdsm_error, never renumbered); pdsm_strerror() names a code,
 * pdsm_last_message() says what failed in the calling thread's last failing call (the file,
 * key or size). Nothing here prints or exits.
 *
 * Thread safety: one pdsm_node may be used from many threads; open and close are not
 * concurrent with other calls on the same node. Writers of one outgoing flow on one node
 * coordinate among themselves (docs/design.md §3b).
 *
 * Windows x64 (make -C clients/c windows, mingw-w64): the same API over the named file
 * mappings of the addon's Windows backend (`Local\pdsm-<key hex>`, native/shm_win.cc):
 * pdsm.dll with its import library libpdsm.dll.a, or the static libpdsm.a. Paths are UTF-8
 * there. Define PDSM_DLL when linking against pdsm.dll to call through
 * __declspec(dllimport) (optional: the import library works without it), never with the
 * static library.
 */
#ifndef PDSM_H
#define PDSM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Windows: pdsm.dll exports exactly the calls marked PDSM_API. Elsewhere it is empty. */
#if defined(_WIN32) && defined(PDSM_BUILDING_DLL)
#define PDSM_API __declspec(dllexport)
#elif defined(_WIN32) && defined(PDSM_DLL)
#define PDSM_API __declspec(dllimport)
#else
#define PDSM_API
#endif

#define PDSM_VERSION_MAJOR 0
#define PDSM_VERSION_MINOR 1
#define PDSM_VERSION_PATCH 0

/* Stable error codes: the numbers never change; new codes are added at the end. They match
 * the PDSM_ERR_* codes of the daemons and the Node library where a counterpart exists. */
enum pdsm_error {
  PDSM_OK = 0,
  PDSM_ERR_USAGE = 1,        /* a NULL or invalid argument */
  PDSM_ERR_REGISTRY = 2,     /* registry file missing, unreadable, malformed, a symlink or not a regular file */
  PDSM_ERR_SEGMENT = 3,      /* shmget/shmat failed, or a segment listed in the registry does not exist */
  PDSM_ERR_SEGMENT_SIZE = 4, /* a segment's size differs from what the registry says, or the sizes disagree */
  PDSM_ERR_RANGE = 5,        /* an offset, length, slice or flow is outside the segment or node */
  PDSM_ERR_BUSY = 6,         /* a consistent read found no stable generation in time */
  PDSM_ERR_NO_STATUS = 7,    /* the registry lists no status segment (a daemon too old for seqlocks) */
  PDSM_ERR_NOMEM = 8,        /* out of memory */
  PDSM_ERR_UNSUPPORTED = 9,  /* not available on this platform */
  PDSM_ERR_DAEMON = 10       /* no daemon answers on the control socket in time, or it refused the request */
};

/* The segments of a node (docs/design.md §1). */
enum pdsm_segment_name {
  PDSM_MO = 0, /* master owned: written on the master, read on remote n (slice n on the master) */
  PDSM_RO = 1, /* remote owned: written on remote n, read on the master (slice n) */
  PDSM_BC = 2, /* broadcast: written on the master, read on every remote (optional) */
  PDSM_ST = 3  /* status: one 64-byte record per flow, local to the node */
};

/* Peer state in a status record. */
enum pdsm_peer_state { PDSM_PEER_UNKNOWN = 0, PDSM_PEER_JOINING = 1, PDSM_PEER_UP = 2, PDSM_PEER_DOWN = 3 };

/* pdsm_open_* flags. */
#define PDSM_READ_ONLY 1u /* attach every segment read-only (consistent writes then fail with PDSM_ERR_USAGE) */

/* A status record as read from ST (docs/design.md §3b). Times are Unix nanoseconds, 0 = never. */
typedef struct pdsm_flow_status {
  uint64_t generation;    /* even: stable; odd: a batch is being applied (in) or written (out) */
  uint64_t last_batch_ns; /* last batch applied (in) or sent (out) */
  uint64_t peer_heard_ns; /* the peer was last heard */
  uint32_t peer_state;    /* enum pdsm_peer_state */
  uint64_t batches;       /* batches applied or sent */
} pdsm_flow_status;

typedef struct pdsm_node pdsm_node;

/* Attach to the master's segments. dir: registry folder, or NULL for $PDSM_REGISTRY_DIR, else /tmp
 * (Windows: the temp folder). */
PDSM_API int pdsm_open_master(const char *dir, unsigned flags, pdsm_node **out);
/* Attach to remote client_id's segments (0..16383). */
PDSM_API int pdsm_open_remote(const char *dir, int client_id, unsigned flags, pdsm_node **out);
/* Detach every segment and free the node. NULL is fine. Pointers handed out become invalid. */
PDSM_API void pdsm_close(pdsm_node *node);

/* 1 on the master, 0 on a remote. */
PDSM_API int pdsm_is_master(const pdsm_node *node);
/* The remote's client id, or -1 on the master. */
PDSM_API int pdsm_client_id(const pdsm_node *node);
/* Number of remotes (slices) on the master; 1 on a remote. */
PDSM_API int pdsm_remotes(const pdsm_node *node);

/* Base of a whole segment, its size in *size (when size is not NULL); NULL when the node
 * has no such segment (BC without -b) or on a bad argument. Segments are 4096-aligned. */
PDSM_API void *pdsm_segment(const pdsm_node *node, enum pdsm_segment_name seg, size_t *size);
/* Slice n of MO or RO: on the master the n-th Seg_size part, on a remote (n must be 0 or
 * its client id) the whole segment. BC has one slice, n = 0. NULL when out of range. */
PDSM_API void *pdsm_slice(const pdsm_node *node, enum pdsm_segment_name seg, int n, size_t *size);

/* The status record of the flow that carries segment seg (slice n on the master; n is
 * ignored on a remote and for BC). Remote: MO in, BC in, RO out. Master: RO n in, MO n out,
 * BC out. Fields are loaded atomically one by one. */
PDSM_API int pdsm_status(const pdsm_node *node, enum pdsm_segment_name seg, int n, pdsm_flow_status *out);
/* Unix time in nanoseconds (CLOCK_REALTIME; Windows: the system time), for ages:
 * pdsm_now_ns() - st.last_batch_ns. */
PDSM_API uint64_t pdsm_now_ns(void);

/* Consistent read of an incoming flow (remote: MO, BC; master: RO slice n): copy len bytes
 * at offset (within the slice) into dst, retried until the copy ran while the generation
 * was even and unchanged. timeout_ms bounds the wait (0: 200 ms); PDSM_ERR_BUSY after it. */
PDSM_API int pdsm_read_consistent(const pdsm_node *node, enum pdsm_segment_name seg, int n, size_t offset, void *dst,
                                  size_t len, unsigned timeout_ms);
/* Consistent write of an outgoing flow (remote: RO; master: MO slice n, BC): copy len bytes
 * from src to offset inside one odd generation, so they travel in one batch. */
PDSM_API int pdsm_write_consistent(const pdsm_node *node, enum pdsm_segment_name seg, int n, size_t offset,
                                   const void *src, size_t len);

/* The seqlock by hand, for programs that read or write in place.
 *   Reader:  uint64_t g; do { g = pdsm_read_begin(node, PDSM_MO, 0); ...loads... } while (pdsm_read_retry(node,
 * PDSM_MO, 0, g)); Writer:  pdsm_write_begin(node, PDSM_RO, 0); ...stores...; pdsm_write_end(node, PDSM_RO, 0);
 * read_begin returns the generation (odd means retry); read_retry returns nonzero when the
 * loads must be repeated. A reader loop of its own must bound its retries. On a bad argument
 * read_begin returns 1 (odd) and read_retry nonzero; write_begin/end return an error code. */
PDSM_API uint64_t pdsm_read_begin(const pdsm_node *node, enum pdsm_segment_name seg, int n);
PDSM_API int pdsm_read_retry(const pdsm_node *node, enum pdsm_segment_name seg, int n, uint64_t generation);
PDSM_API int pdsm_write_begin(const pdsm_node *node, enum pdsm_segment_name seg, int n);
PDSM_API int pdsm_write_end(const pdsm_node *node, enum pdsm_segment_name seg, int n);

/* Flush on demand (README "Flush on demand"): ask the node's daemon, through its control
 * socket (<registry dir>/pdsm_master.sock or pdsm_remote_<n>.sock; on Windows the named pipe
 * \\.\pipe\pdsm-<folder hash>-master or -remote-<n>, src/platform.ts), to scan the outgoing
 * flow that carries seg and send what changed now instead of at the next interval. Master:
 * PDSM_MO slice n (n = -1: every slice) or PDSM_BC; remote: PDSM_RO (n ignored). Blocks
 * until the daemon has scanned and queued the datagrams, at most timeout_ms (0: 10000).
 * PDSM_OK also when nothing changed or the flow has no session (the next session starts
 * with a full batch); PDSM_ERR_BUSY when writers held the flow's generation odd or moving;
 * PDSM_ERR_DAEMON when no daemon answers (pdsm_last_message names the socket or pipe) or it
 * refused. The daemon coalesces flushes and spaces a flow's flush scans (--flush-min-ms). */
PDSM_API int pdsm_flush(const pdsm_node *node, enum pdsm_segment_name seg, int n, unsigned timeout_ms);

/* The name of a code, e.g. "PDSM_ERR_REGISTRY: registry file missing or malformed". Never NULL. */
PDSM_API const char *pdsm_strerror(int code);
/* What the calling thread's last failing call said (file, key, sizes), "" if none. */
PDSM_API const char *pdsm_last_message(void);

#ifdef __cplusplus
}
#endif
#endif /* PDSM_H */
