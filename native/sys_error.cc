#include "sys_error.h"

#include <cerrno>
#include <cstring>
#include <string>

namespace pdsm {

namespace {

struct ErrnoEntry {
  int value;
  const char* name;
};

// Every errno that shmget, shmat, shmdt and shmctl document (Linux, the BSDs, macOS),
// plus EINTR/EAGAIN for safety. A table rather than glibc's strerrorname_np so the
// names are the same on musl and macOS.
constexpr ErrnoEntry kErrnoNames[] = {
    {EACCES, "EACCES"}, {EAGAIN, "EAGAIN"},       {EEXIST, "EEXIST"}, {EFAULT, "EFAULT"},
    {EIDRM, "EIDRM"},   {EINTR, "EINTR"},         {EINVAL, "EINVAL"}, {EMFILE, "EMFILE"},
    {ENFILE, "ENFILE"}, {ENOENT, "ENOENT"},       {ENOMEM, "ENOMEM"}, {ENOSPC, "ENOSPC"},
    {ENOSYS, "ENOSYS"}, {EOVERFLOW, "EOVERFLOW"}, {EPERM, "EPERM"},
};

}  // namespace

const char* ErrnoName(int err) {
  for (const ErrnoEntry& entry : kErrnoNames) {
    if (entry.value == err) return entry.name;
  }
  return "UNKNOWN";
}

void ThrowSysError(Napi::Env env, const char* syscall, int err) {
  const char* code = ErrnoName(err);
  // strerror returns static strings for known values on glibc, musl and macOS.
  std::string message = std::string(syscall) + " " + code + ": " + std::strerror(err);
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, code));
  error.Set("errno", Napi::Number::New(env, err));
  error.Set("syscall", Napi::String::New(env, syscall));
  throw error;
}

}  // namespace pdsm
