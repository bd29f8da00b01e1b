#!/usr/bin/env bash
# tools/bench/run.sh: the benchmark suite in one command (issue 7). Installs what it needs,
# builds Release, runs vmapjit against hand-written C++ (loops and Eigen), PyTorch (functorch and
# manual batching) and the machine's measured limits, and writes tools/bench/out/: results.csv,
# results.md (the tables, also printed) and speedup.png. Takes a few minutes on 2 cores; run it on
# a quiet machine (the load average is recorded with the results).
#
#   bash tools/bench/run.sh [--only dot,mlp,...] [--cold-runs N] [--wait-quiet MINUTES]
#   BENCH_BUDGET=0.05 bash tools/bench/run.sh   # seconds per measurement (default 0.25)
#
# --wait-quiet: before measuring, wait (at most MINUTES) until other processes use under 10% of
# the machine for 5 s. The share of the CPUs other processes used during the run is recorded.
# Workload names for --only: dot model elementwise mlp (with mlp_const) psg jacrev matmul16
# pairwise softmax overhead cold. Exits non-zero when a result did not match its reference or a
# call failed (the FAILURES section of results.md says which); the tables are written either way.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
bench_args=()
wait_quiet=0
while (($#)); do
  case "$1" in
    --only | --cold-runs) bench_args+=("$1" "$2"); shift 2 ;;
    --wait-quiet) wait_quiet=$2; shift 2 ;;
    *) echo "usage: bash tools/bench/run.sh [--only a,b] [--cold-runs N] [--wait-quiet MINUTES]" >&2; exit 2 ;;
  esac
done

# CPU time (clock ticks) used by the whole machine, and by this script's finished children.
machine_busy() { awk '/^cpu /{print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat; }
# Clock ticks the hypervisor gave this VM's CPUs to others (steal): part of machine_busy.
machine_steal() { awk '/^cpu /{print $9}' /proc/stat; }
own_busy() { awk '{print $16 + $17}' "/proc/$$/stat"; }
# Percent of the machine used by other processes since (busy, own, seconds) were taken.
others_percent() {
  awk -v b0="$1" -v o0="$2" -v t0="$3" -v b1="$(machine_busy)" -v o1="$(own_busy)" -v t1="$(date +%s.%N)" \
      -v hz="$(getconf CLK_TCK)" -v n="$(nproc)" \
      'BEGIN { p = 100 * ((b1 - b0) - (o1 - o0)) / (hz * n * (t1 - t0)); printf "%.0f", p < 0 ? 0 : p }'
}

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
deadline=$(($(date +%s) + 60 * wait_quiet))
while ((wait_quiet > 0)); do
  b=$(machine_busy) o=$(own_busy) t=$(date +%s.%N)
  sleep 5
  busy=$(others_percent "$b" "$o" "$t")
  ((busy < 10)) && break
  if (($(date +%s) >= deadline)); then
    echo "run.sh: the machine is still busy (${busy}% used by other processes); measuring anyway"
    break
  fi
  echo "run.sh: waiting for a quiet machine (${busy}% used by other processes)"
done
b0=$(machine_busy) o0=$(own_busy) t0=$(date +%s.%N) s0=$(machine_steal)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date -u +%FT%TZ)
status=0
# torch's forms of each 1-thread case run in a worker process that vmapjit-bench times in turns
# with its own implementations (the worker inherits the OpenBLAS path, which vmapjit-bench
# itself does not load from); torch's all-cores cases, call overhead and cold calls after.
export LD_LIBRARY_PATH=$openblas${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
build-bench/tools/bench/vmapjit-bench --out "$out" "${bench_args[@]}" \
  --torch "/usr/bin/python3 tools/bench/torch_bench.py --serve" || status=$?
/usr/bin/python3 tools/bench/torch_bench.py --out "$out" --after-worker "${bench_args[@]}" || status=$?
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
others=$(others_percent "$b0" "$o0" "$t0")
steal=$(awk -v s0="$s0" -v s1="$(machine_steal)" -v t0="$t0" -v t1="$(date +%s.%N)" -v hz="$(getconf CLK_TCK)" \
  -v n="$(nproc)" 'BEGIN { printf "%.0f", 100 * (s1 - s0) / (hz * n * (t1 - t0)) }')

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')
torch_blas=$(LD_LIBRARY_PATH=$openblas /usr/bin/python3 -c \
  "import torch; print(torch.__version__, [l.split()[-1] for l in open('/proc/self/maps') if 'blas' in l][:1])")
note="Run $started on $cpu, $(nproc) hardware threads; vmapjit $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- compiler runtime include || echo ' (with uncommitted changes)'), Release build. Other processes used ${others}% of the machine's CPU time during the measurements (of which the hypervisor took ${steal}% for other guests: steal time; load average before: $load_before; after: $load_after): the more, the noisier, the all-cores column most. torch: $torch_blas."
/usr/bin/python3 tools/bench/report.py "$out" --note "$note"
echo
echo "run.sh: wrote $out/results.md, results.csv, speedup.png"
exit $status
