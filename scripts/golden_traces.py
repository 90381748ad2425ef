#!/usr/bin/env python3
"""Write the golden traces of tests/data/golden/ from PyTorch and optax.

Usage (versions pinned in scripts/requirements-golden.txt):

    python3 -m venv /tmp/ovenv && /tmp/ovenv/bin/pip install -r scripts/requirements-golden.txt
    /tmp/ovenv/bin/python scripts/golden_traces.py tests/data/golden

Every trace is in the optverify-trace v1 format (src/oracle/format.rs): a header line, then
one line per step with the gradient the framework was given and the parameters after the
step. Floats are written with repr(), which round-trips, so the Rust side reads the exact
values.

Cases (each with a fixed seed):
  randn   open loop, 6 coordinates, N(0, 1) gradients
  scaled  open loop, 8 coordinates, coordinate i scaled by 10^(-8 + 16 i/7) (1e-8 ... 1e8)
  sparse  open loop, 10 coordinates, about 70% exact zeros
  matrix  open loop, a 3x4 weight (row-major) and a bias of 3
  quad    closed loop, gradient of 1/2 θᵀAθ − bᵀθ at the current θ, A SPD with κ = 100
float64 throughout (torch.set_default_dtype, jax_enable_x64), plus a float32 set for torch
and optax (`-f32` suffix; optax keeps x64 enabled and is given float32 arrays). torch runs single-threaded with foreach=False (the per-tensor kernels the
CPU path uses by default); optax runs eagerly (no jax.jit), because XLA's fusion under jit
moves results by up to ~1e-13.
"""
import json
import os
import sys

import numpy as np

os.environ.setdefault("JAX_ENABLE_X64", "1")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import torch  # noqa: E402
import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import optax  # noqa: E402

torch.set_num_threads(1)
torch.set_default_dtype(torch.float64)

OPEN_STEPS = 40
CLOSED_STEPS = 60


# ---------------------------------------------------------------- problems / gradients
def layout_for(case):
    if case == "matrix":
        return [("w", 3, 4), ("b", 3, 1)]
    n = {"randn": 6, "scaled": 8, "sparse": 10, "quad": 5}[case]
    return [("params", n, 1)]


def dim_of(layout):
    return sum(r * c for _, r, c in layout)


def initial_params(case):
    rng = np.random.default_rng(1000 + sum(map(ord, case)))
    return rng.normal(size=dim_of(layout_for(case)))


def open_loop_gradients(case):
    n = dim_of(layout_for(case))
    rng = np.random.default_rng(2000 + sum(map(ord, case)))
    g = rng.normal(size=(OPEN_STEPS, n))
    if case == "scaled":
        g *= 10.0 ** np.linspace(-8.0, 8.0, n)
    elif case == "sparse":
        g[rng.random(size=g.shape) < 0.7] = 0.0
    return g


def quadratic():
    """A = Q diag(λ) Qᵀ with λ log-spaced in [0.1, 10] (κ = 100), b fixed."""
    n = 5
    rng = np.random.default_rng(3000)
    q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    a = q @ np.diag(10.0 ** np.linspace(-1.0, 1.0, n)) @ q.T
    a = 0.5 * (a + a.T)
    b = rng.normal(size=n)
    return a, b


# ---------------------------------------------------------------- settings
# (framework optimizer name, setting name, hyperparameters under the framework's own names)
TORCH = [
    ("sgd", "plain", dict(lr=0.05)),
    ("sgd", "momentum", dict(lr=0.02, momentum=0.9)),
    ("sgd", "dampening", dict(lr=0.02, momentum=0.9, dampening=0.5)),
    ("sgd", "nesterov", dict(lr=0.02, momentum=0.9, nesterov=True)),
    ("sgd", "decay", dict(lr=0.02, momentum=0.8, weight_decay=0.1)),
    ("adam", "default", dict(lr=0.01)),
    ("adam", "betas", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6)),
    ("adam", "amsgrad", dict(lr=0.01, amsgrad=True)),
    ("adam", "decay", dict(lr=0.01, weight_decay=0.1)),
    ("adamw", "default", dict(lr=0.01)),
    ("adamw", "decay", dict(lr=0.01, betas=(0.85, 0.995), weight_decay=0.1)),
    ("adamw", "amsgrad", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    ("adagrad", "default", dict(lr=0.1)),
    ("adagrad", "lrdecay", dict(lr=0.1, lr_decay=0.01)),
    ("adagrad", "init", dict(lr=0.1, initial_accumulator_value=0.1, eps=1e-6)),
    ("adagrad", "decay", dict(lr=0.1, weight_decay=0.05)),
    ("rmsprop", "default", dict(lr=0.01)),
    ("rmsprop", "alpha", dict(lr=0.01, alpha=0.9, eps=1e-6)),
    ("rmsprop", "centered", dict(lr=0.01, centered=True)),
    ("rmsprop", "momentum", dict(lr=0.005, momentum=0.9)),
    ("rmsprop", "all", dict(lr=0.005, alpha=0.95, centered=True, momentum=0.5, weight_decay=0.01)),
    ("adadelta", "default", dict()),
    ("adadelta", "rho", dict(lr=0.5, rho=0.95, eps=1e-5)),
    ("adadelta", "decay", dict(lr=1.0, weight_decay=0.1)),
    ("nadam", "default", dict(lr=0.01)),
    ("nadam", "decay", dict(lr=0.01, betas=(0.85, 0.995), momentum_decay=0.01, weight_decay=0.1)),
    ("radam", "default", dict(lr=0.01)),
    ("radam", "decoupled", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1,
                                decoupled_weight_decay=True)),
]

OPTAX = [
    ("sgd", "plain", dict(learning_rate=0.05)),
    ("sgd", "momentum", dict(learning_rate=0.02, momentum=0.9)),
    ("sgd", "nesterov", dict(learning_rate=0.02, momentum=0.9, nesterov=True)),
    ("adam", "default", dict(learning_rate=0.01)),
    ("adam", "epsroot", dict(learning_rate=0.01, b1=0.8, b2=0.99, eps=1e-6, eps_root=1e-10)),
    ("adamw", "default", dict(learning_rate=0.01)),
    ("adamw", "decay", dict(learning_rate=0.01, weight_decay=0.1)),
    ("amsgrad", "default", dict(learning_rate=0.01)),
    ("adagrad", "default", dict(learning_rate=0.1)),
    ("adagrad", "init", dict(learning_rate=0.1, initial_accumulator_value=0.0, eps=1e-4)),
    ("rmsprop", "default", dict(learning_rate=0.01)),
    ("rmsprop", "epsout", dict(learning_rate=0.01, eps_in_sqrt=False)),
    ("rmsprop", "centered", dict(learning_rate=0.01, centered=True)),
    ("rmsprop", "momentum", dict(learning_rate=0.005, momentum=0.9)),
    ("adadelta", "default", dict(learning_rate=1.0)),
    ("adadelta", "rho", dict(learning_rate=0.5, rho=0.95, eps=1e-5)),
    ("nadam", "default", dict(learning_rate=0.01)),
    ("nadam", "epsroot", dict(learning_rate=0.01, b1=0.8, b2=0.99, eps=1e-6, eps_root=1e-10)),
    ("radam", "default", dict(learning_rate=0.01)),
    ("radam", "nesterov", dict(learning_rate=0.01, b1=0.85, b2=0.995, eps=1e-6, threshold=4.5,
                               nesterov=True)),
    # Layer-wise: one trust ratio per leaf (the matrix case has two leaves, w and b).
    ("lamb", "default", dict(learning_rate=0.01)),
    ("lamb", "decay", dict(learning_rate=0.01, b1=0.85, b2=0.99, eps=1e-8, weight_decay=0.1)),
    ("lars", "default", dict(learning_rate=0.5)),
    ("lars", "nesterov", dict(learning_rate=0.5, weight_decay=0.01, trust_coefficient=0.02,
                              eps=1e-8, momentum=0.8, nesterov=True)),
]

TORCH_CLASSES = {
    "sgd": torch.optim.SGD,
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "adagrad": torch.optim.Adagrad,
    "rmsprop": torch.optim.RMSprop,
    "adadelta": torch.optim.Adadelta,
    "nadam": torch.optim.NAdam,
    "radam": torch.optim.RAdam,
}


def jsonable(hp):
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in hp.items()}


def floats(xs):
    return [float(x) for x in xs]


# ---------------------------------------------------------------- runners
def run_torch(name, hp, case, dtype):
    layout = layout_for(case)
    theta0 = initial_params(case)
    if dtype == torch.float32:
        theta0 = theta0.astype(np.float32)
    flat = torch.tensor(theta0, dtype=dtype)
    params, off = [], 0
    for _, r, c in layout:
        shape = (r, c) if c > 1 else (r,)
        params.append(flat[off:off + r * c].reshape(shape).clone().requires_grad_(False))
        off += r * c
    opt = TORCH_CLASSES[name](params, foreach=False, **hp)
    gs = None if case == "quad" else open_loop_gradients(case)
    a, b = quadratic()
    at, bt = torch.tensor(a, dtype=dtype), torch.tensor(b, dtype=dtype)
    steps = []
    n_steps = CLOSED_STEPS if case == "quad" else OPEN_STEPS
    for t in range(n_steps):
        theta = torch.cat([p.reshape(-1) for p in params])
        loss = None
        if gs is None:
            g = at @ theta - bt
            loss = float(0.5 * theta @ (at @ theta) - bt @ theta)
        else:
            g = torch.tensor(gs[t], dtype=dtype)
        off = 0
        for p in params:
            p.grad = g[off:off + p.numel()].reshape(p.shape).clone()
            off += p.numel()
        opt.step()
        after = torch.cat([p.reshape(-1) for p in params])
        rec = {"step": t + 1, "grad": floats(g.tolist()), "params": floats(after.tolist())}
        if loss is not None:
            rec["loss"] = loss
        steps.append(rec)
    producer = f"torch {torch.__version__} (CPU, foreach=False, 1 thread)"
    return theta0, layout, steps, producer


OPTAX_FACTORIES = {
    "sgd": optax.sgd,
    "adam": optax.adam,
    "adamw": optax.adamw,
    "amsgrad": optax.amsgrad,
    "adagrad": optax.adagrad,
    "rmsprop": optax.rmsprop,
    "adadelta": optax.adadelta,
    "nadam": optax.nadam,
    "radam": optax.radam,
    "lamb": optax.lamb,
    "lars": optax.lars,
}


def run_optax(name, hp, case, dtype=np.float64):
    """dtype float32: x64 stays enabled, params and gradients are float32 arrays (the
    quadratic's gradient is computed in float32 from float32 A, b, θ, as torch does), and every
    update and every new parameter must come out float32 (checked: a silent promotion to
    float64 would make the trace a float64 trace with float32 inputs)."""
    layout = layout_for(case)
    theta0 = initial_params(case).astype(dtype)
    params, off = [], 0
    for _, r, c in layout:
        shape = (r, c) if c > 1 else (r,)
        params.append(jnp.asarray(theta0[off:off + r * c].reshape(shape), dtype=dtype))
        off += r * c
    opt = OPTAX_FACTORIES[name](**hp)
    state = opt.init(params)
    gs = None if case == "quad" else open_loop_gradients(case).astype(dtype)
    a, b = quadratic()
    a, b = a.astype(dtype), b.astype(dtype)
    steps = []
    n_steps = CLOSED_STEPS if case == "quad" else OPEN_STEPS
    for t in range(n_steps):
        theta = np.concatenate([np.asarray(p).reshape(-1) for p in params])
        assert theta.dtype == dtype, (name, case, theta.dtype)
        loss = None
        if gs is None:
            g = a @ theta - b
            loss = float(0.5 * theta @ (a @ theta) - b @ theta)
        else:
            g = gs[t]
        assert g.dtype == dtype, (name, case, g.dtype)
        grads, off = [], 0
        for p in params:
            grads.append(jnp.asarray(g[off:off + p.size].reshape(p.shape), dtype=dtype))
            off += p.size
        updates, state = opt.update(grads, state, params)
        for u in updates:
            assert u.dtype == dtype, f"{name} {case}: update is {u.dtype}, not {np.dtype(dtype)}"
        params = optax.apply_updates(params, updates)
        for p in params:
            assert p.dtype == dtype, f"{name} {case}: params are {p.dtype}, not {np.dtype(dtype)}"
        after = np.concatenate([np.asarray(p).reshape(-1) for p in params])
        rec = {"step": t + 1, "grad": floats(g), "params": floats(after)}
        if loss is not None:
            rec["loss"] = loss
        steps.append(rec)
    producer = f"optax {optax.__version__}, jax {jax.__version__} (CPU, x64, eager)"
    return theta0, layout, steps, producer


def write(path, optimizer, preset, hp, theta0, layout, steps, producer, dtype):
    # The format is written by the reusable helper (scripts/optverify_trace.py).
    from optverify_trace import TraceWriter

    with TraceWriter(path, optimizer, preset, jsonable(hp), producer, params0=floats(theta0),
                     layout=layout, dtype=dtype) as w:
        for rec in steps:
            w.step(rec["grad"], rec["params"], rec.get("loss"))


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/data/golden"
    os.makedirs(out, exist_ok=True)
    cases = ["randn", "scaled", "sparse", "matrix", "quad"]
    count = 0
    for name, setting, hp in TORCH:
        for case in cases:
            theta0, layout, steps, producer = run_torch(name, hp, case, torch.float64)
            write(f"{out}/torch-{name}-{setting}-{case}.jsonl", name, "pytorch", hp, theta0,
                  layout, steps, producer, "f64")
            count += 1
        # float32 set: one open-loop and the closed-loop case per setting.
        for case in ["randn", "quad"]:
            theta0, layout, steps, producer = run_torch(name, hp, case, torch.float32)
            write(f"{out}/torch-{name}-{setting}-{case}-f32.jsonl", name, "pytorch", hp,
                  theta0, layout, steps, producer, "f32")
            count += 1
    for name, setting, hp in OPTAX:
        for case in cases:
            theta0, layout, steps, producer = run_optax(name, hp, case)
            write(f"{out}/optax-{name}-{setting}-{case}.jsonl", name, "optax", hp, theta0,
                  layout, steps, producer, "f64")
            count += 1
        # float32 set, as for torch: one open-loop and the closed-loop case per setting.
        for case in ["randn", "quad"]:
            theta0, layout, steps, producer = run_optax(name, hp, case, np.float32)
            write(f"{out}/optax-{name}-{setting}-{case}-f32.jsonl", name, "optax", hp,
                  theta0, layout, steps, producer, "f32")
            count += 1
    print(f"wrote {count} traces to {out}")


if __name__ == "__main__":
    main()
