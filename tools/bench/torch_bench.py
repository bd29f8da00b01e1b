#!/usr/bin/python3
"""tools/bench/torch_bench.py: the PyTorch half of the benchmark (Debian's python3-torch 1.13).

Each workload of bench.cpp as functorch writes it (functorch.vmap / grad / jacrev of the same
per-sample function) and as torch batches it by hand (X @ W.T, bmm, cdist, ...), on 1 thread and
on all cores (torch.set_num_threads). The two forms are checked against each other first.
run.sh runs it as vmapjit-bench's worker (--serve), which times the 1-thread cases in turns with
the C++ implementations of each; then once more (--after-worker) for the all-cores cases, the
call overhead and the cold calls, each form timed after the other (warm up, then the median of
samples of k calls), as it times everything when run alone. Writes torch.csv.

  /usr/bin/python3 torch_bench.py --out DIR [--only dot,mlp] [--cold-runs N] [--after-worker]
  /usr/bin/python3 torch_bench.py --serve          (lines on stdin: see serve())
  /usr/bin/python3 torch_bench.py --cold dot|mlp   (one first call in this fresh process)
"""
import argparse
import csv
import os
import statistics
import subprocess
import sys
import time

import torch
import functorch
from functorch import vmap, grad, jacrev

F = torch.nn.functional
BUDGET = float(os.environ.get("BENCH_BUDGET", "0.25"))
IN, HID, OUT = 64, 128, 10


def calls_per_sample(fn):
    """Warm up (3 calls, 10 ms); the k calls a sample of ~50 us takes."""
    t0 = time.perf_counter()
    warm = 0
    while warm < 3 or time.perf_counter() - t0 < 0.01:
        fn()
        warm += 1
    return max(1, int(50e-6 / max((time.perf_counter() - t0) / warm, 1e-10)))


def mismatched(fvmap, fmanual):
    """The outputs where the functorch form and the manual one differ (None: all agree)."""
    got, ref = as_list(fvmap()), as_list(fmanual())
    bad = [i for i, (g, r) in enumerate(zip(got, ref))
           if g.shape != r.shape or not torch.allclose(g, r, rtol=1e-4, atol=1e-4)]
    return bad if bad or len(got) != len(ref) else None


def measure(fn):
    """Warm up, then samples of k calls (~50 us each) for the budget: median ns."""
    k = calls_per_sample(fn)
    samples = []
    start = time.perf_counter()
    while len(samples) < 15 or (time.perf_counter() - start < BUDGET and len(samples) < 5000):
        a = time.perf_counter_ns()
        for _ in range(k):
            fn()
        samples.append((time.perf_counter_ns() - a) / k)
        if time.perf_counter() - start > 10 * BUDGET + 2:
            break
    samples.sort()
    n = len(samples)
    return dict(median_ns=samples[n // 2], p25_ns=samples[n // 4], p75_ns=samples[3 * n // 4],
                samples=n, calls_per_sample=k)


def serve():
    """The worker mode: vmapjit-bench times each case's torch forms in turns with its own
    implementations, so a drift in the machine's speed does not show as a ratio. Lines on stdin:
      case NAME BATCH THREADS   -> "ok", "none" (no such case) or "fail WHY" (after the check)
      turn IMPL SETTLE SECONDS  -> "K s1 s2 ...": calls per sample, then ns per call of each sample
      quit
    IMPL is functorch or torch_manual; a turn makes untimed calls for SETTLE seconds, then
    samples of K calls (~50 us each) for SECONDS."""
    cases = {(name, batch): (fv, fm) for name, batch, fv, fm in workloads()}
    fns, ks = {}, {}
    out = sys.stdout
    for line in sys.stdin:
        w = line.split()
        if not w:
            continue
        if w[0] == "quit":
            break
        if w[0] == "case":
            name, batch, th = w[1], int(w[2]), int(w[3])
            fns, ks = {}, {}
            if (name, batch) not in cases:
                print("none", file=out, flush=True)
                continue
            fv, fm = cases[(name, batch)]
            torch.set_num_threads(th)
            torch.set_grad_enabled(name in ("psg", "jacrev"))
            try:
                bad = mismatched(fv, fm)
                if bad is not None:
                    print(f"fail functorch vs manual, outputs {bad}", file=out, flush=True)
                    continue
                for impl, fn in (("functorch", fv), ("torch_manual", fm)):
                    fns[impl], ks[impl] = fn, calls_per_sample(fn)
            except Exception as e:  # reported by the caller, which goes on
                print("fail " + repr(e).replace("\n", " "), file=out, flush=True)
                continue
            print("ok", file=out, flush=True)
        elif w[0] == "turn":
            fn, k, settle, seconds = fns[w[1]], ks[w[1]], float(w[2]), float(w[3])
            t0 = time.perf_counter()
            fn()
            while time.perf_counter() - t0 < settle:
                fn()
            samples = []
            t1 = time.perf_counter()
            while not samples or time.perf_counter() - t1 < seconds:
                a = time.perf_counter_ns()
                for _ in range(k):
                    fn()
                samples.append((time.perf_counter_ns() - a) / k)
            print(k, *(f"{x:.1f}" for x in samples), file=out, flush=True)
    return 0


def tight_loop(fn, calls=300):
    """Cache-hit overhead as bench.cpp measures it: 15 loops of `calls` calls, median ns per call."""
    for _ in range(calls // 4):
        fn()
    s = []
    for _ in range(15):
        a = time.perf_counter_ns()
        for _ in range(calls):
            fn()
        s.append((time.perf_counter_ns() - a) / calls)
    s.sort()
    return dict(median_ns=s[7], p25_ns=s[3], p75_ns=s[11], samples=15, calls_per_sample=calls)


# ---- the per-sample functions and their inputs ---------------------------------------------
def params():
    g = torch.Generator().manual_seed(0)
    r = lambda *s: torch.randn(*s, generator=g)
    return dict(w=r(64), w1=r(HID, IN) * 0.125, b1=r(HID) * 0.1, w2=r(OUT, HID) * 0.09,
                b2=r(OUT) * 0.1, a=r(128, 128) * 0.09)


P = params()


def chain(x):
    return torch.tanh(1.5 * x + 0.5) * torch.sigmoid(x) - 0.1 * torch.exp(x)


def mlp(x):
    return torch.softmax(P["w2"] @ torch.tanh(P["w1"] @ x + P["b1"]) + P["b2"], 0)


def mlp_batched(X):
    return torch.softmax(torch.tanh(X @ P["w1"].T + P["b1"]) @ P["w2"].T + P["b2"], 1)


def mlp_loss(w1, b1, w2, b2, x, t):
    logits = w2 @ torch.tanh(w1 @ x + b1) + b2
    return -(t * torch.log_softmax(logits, 0)).sum()


def psg_manual(w1, b1, w2, b2, X, T):
    """Per-sample gradients batched by hand: the backward pass written with batched ops."""
    H = torch.tanh(X @ w1.T + b1)
    dZ = torch.softmax(H @ w2.T + b2, 1) * T.sum(1, keepdim=True) - T
    dA = (dZ @ w2) * (1 - H * H)
    return [dA[:, :, None] * X[:, None, :], dA, dZ[:, :, None] * H[:, None, :], dZ]


def tanh_av(v):
    return torch.tanh(P["a"] @ v)


def jac_manual(v):
    y = torch.tanh(P["a"] @ v)
    return (1 - y * y)[:, None] * P["a"]


def dist(x, y):
    return torch.sqrt(((x - y) ** 2).sum())


def one_hot(batch):
    labels = (torch.arange(batch) * 7 + 3) % OUT
    return F.one_hot(labels, OUT).float()


def randn(*shape, seed):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


# Each workload: (name, batch, functorch callable, manual callable). Each callable binds its
# inputs (default arguments): serve() builds every case before it calls any.
def workloads():
    for b in (1, 64, 4096, 100000):
        x, y = randn(b, 64, seed=1), randn(b, 64, seed=2)
        yield "dot", b, (lambda x=x, y=y: vmap(torch.dot)(x, y)), (lambda x=x, y=y: (x * y).sum(-1))
    w = P["w"]
    for b in (1, 64, 4096, 100000):
        x = randn(b, 64, seed=3)
        yield ("model", b, (lambda x=x: vmap(lambda s: torch.relu(torch.dot(s, w)))(x)),
               (lambda x=x: torch.relu(x @ w)))
    x = randn(1000, 1000, seed=4)
    yield "elementwise", 1000, (lambda x=x: vmap(chain)(x)), (lambda x=x: chain(x))
    for b in (1, 16, 256, 4096):
        x = randn(b, IN, seed=5)
        yield "mlp", b, (lambda x=x: vmap(mlp)(x)), (lambda x=x: mlp_batched(x))
        # vmapjit's MLP with constant captures: torch has no such option (its calls read the
        # weights either way), so the same calls, timed in turns with that case.
        yield "mlp_const", b, (lambda x=x: vmap(mlp)(x)), (lambda x=x: mlp_batched(x))
    x, t = randn(256, IN, seed=6), one_hot(256)
    args = (P["w1"], P["b1"], P["w2"], P["b2"], x, t)
    psg = vmap(grad(mlp_loss, argnums=(0, 1, 2, 3)), in_dims=(None, None, None, None, 0, 0))
    yield "psg", 256, (lambda args=args: list(psg(*args))), (lambda args=args: psg_manual(*args))
    v = randn(128, seed=7)
    yield "jacrev", 1, (lambda v=v: jacrev(tanh_av)(v)), (lambda v=v: jac_manual(v))
    a, b_ = randn(10000, 16, 16, seed=8), randn(10000, 16, 16, seed=9)
    yield "matmul16", 10000, (lambda a=a, b_=b_: vmap(torch.mm)(a, b_)), (lambda a=a, b_=b_: torch.bmm(a, b_))
    x, y = randn(512, 16, seed=16), randn(512, 16, seed=17)
    pair = vmap(vmap(dist, (None, 0)), (0, None))
    yield "pairwise", 512, (lambda x=x, y=y: pair(x, y)), (lambda x=x, y=y: torch.cdist(x, y))
    x = randn(1024, 1024, seed=18)
    yield "softmax", 1024, (lambda x=x: vmap(lambda s: torch.softmax(s, 0))(x)), (lambda x=x: torch.softmax(x, 1))


def as_list(r):
    return r if isinstance(r, (list, tuple)) else [r]


def cold_child(name):
    x, y = randn(1, 64, seed=1), randn(1, 64, seed=2)
    f = {"dot": lambda: vmap(torch.dot)(x, y), "mlp": lambda: vmap(mlp)(x)}[name]
    with torch.no_grad():
        t0 = time.perf_counter_ns()
        f()
        t1 = time.perf_counter_ns()
    print(t1 - t0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=".")
    ap.add_argument("--only", default="")
    ap.add_argument("--cold", default="")
    ap.add_argument("--cold-runs", type=int, default=7)
    ap.add_argument("--serve", action="store_true", help="the worker vmapjit-bench times in turns")
    ap.add_argument("--after-worker", action="store_true",
                    help="skip the 1-thread cases (vmapjit-bench timed them with the worker)")
    a = ap.parse_args()
    if a.cold:
        cold_child(a.cold)
        return 0
    if a.serve:
        return serve()
    only = set(filter(None, a.only.split(",")))
    want = lambda w: not only or w in only or (w == "mlp_const" and "mlp" in only)  # both of bench_mlp
    all_threads = os.cpu_count() or 1
    threads = [1, all_threads] if all_threads > 1 else [1]
    rows, failures = [], []

    def add(work, batch, th, impl, t):
        rows.append(dict(workload=work, batch=batch, threads=th, impl=impl, **t))
        print(f"  {work:12s} batch {batch:6d} threads {th}  {impl:13s} {t['median_ns']:14.1f} ns",
              file=sys.stderr)

    print(f"torch {torch.__version__}, functorch {functorch.__version__}", file=sys.stderr)
    for name, batch, fvmap, fmanual in workloads():
        if not want(name):
            continue
        grad_needed = name in ("psg", "jacrev")
        for th in threads:
            if a.after_worker and th == 1:
                continue
            torch.set_num_threads(th)
            with torch.set_grad_enabled(grad_needed):
                try:
                    bad = mismatched(fvmap, fmanual)
                    if bad is not None:
                        failures.append(f"MISMATCH torch {name} batch {batch}: functorch vs manual, outputs {bad}")
                        print("!!!!! " + failures[-1], file=sys.stderr)
                        continue
                    add(name, batch, th, "functorch", measure(fvmap))
                    add(name, batch, th, "torch_manual", measure(fmanual))
                except Exception as e:  # report and go on with the other workloads
                    failures.append(f"ERROR torch {name} batch {batch}: {e!r}")
                    print("!!!!! " + failures[-1], file=sys.stderr)
    torch.set_num_threads(1)
    if want("overhead"):
        x, y = randn(1, 64, seed=1), randn(1, 64, seed=2)
        with torch.no_grad():
            add("overhead_dot", 1, 1, "functorch", tight_loop(lambda: vmap(torch.dot)(x, y)))
            add("overhead_dot", 1, 1, "torch_manual", tight_loop(lambda: (x * y).sum(-1)))
            add("overhead_mlp", 1, 1, "functorch", tight_loop(lambda: vmap(mlp)(x)))
            add("overhead_mlp", 1, 1, "torch_manual", tight_loop(lambda: mlp_batched(x)))
    if want("cold"):
        for name in ("dot", "mlp"):
            s = []
            for _ in range(a.cold_runs):
                r = subprocess.run([sys.executable, os.path.abspath(__file__), "--cold", name],
                                   capture_output=True, text=True, env=dict(os.environ, OMP_NUM_THREADS="1"))
                if r.returncode != 0:
                    failures.append(f"ERROR torch cold {name}: {r.stderr.strip()[-300:]}")
                    break
                s.append(float(r.stdout.split()[-1]))
            if s:
                s.sort()
                n = len(s)
                add("cold_" + name, 1, 1, "functorch", dict(median_ns=s[n // 2], p25_ns=s[n // 4],
                                                           p75_ns=s[3 * n // 4], samples=n, calls_per_sample=1))
    with open(os.path.join(a.out, "torch.csv"), "w", newline="") as f:
        wr = csv.DictWriter(f, fieldnames=["workload", "batch", "threads", "impl", "median_ns", "p25_ns",
                                           "p75_ns", "samples", "calls_per_sample"])
        wr.writeheader()
        wr.writerows(rows)
    with open(os.path.join(a.out, "torch_failures.txt"), "w") as f:
        f.writelines(s + "\n" for s in failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
