#!/usr/bin/env python3
"""Write the golden traces of optax's `adafactor` options (issue 12) from real optax runs.

Usage (the venv of scripts/requirements-golden.txt):

    /tmp/ovenv/bin/python scripts/golden_adafactor.py tests/data/golden

writes `optax-adafactor-opt-<tag>.jsonl` (float64) and `optax-adafactor-opt-<tag>-f32.jsonl`
(float32) into DIR for the plain settings, and the settings that need a header declaration
(a schedule, a weight-decay mask as parameter groups) into DIR/features. The kernel
(src/oracle/kernels/optax_adafactor.rs) must replay every one bit for bit.

The parameters are five leaves chosen to reach every branch of `scale_by_factored_rms` with
min_dim_size_to_factor = 4: a wide 5x40 matrix (factored; rows are the shorter axis; a
dimension above 32, so XLA reduces it through its 32-wide windows), a tall 36x6 matrix
(factored; optax's `v_row` is then per column), a 3x4 matrix (too small to factor: its smaller
dimension 3 < 4), a vector of 36 (never factored), and a square 5x5 matrix (factored; argsort
keeps rows first). Open loop, STEPS steps, gradients N(0, 1) times a per-leaf scale
(1e-3 … 1e2) with about 10% exact zeros. float64 with jax_enable_x64; float32 keeps x64
enabled and is given float32 arrays (as scripts/golden_traces.py). optax runs eagerly.
"""
import os
import sys

import numpy as np

os.environ.setdefault("JAX_ENABLE_X64", "1")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import optax  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from optverify_trace import TraceWriter  # noqa: E402

STEPS = 30
LAYOUT = [("wide", 5, 40), ("tall", 36, 6), ("small", 3, 4), ("b", 36, 1), ("sq", 5, 5)]
SCALES = [1.0, 1e-3, 10.0, 1e2, 0.1]
BASE = dict(learning_rate=0.01, min_dim_size_to_factor=4)

# (tag, hyperparameters as the header writes them (optax's names), options):
# schedule=spec (given as learning_rate, declared as the header's `schedule`),
# mask=[bool per leaf] (weight_decay_mask, declared as `param_groups`).
CASES = [
    ("default", dict(BASE), {}),
    # The alias's own defaults: min_dim_size_to_factor 128, so nothing here is factored.
    ("signature-defaults", dict(learning_rate=0.01), {}),
    ("momentum", dict(BASE, momentum=0.9), {}),
    ("momentum-f64", dict(BASE, momentum=0.8, dtype_momentum="float64"), {}),
    ("momentum-params-dtype", dict(BASE, momentum=0.9, dtype_momentum=None), {}),
    ("noclip", dict(BASE, clipping_threshold=None), {}),
    ("noscale", dict(BASE, multiply_by_parameter_scale=False), {}),
    ("decay", dict(BASE, learning_rate=0.05, decay_rate=0.6, clipping_threshold=2.0,
                   weight_decay_rate=0.01, eps=1e-20), {}),
    ("momentum-decay", dict(BASE, momentum=0.8, weight_decay_rate=0.02), {}),
    ("unfactored", dict(BASE, factored=False), {}),
    ("offset", dict(BASE, decay_offset=-20), {}),
    ("nolr", dict(min_dim_size_to_factor=4, learning_rate=None, multiply_by_parameter_scale=False), {}),
    ("cosine", dict(min_dim_size_to_factor=4, momentum=0.9),
     dict(schedule={"name": "cosine_decay_schedule",
                    "args": {"init_value": 0.02, "decay_steps": 25, "alpha": 0.1}})),
    ("mask", dict(BASE, weight_decay_rate=0.05), dict(mask=[True, True, True, False, True])),
]

DTYPES = {"float32": jnp.float32, "float64": jnp.float64, None: None}


def gradients(dtype):
    rng = np.random.default_rng(4242)
    out = []
    for _ in range(STEPS):
        leaves = []
        for (_, r, c), s in zip(LAYOUT, SCALES):
            g = rng.normal(size=r * c) * s
            g[rng.random(size=r * c) < 0.1] = 0.0
            leaves.append(g)
        out.append(np.concatenate(leaves).astype(dtype))
    return out


def initial(dtype):
    rng = np.random.default_rng(4243)
    return rng.normal(size=sum(r * c for _, r, c in LAYOUT)).astype(dtype)


def split(flat, dtype):
    leaves, off = [], 0
    for _, r, c in LAYOUT:
        shape = (r, c) if c > 1 else (r,)
        leaves.append(jnp.asarray(flat[off:off + r * c].reshape(shape), dtype=dtype))
        off += r * c
    return leaves


def run(hp, opts, dtype):
    kwargs = dict(hp)
    if "dtype_momentum" in kwargs:
        kwargs["dtype_momentum"] = DTYPES[kwargs["dtype_momentum"]]
    if "schedule" in opts:
        spec = opts["schedule"]
        kwargs["learning_rate"] = getattr(optax, spec["name"])(**spec["args"])
    if "mask" in opts:
        kwargs["weight_decay_mask"] = list(opts["mask"])
    tx = optax.adafactor(**kwargs)
    theta0 = initial(dtype)
    params = split(theta0, dtype)
    state = tx.init(params)
    steps = []
    for g in gradients(dtype):
        updates, state = tx.update(split(g, dtype), state, params)
        params = optax.apply_updates(params, updates)
        for p in params:
            assert p.dtype == dtype, f"{hp}: params are {p.dtype}, not {np.dtype(dtype)}"
        after = np.concatenate([np.asarray(p).reshape(-1) for p in params])
        steps.append(([float(x) for x in g], [float(x) for x in after]))
    return theta0, steps


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/data/golden"
    producer = f"optax {optax.__version__}, jax {jax.__version__} (CPU, x64, eager)"
    count = 0
    for tag, hp, opts in CASES:
        declared = "schedule" in opts or "mask" in opts
        directory = os.path.join(out, "features") if declared else out
        os.makedirs(directory, exist_ok=True)
        # learning_rate=None (the alias's default, no scaling) is left out of the header, as is
        # the learning rate a declared schedule replaces: `"learning_rate": null` would declare
        # a callable whose values the step lines give (src/oracle/groups.rs).
        header_hp = {k: v for k, v in hp.items()
                     if not (k == "learning_rate" and (v is None or "schedule" in opts))}
        groups = None
        if "mask" in opts:
            names = [n for n, _, _ in LAYOUT]
            groups = [
                {"blocks": [n for n, m in zip(names, opts["mask"]) if m], "hyperparameters": {}},
                {"blocks": [n for n, m in zip(names, opts["mask"]) if not m],
                 "hyperparameters": {"weight_decay_rate": None}},
            ]
        for dtype, suffix, dt in [(np.float64, "", "f64"), (np.float32, "-f32", "f32")]:
            theta0, steps = run(hp, opts, dtype)
            path = os.path.join(directory, f"optax-adafactor-opt-{tag}{suffix}.jsonl")
            with TraceWriter(path, "adafactor", "optax", header_hp, producer,
                             params0=[float(x) for x in theta0], layout=LAYOUT, dtype=dt,
                             param_groups=groups, schedule=opts.get("schedule")) as w:
                for g, p in steps:
                    w.step(g, p)
            count += 1
    print(f"wrote {count} optax adafactor traces to {out}")


if __name__ == "__main__":
    main()
