#!/usr/bin/env python3
"""Record where torch's CPU `sqrt` is not the correctly rounded square root, on the golden runs.

torch 2.15's CPU `Tensor.sqrt`/`sqrt_` calls oneMKL's vdSqrt/vsSqrt (VML), which is not
correctly rounded: on the machine that wrote tests/data/golden/ about 1.4% of float64 and 20%
of float32 inputs come out 1 ulp away from IEEE `sqrt`. That is the one operation of the torch
optimizers a Rust kernel cannot reproduce by operation order alone.

This script re-runs every torch setting of scripts/golden_traces.py exactly as that script
does, with `Tensor.sqrt`/`sqrt_` wrapped to observe torch's own inputs and outputs, and writes
the pairs where torch's result differs from the correctly rounded root (computed by NumPy) to
tests/data/torch-sqrt-table.json:

    {"producer": ..., "f64": [[input_bits, output_bits], ...], "f32": [[...], ...]}

(bits as unsigned integers). The Rust test of src/oracle/kernels/torch.rs replays the golden
traces with this table in place of `sqrt` and requires every step to be bit-identical, which
shows that every other operation of the kernels is transcribed exactly. It also checks the
golden traces are reproduced by this run (same producer, same parameters).

Usage: /tmp/ovenv/bin/python scripts/torch_sqrt_table.py tests/data/torch-sqrt-table.json
"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import golden_traces as gt  # noqa: E402
import torch  # noqa: E402

seen = {torch.float64: {}, torch.float32: {}}
_sqrt, _sqrt_ = torch.Tensor.sqrt, torch.Tensor.sqrt_


def record(x, y):
    if x.dtype not in seen:
        return
    npdt, bits = (np.float64, np.uint64) if x.dtype == torch.float64 else (np.float32, np.uint32)
    xi = x.detach().reshape(-1).numpy().astype(npdt)
    yi = y.detach().reshape(-1).numpy().astype(npdt)
    ref = np.sqrt(xi)
    for a, b, r in zip(xi.view(bits), yi.view(bits), ref.view(bits)):
        if b != r:
            seen[x.dtype][int(a)] = int(b)


def sqrt(self):
    y = _sqrt(self)
    record(self, y)
    return y


def sqrt_(self):
    x = self.clone()
    y = _sqrt_(self)
    record(x, y)
    return y


torch.Tensor.sqrt, torch.Tensor.sqrt_ = sqrt, sqrt_


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/data/torch-sqrt-table.json"
    golden = os.path.join(os.path.dirname(out), "golden")
    for name, setting, hp in gt.TORCH:
        runs = [(c, torch.float64, "") for c in ["randn", "scaled", "sparse", "matrix", "quad"]]
        runs += [(c, torch.float32, "-f32") for c in ["randn", "quad"]]
        for case, dtype, suffix in runs:
            _, _, steps, producer = gt.run_torch(name, hp, case, dtype)
            path = os.path.join(golden, f"torch-{name}-{setting}-{case}{suffix}.jsonl")
            if os.path.exists(path):
                with open(path) as f:
                    lines = [json.loads(line) for line in f]
                if lines[0]["producer"] != producer or [r["params"] for r in lines[1:]] != [
                    r["params"] for r in steps
                ]:
                    sys.exit(f"{path}: this run does not reproduce the golden trace")
    table = {
        "producer": f"torch {torch.__version__} (CPU, {torch.backends.cpu.get_cpu_capability()})",
        "f64": sorted([a, b] for a, b in seen[torch.float64].items()),
        "f32": sorted([a, b] for a, b in seen[torch.float32].items()),
    }
    with open(out, "w") as f:
        json.dump(table, f)
        f.write("\n")
    print(f"{out}: {len(table['f64'])} f64 and {len(table['f32'])} f32 inputs where torch's sqrt is not IEEE's")


if __name__ == "__main__":
    main()
