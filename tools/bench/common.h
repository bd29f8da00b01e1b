// tools/bench/common.h: what every part of the benchmark shares: the timer (the implementations
// of a case in turns, the median of many samples each), the split of a batch over threads that the hand-written baselines
// use, and the rows the benchmark writes.
#pragma once

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
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

// The implementations of one case, timed in turns: each warms up (at least 3 calls and 10 ms),
// then rounds in which each in turn settles (untimed calls for 3 ms) and takes samples of k calls
// for about 20 ms (k chosen so a sample lasts about 50 us; at least one sample), until each has
// had its budget (at least 15 samples each): the median per-call time of each over its samples.
// This host's speed drifts by up to 2x within a minute; timed one after the other, a drift
// between two implementations would show as their ratio. In turns, each sees the same drift.
// The turns are long and start with the settling because threads the previous implementation
// woke keep spinning on the cores for a while when its calls stop (OpenMP's, vmapjit's pool's):
// samples taken then would measure the contention, not the implementation.
inline std::vector<Timing> measure_in_turns(const std::vector<std::function<void()>>& fns) {
  size_t n = fns.size();
  std::vector<int64_t> k(n);
  for (size_t i = 0; i < n; ++i) {
    auto t0 = Clock::now();
    int64_t warm = 0;
    while (warm < 3 || seconds_since(t0) < 0.01) {
      fns[i]();
      ++warm;
    }
    double per_call = seconds_since(t0) / double(warm);
    k[i] = std::max<int64_t>(1, int64_t(50e-6 / std::max(per_call, 1e-10)));
  }
  std::vector<std::vector<double>> s(n);
  std::vector<double> spent(n, 0);
  auto start = Clock::now();
  const double turn = 0.02, settle = 0.003;
  for (;;) {
    bool enough = true;
    for (size_t i = 0; i < n; ++i) enough &= s[i].size() >= 15 && (spent[i] >= budget() || s[i].size() >= 5000);
    if (enough) break;
    if (seconds_since(start) > 10 * budget() * double(n) + 2 && s[0].size() >= 3) break;  // very slow calls
    for (size_t i = 0; i < n; ++i) {
      auto t0 = Clock::now();
      do fns[i]();
      while (seconds_since(t0) < settle);
      auto t1 = Clock::now();
      do {
        auto a = Clock::now();
        for (int64_t j = 0; j < k[i]; ++j) fns[i]();
        s[i].push_back(std::chrono::duration<double, std::nano>(Clock::now() - a).count() / double(k[i]));
      } while (seconds_since(t1) < turn);
      spent[i] += seconds_since(t1);
    }
  }
  std::vector<Timing> out(n);
  for (size_t i = 0; i < n; ++i) {
    std::sort(s[i].begin(), s[i].end());
    size_t m = s[i].size();
    out[i] = Timing{s[i][m / 2], s[i][m / 4], s[i][m * 3 / 4], int(m), k[i]};
  }
  return out;
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
