/*
 * Windows side of the platform seam (platform.h), compiled by `make windows` instead of
 * platform_posix.c. A segment is the named file mapping the addon's Windows backend makes
 * for a key (native/shm_win.cc): `Local\pdsm-<key in lowercase hex>`, or `Global\pdsm-...`
 * when the registry file says `PDSM_namespace Global` (the daemon could create global
 * objects), backed by the paging file, of exactly the size the creator asked. Only the one
 * namespace the registry names is searched, never the other as a guess.
 *
 * Paths (the registry folder, $PDSM_REGISTRY_DIR) are UTF-8 here and converted to UTF-16
 * for the W calls, so a folder with any name works; the messages stay UTF-8.
 */
#ifndef _WIN32_WINNT
#define _WIN32_WINNT 0x0A00
#endif
#define WIN32_LEAN_AND_MEAN
#include <windows.h>

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

int pdsm_platform_request(const char *path, const char *line, char *answer, size_t max, unsigned timeout_ms,
                          char *why) {
  /* The daemons' control socket is a UNIX socket path and the daemons do not run on Windows
   * yet (README "Platforms"): nothing to ask. */
  (void)line;
  (void)answer;
  (void)max;
  (void)timeout_ms;
  snprintf(why, PDSM_WHY_SIZE,
           "flush on demand needs the daemon's control socket %s, and the daemons do not run on Windows yet", path);
  return PDSM_ERR_UNSUPPORTED;
}
