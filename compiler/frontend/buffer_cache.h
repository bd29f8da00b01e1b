// frontend/buffer_cache.h: the element buffers of owning tensors, and large ones kept for reuse
// once freed.
//
// A buffer of 128 KiB or more that is freed and allocated again (a call's results, replaced by
// the next call's: `ys = f(xs)` in a loop) came back from glibc's malloc as fresh memory pages,
// zeroed by the kernel on their first write: a page fault per 4 KiB, which cost more than the
// call itself (per-sample gradients of an MLP, 9.7 MB of results: 3.3 ms per allocating call,
// 0.25 ms with the cache; 0.16 ms into caller-owned buffers). Such buffers are instead kept when
// freed, up to a total of 256 MiB (VMAPJIT_BUFFER_CACHE_MB sets another limit; 0 turns the cache
// off, as it is by default under AddressSanitizer, which would not see a read after free of a
// reused buffer), and handed out again for a request of the same rounded size, the most
// recently freed first; when the cache is full, the least recently freed go back to malloc.
#pragma once

#include <cstddef>

namespace jit::detail {

// Buffers at least this large come from the cache (below, malloc's own free lists serve well).
constexpr size_t kMinCachedBytes = 128 * 1024;

// A buffer of `bytes` (> 0): 64-byte aligned from 1 KiB up; nullptr when out of memory.
void* acquire_buffer(size_t bytes);
// Gives back a buffer from acquire_buffer(bytes), with the same `bytes`. Never throws.
void release_buffer(void* p, size_t bytes) noexcept;
// The bytes the cache holds now, the most it holds (0: off), and giving all of them back.
size_t cached_buffer_bytes();
size_t buffer_cache_limit();
void trim_buffer_cache();

}  // namespace jit::detail
