// XXH64, the 64-bit xxHash of Yann Collet, as specified in
// https://github.com/Cyan4973/xxHash/blob/dev/doc/xxhash_spec.md ("XXH64 algorithm").
// The page scanner hashes every page of every segment on every interval, so this is the
// hot path: header-only so the compiler can inline it into the page loop, no allocation,
// no copy of the input. Input words are read little-endian whatever the host, as the
// spec requires, through memcpy so unaligned pages are fine.
#ifndef PDSM_XXHASH64_H_
#define PDSM_XXHASH64_H_

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace pdsm {
namespace xxh64_detail {

constexpr uint64_t PRIME64_1 = 0x9E3779B185EBCA87ULL;
constexpr uint64_t PRIME64_2 = 0xC2B2AE3D27D4EB4FULL;
constexpr uint64_t PRIME64_3 = 0x165667B19E3779F9ULL;
constexpr uint64_t PRIME64_4 = 0x85EBCA77C2B2AE63ULL;
constexpr uint64_t PRIME64_5 = 0x27D4EB2F165667C5ULL;

inline uint64_t Rotl64(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

inline uint64_t ReadLE64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap64(v);
#endif
  return v;
}

inline uint32_t ReadLE32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap32(v);
#endif
  return v;
}

// spec: round(accN, laneN)
inline uint64_t Round(uint64_t acc, uint64_t lane) {
  acc += lane * PRIME64_2;
  acc = Rotl64(acc, 31);
  return acc * PRIME64_1;
}

// spec: mergeAccumulator(acc, accN)
inline uint64_t MergeRound(uint64_t acc, uint64_t accN) {
  acc ^= Round(0, accN);
  return acc * PRIME64_1 + PRIME64_4;
}

// spec: final mix (avalanche)
inline uint64_t Avalanche(uint64_t h) {
  h ^= h >> 33;
  h *= PRIME64_2;
  h ^= h >> 29;
  h *= PRIME64_3;
  h ^= h >> 32;
  return h;
}

}  // namespace xxh64_detail

// XXH64 of `len` bytes at `data` (may be null when len is 0) with `seed`.
inline uint64_t Xxh64(const void* data, size_t len, uint64_t seed) {
  using namespace xxh64_detail;
  const uint8_t* p = static_cast<const uint8_t*>(data);
  const uint8_t* const end = p + len;
  uint64_t h;

  if (len >= 32) {
    // spec: step 1, initialise four accumulators; step 2, process 32-byte stripes.
    uint64_t v1 = seed + PRIME64_1 + PRIME64_2;
    uint64_t v2 = seed + PRIME64_2;
    uint64_t v3 = seed;
    uint64_t v4 = seed - PRIME64_1;
    const uint8_t* const limit = end - 32;
    do {
      v1 = Round(v1, ReadLE64(p));
      v2 = Round(v2, ReadLE64(p + 8));
      v3 = Round(v3, ReadLE64(p + 16));
      v4 = Round(v4, ReadLE64(p + 24));
      p += 32;
    } while (p <= limit);
    // spec: step 3, accumulator convergence.
    h = Rotl64(v1, 1) + Rotl64(v2, 7) + Rotl64(v3, 12) + Rotl64(v4, 18);
    h = MergeRound(h, v1);
    h = MergeRound(h, v2);
    h = MergeRound(h, v3);
    h = MergeRound(h, v4);
  } else {
    // spec: special case, input shorter than one stripe.
    h = seed + PRIME64_5;
  }

  // spec: step 4, add input length.
  h += static_cast<uint64_t>(len);

  // spec: step 5, consume remaining input (8, then 4, then 1 byte at a time).
  while (end - p >= 8) {
    h ^= Round(0, ReadLE64(p));
    h = Rotl64(h, 27) * PRIME64_1 + PRIME64_4;
    p += 8;
  }
  if (end - p >= 4) {
    h ^= static_cast<uint64_t>(ReadLE32(p)) * PRIME64_1;
    h = Rotl64(h, 23) * PRIME64_2 + PRIME64_3;
    p += 4;
  }
  while (p < end) {
    h ^= static_cast<uint64_t>(*p) * PRIME64_5;
    h = Rotl64(h, 11) * PRIME64_1;
    ++p;
  }

  // spec: step 6, final mix.
  return Avalanche(h);
}

}  // namespace pdsm

#endif  // PDSM_XXHASH64_H_
