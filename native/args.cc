#include "args.h"

#include <cmath>

namespace pdsm {

namespace {

// "Received ..." in the words of Node's ERR_INVALID_ARG_TYPE.
std::string Describe(Napi::Value value) {
  switch (value.Type()) {
    case napi_undefined:
      return "undefined";
    case napi_null:
      return "null";
    case napi_boolean:
      return "type boolean";
    case napi_number:
      return "type number";
    case napi_string:
      return "type string";
    case napi_symbol:
      return "type symbol";
    case napi_function:
      return "function";
    case napi_bigint:
      return "type bigint";
    case napi_object:
      if (value.IsTypedArray()) {
        switch (value.As<Napi::TypedArray>().TypedArrayType()) {
          case napi_uint8_array:
            return "an instance of Uint8Array";
          case napi_biguint64_array:
            return "an instance of BigUint64Array";
          default:
            return "an instance of another TypedArray";
        }
      }
      if (value.IsArrayBuffer()) return "an instance of ArrayBuffer";
      if (value.IsArray()) return "an instance of Array";
      return "an instance of Object";
    default:
      return "type external";
  }
}

[[noreturn]] void ThrowInvalidType(Napi::Env env, const char* name, const char* expected,
                                   Napi::Value received) {
  std::string message = std::string("The \"") + name + "\" argument must be " + expected +
                        ". Received " + Describe(received);
  Napi::Error error = Napi::TypeError::New(env, message);
  error.Set("code", Napi::String::New(env, "ERR_INVALID_ARG_TYPE"));
  throw error;
}

Napi::Value Arg(const Napi::CallbackInfo& info, size_t index) {
  // info[i] past the end is undefined, which then fails its type check.
  return info[index];
}

}  // namespace

void ThrowOutOfRange(Napi::Env env, const char* name, const std::string& expected,
                     Napi::Value received) {
  std::string message = std::string("The value of \"") + name + "\" is out of range. It must be " +
                        expected + ". Received " + received.ToString().Utf8Value();
  Napi::Error error = Napi::RangeError::New(env, message);
  error.Set("code", Napi::String::New(env, "ERR_OUT_OF_RANGE"));
  throw error;
}

double IntegerArg(const Napi::CallbackInfo& info, size_t index, const char* name, double min,
                  double max) {
  Napi::Value value = Arg(info, index);
  if (!value.IsNumber()) ThrowInvalidType(info.Env(), name, "of type number", value);
  double number = value.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(number) || std::trunc(number) != number) {
    ThrowOutOfRange(info.Env(), name, "an integer", value);
  }
  if (number < min || number > max) {
    ThrowOutOfRange(info.Env(), name,
                    ">= " + Napi::Number::New(info.Env(), min).ToString().Utf8Value() +
                        " && <= " + Napi::Number::New(info.Env(), max).ToString().Utf8Value(),
                    value);
  }
  return number;
}

bool BooleanArg(const Napi::CallbackInfo& info, size_t index, const char* name) {
  Napi::Value value = Arg(info, index);
  if (!value.IsBoolean()) ThrowInvalidType(info.Env(), name, "of type boolean", value);
  return value.As<Napi::Boolean>().Value();
}

uint64_t BigUint64Arg(const Napi::CallbackInfo& info, size_t index, const char* name) {
  Napi::Value value = Arg(info, index);
  if (!value.IsBigInt()) ThrowInvalidType(info.Env(), name, "of type bigint", value);
  bool lossless = false;
  uint64_t result = value.As<Napi::BigInt>().Uint64Value(&lossless);
  // Negative or wider than 64 bits: Uint64Value wraps and reports the loss.
  if (!lossless) ThrowOutOfRange(info.Env(), name, ">= 0n && < 2n ** 64n", value);
  return result;
}

Napi::Uint8Array Uint8ArrayArg(const Napi::CallbackInfo& info, size_t index, const char* name) {
  Napi::Value value = Arg(info, index);
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    ThrowInvalidType(info.Env(), name, "an instance of Uint8Array", value);
  }
  return value.As<Napi::Uint8Array>();
}

Napi::BigUint64Array BigUint64ArrayArg(const Napi::CallbackInfo& info, size_t index,
                                       const char* name) {
  Napi::Value value = Arg(info, index);
  if (!value.IsTypedArray() ||
      value.As<Napi::TypedArray>().TypedArrayType() != napi_biguint64_array) {
    ThrowInvalidType(info.Env(), name, "an instance of BigUint64Array", value);
  }
  return value.As<Napi::BigUint64Array>();
}

}  // namespace pdsm
