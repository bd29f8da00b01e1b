// tools/bench/workloads.h: the benchmark's workloads, one function each (see workloads.cpp),
// and the call-overhead and cold-call measurements (see calls.cpp).
#pragma once

#include <string>

#include "runner.h"

namespace bench {

void bench_dot(Runner& r);
void bench_model(Runner& r);
void bench_elementwise(Runner& r);
void bench_mlp(Runner& r);
void bench_psg(Runner& r);
void bench_jacrev(Runner& r);
void bench_matmul16(Runner& r);
void bench_pairwise(Runner& r);
void bench_softmax(Runner& r);

// Cache-hit call overhead: tight loops of calls at batch 1 (dot and the MLP).
void bench_overhead(Runner& r);
// Cold first calls, each in a fresh process running `self --cold NAME` (`runs` processes).
void bench_cold(Runner& r, const std::string& self, int runs);
// The child's side: one cold call of `name` (dot or mlp); prints its times. Returns the exit code.
int cold_child(const std::string& name);

}  // namespace bench
