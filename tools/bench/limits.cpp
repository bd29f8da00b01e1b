// tools/bench/limits.cpp: the triad and the FMA throughput loop.
//  1. Triad: every thread first-touches its own part of a, b, c, then repeats the triad on it
//     R times between two barriers; R is raised until one timed region lasts >= 5 ms; the median
//     of 5 regions gives bytes / second.
//  2. FMA peak: 12 independent chains of vector FMAs per thread (more than latency x ports) at the
//     widest width this build targets (-march=native: AVX-512 or AVX2), timed as above.
//  3. Probes: the same two loops as calls of a fixed size, timed in turns with a case's
//     implementations (runner.cpp), so the case's roofline comes from the limits of the same
//     seconds.
#include "limits.h"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "common.h"

namespace bench {
namespace {

// Runs `work(thread, reps)` on every thread between barriers; returns the wall time in seconds.
template <class W>
double timed_region(int threads, int64_t reps, W&& work) {
  double t = 0;
#pragma omp parallel num_threads(threads)
  {
#pragma omp barrier
    double t0 = omp_get_wtime();
    work(omp_get_thread_num(), reps);
#pragma omp barrier
#pragma omp master
    t = omp_get_wtime() - t0;
  }
  return t;
}

// Raises reps until a region lasts >= min_s, then the median of 5 regions: seconds per rep.
template <class W>
double seconds_per_rep(int threads, double min_s, W&& work) {
  int64_t reps = 1;
  for (;;) {
    double t = timed_region(threads, reps, work);
    if (t >= min_s) break;
    reps = std::max<int64_t>(reps * 2, int64_t(reps * min_s / std::max(t, 1e-9) * 1.2));
  }
  std::vector<double> ts;
  for (int i = 0; i < 5; ++i) ts.push_back(timed_region(threads, reps, work));
  std::sort(ts.begin(), ts.end());
  return ts[2] / double(reps);
}

// The triad's arrays, `footprint` bytes in all, each thread's part first-touched by that thread.
struct TriadArrays {
  int64_t n;
  int threads;
  float *a, *b, *c;
  TriadArrays(int64_t footprint, int threads) : threads(threads) {
    n = std::max<int64_t>(16 * threads, footprint / 12);
    n = (n + 15) / 16 * 16;
    auto alloc = [&] { return static_cast<float*>(std::aligned_alloc(64, size_t(n) * 4)); };
    a = alloc(), b = alloc(), c = alloc();
#pragma omp parallel num_threads(threads)
    {
      auto [lo, hi] = part(omp_get_thread_num());
      for (int64_t i = lo; i < hi; ++i) a[i] = 0, b[i] = 1.0f + float(i % 7), c[i] = 0.5f;
    }
  }
  ~TriadArrays() { std::free(a), std::free(b), std::free(c); }
  TriadArrays(const TriadArrays&) = delete;
  TriadArrays& operator=(const TriadArrays&) = delete;
  std::pair<int64_t, int64_t> part(int t) const { return {n * t / threads, n * (t + 1) / threads}; }
  // Thread t's share of `reps` triads.
  void run(int t, int64_t reps) const {
    auto [lo, hi] = part(t);
    for (int64_t r = 0; r < reps; ++r) {
      float q = 0.5f + float(r & 1);
#pragma omp simd
      for (int64_t i = lo; i < hi; ++i) a[i] = b[i] + q * c[i];
      asm volatile("" ::: "memory");
    }
  }
  double bytes() const { return 12.0 * double(n); }
};

double measure_triad(int64_t footprint, int threads) {
  TriadArrays t(footprint, threads);
  double s = seconds_per_rep(threads, 0.005, [&](int th, int64_t reps) { t.run(th, reps); });
  return t.bytes() / s;
}

#if defined(__AVX512F__)
using Vec = __m512;
constexpr int kLanes = 16;
Vec splat(float x) { return _mm512_set1_ps(x); }
Vec vfma(Vec a, Vec b, Vec c) { return _mm512_fmadd_ps(a, b, c); }
Vec add(Vec a, Vec b) { return _mm512_add_ps(a, b); }
void store(float* p, Vec v) { _mm512_storeu_ps(p, v); }
#elif defined(__AVX2__) && defined(__FMA__)
using Vec = __m256;
constexpr int kLanes = 8;
Vec splat(float x) { return _mm256_set1_ps(x); }
Vec vfma(Vec a, Vec b, Vec c) { return _mm256_fmadd_ps(a, b, c); }
Vec add(Vec a, Vec b) { return _mm256_add_ps(a, b); }
void store(float* p, Vec v) { _mm256_storeu_ps(p, v); }
#else
#error "the FMA peak loop needs AVX2 and FMA or AVX-512 (-march=native on this machine has neither)"
#endif

constexpr int kChains = 12;
constexpr int64_t kInner = 1000;

// Thread t's share: reps x kInner steps of kChains independent vector FMAs.
void fma_run(float* sink, int t, int64_t reps) {
  Vec acc[kChains];
  for (int j = 0; j < kChains; ++j) acc[j] = splat(1.0f + 0.001f * float(j + t));
  const Vec m = splat(0.9999999f), a = splat(1e-7f);
  for (int64_t r = 0; r < reps; ++r)
    for (int64_t i = 0; i < kInner; ++i)
#pragma GCC unroll 12
      for (int j = 0; j < kChains; ++j) acc[j] = vfma(acc[j], m, a);
  Vec sum = acc[0];
  for (int j = 1; j < kChains; ++j) sum = add(sum, acc[j]);
  store(&sink[size_t(t) * kLanes * 8], sum);
}

double fma_flops(int threads, int64_t reps) { return double(threads) * double(reps) * kInner * kChains * kLanes * 2; }

double measure_fma(int threads) {
  std::vector<float> sink(threads * kLanes * 8);
  double s = seconds_per_rep(threads, 0.02, [&](int t, int64_t reps) { fma_run(sink.data(), t, reps); });
  volatile float keep = sink[0];
  (void)keep;
  return fma_flops(threads, 1) / s;
}

std::mutex g_mu;
std::map<std::pair<int64_t, int>, double> g_triad;
std::map<int, double> g_fma;

}  // namespace

double triad_bandwidth(int64_t footprint, int threads) {
  std::lock_guard<std::mutex> lock(g_mu);
  auto key = std::make_pair(footprint, threads);
  auto it = g_triad.find(key);
  if (it != g_triad.end()) return it->second;
  return g_triad[key] = measure_triad(footprint, threads);
}

double fma_peak(int threads) {
  std::lock_guard<std::mutex> lock(g_mu);
  auto it = g_fma.find(threads);
  if (it != g_fma.end()) return it->second;
  return g_fma[threads] = measure_fma(threads);
}

Probe triad_probe(int64_t footprint, int threads) {
  auto t = std::make_shared<TriadArrays>(footprint, threads);
  // Enough triads a call to last about 20 us, so the parallel region's start is not timed.
  double est = t->bytes() / triad_bandwidth(footprint, threads);
  int64_t reps = std::max<int64_t>(1, int64_t(20e-6 / std::max(est, 1e-9)));
  return Probe{[t, reps] { timed_region(t->threads, reps, [&](int th, int64_t r) { t->run(th, r); }); },
               t->bytes() * double(reps)};
}

Probe fma_probe(int threads) {
  auto sink = std::make_shared<std::vector<float>>(threads * kLanes * 8);
  const int64_t reps = 20;  // 240,000 vector FMAs a thread: tens of microseconds
  return Probe{[sink, threads] { timed_region(threads, reps, [&](int t, int64_t r) { fma_run(sink->data(), t, r); }); },
               fma_flops(threads, reps)};
}

}  // namespace bench
