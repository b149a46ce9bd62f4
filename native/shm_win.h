// The Windows side of the addon's segment calls (built only for win32: scripts/build-win.sh).
// A segment is a named file mapping backed by the paging file, named `Local\pdsm-<key in hex>`
// (`Global\pdsm-<key>` when get() is asked for it). Windows handles are per process, so the
// `id` that get() returns is an index into this process's table of mapping handles, not a
// system-wide shmid: ids are not to be handed to another process (pass the key instead).
#ifndef PDSM_SHM_WIN_H_
#define PDSM_SHM_WIN_H_

#ifdef _WIN32

#include <napi.h>
#include <windows.h>

#include <cstddef>

namespace pdsm {
namespace win {

// get(key, size, mode, create, exclusive[, global]) -> id
Napi::Value Get(const Napi::CallbackInfo& info);
// stat(id) -> ShmStat (what Windows can say: see shm_win.cc)
Napi::Value Stat(const Napi::CallbackInfo& info);
// remove(id): closes this process's handle (see shm_win.cc for what that means)
Napi::Value Remove(const Napi::CallbackInfo& info);

// The mapping handle and size behind `id`; throws EINVAL (ERROR_INVALID_HANDLE) for an id
// this process has not opened or has removed.
HANDLE HandleOf(Napi::Env env, int id, size_t* size);
// One more / one fewer view of `id` mapped by this process (stat's `attached`).
void CountView(int id, int delta);

// Throws the Node-style error for `syscall` failing with the Win32 error `err`: `code` the
// POSIX name the rest of PDSM tests (ENOENT, EEXIST, EACCES, ... as libuv maps them; the
// Win32 name when there is none), `errno` the Win32 error number, `winCode` its name
// ('ERROR_FILE_NOT_FOUND'), `syscall`; message
// "OpenFileMappingW ENOENT: ... (ERROR_FILE_NOT_FOUND 2)".
[[noreturn]] void ThrowWinError(Napi::Env env, const char* syscall, DWORD err);

}  // namespace win
}  // namespace pdsm

#endif  // _WIN32
#endif  // PDSM_SHM_WIN_H_
