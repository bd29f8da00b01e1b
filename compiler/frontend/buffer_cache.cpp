// frontend/buffer_cache.cpp: see buffer_cache.h.
#include "frontend/buffer_cache.h"

#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <vector>

namespace jit::detail {
namespace {

size_t rounded(size_t bytes) { return (bytes + 4095) / 4096 * 4096; }

// Under AddressSanitizer the cache is off by default: a reused buffer would hide a read after
// free from it.
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
};

// Never destroyed: a tensor with static storage duration may be freed after any destructor.
Cache& cache() {
  static Cache* c = new Cache;
  return *c;
}

}  // namespace

void* acquire_buffer(size_t bytes) {
  size_t n = rounded(bytes);
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
  return std::aligned_alloc(64, n);
}

void release_buffer(void* p, size_t bytes) {
  size_t n = rounded(bytes);
  Cache& c = cache();
  std::vector<void*> evicted;
  {
    std::lock_guard<std::mutex> lock(c.mu);
    if (n <= c.limit) {
      size_t drop = 0, dropped = 0;
      while (c.held - dropped + n > c.limit) dropped += c.free[drop++].bytes;
      for (size_t i = 0; i < drop; ++i) evicted.push_back(c.free[i].p);
      c.free.erase(c.free.begin(), c.free.begin() + static_cast<std::ptrdiff_t>(drop));
      c.held -= dropped;
      c.free.push_back({n, p});
      c.held += n;
      p = nullptr;
    }
  }
  for (void* e : evicted) std::free(e);
  std::free(p);  // larger than the whole cache, or the cache is off
}

size_t cached_buffer_bytes() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  return c.held;
}

}  // namespace jit::detail

namespace jit::detail {
size_t buffer_cache_limit() { return cache().limit; }
}  // namespace jit::detail
