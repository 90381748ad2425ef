#!/usr/bin/env python3
"""Side by side: PyTorch's fused, foreach and for-loop optimizer steps against the crate's
(benches/step.rs), on one thread, at the same sizes and dtypes, in one invocation.

    /tmp/ovenv/bin/python scripts/bench_torch.py                 # 1e6 and 1.6e7, f64 and f32
    /tmp/ovenv/bin/python scripts/bench_torch.py --sizes 1000,1000000 --repeat 5

Never run by CI (it needs torch and takes minutes). For each repeat it times every PyTorch
implementation, then runs the crate's criterion bench for the same optimizers, sizes and
dtypes (`cargo bench --bench step` with OPTVERIFY_BENCH_SIZES, reading criterion's median from
target/criterion), so a ratio compares two figures measured a few seconds apart on the same
machine. It prints, per optimizer, size and dtype, the ms per step of each, the crate's
effective GB/s and its fraction of the in-process copy probe, and the ratios
(torch time / crate time: > 1 means the crate is faster), best and median over the repeats.

PyTorch's timings: `opt.step()` after `torch.set_num_threads(1)`, the gradient set once,
each figure the median of enough steps to fill ~0.5 s of CPU time (at least 5), after 2
warm-up steps. Both sides are timed on the thread's CPU clock (`time.thread_time_ns` here,
`CLOCK_THREAD_CPUTIME_ID` in the crate's benches), not wall time, so that on a shared machine
the time slices given to other processes count on neither side; the script checks that the
process used no more CPU than the timing thread (PyTorch ran on one thread) and prints the
load average at the start and after each repeat. AdaGrad-Norm has no PyTorch implementation:
its rows show the crate's bandwidth only.
The hyperparameters are the defaults of each torch optimizer (the crate's benches use the same
`pytorch()` presets); SGD-momentum is lr 1e-3, momentum 0.9.
"""

import argparse
import glob
import json
import os
import statistics
import subprocess
import sys
import time

import torch

# optimizer → (torch constructor, the crate bench's name, words moved per parameter)
OPTIMIZERS = {
    "adam": (lambda p, **kw: torch.optim.Adam(p, **kw), 7),
    "adamw": (lambda p, **kw: torch.optim.AdamW(p, **kw), 7),
    "sgd-momentum": (lambda p, **kw: torch.optim.SGD(p, lr=1e-3, momentum=0.9, **kw), 5),
    "adagrad": (lambda p, **kw: torch.optim.Adagrad(p, **kw), 5),
    "rmsprop": (lambda p, **kw: torch.optim.RMSprop(p, **kw), 5),
    # No PyTorch implementation: the crate's figures against the copy probe only. 4 words:
    # ‖g‖² reads g, then θ ← θ − η g/b reads θ, g and writes θ.
    "adagrad-norm": (None, 4),
}
IMPLEMENTATIONS = {
    "fused": {"fused": True},
    "foreach": {"foreach": True},
    "for-loop": {"foreach": False},
}
DTYPES = {"f64": torch.float64, "f32": torch.float32}


def time_torch(name, impl, n, dtype, budget=0.5):
    """Median seconds per step, or None if this implementation does not exist on CPU."""
    make, _ = OPTIMIZERS[name]
    if make is None:
        return None, "no PyTorch implementation", 1.0
    p = torch.full((n,), 0.5, dtype=DTYPES[dtype])
    p.grad = ((torch.arange(n, dtype=torch.float64) % 17 - 8.0) * 1e-2 + 1e-3).to(DTYPES[dtype])
    try:
        opt = make([p], **IMPLEMENTATIONS[impl])
        opt.step()
        opt.step()
    except (RuntimeError, TypeError, ValueError) as e:
        return None, str(e).splitlines()[0], 1.0
    times = []
    process0, thread0 = time.process_time_ns(), time.thread_time_ns()
    while len(times) < 5 or time.thread_time_ns() - thread0 < budget * 1e9:
        t0 = time.thread_time_ns()
        opt.step()
        times.append((time.thread_time_ns() - t0) * 1e-9)
        if len(times) >= 200:
            break
    # > 1 if PyTorch used other threads than this one (their time is not in `times`).
    threads = (time.process_time_ns() - process0) / max(1, time.thread_time_ns() - thread0)
    return statistics.median(times), None, threads


def crate_bench(root, names, sizes, dtypes):
    """Run the crate's criterion bench for these groups; return {(group, n): seconds}."""
    groups = [f"{d}/{n}" for d in dtypes for n in names] + [f"probe-{d}/copy" for d in dtypes]
    pattern = "^(" + "|".join(g.replace("/", "/") for g in groups) + ")/"
    env = dict(os.environ, OPTVERIFY_BENCH_SIZES=",".join(map(str, sizes)), OPTVERIFY_BENCH_QUICK="1")
    subprocess.run(
        ["cargo", "bench", "--bench", "step", "--", pattern],
        cwd=root, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    out = {}
    for g in groups:
        for n in sizes:
            hits = glob.glob(os.path.join(root, "target", "criterion", g.replace("/", "_"), str(n), "new", "estimates.json"))
            if hits:
                with open(hits[0]) as f:
                    out[(g, n)] = json.load(f)["median"]["point_estimate"] * 1e-9
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1000000,16000000")
    ap.add_argument("--dtypes", default="f64,f32")
    ap.add_argument("--optimizers", default=",".join(OPTIMIZERS))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", help="also write every measurement to this file")
    args = ap.parse_args()
    sizes = [int(float(s)) for s in args.sizes.split(",")]
    dtypes = args.dtypes.split(",")
    names = args.optimizers.split(",")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    torch.set_num_threads(1)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread; sizes {sizes}; dtypes {dtypes}; "
          f"{args.repeat} repeats; load average {os.getloadavg()[0]:.1f}", flush=True)

    runs = []  # one dict per repeat: key → seconds
    loads = [os.getloadavg()[0]]
    most_threads = 1.0
    for r in range(args.repeat):
        t = {}
        for name in names:
            for d in dtypes:
                for n in sizes:
                    for impl in IMPLEMENTATIONS:
                        sec, err, threads = time_torch(name, impl, n, d)
                        most_threads = max(most_threads, threads)
                        t[("torch", impl, name, d, n)] = sec
        crate = crate_bench(root, names, sizes, dtypes)
        for (g, n), sec in crate.items():
            t[("crate", g, n)] = sec
        runs.append(t)
        loads.append(os.getloadavg()[0])
        print(f"repeat {r + 1}/{args.repeat} done (load average {loads[-1]:.1f})", file=sys.stderr, flush=True)

    def stats(values):
        values = [v for v in values if v is not None]
        return (min(values), statistics.median(values)) if values else (None, None)

    print()
    print("| optimizer | dtype | n | crate ms (best / median) | crate GB/s | % of copy | vs fused | vs foreach | vs for-loop |")
    print("|---|---|---|---|---|---|---|---|---|")
    rows = []
    for name in names:
        words = OPTIMIZERS[name][1]
        for d in dtypes:
            size = 8 if d == "f64" else 4
            for n in sizes:
                crate = [run.get(("crate", f"{d}/{name}", n)) for run in runs]
                copy = [run.get(("crate", f"probe-{d}/copy", n)) for run in runs]
                best, med = stats(crate)
                if best is None:
                    continue
                gbs = [words * size * n / c / 1e9 if c else None for c in crate]
                copy_gbs = [2 * size * n / c / 1e9 if c else None for c in copy]
                frac = [g / cg for g, cg in zip(gbs, copy_gbs) if g and cg]
                cells = []
                ratios = {}
                for impl in IMPLEMENTATIONS:
                    rs = [run.get(("torch", impl, name, d, n)) for run in runs]
                    rr = [tt / c for tt, c in zip(rs, crate) if tt and c]
                    if rr:
                        ratios[impl] = (max(rr), statistics.median(rr))
                        cells.append(f"{max(rr):.2f} / {statistics.median(rr):.2f}")
                    else:
                        cells.append("n/a")
                row = {
                    "optimizer": name, "dtype": d, "n": n,
                    "crate_ms": [c * 1e3 if c else None for c in crate],
                    "crate_gbs": gbs, "copy_gbs": copy_gbs,
                    "torch_ms": {impl: [run.get(("torch", impl, name, d, n)) and run[("torch", impl, name, d, n)] * 1e3
                                        for run in runs] for impl in IMPLEMENTATIONS},
                    "ratios_best_median": ratios,
                }
                rows.append(row)
                print(f"| {name} | {d} | {n:.2g} | {best * 1e3:.3f} / {med * 1e3:.3f} | "
                      f"{max(g for g in gbs if g):.1f} | "
                      f"{(100 * max(frac)):.0f} / {(100 * statistics.median(frac)):.0f} | " + " | ".join(cells) + " |")
    print("\nratios: torch ms / crate ms, best / median over the repeats (> 1: the crate is faster); "
          "% of copy: the crate's effective GB/s over the copy probe's in the same bench run, best / median. "
          "Thread CPU time on both sides.")
    print(f"load average (1 min) at the start and after each repeat: {', '.join(f'{l:.1f}' for l in loads)}; "
          f"PyTorch's process CPU / timing-thread CPU: at most {most_threads:.3f}"
          + (" (PyTorch used other threads: its figures are too fast)" if most_threads > 1.05 else " (one thread)"))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
