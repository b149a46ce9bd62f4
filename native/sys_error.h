// Node-style system errors for the shm system calls: a JavaScript Error carrying
// `code` (the errno name, 'EEXIST'), `errno` (the positive errno value, as errno.h has it)
// and `syscall` ('shmget'), with the message "shmget EEXIST: File exists".
#ifndef PDSM_SYS_ERROR_H_
#define PDSM_SYS_ERROR_H_

#include <napi.h>

namespace pdsm {

// The symbolic name of an errno value ("EEXIST"), or "UNKNOWN".
const char* ErrnoName(int err);

// Throws (as a C++ exception, NAPI_CPP_EXCEPTIONS) the error for `syscall` failing with `err`.
[[noreturn]] void ThrowSysError(Napi::Env env, const char* syscall, int err);

}  // namespace pdsm

#endif  // PDSM_SYS_ERROR_H_
