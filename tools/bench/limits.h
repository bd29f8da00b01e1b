// tools/bench/limits.h: this machine's limits, measured in the run: memory bandwidth (the STREAM
// triad a[i] = b[i] + s * c[i], counted as 12 bytes per element as STREAM counts it) and the FMA
// peak (independent vector FMAs at the build's widest width), per thread count. A workload's roofline time is
// max(bytes / triad bandwidth at the workload's footprint, flops / FMA peak).
#pragma once

#include <cstdint>
#include <functional>

namespace bench {

// Bytes per second of a triad whose three arrays hold `footprint` bytes in all, run by `threads`
// threads (each on its own contiguous part). Measured once per (footprint, threads).
double triad_bandwidth(int64_t footprint, int threads);

// Flops per second of vector FMAs (AVX-512 or AVX2) (one FMA = 2 flops per lane) on `threads` threads.
double fma_peak(int threads);

// A call of a fixed amount of work on the machine's limits: `work` bytes of triad traffic or
// flops of vector FMAs a call. Timed in turns with a case's implementations, it gives the
// bandwidth or peak of those same seconds (this host's speed drifts by up to 2x in a minute).
struct Probe {
  std::function<void()> run;
  double work;
};
// Triads over arrays of `footprint` bytes in all, on `threads` threads.
Probe triad_probe(int64_t footprint, int threads);
// Vector FMAs on `threads` threads.
Probe fma_probe(int threads);

}  // namespace bench
