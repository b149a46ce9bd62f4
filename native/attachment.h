// An attachment: one shmat mapping of a segment, handed to JavaScript as an object
// {buffer, id, attached, detach()} whose `buffer` is an external ArrayBuffer over the mapped
// memory (no copy).
//
// Lifetime. Two owners share the mapping: the wrapper object and the ArrayBuffer's backing
// store. The memory is unmapped (shmdt) by an explicit detach(), which first detaches the
// ArrayBuffer so every view on it reads as empty, or else when the last owner is garbage
// collected. The ArrayBuffer is an owner so that `attach(id).buffer` kept on its own, with
// the wrapper dropped, never points at unmapped memory.
#ifndef PDSM_ATTACHMENT_H_
#define PDSM_ATTACHMENT_H_

#include <napi.h>

#include <cstddef>

namespace pdsm {

struct Mapping {
  void* addr;   // shmat address; nullptr once shmdt has been called
  size_t size;  // shm_segsz at attach time (a segment never changes size)
  int id;       // the shmid
  int owners;   // wrapper + backing store; Node runs both finalizers on the JS thread
};

class Attachment : public Napi::ObjectWrap<Attachment> {
 public:
  // The class, for the addon to keep per environment. `new` on it from JavaScript throws.
  static Napi::Function DefineClass(Napi::Env env);

  // shmat(id, NULL, readOnly ? SHM_RDONLY : 0) and wrap the mapping; throws a system error
  // ('shmat', or 'shmctl' should the size lookup that follows fail) on failure.
  static Napi::Object Attach(Napi::Env env, const Napi::FunctionReference& cls, int id,
                             bool readOnly);

  explicit Attachment(const Napi::CallbackInfo& info);
  // Runs from the garbage collector or at environment teardown, when JavaScript may be
  // gone: gives up the wrapper's share of the mapping, nothing else.
  ~Attachment() override;

 private:
  Napi::Value GetBuffer(const Napi::CallbackInfo& info);
  Napi::Value GetId(const Napi::CallbackInfo& info);
  Napi::Value GetAttached(const Napi::CallbackInfo& info);
  Napi::Value Detach(const Napi::CallbackInfo& info);

  Mapping* mapping_;
  Napi::Reference<Napi::ArrayBuffer> buffer_;  // the one ArrayBuffer handed out, kept to Detach it
};

}  // namespace pdsm

#endif  // PDSM_ATTACHMENT_H_
