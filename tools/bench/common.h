// tools/bench/common.h: what every part of the benchmark shares: the timer (the implementations
// of a case in turns, the median of many samples each), the split of a batch over threads that
// the hand-written baselines use, and the rows the benchmark writes.
#pragma once

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
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

// The median and quartiles of per-call samples (ns), taken `calls_per_sample` calls at a time.
inline Timing timing_of(std::vector<double> s, int64_t calls_per_sample) {
  std::sort(s.begin(), s.end());
  size_t m = s.size();
  return Timing{s[m / 2], s[m / 4], s[m * 3 / 4], int(m), calls_per_sample};
}

// One implementation of a case as turns: a turn makes untimed calls for `settle` seconds, then
// samples of k calls for about `seconds` (at least one sample), appends each sample's ns per
// call to `samples`, and returns k (0: it could not run).
using TurnFn = std::function<int64_t(double settle, double seconds, std::vector<double>& samples)>;

// A call of this process as turns: its first turn warms up (at least 3 calls and 10 ms) and
// picks k so a sample lasts about 50 us.
inline TurnFn turns_of(std::function<void()> fn) {
  auto k = std::make_shared<int64_t>(0);
  return [fn = std::move(fn), k](double settle, double seconds, std::vector<double>& samples) -> int64_t {
    if (*k == 0) {
      auto t0 = Clock::now();
      int64_t warm = 0;
      while (warm < 3 || seconds_since(t0) < 0.01) {
        fn();
        ++warm;
      }
      *k = std::max<int64_t>(1, int64_t(50e-6 / std::max(seconds_since(t0) / double(warm), 1e-10)));
    }
    auto t0 = Clock::now();
    do fn();
    while (seconds_since(t0) < settle);
    auto t1 = Clock::now();
    do {
      auto a = Clock::now();
      for (int64_t j = 0; j < *k; ++j) fn();
      samples.push_back(std::chrono::duration<double, std::nano>(Clock::now() - a).count() / double(*k));
    } while (seconds_since(t1) < seconds);
    return *k;
  };
}

// The implementations of one case, timed in turns: rounds in which each in turn settles
// (untimed calls for 10 ms) and takes samples for about 50 ms, until each has had its budget
// (at least 15 samples each): the median per-call time of each over its samples (NAN for one
// that could not run). This host's speed drifts by up to 2x within a minute; timed one after
// the other, a drift between two implementations would show as their ratio. In turns, each
// sees the same drift. The turns are long and start with the settling because threads the
// previous implementation woke keep spinning on the cores for a while when its calls stop
// (OpenMP's, torch's, vmapjit's pool's): samples taken then would measure the contention.
inline std::vector<Timing> measure_in_turns(const std::vector<TurnFn>& turns) {
  size_t n = turns.size();
  std::vector<std::vector<double>> s(n);
  std::vector<double> spent(n, 0);
  std::vector<int64_t> k(n, 0);
  std::vector<bool> gone(n, false);
  auto start = Clock::now();
  const double turn = 0.05, settle = 0.01;
  for (;;) {
    bool enough = true;
    for (size_t i = 0; i < n; ++i)
      enough &= gone[i] || (s[i].size() >= 15 && (spent[i] >= budget() || s[i].size() >= 5000));
    if (enough) break;
    if (seconds_since(start) > 10 * budget() * double(n) + 2) break;  // very slow calls: enough
    for (size_t i = 0; i < n; ++i) {
      if (gone[i]) continue;
      auto t0 = Clock::now();
      k[i] = turns[i](settle, turn, s[i]);
      gone[i] = k[i] == 0;
      spent[i] += std::max(turn, seconds_since(t0) - settle);
    }
  }
  std::vector<Timing> out(n);
  for (size_t i = 0; i < n; ++i)
    if (!s[i].empty() && !gone[i]) out[i] = timing_of(std::move(s[i]), k[i]);
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
