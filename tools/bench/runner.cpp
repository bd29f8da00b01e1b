// tools/bench/runner.cpp: checking and timing a case, and writing the rows.
#include "runner.h"

#include <jit/jit.h>

#include <cstdlib>
#include <fstream>

#include "limits.h"

namespace bench {

double budget() {
  static double b = [] {
    const char* e = std::getenv("BENCH_BUDGET");
    return e ? std::atof(e) : 0.25;
  }();
  return b;
}

std::vector<int> Runner::thread_counts() const {
  if (all_threads_ > 1) return {1, all_threads_};
  return {1};
}

namespace {

// Empty when the outputs agree, else what differs.
std::string compare(const std::vector<Output>& got, const std::vector<Output>& want, double rtol, double atol) {
  if (got.size() != want.size())
    return "got " + std::to_string(got.size()) + " outputs, want " + std::to_string(want.size());
  for (size_t o = 0; o < got.size(); ++o) {
    if (got[o].n != want[o].n)
      return "output " + std::to_string(o) + " has " + std::to_string(got[o].n) + " elements, want " +
             std::to_string(want[o].n);
    int64_t bad = 0, first = -1;
    double worst = 0;
    for (int64_t i = 0; i < got[o].n; ++i) {
      double g = got[o].data[i], w = want[o].data[i], err = std::fabs(g - w);
      if (!(err <= atol + rtol * std::fabs(w))) {
        if (first < 0) first = i;
        ++bad;
        worst = std::max(worst, std::isnan(err) ? INFINITY : err);
      }
    }
    if (bad) {
      char buf[256];
      std::snprintf(buf, sizeof buf, "output %zu: %ld of %ld elements differ; first [%ld]: got %.9g, want %.9g; worst |diff| %.3g",
                    o, long(bad), long(got[o].n), long(first), got[o].data[first], want[o].data[first], worst);
      return buf;
    }
  }
  return "";
}

}  // namespace

void Runner::run(const Work& w, int threads, std::vector<Impl> impls, double rtol, double atol) {
  char label[128];
  std::snprintf(label, sizeof label, "%s batch %ld threads %d", w.name.c_str(), long(w.batch), threads);
  std::vector<bool> ok(impls.size(), true);
  std::vector<Output> want;
  for (size_t i = 0; i < impls.size(); ++i) {
    try {
      impls[i].run();
      std::vector<Output> got = impls[i].outputs();
      if (i == 0) {
        want = got;
        continue;
      }
      std::string diff = compare(got, want, rtol, atol);
      if (!diff.empty()) {
        fail(std::string("MISMATCH ") + label + ": " + impls[i].name + " vs " + impls[0].name + ": " + diff);
        ok[i] = false;
      }
    } catch (const std::exception& e) {
      fail(std::string("ERROR ") + label + ": " + impls[i].name + " threw: " + e.what());
      ok[i] = false;
    }
    if (i == 0 && !ok[0]) return;
  }
  // The first calls above ran each new kernel's quick tier: time the optimized one.
  jit::wait_for_compiles();
  std::vector<TurnFn> turns;
  std::vector<std::string> names;
  for (size_t i = 0; i < impls.size(); ++i)
    if (ok[i]) turns.push_back(turns_of(impls[i].run)), names.push_back(impls[i].name);
  // torch's forms of the case, in the worker process, in the same turns: on 1 thread, where the
  // issue's targets are set. (On all cores, torch's idle OpenMP threads would spin on the cores
  // through the other implementations' turns: torch_bench.py times those cases alone.)
  if (torch_ && torch_->alive() && threads == 1) {
    std::string r = torch_->start_case(w.name, w.batch, threads);
    if (r == "ok") {
      for (const char* impl : {"functorch", "torch_manual"}) {
        turns.push_back([this, impl](double settle, double seconds, std::vector<double>& s) {
          return torch_->turn(impl, settle, seconds, s);
        });
        names.push_back(impl);
      }
    } else if (r != "none") {
      fail(std::string("ERROR ") + label + ": torch: " + r);
    }
  }
  size_t nimpl = turns.size();
  // The machine's limits in the same turns: the case's roofline from the same seconds.
  Probe triad = triad_probe(int64_t(w.bytes), threads), fma = fma_probe(threads);
  turns.push_back(turns_of(triad.run));
  turns.push_back(turns_of(fma.run));
  std::vector<Timing> ts = measure_in_turns(turns);
  Limits lim{triad.work / (ts[nimpl].median_ns * 1e-9), fma.work / (ts[nimpl + 1].median_ns * 1e-9)};
  std::fprintf(stderr, "  %-44s %-14s %9.1f GB/s triad, %6.1f Gflop/s FMA\n", label, "(limits)", lim.bandwidth / 1e9,
               lim.peak / 1e9);
  for (size_t j = 0; j < nimpl; ++j) {
    const Timing& t = ts[j];
    if (std::isnan(t.median_ns)) {
      fail(std::string("ERROR ") + label + ": " + names[j] + " stopped answering");
      continue;
    }
    std::fprintf(stderr, "  %-44s %-14s %12.1f ns (%d samples x %ld)\n", label, names[j].c_str(), t.median_ns,
                 t.samples, long(t.calls_per_sample));
    add(w, threads, names[j], t, lim);
  }
}

void Runner::add(const Work& w, int threads, const std::string& impl, const Timing& t, Limits lim) {
  double roof = NAN;
  if (w.bytes > 0 || w.flops > 0) {
    // Limits not measured with the case: those measured once, when first needed.
    if (!(lim.bandwidth > 0)) lim = {triad_bandwidth(int64_t(w.bytes), threads), fma_peak(threads)};
    roof = 1e9 * std::max(w.bytes / lim.bandwidth, w.flops / lim.peak);
  }
  rows_.push_back(Row{w, threads, impl, t, roof, lim});
}

void Runner::fail(const std::string& what) {
  std::fprintf(stderr, "\n!!!!! %s\n\n", what.c_str());
  failures_.push_back(what);
}

void write_rows(const Runner& r, const std::string& path) {
  std::ofstream f(path);
  f << "workload,batch,threads,impl,median_ns,p25_ns,p75_ns,samples,calls_per_sample,bytes,flops,roofline_ns,"
       "triad_bytes_per_s,fma_flops_per_s\n";
  char buf[512];
  for (const Row& x : r.rows()) {
    std::snprintf(buf, sizeof buf, "%s,%ld,%d,%s,%.2f,%.2f,%.2f,%d,%ld,%.0f,%.0f,%.2f,%.0f,%.0f\n", x.work.name.c_str(),
                  long(x.work.batch), x.threads, x.impl.c_str(), x.t.median_ns, x.t.p25_ns, x.t.p75_ns, x.t.samples,
                  long(x.t.calls_per_sample), x.work.bytes, x.work.flops, x.roofline_ns, x.limits.bandwidth,
                  x.limits.peak);
    f << buf;
  }
}

}  // namespace bench
