// The PDSM addon: thin wrappers over shmget, shmat/shmdt (attachment.cc), shmctl, and the
// page hashes (XXH64 for what the spec puts on the wire, XXH3-64 for local change detection),
// both from xxHash's own sources. Each function checks its arguments first, then makes one system
// call, and turns a failure into a Node-style system error. No policy, no logging: keys, sizes,
// modes and when to remove are decided in src/segments/. The typed surface is
// src/segments/native.ts.
#include <napi.h>
#ifdef _WIN32
// Windows: the same surface over named file mappings (shm_win.cc, scripts/build-win.sh).
#include "shm_win.h"
#else
#include <sys/ipc.h>
#include <sys/shm.h>
#endif

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <limits>
#include <string>

#include "args.h"
#include "attachment.h"
#include "sys_error.h"

// xxHash's official implementation (0.8.x), as the xxhash-addon package publishes it; binding.gyp
// finds its directory. Inlined into this file: the page loop calls it without a function call.
#define XXH_INLINE_ALL
#include "xxhash.h"
#ifdef PDSM_XXH3_DISPATCH
// x86-64: XXH3 through xxHash's runtime CPU dispatch (xxh_x86dispatch.c, its own translation
// unit: binding.gyp). Declared by hand: its header would redeclare it static under XXH_INLINE_ALL.
extern "C" XXH64_hash_t XXH3_64bits_withSeed_dispatch(const void* input, size_t len,
                                                      XXH64_hash_t seed);
#define PDSM_XXH3_64(p, n, seed) XXH3_64bits_withSeed_dispatch(p, n, seed)
#else
#define PDSM_XXH3_64(p, n, seed) XXH3_64bits_withSeed(p, n, seed)
#endif

namespace pdsm {

namespace {

constexpr double kMaxSafeInteger = 9007199254740991.0;  // Number.MAX_SAFE_INTEGER
constexpr double kMaxKey = 4294967295.0;                // key_t is 32 bits; 0x80000000.. wrap
constexpr double kMaxId = static_cast<double>(INT_MAX);

double MaxSize() {
  return std::min(kMaxSafeInteger, static_cast<double>(std::numeric_limits<size_t>::max()));
}

}  // namespace

class PdsmShm : public Napi::Addon<PdsmShm> {
 public:
  PdsmShm(Napi::Env env, Napi::Object exports)
      : attachment_class_(Napi::Persistent(Attachment::DefineClass(env))) {
    DefineAddon(exports,
                {
                    InstanceMethod<&PdsmShm::Get>("get", napi_enumerable),
                    InstanceMethod<&PdsmShm::Attach>("attach", napi_enumerable),
                    InstanceMethod<&PdsmShm::Stat>("stat", napi_enumerable),
                    InstanceMethod<&PdsmShm::Remove>("remove", napi_enumerable),
                    InstanceMethod<&PdsmShm::HashPages>("hashPages", napi_enumerable),
                    InstanceMethod<&PdsmShm::Xxh64>("xxh64", napi_enumerable),
                    InstanceMethod<&PdsmShm::HashPagesXxh3>("hashPagesXxh3", napi_enumerable),
                    InstanceMethod<&PdsmShm::Xxh3>("xxh3", napi_enumerable),
                });
  }

 private:
  // get(key, size, mode, create, exclusive) -> shmid
  Napi::Value Get(const Napi::CallbackInfo& info) {
#ifdef _WIN32
    return win::Get(info);
#else
    Napi::Env env = info.Env();
    const double key = IntegerArg(info, 0, "key", 0, kMaxKey);
    const double size = IntegerArg(info, 1, "size", 0, MaxSize());
    const int mode = static_cast<int>(IntegerArg(info, 2, "mode", 0, 0777));
    const bool create = BooleanArg(info, 3, "create");
    const bool exclusive = BooleanArg(info, 4, "exclusive");

    const int flags = mode | (create ? IPC_CREAT : 0) | (exclusive ? IPC_EXCL : 0);
    const int id =
        shmget(static_cast<key_t>(static_cast<uint32_t>(key)), static_cast<size_t>(size), flags);
    if (id < 0) ThrowSysError(env, "shmget", errno);
    return Napi::Number::New(env, id);
#endif
  }

  // attach(id, readOnly) -> ShmAttachment
  Napi::Value Attach(const Napi::CallbackInfo& info) {
    const int id = static_cast<int>(IntegerArg(info, 0, "id", 0, kMaxId));
    const bool readOnly = BooleanArg(info, 1, "readOnly");
    return Attachment::Attach(info.Env(), attachment_class_, id, readOnly);
  }

  // stat(id) -> ShmStat, from shmctl(IPC_STAT)
  Napi::Value Stat(const Napi::CallbackInfo& info) {
#ifdef _WIN32
    return win::Stat(info);
#else
    Napi::Env env = info.Env();
    const int id = static_cast<int>(IntegerArg(info, 0, "id", 0, kMaxId));

    struct shmid_ds ds;
    if (shmctl(id, IPC_STAT, &ds) != 0) ThrowSysError(env, "shmctl", errno);
    Napi::Object result = Napi::Object::New(env);
    result.Set("size", Napi::Number::New(env, static_cast<double>(ds.shm_segsz)));
    result.Set("attached", Napi::Number::New(env, static_cast<double>(ds.shm_nattch)));
    result.Set("creatorPid", Napi::Number::New(env, static_cast<double>(ds.shm_cpid)));
    result.Set("lastPid", Napi::Number::New(env, static_cast<double>(ds.shm_lpid)));
    result.Set("mode", Napi::Number::New(env, static_cast<double>(ds.shm_perm.mode & 0777)));
    result.Set("uid", Napi::Number::New(env, static_cast<double>(ds.shm_perm.uid)));
    return result;
#endif
  }

  // remove(id): shmctl(IPC_RMID)
  Napi::Value Remove(const Napi::CallbackInfo& info) {
#ifdef _WIN32
    return win::Remove(info);
#else
    Napi::Env env = info.Env();
    const int id = static_cast<int>(IntegerArg(info, 0, "id", 0, kMaxId));

    if (shmctl(id, IPC_RMID, nullptr) != 0) ThrowSysError(env, "shmctl", errno);
    return env.Undefined();
#endif
  }

  // hashPages(data, pageSize, seed, out) -> page count; out[i] = XXH64(page i, seed).
  // The hash the spec puts on the wire (§5.4, DIGEST).
  Napi::Value HashPages(const Napi::CallbackInfo& info) {
    return HashEachPage(info, [](const uint8_t* page, size_t size, uint64_t seed) {
      return static_cast<uint64_t>(XXH64(page, size, seed));
    });
  }

  // hashPagesXxh3(data, pageSize, seed, out) -> page count; out[i] = XXH3-64(page i, seed).
  // The scanner's hot path (local change detection only, never on the wire): hashes in
  // place, whatever memory `data` views.
  Napi::Value HashPagesXxh3(const Napi::CallbackInfo& info) {
    return HashEachPage(info, [](const uint8_t* page, size_t size, uint64_t seed) {
      return static_cast<uint64_t>(PDSM_XXH3_64(page, size, seed));
    });
  }

  // xxh64(data, seed) -> bigint
  Napi::Value Xxh64(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Uint8Array data = Uint8ArrayArg(info, 0, "data");
    const uint64_t seed = BigUint64Arg(info, 1, "seed");
    return Napi::BigInt::New(env,
                             static_cast<uint64_t>(XXH64(data.Data(), data.ByteLength(), seed)));
  }

  // xxh3(data, seed) -> bigint (XXH3-64)
  Napi::Value Xxh3(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Uint8Array data = Uint8ArrayArg(info, 0, "data");
    const uint64_t seed = BigUint64Arg(info, 1, "seed");
    return Napi::BigInt::New(
        env, static_cast<uint64_t>(PDSM_XXH3_64(data.Data(), data.ByteLength(), seed)));
  }

  // The argument checks shared by the page hashes, then hash(page, pageSize, seed) per page.
  template <typename Hash>
  static Napi::Value HashEachPage(const Napi::CallbackInfo& info, Hash hash) {
    Napi::Env env = info.Env();
    Napi::Uint8Array data = Uint8ArrayArg(info, 0, "data");
    const size_t pageSize = static_cast<size_t>(IntegerArg(info, 1, "pageSize", 1, MaxSize()));
    const uint64_t seed = BigUint64Arg(info, 2, "seed");
    Napi::BigUint64Array out = BigUint64ArrayArg(info, 3, "out");

    const size_t length = data.ByteLength();
    if (length % pageSize != 0) {
      ThrowOutOfRange(env, "data.byteLength",
                      "a multiple of pageSize (" + std::to_string(pageSize) + ")",
                      Napi::Number::New(env, static_cast<double>(length)));
    }
    const size_t count = length / pageSize;
    if (out.ElementLength() < count) {
      ThrowOutOfRange(env, "out.length", ">= the page count (" + std::to_string(count) + ")",
                      Napi::Number::New(env, static_cast<double>(out.ElementLength())));
    }

    const uint8_t* page = data.Data();
    uint64_t* hashes = out.Data();
    for (size_t i = 0; i < count; ++i, page += pageSize) hashes[i] = hash(page, pageSize, seed);
    return Napi::Number::New(env, static_cast<double>(count));
  }

  Napi::FunctionReference attachment_class_;
};

}  // namespace pdsm

// The macro pastes the name into identifiers, so it needs an unqualified one.
using pdsm::PdsmShm;
NODE_API_ADDON(PdsmShm)
