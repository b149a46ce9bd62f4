// The attachment wrapper and its lifetime, for both back ends. What differs is three
// primitives below: map a segment, unmap it quietly (finalizers), unmap it or throw
// (detach): shmat/shmdt on POSIX, MapViewOfFile/UnmapViewOfFile of a mapping opened by
// shm_win.cc's get() on Windows.
#include "attachment.h"

#ifdef _WIN32
#include "shm_win.h"
#else
#include <sys/ipc.h>
#include <sys/shm.h>

#include <cerrno>

#include "sys_error.h"
#endif

namespace pdsm {

namespace {

#ifdef _WIN32

void* MapSegment(Napi::Env env, int id, bool readOnly, size_t* size) {
  HANDLE handle = win::HandleOf(env, id, size);
  void* addr =
      MapViewOfFile(handle, readOnly ? FILE_MAP_READ : FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, *size);
  if (addr == nullptr) win::ThrowWinError(env, "MapViewOfFile", GetLastError());
  win::CountView(id, 1);
  return addr;
}

void UnmapQuietly(void* addr, int id) {
  UnmapViewOfFile(addr);
  win::CountView(id, -1);
}

void UnmapOrThrow(Napi::Env env, void* addr, int id) {
  win::CountView(id, -1);
  if (!UnmapViewOfFile(addr)) win::ThrowWinError(env, "UnmapViewOfFile", GetLastError());
}

#else

void* MapSegment(Napi::Env env, int id, bool readOnly, size_t* size) {
  void* addr = shmat(id, nullptr, readOnly ? SHM_RDONLY : 0);
  if (addr == reinterpret_cast<void*>(-1)) ThrowSysError(env, "shmat", errno);
  // The size, for the ArrayBuffer. Asked after shmat so that a bad id fails in shmat, as
  // callers expect; IPC_STAT needs read permission, which any successful shmat had.
  struct shmid_ds ds;
  if (shmctl(id, IPC_STAT, &ds) != 0) {
    const int err = errno;
    shmdt(addr);
    ThrowSysError(env, "shmctl", err);
  }
  *size = static_cast<size_t>(ds.shm_segsz);
  return addr;
}

void UnmapQuietly(void* addr, int /*id*/) { shmdt(addr); }

void UnmapOrThrow(Napi::Env env, void* addr, int /*id*/) {
  if (shmdt(addr) != 0) ThrowSysError(env, "shmdt", errno);
}

#endif

// Attach() hands the new mapping to the constructor through this slot: a wrapper can only
// be made by Attach(), never by `new` from JavaScript. Thread-local because every Node
// environment (main thread, workers) runs on its own thread and constructs synchronously.
thread_local Mapping* t_adopting = nullptr;

// Drops one owner's share; the last one out unmaps (if detach() has not) and frees.
void ReleaseOwner(Mapping* mapping) {
  if (--mapping->owners > 0) return;
  // Nobody to report a failure to here: unmap quietly.
  if (mapping->addr != nullptr) UnmapQuietly(mapping->addr, mapping->id);
  delete mapping;
}

// Finalizer of the ArrayBuffer's backing store.
void ReleaseBufferOwner(Napi::Env /*env*/, void* /*data*/, Mapping* mapping) {
  ReleaseOwner(mapping);
}

}  // namespace

Napi::Function Attachment::DefineClass(Napi::Env env) {
  return ObjectWrap<Attachment>::DefineClass(
      env, "ShmAttachment",
      {
          InstanceAccessor<&Attachment::GetBuffer>("buffer", napi_enumerable),
          InstanceAccessor<&Attachment::GetId>("id", napi_enumerable),
          InstanceAccessor<&Attachment::GetAttached>("attached", napi_enumerable),
          InstanceMethod<&Attachment::Detach>("detach"),
      });
}

Napi::Object Attachment::Attach(Napi::Env env, const Napi::FunctionReference& cls, int id,
                                bool readOnly) {
  size_t size = 0;
  void* addr = MapSegment(env, id, readOnly, &size);
  Mapping* mapping = new Mapping{addr, size, id, 1};
  Napi::Object object;
  t_adopting = mapping;
  try {
    object = cls.New({});
  } catch (...) {
    // Not adopted: still ours to unmap. Adopted: the wrapper's destructor will.
    if (t_adopting == mapping) {
      t_adopting = nullptr;
      ReleaseOwner(mapping);
    }
    throw;
  }

  // The backing store becomes the second owner. If the ArrayBuffer cannot be made, the
  // wrapper never reaches JavaScript and the collector unmaps through its destructor.
  ++mapping->owners;
  Napi::ArrayBuffer buffer;
  try {
    buffer = Napi::ArrayBuffer::New(env, addr, mapping->size, ReleaseBufferOwner, mapping);
  } catch (...) {
    --mapping->owners;
    throw;
  }
  Attachment::Unwrap(object)->buffer_ = Napi::Persistent(buffer);
  return object;
}

Attachment::Attachment(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<Attachment>(info), mapping_(t_adopting) {
  if (mapping_ == nullptr) {
    throw Napi::TypeError::New(info.Env(), "Illegal constructor: use attach(id, readOnly)");
  }
  t_adopting = nullptr;
}

Attachment::~Attachment() {
  if (mapping_ != nullptr) ReleaseOwner(mapping_);
}

Napi::Value Attachment::GetBuffer(const Napi::CallbackInfo& info) {
  if (buffer_.IsEmpty()) return info.Env().Undefined();
  return buffer_.Value();
}

Napi::Value Attachment::GetId(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), mapping_->id);
}

Napi::Value Attachment::GetAttached(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), mapping_->addr != nullptr);
}

// Idempotent. Detaches the ArrayBuffer first: V8 then gives every view on it length 0, so
// a stale view reads as empty instead of touching unmapped memory.
Napi::Value Attachment::Detach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (mapping_->addr == nullptr) return env.Undefined();
  if (!buffer_.IsEmpty()) {
    Napi::ArrayBuffer buffer = buffer_.Value();
    if (!buffer.IsDetached()) buffer.Detach();  // throws, and we keep the mapping, if it cannot
  }
  void* addr = mapping_->addr;
  mapping_->addr = nullptr;  // no view can reach it any more, whatever the unmap says
  UnmapOrThrow(env, addr, mapping_->id);
  return env.Undefined();
}

}  // namespace pdsm
