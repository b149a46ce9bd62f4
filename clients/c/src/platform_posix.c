/*
 * POSIX side of the platform seam (platform.h): SysV shared memory and registry files read
 * without following symlinks. The Windows build compiles platform_win.c instead.
 */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE
#include "platform.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/stat.h>
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

int pdsm_platform_attach(uint32_t key, size_t expected, int read_only, void **base, void **handle, char *why) {
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
