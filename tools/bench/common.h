// tools/bench/common.h: what every part of the benchmark shares: the timer (warm up, then the
// median of many samples), the split of a batch over threads that the hand-written baselines
// use, and the rows the benchmark writes.
#pragma once

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace bench {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// How long each measurement may take (seconds); BENCH_BUDGET overrides it.
double budget();

struct Timing {
  double median_ns = NAN;  // per call
  double p25_ns = NAN, p75_ns = NAN;
  int samples = 0;
  int64_t calls_per_sample = 0;
};

// Warm up (at least 3 calls and 10 ms), then samples of k calls each, k chosen so a sample lasts
// about 50 us, until the budget is spent (at least 15 samples): the median per-call time.
template <class F>
Timing measure(F&& fn) {
  auto t0 = Clock::now();
  int64_t warm = 0;
  while (warm < 3 || seconds_since(t0) < 0.01) {
    fn();
    ++warm;
  }
  double per_call = seconds_since(t0) / double(warm);
  int64_t k = std::max<int64_t>(1, int64_t(50e-6 / std::max(per_call, 1e-10)));
  std::vector<double> s;
  auto start = Clock::now();
  while (s.size() < 15 || (seconds_since(start) < budget() && s.size() < 5000)) {
    auto a = Clock::now();
    for (int64_t i = 0; i < k; ++i) fn();
    s.push_back(std::chrono::duration<double, std::nano>(Clock::now() - a).count() / double(k));
    if (seconds_since(start) > 10 * budget() + 2) break;  // a very slow call: enough
  }
  std::sort(s.begin(), s.end());
  Timing t;
  t.median_ns = s[s.size() / 2];
  t.p25_ns = s[s.size() / 4];
  t.p75_ns = s[s.size() * 3 / 4];
  t.samples = int(s.size());
  t.calls_per_sample = k;
  return t;
}

// The hand-written baselines' threading, as a careful user writes it: the batch split into one
// contiguous range per thread with OpenMP, and no threads at all for a call too small to be
// worth waking them (`parallel` false).
template <class F>
void for_ranges(int64_t n, int threads, bool parallel, F&& body) {
  if (threads <= 1 || !parallel || n < 2) {
    body(int64_t(0), n);
    return;
  }
#pragma omp parallel num_threads(threads)
  {
    int t = omp_get_thread_num(), nt = omp_get_num_threads();
    int64_t b0 = n * t / nt, b1 = n * (t + 1) / nt;
    if (b1 > b0) body(b0, b1);
  }
}

}  // namespace bench
