// frontend/buffer_cache.cpp: see buffer_cache.h.
#include "frontend/buffer_cache.h"

#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <exception>
#include <new>
#include <vector>

namespace jit::detail {
namespace {

size_t page_rounded(size_t bytes) { return (bytes + 4095) / 4096 * 4096; }

#if defined(__SANITIZE_ADDRESS__)
constexpr size_t kDefaultMiB = 0;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr size_t kDefaultMiB = 0;
#else
constexpr size_t kDefaultMiB = 256;
#endif
#else
constexpr size_t kDefaultMiB = 256;
#endif

size_t limit_from_env() {
  const char* v = std::getenv("VMAPJIT_BUFFER_CACHE_MB");
  if (!v || !*v) return kDefaultMiB << 20;
  char* end = nullptr;
  unsigned long long mib = std::strtoull(v, &end, 10);
  if (*end || mib > (1ull << 20)) return kDefaultMiB << 20;  // not a plain number of MiB
  return static_cast<size_t>(mib) << 20;
}

struct Cache {
  std::mutex mu;
  struct Entry {
    size_t bytes;
    void* p;
  };
  std::vector<Entry> free;  // least recently freed first
  size_t held = 0;
  const size_t limit = limit_from_env();

  // Takes out the first `count` entries (under mu); the caller frees them outside the lock.
  std::vector<void*> take_oldest(size_t count) {
    std::vector<void*> out;
    out.reserve(count);
    for (size_t i = 0; i < count; ++i) out.push_back(free[i].p), held -= free[i].bytes;
    free.erase(free.begin(), free.begin() + static_cast<std::ptrdiff_t>(count));
    return out;
  }
};

// Never destroyed: a tensor with static storage duration may be freed after any destructor.
Cache& cache() {
  static Cache* c = new Cache;
  return *c;
}

}  // namespace

void* acquire_buffer(size_t bytes) {
  if (bytes <= 1024) return std::malloc(bytes);  // malloc's fast path (16-byte aligned)
  if (bytes < kMinCachedBytes) return std::aligned_alloc(64, (bytes + 63) / 64 * 64);
  size_t n = page_rounded(bytes);
  Cache& c = cache();
  {
    std::lock_guard<std::mutex> lock(c.mu);
    for (size_t i = c.free.size(); i-- > 0;)  // the most recently freed first: still in cache
      if (c.free[i].bytes == n) {
        void* p = c.free[i].p;
        c.free.erase(c.free.begin() + static_cast<std::ptrdiff_t>(i));
        c.held -= n;
        return p;
      }
  }
  if (void* p = std::aligned_alloc(64, n)) return p;
  trim_buffer_cache();  // out of memory: what the cache holds may make the difference
  return std::aligned_alloc(64, n);
}

void release_buffer(void* p, size_t bytes) noexcept {
  if (bytes < kMinCachedBytes) {
    std::free(p);
    return;
  }
  size_t n = page_rounded(bytes);
  Cache& c = cache();
  std::vector<void*> evicted;
  try {
    std::lock_guard<std::mutex> lock(c.mu);
    if (n <= c.limit) {
      size_t drop = 0, dropped = 0;
      while (c.held - dropped + n > c.limit) dropped += c.free[drop++].bytes;
      c.free.reserve(c.free.size() + 1);  // may throw: then nothing has changed
      evicted = c.take_oldest(drop);
      c.free.push_back({n, p});
      c.held += n;
      p = nullptr;
    }
  } catch (const std::exception&) {  // no memory for the bookkeeping: give the buffer back
  }
  for (void* e : evicted) std::free(e);
  std::free(p);  // larger than the whole cache, the cache is off, or no room to note it
}

size_t cached_buffer_bytes() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  return c.held;
}

size_t buffer_cache_limit() { return cache().limit; }

void trim_buffer_cache() {
  Cache& c = cache();
  std::vector<void*> all;
  {
    std::lock_guard<std::mutex> lock(c.mu);
    all = c.take_oldest(c.free.size());
  }
  for (void* p : all) std::free(p);
}

}  // namespace jit::detail
