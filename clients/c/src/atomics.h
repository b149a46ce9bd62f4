/*
 * The few atomic operations the seqlock needs (docs/design.md §3b), on the GCC/Clang
 * __atomic builtins: Linux, and Windows x64 with mingw-w64 (make windows, tested under Wine).
 * MSVC gets the Interlocked equivalents, which no build here compiles yet.
 * The generation is an aligned u64 shared with the daemon (Atomics on a BigUint64Array in
 * Node), so these must be real 64-bit atomic operations, not plain volatile accesses.
 */
#ifndef PDSM_ATOMICS_H
#define PDSM_ATOMICS_H

#include <stdint.h>

#if defined(__GNUC__) || defined(__clang__)
#define PDSM_LOAD_ACQUIRE_U64(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define PDSM_LOAD_RELAXED_U64(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define PDSM_LOAD_RELAXED_U32(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define PDSM_LOAD_RELAXED_U8(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define PDSM_STORE_RELAXED_U64(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define PDSM_STORE_RELAXED_U8(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
/* Writer begin: the odd generation is visible before any data store (full barrier). */
#define PDSM_ADD_SEQ_CST_U64(p) __atomic_add_fetch((p), 1, __ATOMIC_SEQ_CST)
/* Writer end: every data store is visible before the even generation. */
#define PDSM_ADD_RELEASE_U64(p) __atomic_add_fetch((p), 1, __ATOMIC_RELEASE)
/* Reader: the data loads complete before the second load of the generation. */
#define PDSM_FENCE_ACQUIRE() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define PDSM_FENCE_RELEASE() __atomic_thread_fence(__ATOMIC_RELEASE)
#elif defined(_MSC_VER)
/* Windows seam: x64 and ARM64 MSVC. Aligned 64-bit loads and stores are atomic there;
 * the barriers order them. Not compiled or tested here (mingw-w64 takes the branch above). */
#include <intrin.h>
#include <windows.h>
#define PDSM_LOAD_ACQUIRE_U64(p) ((uint64_t)InterlockedOr64((volatile LONG64 *)(p), 0))
#define PDSM_LOAD_RELAXED_U64(p) (*(volatile const uint64_t *)(p))
#define PDSM_LOAD_RELAXED_U32(p) (*(volatile const uint32_t *)(p))
#define PDSM_LOAD_RELAXED_U8(p) (*(volatile const uint8_t *)(p))
#define PDSM_STORE_RELAXED_U64(p, v) (*(volatile uint64_t *)(p) = (v))
#define PDSM_STORE_RELAXED_U8(p, v) (*(volatile uint8_t *)(p) = (v))
#define PDSM_ADD_SEQ_CST_U64(p) ((uint64_t)InterlockedIncrement64((volatile LONG64 *)(p)))
#define PDSM_ADD_RELEASE_U64(p) ((uint64_t)InterlockedIncrement64((volatile LONG64 *)(p)))
#define PDSM_FENCE_ACQUIRE() MemoryBarrier()
#define PDSM_FENCE_RELEASE() MemoryBarrier()
#else
#error "libpdsm needs the GCC/Clang __atomic builtins or MSVC"
#endif

#endif
