// frontend/buffer_cache.h: large tensor buffers, kept for reuse once freed.
//
// A buffer of a megabyte or more that is freed and allocated again (a call's results, replaced
// by the next call's: `ys = f(xs)` in a loop) comes back from glibc's malloc as fresh memory
// pages, zeroed by the kernel on their first write: a page fault per 4 KiB, which here cost more
// than the call itself (per-sample gradients of an MLP, 9.7 MB of results: 3.3 ms per call
// instead of 0.16). Buffers of at least kMinBytes are instead kept when freed, up to a total of
// 256 MiB (VMAPJIT_BUFFER_CACHE_MB sets another limit; 0 turns the cache off), and handed out
// again for a request of the same rounded size; the least recently freed go first.
#pragma once

#include <cstddef>

namespace jit::detail {

// Buffers at least this large come from the cache (below, malloc's own free lists serve well).
constexpr size_t kMinCachedBytes = 128 * 1024;

// A 64-byte-aligned buffer of at least `bytes` (>= kMinCachedBytes): a cached one of the same
// rounded size, or a new one; nullptr when out of memory.
void* acquire_buffer(size_t bytes);
// Gives back a buffer from acquire_buffer(bytes), with the same `bytes`.
void release_buffer(void* p, size_t bytes);
// The bytes held by the cache now, and the most it holds (0: off).
size_t cached_buffer_bytes();
size_t buffer_cache_limit();

}  // namespace jit::detail
