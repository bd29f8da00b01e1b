#!/usr/bin/env bash
# tools/bench/run.sh: the benchmark suite in one command (issue 7). Installs what it needs,
# builds Release, runs vmapjit against hand-written C++ (loops and Eigen), PyTorch (functorch and
# manual batching) and the machine's measured limits, and writes tools/bench/out/: results.csv,
# results.md (the tables, also printed) and speedup.png. Takes a few minutes on 2 cores; run it on
# a quiet machine (the load average is recorded with the results).
#
#   bash tools/bench/run.sh [--only dot,mlp,...] [--cold-runs N]
#   BENCH_BUDGET=0.05 bash tools/bench/run.sh   # seconds per measurement (default 0.25)
#
# Workload names for --only: dot model elementwise mlp psg jacrev matmul16 pairwise softmax
# overhead cold. Exits non-zero when a result did not match its reference or a call failed
# (the FAILURES section of results.md says which); the tables are written either way.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
bench_args=()
while (($#)); do
  case "$1" in
    --only | --cold-runs) bench_args+=("$1" "$2"); shift 2 ;;
    *) echo "usage: bash tools/bench/run.sh [--only a,b] [--cold-runs N]" >&2; exit 2 ;;
  esac
done

bash tools/setup.sh --bench
# torch's matrix products go through the system BLAS: Debian's default is the unoptimized
# reference BLAS, which would make torch a weak baseline. OpenBLAS (the OpenMP build, so that
# torch.set_num_threads also bounds it) is loaded for the torch runs only.
openblas=/usr/lib/x86_64-linux-gnu/openblas-openmp
if [[ ! -e $openblas/libblas.so.3 ]]; then
  echo "run.sh: installing libopenblas0-openmp (torch's BLAS for the baseline)"
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends libopenblas0-openmp >/dev/null
fi

cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DVMAPJIT_BUILD_BENCHMARKS=ON \
  -DVMAPJIT_BUILD_TESTS=OFF >/dev/null
ninja -C build-bench vmapjit-bench

out=$root/tools/bench/out
rm -rf "$out"
mkdir -p "$out"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date -u +%FT%TZ)
status=0
build-bench/tools/bench/vmapjit-bench --out "$out" "${bench_args[@]}" || status=$?
LD_LIBRARY_PATH=$openblas${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} \
  /usr/bin/python3 tools/bench/torch_bench.py --out "$out" "${bench_args[@]}" || status=$?
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
torch_blas=$(LD_LIBRARY_PATH=$openblas /usr/bin/python3 -c \
  "import torch; print(torch.__version__, [l.split()[-1] for l in open('/proc/self/maps') if 'blas' in l][:1])")
note="Run $started on $cpu, $(nproc) hardware threads; vmapjit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- compiler runtime include || echo ' (with uncommitted changes)'), Release build. Load average (1, 5, 15 min) before: $load_before; after: $load_after. torch: $torch_blas."
/usr/bin/python3 tools/bench/report.py "$out" --note "$note"
echo
echo "run.sh: wrote $out/results.md, results.csv, speedup.png"
exit $status
