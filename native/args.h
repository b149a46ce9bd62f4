// Argument checks, made at the top of every exported function before any system call
// (STYLE.md "Native code stays thin"). They throw like Node's own validators: a TypeError
// with code ERR_INVALID_ARG_TYPE for a wrong type, a RangeError with code ERR_OUT_OF_RANGE
// for a value outside its range.
#ifndef PDSM_ARGS_H_
#define PDSM_ARGS_H_

#include <napi.h>

#include <cstdint>
#include <string>

namespace pdsm {

[[noreturn]] void ThrowOutOfRange(Napi::Env env, const char* name, const std::string& expected,
                                  Napi::Value received);

// An integral number in [min, max] (both within +-2**53).
double IntegerArg(const Napi::CallbackInfo& info, size_t index, const char* name, double min,
                  double max);

bool BooleanArg(const Napi::CallbackInfo& info, size_t index, const char* name);

// A bigint in [0, 2**64 - 1].
uint64_t BigUint64Arg(const Napi::CallbackInfo& info, size_t index, const char* name);

// A Uint8Array (a Buffer is one).
Napi::Uint8Array Uint8ArrayArg(const Napi::CallbackInfo& info, size_t index, const char* name);

Napi::BigUint64Array BigUint64ArrayArg(const Napi::CallbackInfo& info, size_t index,
                                       const char* name);

}  // namespace pdsm

#endif  // PDSM_ARGS_H_
