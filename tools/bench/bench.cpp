// tools/bench/bench.cpp: the C++ half of the benchmark (the torch half is torch_bench.py).
// Measures the machine's limits, then runs every workload with vmapjit, the hand-written loop
// and Eigen (and, with --torch, the torch worker's functorch and manual forms of each case, in
// the same turns), and the call-overhead and cold-call measurements; writes cpp.csv and
// limits.csv.
//
//   vmapjit-bench --out DIR [--only dot,mlp,...] [--cold-runs N] [--torch COMMAND]
//   vmapjit-bench --cold dot|mlp      (one cold call in this fresh process; used by the above)
// COMMAND: a shell command that starts `torch_bench.py --serve`.
#include <jit/jit.h>
#include <unistd.h>

#include <climits>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <set>
#include <sstream>
#include <thread>

#include "limits.h"
#include "workloads.h"

using namespace bench;

namespace {

std::string self_path() {
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, size_t(n)) : "vmapjit-bench";
}

void write_limits(int all, const std::string& path) {
  std::ofstream f(path);
  f << "quantity,threads,footprint_bytes,value\n";
  std::fprintf(stderr, "machine limits (%d hardware threads):\n", all);
  for (int t : all > 1 ? std::vector<int>{1, all} : std::vector<int>{1}) {
    double peak = fma_peak(t);
    f << "fma_peak_flops," << t << ",0," << peak << "\n";
    std::fprintf(stderr, "  FMA peak, %d thread(s): %8.1f Gflop/s\n", t, peak / 1e9);
    for (int64_t fp : {int64_t(24) << 10, int64_t(768) << 10, int64_t(6) << 20, int64_t(48) << 20,
                       int64_t(1536) << 20}) {
      double bw = triad_bandwidth(fp, t);
      f << "triad_bytes_per_s," << t << "," << fp << "," << bw << "\n";
      std::fprintf(stderr, "  triad, %d thread(s), %7.1f MiB: %8.1f GB/s\n", t, double(fp) / (1 << 20), bw / 1e9);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string out = ".", only, torch_cmd;
  int cold_runs = 7;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--cold") return cold_child(next());
    if (a == "--out") out = next();
    else if (a == "--only") only = next();
    else if (a == "--cold-runs") cold_runs = std::atoi(next().c_str());
    else if (a == "--torch") torch_cmd = next();
    else {
      std::fprintf(stderr, "usage: vmapjit-bench --out DIR [--only a,b] [--cold-runs N] [--torch COMMAND]\n");
      return 2;
    }
  }
  std::set<std::string> chosen;
  std::stringstream ss(only);
  for (std::string w; std::getline(ss, w, ',');) chosen.insert(w);
  auto want = [&](const std::string& w) { return chosen.empty() || chosen.count(w); };

  std::error_code ec;
  std::filesystem::create_directories(out, ec);
  if (ec || !std::ofstream(out + "/cpp.csv")) {
    std::fprintf(stderr, "vmapjit-bench: cannot write to %s/ (%s)\n", out.c_str(),
                 ec ? ec.message().c_str() : "not writable");
    return 2;
  }
  int all = int(std::max(1u, std::thread::hardware_concurrency()));
  std::unique_ptr<TorchWorker> torch;
  if (!torch_cmd.empty()) torch = std::make_unique<TorchWorker>(torch_cmd);
  Runner r(all, torch.get());
  write_limits(all, out + "/limits.csv");

  const std::vector<std::pair<std::string, std::function<void(Runner&)>>> workloads = {
      {"dot", bench_dot},           {"model", bench_model},       {"elementwise", bench_elementwise},
      {"mlp", bench_mlp},           {"psg", bench_psg},           {"jacrev", bench_jacrev},
      {"matmul16", bench_matmul16}, {"pairwise", bench_pairwise}, {"softmax", bench_softmax},
      {"overhead", bench_overhead},
  };
  for (const auto& [name, fn] : workloads) {
    if (!want(name)) continue;
    std::fprintf(stderr, "%s:\n", name.c_str());
    try {
      fn(r);
    } catch (const std::exception& e) {
      r.fail("ERROR " + name + ": " + e.what() + " (workload skipped)");
    }
    write_rows(r, out + "/cpp.csv");  // as we go, so a crash keeps what was measured
  }
  if (want("cold")) {
    std::fprintf(stderr, "cold:\n");
    bench_cold(r, self_path(), cold_runs);
  }
  write_rows(r, out + "/cpp.csv");
  {
    std::ofstream f(out + "/failures.txt");
    for (const std::string& s : r.failures()) f << s << "\n";
  }
  if (!r.failures().empty()) {
    std::fprintf(stderr, "\n%zu FAILURE(S):\n", r.failures().size());
    for (const std::string& s : r.failures()) std::fprintf(stderr, "  %s\n", s.c_str());
    return 1;
  }
  return 0;
}
