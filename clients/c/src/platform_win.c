/*
 * Windows side of the platform seam (platform.h), compiled by `make windows` instead of
 * platform_posix.c. A segment is the named file mapping the addon's Windows backend makes
 * for a key (native/shm_win.cc): `Local\pdsm-<key in lowercase hex>`, or `Global\pdsm-...`
 * when the registry file says `PDSM_namespace Global` (the daemon could create global
 * objects), backed by the paging file, of exactly the size the creator asked. Only the one
 * namespace the registry names is searched, never the other as a guess.
 *
 * pdsm_flush reaches the daemon through its named pipe (pdsm_platform_control_path below, the name
 * src/platform.ts gives it), hashing the folder with CNG: the library links bcrypt.dll.
 *
 * Paths (the registry folder, $PDSM_REGISTRY_DIR) are UTF-8 here and converted to UTF-16
 * for the W calls, so a folder with any name works; the messages stay UTF-8.
 */
#ifndef _WIN32_WINNT
#define _WIN32_WINNT 0x0A00
#endif
#define WIN32_LEAN_AND_MEAN
#include <windows.h>

#include <bcrypt.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pdsm.h"
#include "platform.h"

#define WIDE_PATH 32768

/* "File not found (Win32 error 2)": the system's text for err, without its trailing period. */
static void win_error(DWORD err, char *out, size_t size) {
  char text[200] = "";
  DWORD n = FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL, err,
                           MAKELANGID(LANG_ENGLISH, SUBLANG_DEFAULT), text, sizeof text, NULL);
  while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' ' || text[n - 1] == '.'))
    text[--n] = '\0';
  snprintf(out, size, "%s (Win32 error %lu)", n > 0 ? text : "unknown error", (unsigned long)err);
}

/* UTF-16 from UTF-8; 0 when the text is not UTF-8 or too long. */
static int to_wide(const char *utf8, wchar_t *out, int size) {
  return MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, utf8, -1, out, size) > 0;
}

const char *pdsm_platform_registry_dir(char *buf, size_t size) {
  static const wchar_t NAME[] = L"PDSM_REGISTRY_DIR";
  wchar_t *wide = malloc(WIDE_PATH * sizeof *wide);
  if (wide == NULL) return NULL;
  DWORD n = GetEnvironmentVariableW(NAME, wide, WIDE_PATH);
  if (n == 0 || n >= WIDE_PATH) {
    n = GetTempPathW(WIDE_PATH, wide);
    /* GetTempPathW ends with a separator; the library adds its own. */
    if (n > 1 && n < WIDE_PATH && (wide[n - 1] == L'\\' || wide[n - 1] == L'/') && wide[n - 2] != L':') wide[--n] = 0;
  }
  int ok = n > 0 && n < WIDE_PATH && size <= INT_MAX &&
           WideCharToMultiByte(CP_UTF8, 0, wide, -1, buf, (int)size, NULL, NULL) > 0;
  free(wide);
  return ok ? buf : NULL;
}

int pdsm_platform_read_file(const char *path, char *buf, size_t max, char *why) {
  char err[256];
  wchar_t *wide = malloc(WIDE_PATH * sizeof *wide);
  if (wide == NULL) {
    snprintf(why, PDSM_WHY_SIZE, "registry file %s: out of memory", path);
    return PDSM_ERR_NOMEM;
  }
  if (!to_wide(path, wide, WIDE_PATH)) {
    free(wide);
    snprintf(why, PDSM_WHY_SIZE, "registry file %s: the path is not UTF-8 or is too long", path);
    return PDSM_ERR_REGISTRY;
  }
  /* OPEN_REPARSE_POINT: a symlink or junction is opened itself, not followed, and refused
   * below; BACKUP_SEMANTICS lets a folder open too, to be refused as not a regular file. */
  HANDLE h = CreateFileW(wide, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                         OPEN_EXISTING, FILE_FLAG_OPEN_REPARSE_POINT | FILE_FLAG_BACKUP_SEMANTICS, NULL);
  free(wide);
  if (h == INVALID_HANDLE_VALUE) {
    DWORD e = GetLastError();
    win_error(e, err, sizeof err);
    snprintf(why, PDSM_WHY_SIZE, "registry file %s %s", path,
             e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND ? "does not exist (is the daemon running?)" : err);
    return PDSM_ERR_REGISTRY;
  }
  BY_HANDLE_FILE_INFORMATION info;
  int rc = PDSM_OK, have = GetFileInformationByHandle(h, &info) != 0;
  if (have && (info.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT)) {
    snprintf(why, PDSM_WHY_SIZE, "registry file %s is a symlink or reparse point; refusing to follow it", path);
    rc = PDSM_ERR_REGISTRY;
  } else if (!have || (info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) || GetFileType(h) != FILE_TYPE_DISK) {
    snprintf(why, PDSM_WHY_SIZE, "registry file %s is not a regular file", path);
    rc = PDSM_ERR_REGISTRY;
  }
  size_t got = 0;
  while (rc == PDSM_OK) {
    if (got == max) {
      snprintf(why, PDSM_WHY_SIZE, "registry file %s is larger than %zu bytes", path, max);
      rc = PDSM_ERR_REGISTRY;
      break;
    }
    DWORD want = max - got > 0x10000000u ? 0x10000000u : (DWORD)(max - got), n = 0;
    if (!ReadFile(h, buf + got, want, &n, NULL)) {
      win_error(GetLastError(), err, sizeof err);
      snprintf(why, PDSM_WHY_SIZE, "registry file %s: %s", path, err);
      rc = PDSM_ERR_REGISTRY;
      break;
    }
    if (n == 0) break;
    got += n;
  }
  CloseHandle(h);
  if (rc != PDSM_OK) return rc;
  buf[got] = '\0';
  if (memchr(buf, '\0', got) != NULL) {
    snprintf(why, PDSM_WHY_SIZE, "registry file %s holds a NUL byte", path);
    return PDSM_ERR_REGISTRY;
  }
  return PDSM_OK;
}

/* The exact size of a section (NtQuerySection, SectionBasicInformation; the handle needs
 * SECTION_QUERY), as shm_win.cc asks it; 0 when Windows will not say. */
static size_t section_size(HANDLE h) {
  typedef struct {
    PVOID base;
    ULONG attributes;
    LARGE_INTEGER size;
  } section_basic_information;
  typedef LONG(WINAPI * query_fn)(HANDLE, int, PVOID, ULONG, PULONG);
  HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
  FARPROC proc = ntdll != NULL ? GetProcAddress(ntdll, "NtQuerySection") : NULL;
  if (proc == NULL) return 0;
  query_fn query;
  memcpy(&query, &proc, sizeof query);
  section_basic_information info;
  memset(&info, 0, sizeof info);
  if (query(h, 0, &info, sizeof info, NULL) < 0) return 0;
  return (size_t)info.size.QuadPart;
}

int pdsm_platform_attach(uint32_t key, size_t expected, int read_only, int global, void **base, void **handle,
                         char *why) {
  char err[256], name[32];
  wchar_t wide[32];
  snprintf(name, sizeof name, "%s\\pdsm-%x", global ? "Global" : "Local", (unsigned)key);
  to_wide(name, wide, 32);
  DWORD access = SECTION_QUERY | FILE_MAP_READ | (read_only ? 0 : FILE_MAP_WRITE);
  HANDLE h = OpenFileMappingW(access, FALSE, wide);
  if (h == NULL) {
    DWORD e = GetLastError();
    win_error(e, err, sizeof err);
    snprintf(why, PDSM_WHY_SIZE, "key 0x%x: OpenFileMappingW %s: %s", (unsigned)key, name,
             e == ERROR_FILE_NOT_FOUND ? "no such mapping (ERROR_FILE_NOT_FOUND)" : err);
    return PDSM_ERR_SEGMENT;
  }
  /* Map the whole section, then compare its size with the registry's before handing it out,
   * so a lying registry can never make us touch past the segment. Without NtQuerySection the
   * view's extent (whole pages) is all Windows says: then the registry's size rounded up to a
   * page must match it. */
  void *p = MapViewOfFile(h, read_only ? FILE_MAP_READ : FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, 0);
  DWORD map_err = GetLastError();
  size_t actual = p != NULL ? section_size(h) : 0;
  CloseHandle(h); /* the view keeps the section alive */
  if (p == NULL) {
    win_error(map_err, err, sizeof err);
    snprintf(why, PDSM_WHY_SIZE, "key 0x%x: MapViewOfFile %s: %s", (unsigned)key, name, err);
    return PDSM_ERR_SEGMENT;
  }
  size_t compared = expected;
  if (actual == 0) {
    MEMORY_BASIC_INFORMATION mbi;
    SYSTEM_INFO si;
    GetSystemInfo(&si);
    actual = VirtualQuery(p, &mbi, sizeof mbi) != 0 ? mbi.RegionSize : 0;
    compared = (expected + si.dwPageSize - 1) / si.dwPageSize * si.dwPageSize;
  }
  if (actual != compared) {
    UnmapViewOfFile(p);
    snprintf(why, PDSM_WHY_SIZE, "segment key 0x%x (%s) has %zu bytes but the registry says %zu", (unsigned)key, name,
             actual, expected);
    return PDSM_ERR_SEGMENT_SIZE;
  }
  *base = p;
  *handle = NULL;
  return PDSM_OK;
}

void pdsm_platform_detach(void *base, void *handle) {
  (void)handle;
  if (base != NULL) UnmapViewOfFile(base);
}

uint64_t pdsm_platform_now_ns(void) {
  /* FILETIME: 100 ns ticks since 1601-01-01; 11644473600 s before the Unix epoch. */
  FILETIME ft;
  GetSystemTimePreciseAsFileTime(&ft);
  uint64_t ticks = ((uint64_t)ft.dwHighDateTime << 32) | ft.dwLowDateTime;
  return (ticks - 116444736000000000ull) * 100u;
}

uint64_t pdsm_platform_monotonic_ms(void) { return GetTickCount64(); }

/* SHA-256 of data through CNG (bcrypt.dll); 1 on success. */
static int sha256(const unsigned char *data, size_t len, unsigned char out[32]) {
  BCRYPT_ALG_HANDLE alg = NULL;
  BCRYPT_HASH_HANDLE hash = NULL;
  int ok = len <= 0xffffffffu && BCRYPT_SUCCESS(BCryptOpenAlgorithmProvider(&alg, BCRYPT_SHA256_ALGORITHM, NULL, 0));
  /* No hash object buffer: CNG allocates it (Windows 7 and later). */
  ok = ok && BCRYPT_SUCCESS(BCryptCreateHash(alg, &hash, NULL, 0, NULL, 0, 0));
  ok = ok && BCRYPT_SUCCESS(BCryptHashData(hash, (PUCHAR)data, (ULONG)len, 0));
  ok = ok && BCRYPT_SUCCESS(BCryptFinishHash(hash, out, 32, 0));
  if (hash != NULL) BCryptDestroyHash(hash);
  if (alg != NULL) BCryptCloseAlgorithmProvider(alg, 0);
  return ok;
}

/*
 * The daemon's named pipe, as src/platform.ts `windows.controlPath` names it:
 * \\.\pipe\pdsm-<folder hash>-master or -remote-<n>, the folder hash being the first 16 hex
 * digits of the SHA-256 of the UTF-8 of Node's path.resolve(folder).toLowerCase().
 *
 * path.resolve on Windows: relative to the current folder, "/" made "\", "." and ".." and
 * repeated separators gone, and no trailing "\" except on a root ("C:\", "\\server\share\").
 * GetFullPathNameW does the same but keeps a trailing "\" (dropped below unless the path is a
 * root) and also strips trailing dots and spaces of the last name, which Node keeps: a folder
 * named "x." or "x " (which Windows tools rarely make) hashes differently, as do folder names
 * GetFullPathNameW and Node treat apart (\\?\ paths, device names such as CON). Both sides see
 * the same folder only when the two processes have the same current folder, if it is relative.
 *
 * toLowerCase: LCMapStringEx with the invariant locale maps each UTF-16 unit as JavaScript's
 * toLowerCase does for ASCII and for nearly all of the rest of Unicode. They differ where
 * JavaScript's mapping is not one unit for one: U+0130 (I with dot above) becomes "i" plus a
 * combining dot in JavaScript, a final capital sigma becomes a final small sigma, and
 * letters outside the BMP (surrogate pairs); a folder whose path holds those gets another
 * hash, and pdsm_flush then names a pipe nobody serves.
 */
int pdsm_platform_control_path(const char *folder, int master, int client_id, char *buf, size_t size, char *why) {
  char err[256];
  wchar_t *wide = malloc(3 * WIDE_PATH * sizeof *wide), *full = wide + WIDE_PATH, *lower = full + WIDE_PATH;
  char *utf8 = malloc(4 * WIDE_PATH);
  if (wide == NULL || utf8 == NULL) {
    free(wide);
    free(utf8);
    snprintf(why, PDSM_WHY_SIZE, "registry folder %s: out of memory", folder);
    return PDSM_ERR_NOMEM;
  }
  int rc = PDSM_ERR_USAGE;
  DWORD n = 0;
  int m = 0;
  unsigned char digest[32];
  if (!to_wide(folder, wide, WIDE_PATH)) {
    snprintf(why, PDSM_WHY_SIZE, "registry folder %s: the path is not UTF-8 or is too long", folder);
  } else if ((n = GetFullPathNameW(wide, WIDE_PATH, full, NULL)) == 0 || n >= WIDE_PATH) {
    win_error(GetLastError(), err, sizeof err);
    snprintf(why, PDSM_WHY_SIZE, "registry folder %s: GetFullPathNameW: %s", folder, n == 0 ? err : "too long");
  } else {
    /* A root keeps its "\": "C:\" (3 units) or "\\server\share\" (four "\", the last at the end). */
    DWORD separators = 0;
    for (DWORD i = 0; i < n; i++) separators += full[i] == L'\\';
    /* UNC, not a device path ("\\?\C:", "\\.\x": Node leaves those as they are). */
    int unc =
        n > 3 && full[0] == L'\\' && full[1] == L'\\' && !((full[2] == L'?' || full[2] == L'.') && full[3] == L'\\');
    int unc_root = unc && separators == 4;
    if (n > 1 && full[n - 1] == L'\\' && !(n == 3 && full[1] == L':') && !unc_root) full[--n] = 0;
    /* "\\server\share" is a root too: Node's path.win32.resolve gives it its "\", so must we. */
    if (unc && separators == 3 && full[n - 1] != L'\\' && n + 1 < WIDE_PATH) {
      full[n++] = L'\\';
      full[n] = 0;
    }
    m = LCMapStringEx(LOCALE_NAME_INVARIANT, LCMAP_LOWERCASE, full, (int)n, lower, WIDE_PATH, NULL, NULL, 0);
    int bytes = m > 0 ? WideCharToMultiByte(CP_UTF8, 0, lower, m, utf8, 4 * WIDE_PATH, NULL, NULL) : 0;
    if (bytes <= 0 || !sha256((const unsigned char *)utf8, (size_t)bytes, digest)) {
      win_error(GetLastError(), err, sizeof err);
      snprintf(why, PDSM_WHY_SIZE, "registry folder %s: hashing its path for the pipe name: %s", folder, err);
      rc = PDSM_ERR_DAEMON;
    } else {
      char hex[17];
      for (int i = 0; i < 8; i++) snprintf(hex + 2 * i, 3, "%02x", digest[i]);
      int k = master ? snprintf(buf, size, "\\\\.\\pipe\\pdsm-%s-master", hex)
                     : snprintf(buf, size, "\\\\.\\pipe\\pdsm-%s-remote-%d", hex, client_id);
      rc = k > 0 && (size_t)k < size ? PDSM_OK : PDSM_ERR_USAGE;
      if (rc != PDSM_OK) snprintf(why, PDSM_WHY_SIZE, "the pipe name does not fit");
    }
  }
  free(wide);
  free(utf8);
  return rc;
}

/* Milliseconds left until the monotonic deadline, 0 when it passed. */
static DWORD left_ms(uint64_t deadline) {
  uint64_t now = pdsm_platform_monotonic_ms();
  return now >= deadline ? 0 : deadline - now > 0x7fffffffu ? 0x7fffffffu : (DWORD)(deadline - now);
}

/* One overlapped ReadFile or WriteFile on h, waited for until the deadline, then cancelled.
 * 1 done (*done bytes; 0 read means the other end closed), 0 timed out, -1 failed (*err). */
static int pipe_io(HANDLE h, int writing, void *buf, DWORD len, DWORD *done, uint64_t deadline, DWORD *err) {
  OVERLAPPED ov;
  memset(&ov, 0, sizeof ov);
  ov.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
  if (ov.hEvent == NULL) {
    *err = GetLastError();
    return -1;
  }
  *done = 0;
  BOOL ok = writing ? WriteFile(h, buf, len, NULL, &ov) : ReadFile(h, buf, len, NULL, &ov);
  int r;
  if (!ok && GetLastError() != ERROR_IO_PENDING) {
    *err = GetLastError();
    r = -1;
  } else if (WaitForSingleObject(ov.hEvent, left_ms(deadline)) == WAIT_OBJECT_0) {
    r = GetOverlappedResult(h, &ov, done, FALSE) ? 1 : -1;
    if (r < 0) *err = GetLastError();
  } else {
    /* Cancel, then wait for the operation to end (cancelled, or done meanwhile): the
     * OVERLAPPED and buf must outlive it. */
    CancelIoEx(h, &ov);
    r = GetOverlappedResult(h, &ov, done, TRUE) ? 1 : 0;
  }
  CloseHandle(ov.hEvent);
  return r;
}

int pdsm_platform_request(const char *path, const char *line, char *answer, size_t max, unsigned timeout_ms,
                          char *why) {
  char err[256];
  uint64_t deadline = pdsm_platform_monotonic_ms() + timeout_ms;
  HANDLE h = INVALID_HANDLE_VALUE;
  /* Every instance of the pipe busy (other clients): wait for one, within the timeout.
   * SECURITY_IDENTIFICATION: the name is predictable and free while no daemon runs, so a
   * process that took it first may answer; it may learn who called, never act as the caller
   * (the default, SecurityImpersonation, would let it). */
  for (;;) {
    h = CreateFileA(path, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING,
                    FILE_FLAG_OVERLAPPED | SECURITY_SQOS_PRESENT | SECURITY_IDENTIFICATION, NULL);
    if (h != INVALID_HANDLE_VALUE) break;
    DWORD e = GetLastError(), wait = left_ms(deadline);
    if (e == ERROR_PIPE_BUSY && wait > 0) {
      WaitNamedPipeA(path, wait); /* wait is never 0, which would mean the pipe's default */
      continue;
    }
    win_error(e, err, sizeof err);
    snprintf(why, PDSM_WHY_SIZE, "no daemon answers on %s: %s (not running, or another folder or client id?)", path,
             e == ERROR_FILE_NOT_FOUND  ? "no such pipe"
             : e == ERROR_PIPE_BUSY     ? "every instance of the pipe stayed busy"
             : e == ERROR_ACCESS_DENIED ? "access denied (the pipe's ACL does not admit you)"
                                        : err);
    return PDSM_ERR_DAEMON;
  }
  DWORD e = 0, n = 0;
  size_t len = strlen(line), sent = 0;
  while (sent < len) {
    DWORD chunk = len - sent > 0x10000u ? 0x10000u : (DWORD)(len - sent);
    int r = pipe_io(h, 1, (void *)(line + sent), chunk, &n, deadline, &e);
    if (r <= 0) {
      win_error(e, err, sizeof err);
      snprintf(why, PDSM_WHY_SIZE, "sending to the daemon on %s: %s", path, r == 0 ? "timed out" : err);
      CloseHandle(h);
      return PDSM_ERR_DAEMON;
    }
    sent += n;
  }
  size_t got = 0;
  for (;;) {
    DWORD want = max - 1 - got > 0x10000u ? 0x10000u : (DWORD)(max - 1 - got);
    int r = pipe_io(h, 0, answer + got, want, &n, deadline, &e);
    if (r == 0) {
      snprintf(why, PDSM_WHY_SIZE, "no answer from the daemon on %s within %u ms", path, timeout_ms);
      CloseHandle(h);
      return PDSM_ERR_DAEMON;
    }
    if (r < 0 && e != ERROR_BROKEN_PIPE && e != ERROR_PIPE_NOT_CONNECTED) {
      win_error(e, err, sizeof err);
      snprintf(why, PDSM_WHY_SIZE, "reading the daemon's answer on %s: %s", path, err);
      CloseHandle(h);
      return PDSM_ERR_DAEMON;
    }
    if (r < 0 || n == 0) {
      snprintf(why, PDSM_WHY_SIZE, "the daemon on %s closed the connection without an answer", path);
      CloseHandle(h);
      return PDSM_ERR_DAEMON;
    }
    got += n;
    answer[got] = '\0';
    char *nl = strchr(answer, '\n');
    if (nl != NULL) {
      *nl = '\0';
      CloseHandle(h);
      return PDSM_OK;
    }
    if (got == max - 1) {
      snprintf(why, PDSM_WHY_SIZE, "the daemon on %s answered more than %zu bytes", path, max - 1);
      CloseHandle(h);
      return PDSM_ERR_DAEMON;
    }
  }
}
