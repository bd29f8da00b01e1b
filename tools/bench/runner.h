// tools/bench/runner.h: one benchmark case = one workload at one batch size and thread count,
// run by several implementations. The first implementation (the hand-written loop) is the
// reference: every other one is checked against it before anything is timed, and a mismatch
// or a vmapjit error is reported loudly and leaves that implementation out.
#pragma once

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "common.h"
#include "torch_worker.h"

namespace bench {

// A workload at one batch size: its name, and the bytes and flops of its roofline.
struct Work {
  std::string name;
  int64_t batch;
  double bytes, flops;
};

// One output buffer of an implementation, for the check.
struct Output {
  const float* data;
  int64_t n;
};

struct Impl {
  std::string name;               // cpp_loop, eigen, vmapjit, vmapjit_alloc
  std::function<void()> run;      // one call
  std::function<std::vector<Output>()> outputs;  // after a call
};

// The machine's limits a case's roofline comes from: bytes / s of the triad at the case's
// footprint and flops / s of vector FMAs, on the case's threads (NAN: none).
struct Limits {
  double bandwidth = NAN, peak = NAN;
};

struct Row {
  Work work;
  int threads;
  std::string impl;
  Timing t;
  double roofline_ns;
  Limits limits;
};

class Runner {
 public:
  // `torch`: the worker whose torch forms of each case are timed with it (or null).
  explicit Runner(int all_threads, TorchWorker* torch = nullptr) : all_threads_(all_threads), torch_(torch) {}
  int all_threads() const { return all_threads_; }
  // The thread counts to run: 1 and all cores.
  std::vector<int> thread_counts() const;

  // Checks impls[1..] against impls[0] (|got - want| <= atol + rtol |want|), then times them
  // in turns, with the torch worker's forms of the case on 1 thread (functorch, torch_manual;
  // checked against each other there) and probes of the machine's limits (the triad at the case's
  // footprint and the FMA loop, for the case's roofline) in the same turns.
  void run(const Work& w, int threads, std::vector<Impl> impls, double rtol = 1e-4, double atol = 1e-5);
  // A row measured some other way (call overhead, cold calls); without `lim`, its roofline
  // comes from the limits measured once in the run.
  void add(const Work& w, int threads, const std::string& impl, const Timing& t, Limits lim = {});
  // A failure to report at the end (and in the exit status).
  void fail(const std::string& what);

  const std::vector<Row>& rows() const { return rows_; }
  const std::vector<std::string>& failures() const { return failures_; }

 private:
  int all_threads_;
  TorchWorker* torch_;
  std::vector<Row> rows_;
  std::vector<std::string> failures_;
};

// Rows as CSV, and the limits measured in the run.
void write_rows(const Runner& r, const std::string& path);

}  // namespace bench
