/*
 * The platform seam of libpdsm: everything that differs between POSIX (SysV shared memory)
 * and Windows (named file mappings) is behind these calls, so pdsm.c holds no system call.
 * platform_posix.c implements them with shmget/shmctl/shmat/shmdt and open(O_NOFOLLOW);
 * the Windows build (make windows) compiles platform_win.c instead: OpenFileMappingW +
 * MapViewOfFile on the names the addon's Windows backend gives each key (native/shm_win.cc,
 * `Local\pdsm-<key in hex>`, or `Global\pdsm-<key in hex>` when the registry file's
 * `PDSM_namespace Global` line says so), with the same contract.
 */
#ifndef PDSM_PLATFORM_H
#define PDSM_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

#define PDSM_WHY_SIZE 256

/* Read a registry file of at most max bytes into buf (NUL-terminated). Refuses a symlink
 * and anything but a regular file. Returns a pdsm_error code; on failure why says what. */
int pdsm_platform_read_file(const char *path, char *buf, size_t max, char *why);

/* The registry folder when the caller names none: $PDSM_REGISTRY_DIR when set and not empty,
 * else the platform's default (POSIX: /tmp, as the daemons; Windows: the user's temp folder,
 * GetTempPathW, without its trailing separator). Written into buf (size bytes); returns buf,
 * or NULL when it does not fit. */
const char *pdsm_platform_registry_dir(char *buf, size_t size);

/* Attach the existing segment `key` (never create). expected is the size the registry
 * claims: the segment's real size must equal it, or PDSM_ERR_SEGMENT_SIZE. global: the
 * registry said `PDSM_namespace Global` (Windows: Global\ instead of Local\; POSIX ignores
 * it, SysV keys have no namespace). On success *base is the mapping and *handle whatever
 * pdsm_platform_detach needs. */
int pdsm_platform_attach(uint32_t key, size_t expected, int read_only, int global, void **base, void **handle,
                         char *why);

/* Detach a mapping made by pdsm_platform_attach. */
void pdsm_platform_detach(void *base, void *handle);

/* The daemon's control endpoint for the master (master nonzero) or remote client_id of the
 * registry folder, into buf (size bytes), as src/platform.ts names it: POSIX the UNIX socket
 * <folder>/pdsm_master.sock or pdsm_remote_<n>.sock; Windows the named pipe
 * \\.\pipe\pdsm-<folder hash>-master or -remote-<n>. Returns a pdsm_error code; on failure
 * why says what. */
int pdsm_platform_control_path(const char *folder, int master, int client_id, char *buf, size_t size, char *why);

/* One request on a local stream socket (the daemon's control socket; on Windows its named
 * pipe): connect to path, send
 * line, read one answer line (without its newline, NUL-terminated, at most max - 1 bytes)
 * within timeout_ms. PDSM_ERR_DAEMON with why naming path when nobody answers in time. */
int pdsm_platform_request(const char *path, const char *line, char *answer, size_t max, unsigned timeout_ms, char *why);

/* Unix time in nanoseconds. */
uint64_t pdsm_platform_now_ns(void);

/* Monotonic milliseconds, for timeouts. */
uint64_t pdsm_platform_monotonic_ms(void);

#endif
