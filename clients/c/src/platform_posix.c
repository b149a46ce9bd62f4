/*
 * POSIX side of the platform seam (platform.h): SysV shared memory and registry files read
 * without following symlinks. The Windows build compiles platform_win.c instead.
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE
#include "platform.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "pdsm.h"

int pdsm_platform_read_file(const char *path, char *buf, size_t max, char *why) {
  int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    snprintf(why, PDSM_WHY_SIZE, "registry file %s %s", path,
             e == ELOOP    ? "is a symlink; refusing to follow it"
             : e == ENOENT ? "does not exist (is the daemon running?)"
                           : strerror(e));
    return PDSM_ERR_REGISTRY;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    snprintf(why, PDSM_WHY_SIZE, "registry file %s is not a regular file", path);
    close(fd);
    return PDSM_ERR_REGISTRY;
  }
  size_t got = 0;
  for (;;) {
    if (got == max) {
      snprintf(why, PDSM_WHY_SIZE, "registry file %s is larger than %zu bytes", path, max);
      close(fd);
      return PDSM_ERR_REGISTRY;
    }
    ssize_t n = read(fd, buf + got, max - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      snprintf(why, PDSM_WHY_SIZE, "registry file %s: %s", path, strerror(errno));
      close(fd);
      return PDSM_ERR_REGISTRY;
    }
    if (n == 0) break;
    got += (size_t)n;
  }
  close(fd);
  buf[got] = '\0';
  if (memchr(buf, '\0', got) != NULL) {
    snprintf(why, PDSM_WHY_SIZE, "registry file %s holds a NUL byte", path);
    return PDSM_ERR_REGISTRY;
  }
  return PDSM_OK;
}

const char *pdsm_platform_registry_dir(char *buf, size_t size) {
  const char *env = getenv("PDSM_REGISTRY_DIR");
  const char *dir = env != NULL && *env != '\0' ? env : "/tmp";
  if (strlen(dir) >= size) return NULL;
  memcpy(buf, dir, strlen(dir) + 1);
  return buf;
}

int pdsm_platform_attach(uint32_t key, size_t expected, int read_only, int global, void **base, void **handle,
                         char *why) {
  (void)global; /* SysV keys have no namespace */
  /* Size 0: find the segment whatever its size, then compare the kernel's size with the
   * registry's, so a lying registry can never make us map or touch past the segment. */
  int id = shmget((key_t)key, 0, 0);
  if (id < 0) {
    snprintf(why, PDSM_WHY_SIZE, "shmget key 0x%x: %s", (unsigned)key, strerror(errno));
    return PDSM_ERR_SEGMENT;
  }
  struct shmid_ds ds;
  if (shmctl(id, IPC_STAT, &ds) != 0) {
    snprintf(why, PDSM_WHY_SIZE, "shmctl IPC_STAT key 0x%x: %s", (unsigned)key, strerror(errno));
    return PDSM_ERR_SEGMENT;
  }
  if ((size_t)ds.shm_segsz != expected) {
    snprintf(why, PDSM_WHY_SIZE, "segment key 0x%x has %zu bytes but the registry says %zu", (unsigned)key,
             (size_t)ds.shm_segsz, expected);
    return PDSM_ERR_SEGMENT_SIZE;
  }
  void *p = shmat(id, NULL, read_only ? SHM_RDONLY : 0);
  if (p == (void *)-1) {
    snprintf(why, PDSM_WHY_SIZE, "shmat key 0x%x: %s", (unsigned)key, strerror(errno));
    return PDSM_ERR_SEGMENT;
  }
  *base = p;
  *handle = NULL;
  return PDSM_OK;
}

void pdsm_platform_detach(void *base, void *handle) {
  (void)handle;
  if (base != NULL) shmdt(base);
}

uint64_t pdsm_platform_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t pdsm_platform_monotonic_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int pdsm_platform_control_path(const char *folder, int master, int client_id, char *buf, size_t size, char *why) {
  int n = master ? snprintf(buf, size, "%s/pdsm_master.sock", folder)
                 : snprintf(buf, size, "%s/pdsm_remote_%d.sock", folder, client_id);
  if (n >= 0 && (size_t)n < size) return PDSM_OK;
  snprintf(why, PDSM_WHY_SIZE, "registry folder path is too long");
  return PDSM_ERR_USAGE;
}

/* Wait for fd to be ready for events until the monotonic deadline; 1 ready, 0 timed out, -1 error. */
static int wait_fd(int fd, short events, uint64_t deadline) {
  for (;;) {
    uint64_t now = pdsm_platform_monotonic_ms();
    if (now >= deadline) return 0;
    struct pollfd p = {fd, events, 0};
    int r = poll(&p, 1, (int)(deadline - now));
    if (r < 0 && errno == EINTR) continue;
    return r < 0 ? -1 : r > 0 ? 1 : 0;
  }
}

int pdsm_platform_request(const char *path, const char *line, char *answer, size_t max, unsigned timeout_ms,
                          char *why) {
  struct sockaddr_un sa;
  memset(&sa, 0, sizeof sa);
  sa.sun_family = AF_UNIX;
  if (strlen(path) >= sizeof sa.sun_path) {
    snprintf(why, PDSM_WHY_SIZE, "control socket path %s is too long for a UNIX socket", path);
    return PDSM_ERR_DAEMON;
  }
  memcpy(sa.sun_path, path, strlen(path));
  uint64_t deadline = pdsm_platform_monotonic_ms() + timeout_ms;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    snprintf(why, PDSM_WHY_SIZE, "socket for %s: %s", path, strerror(errno));
    return PDSM_ERR_DAEMON;
  }
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
    int e = errno;
    snprintf(why, PDSM_WHY_SIZE, "no daemon answers on %s: %s (not running, or another folder or client id?)", path,
             e == ENOENT         ? "no such socket"
             : e == ECONNREFUSED ? "nobody listens (a stale socket)"
             : e == EACCES       ? "permission denied (the socket is not writable by you)"
                                 : strerror(e));
    close(fd);
    return PDSM_ERR_DAEMON;
  }
  size_t len = strlen(line), sent = 0;
  while (sent < len) {
    int ready = wait_fd(fd, POLLOUT, deadline);
    ssize_t n = ready > 0 ? send(fd, line + sent, len - sent, MSG_NOSIGNAL | MSG_DONTWAIT) : -1;
    if (n < 0 && ready > 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) {
      snprintf(why, PDSM_WHY_SIZE, "sending to the daemon on %s: %s", path, ready == 0 ? "timed out" : strerror(errno));
      close(fd);
      return PDSM_ERR_DAEMON;
    }
    sent += (size_t)n;
  }
  size_t got = 0;
  for (;;) {
    int ready = wait_fd(fd, POLLIN, deadline);
    if (ready == 0) {
      snprintf(why, PDSM_WHY_SIZE, "no answer from the daemon on %s within %u ms", path, timeout_ms);
      close(fd);
      return PDSM_ERR_DAEMON;
    }
    ssize_t n = ready > 0 ? recv(fd, answer + got, max - 1 - got, MSG_DONTWAIT) : -1;
    if (n < 0 && ready > 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) {
      snprintf(why, PDSM_WHY_SIZE, "the daemon on %s closed the connection without an answer", path);
      close(fd);
      return PDSM_ERR_DAEMON;
    }
    got += (size_t)n;
    answer[got] = '\0';
    char *nl = strchr(answer, '\n');
    if (nl != NULL) {
      *nl = '\0';
      close(fd);
      return PDSM_OK;
    }
    if (got == max - 1) {
      snprintf(why, PDSM_WHY_SIZE, "the daemon on %s answered more than %zu bytes", path, max - 1);
      close(fd);
      return PDSM_ERR_DAEMON;
    }
  }
}
