#!/usr/bin/env python3
"""Write the golden traces of tests/data/golden/ from PyTorch and optax.

Usage (versions pinned in scripts/requirements-golden.txt):

    python3 -m venv /tmp/ovenv && /tmp/ovenv/bin/pip install -r scripts/requirements-golden.txt
    /tmp/ovenv/bin/python scripts/golden_traces.py tests/data/golden
    /tmp/ovenv/bin/python scripts/golden_traces.py --features tests/data/golden/features [TAG ...]

    /tmp/ovenv/bin/python scripts/golden_traces.py --layers tests/data/golden
    /tmp/ovenv/bin/python scripts/golden_traces.py --features-ieee-sqrt \
        tests/data/golden/features-ieee-sqrt TAG ...

The `--layers` form writes only the layer-wise traces of the `layers` case (LAYERWISE below).
The second form writes the traces of the header declarations (schedules, parameter groups,
optax chains, newly modelled options, the frameworks' own argument dicts verbatim): see
TORCH_FEATURES and OPTAX_FEATURES below; with TAGs (e.g. torch-sgd-cycliclr), only those.
`--features-ieee-sqrt` writes the named torch feature runs again with torch's square root
replaced by the correctly rounded one (see main()).

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
  layers  open loop, LAYERS_STEPS steps, five blocks sized to reach every reduction order of
          the layer-wise kernels: a 40x12 weight and its bias of 40 (a dimension above 32:
          XLA's reduce-window tree; ATen's 8/4-lane norms and cascade sums), a 3x40 weight and
          a bias of 3, a 9x12 weight (XLA's unrolled fma chain); LAYERWISE settings only
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
LAYERS_STEPS = 12


def layout_for(case):
    if case == "matrix":
        return [("w", 3, 4), ("b", 3, 1)]
    if case == "layers":
        return [("w1", 40, 12), ("b1", 40, 1), ("w2", 3, 40), ("b2", 3, 1), ("w3", 9, 12)]
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
    # Factored second moments on every matrix (the matrix case's 3x4 weight).
    ("adafactor", "default", dict()),
    ("adafactor", "decay", dict(lr=0.05, beta2_decay=-0.6, eps=(1e-20, 1e-2), d=2.0,
                                weight_decay=0.1)),
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
    # min_dim_size_to_factor below the default 128 so that the 3x4 weight is factored.
    ("adafactor", "default", dict(learning_rate=0.01, min_dim_size_to_factor=2)),
    ("adafactor", "decay", dict(learning_rate=0.05, min_dim_size_to_factor=3, decay_rate=0.6,
                                clipping_threshold=2.0, weight_decay_rate=0.01, eps=1e-20)),
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
    "adafactor": torch.optim.Adafactor,
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
    n_steps = CLOSED_STEPS if case == "quad" else LAYERS_STEPS if case == "layers" else OPEN_STEPS
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
    "adafactor": optax.adafactor,
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
    n_steps = CLOSED_STEPS if case == "quad" else LAYERS_STEPS if case == "layers" else OPEN_STEPS
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


# ---------------------------------------------------------------- features (issue 12)
# Schedules, parameter groups, optax chains, newly modelled options, and the frameworks' own
# argument dicts written verbatim (torch `opt.defaults` / `param_groups[i]`, optax's full alias
# signatures). Written by `--features DIR` (default tests/data/golden/features) on the matrix
# case (a 3x4 weight and a bias of 3, open loop), FEATURE_STEPS steps, float64 and float32.
FEATURE_STEPS = 30
BLOCKS = ["w", "b"]


def sched_spec(name, args, interval=None):
    spec = {"name": name, "args": args}
    if interval is not None:
        spec["interval"] = interval
    return spec


def torch_scheduler(opt, spec):
    args = dict(spec["args"])
    if spec["name"] in ("SequentialLR", "ChainedScheduler"):
        args["schedulers"] = [torch_scheduler(opt, s) for s in args["schedulers"]]
    if spec["name"] == "ChainedScheduler":
        return torch.optim.lr_scheduler.ChainedScheduler(args["schedulers"], optimizer=opt)
    return getattr(torch.optim.lr_scheduler, spec["name"])(opt, **args)


def torch_jsonable(d):
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in d.items() if k != "params"}


# (tag, optimizer, hyperparameters, options). Options: groups=[(blocks, overrides)],
# schedule=spec, verbatim=True (header = opt.defaults and param_groups dumped after the
# scheduler is built), lambda_lr=f (LambdaLR, recorded per step as step hyperparameters).
TORCH_FEATURES = [
    ("sgd-steplr", "sgd", dict(lr=0.05, momentum=0.9), dict(schedule=sched_spec("StepLR", dict(step_size=7, gamma=0.5)))),
    ("sgd-multisteplr", "sgd", dict(lr=0.05, momentum=0.9),
     dict(schedule=sched_spec("MultiStepLR", dict(milestones=[5, 12, 12, 20], gamma=0.3)))),
    ("sgd-exponentiallr", "sgd", dict(lr=0.05, momentum=0.9, nesterov=True),
     dict(schedule=sched_spec("ExponentialLR", dict(gamma=0.93)))),
    ("sgd-cosine", "sgd", dict(lr=0.05, momentum=0.9), dict(schedule=sched_spec("CosineAnnealingLR", dict(T_max=17, eta_min=0.001)))),
    ("sgd-warmrestarts", "sgd", dict(lr=0.05, momentum=0.9, weight_decay=0.01),
     dict(schedule=sched_spec("CosineAnnealingWarmRestarts", dict(T_0=7, T_mult=2, eta_min=0.002)))),
    ("sgd-linearlr", "sgd", dict(lr=0.05, momentum=0.9), dict(schedule=sched_spec("LinearLR", dict(start_factor=0.1, total_iters=9)))),
    ("sgd-onecycle", "sgd", dict(lr=0.05, momentum=0.9), dict(schedule=sched_spec("OneCycleLR", dict(max_lr=0.1, total_steps=30)))),
    ("sgd-sequential", "sgd", dict(lr=0.05, momentum=0.9), dict(schedule=sched_spec("SequentialLR", dict(
        schedulers=[sched_spec("LinearLR", dict(start_factor=0.01, total_iters=6)),
                    sched_spec("CosineAnnealingLR", dict(T_max=24, eta_min=1e-4))], milestones=[6])))),
    ("adam-cosine", "adam", dict(lr=0.01), dict(schedule=sched_spec("CosineAnnealingLR", dict(T_max=30)))),
    ("adamw-cosine", "adamw", dict(lr=0.01, weight_decay=0.1), dict(schedule=sched_spec("CosineAnnealingLR", dict(T_max=30)))),
    ("adamw-onecycle", "adamw", dict(lr=0.01, amsgrad=True),
     dict(schedule=sched_spec("OneCycleLR", dict(max_lr=0.02, total_steps=30, three_phase=True, anneal_strategy="linear")))),
    ("adamw-sequential", "adamw", dict(lr=0.01, weight_decay=0.05), dict(schedule=sched_spec("SequentialLR", dict(
        schedulers=[sched_spec("LinearLR", dict(start_factor=0.1, total_iters=5)),
                    sched_spec("StepLR", dict(step_size=4, gamma=0.7)),
                    sched_spec("CosineAnnealingWarmRestarts", dict(T_0=6))], milestones=[5, 15])))),
    ("adam-steplr-epoch", "adam", dict(lr=0.01), dict(schedule=sched_spec("StepLR", dict(step_size=1, gamma=0.7), interval=5))),
    ("adagrad-exponentiallr", "adagrad", dict(lr=0.1, lr_decay=0.01), dict(schedule=sched_spec("ExponentialLR", dict(gamma=0.95)))),
    ("rmsprop-onecycle", "rmsprop", dict(lr=0.005, momentum=0.9, centered=True),
     dict(schedule=sched_spec("OneCycleLR", dict(max_lr=0.01, epochs=3, steps_per_epoch=10)))),
    ("adadelta-multisteplr", "adadelta", dict(lr=1.0), dict(schedule=sched_spec("MultiStepLR", dict(milestones=[10, 20])))),
    ("nadam-linearlr", "nadam", dict(lr=0.01), dict(schedule=sched_spec("LinearLR", dict(start_factor=0.5, total_iters=10)))),
    ("radam-cosine", "radam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True),
     dict(schedule=sched_spec("CosineAnnealingLR", dict(T_max=10, eta_min=0.001)))),
    # parameter groups (no weight decay and another lr on the bias)
    ("adamw-groups", "adamw", dict(lr=0.01, weight_decay=0.1),
     dict(groups=[(["w"], {}), (["b"], dict(weight_decay=0.0, lr=0.02))])),
    ("sgd-groups", "sgd", dict(lr=0.05, momentum=0.9, weight_decay=0.01),
     dict(groups=[(["w"], {}), (["b"], dict(weight_decay=0.0, momentum=0.5))])),
    ("adamw-groups-cosine", "adamw", dict(lr=0.01, weight_decay=0.1),
     dict(groups=[(["w"], {}), (["b"], dict(weight_decay=0.0, lr=0.03))],
          schedule=sched_spec("CosineAnnealingLR", dict(T_max=30, eta_min=1e-4)))),
    # the frameworks' own dicts, verbatim (decoupled_weight_decay, foreach, fused, ...)
    ("sgd-defaults", "sgd", dict(lr=0.05, momentum=0.9), dict(verbatim=True)),
    ("adam-defaults", "adam", dict(lr=0.01), dict(verbatim=True)),
    ("adamw-defaults", "adamw", dict(lr=0.01), dict(verbatim=True)),
    ("adagrad-defaults", "adagrad", dict(lr=0.1), dict(verbatim=True)),
    ("rmsprop-defaults", "rmsprop", dict(lr=0.01), dict(verbatim=True)),
    ("adadelta-defaults", "adadelta", dict(), dict(verbatim=True)),
    ("nadam-defaults", "nadam", dict(lr=0.01), dict(verbatim=True)),
    ("radam-defaults", "radam", dict(lr=0.01), dict(verbatim=True)),
    ("adafactor-defaults", "adafactor", dict(lr=0.01), dict(verbatim=True)),
    ("adamw-defaults-groups-sequential", "adamw", dict(lr=0.01, weight_decay=0.1),
     dict(verbatim=True, groups=[(["w"], {}), (["b"], dict(weight_decay=0.0))], schedule=sched_spec("SequentialLR", dict(
         schedulers=[sched_spec("LinearLR", dict(start_factor=0.2, total_iters=5)),
                     sched_spec("CosineAnnealingLR", dict(T_max=25))], milestones=[5])))),
    # newly modelled options
    ("adam-maximize", "adam", dict(lr=0.01, maximize=True), dict()),
    ("sgd-maximize", "sgd", dict(lr=0.05, momentum=0.9, maximize=True), dict()),
    ("adam-decoupled", "adam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True), dict()),
    # OneCycleLR cycles betas[0] of NAdam and RAdam (read anew at every step)
    ("nadam-onecycle", "nadam", dict(lr=0.01, weight_decay=0.01),
     dict(schedule=sched_spec("OneCycleLR", dict(max_lr=0.02, total_steps=30)))),
    ("radam-onecycle", "radam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True),
     dict(schedule=sched_spec("OneCycleLR", dict(max_lr=0.02, total_steps=30, base_momentum=0.8, max_momentum=0.9)))),
    # ConstantLR, PolynomialLR, CyclicLR (cycling SGD's and RMSprop's momentum, Adam's betas[0]),
    # ChainedScheduler, SequentialLR of a PolynomialLR
    ("sgd-constantlr", "sgd", dict(lr=0.05, momentum=0.9), dict(schedule=sched_spec("ConstantLR", dict(factor=0.25, total_iters=8)))),
    ("adamw-polynomiallr", "adamw", dict(lr=0.01, weight_decay=0.1),
     dict(schedule=sched_spec("PolynomialLR", dict(total_iters=24, power=1.5)))),
    ("sgd-cycliclr", "sgd", dict(lr=0.05, momentum=0.9),
     dict(schedule=sched_spec("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=5, step_size_down=7)))),
    ("adam-cycliclr-exprange", "adam", dict(lr=0.01),
     dict(schedule=sched_spec("CyclicLR", dict(base_lr=0.001, max_lr=0.01, step_size_up=4, mode="exp_range", gamma=0.95)))),
    ("rmsprop-cycliclr-triangular2", "rmsprop", dict(lr=0.005, momentum=0.9),
     dict(schedule=sched_spec("CyclicLR", dict(base_lr=0.001, max_lr=0.008, step_size_up=3, mode="triangular2",
                                               base_momentum=0.85, max_momentum=0.95)))),
    ("adamw-chained", "adamw", dict(lr=0.01, weight_decay=0.05), dict(schedule=sched_spec("ChainedScheduler", dict(
        schedulers=[sched_spec("ConstantLR", dict(factor=0.1, total_iters=6)),
                    sched_spec("ExponentialLR", dict(gamma=0.95))])))),
    ("sgd-sequential-polynomial", "sgd", dict(lr=0.05, momentum=0.9, nesterov=True), dict(schedule=sched_spec("SequentialLR", dict(
        schedulers=[sched_spec("LinearLR", dict(start_factor=0.1, total_iters=5)),
                    sched_spec("PolynomialLR", dict(total_iters=25, power=2.0))], milestones=[5])))),
    # a schedule nobody can name: the lr of every step on the step lines
    ("adamw-lambdalr", "adamw", dict(lr=0.01), dict(lambda_lr=lambda e: 1.0 / (1.0 + 0.3 * e) ** 0.5)),
    ("sgd-groups-lambdalr", "sgd", dict(lr=0.05, momentum=0.9),
     dict(groups=[(["w"], {}), (["b"], dict(lr=0.1))], lambda_lr=lambda e: 0.97 ** e)),
]


def run_torch_feature(name, hp, opts, dtype):
    """A run on the matrix case; returns (theta0, layout, steps, producer, header extras)."""
    layout = layout_for("matrix")
    theta0 = initial_params("matrix")
    if dtype == torch.float32:
        theta0 = theta0.astype(np.float32)
    flat = torch.tensor(theta0, dtype=dtype)
    params, off = {}, 0
    for bname, r, c in layout:
        shape = (r, c) if c > 1 else (r,)
        params[bname] = flat[off:off + r * c].reshape(shape).clone()
        off += r * c
    groups = opts.get("groups")
    if groups is None:
        opt = TORCH_CLASSES[name]([params[b] for b in BLOCKS], foreach=False, **hp)
    else:
        opt = TORCH_CLASSES[name]([dict(params=[params[b] for b in blocks], **over) for blocks, over in groups],
                                  foreach=False, **hp)
    extras = {}
    if not opts.get("verbatim"):
        extras["hyperparameters"] = hp
        if groups is not None:
            extras["param_groups"] = [{"blocks": blocks, "hyperparameters": over} for blocks, over in groups]
    sched = None
    if "schedule" in opts:
        sched = torch_scheduler(opt, opts["schedule"])
        extras["schedule"] = opts["schedule"]
    elif "lambda_lr" in opts:
        sched = torch.optim.lr_scheduler.LambdaLR(opt, opts["lambda_lr"])
    if opts.get("verbatim"):
        # What a user writes: opt.defaults, and every param group's dict minus its tensors,
        # read after the scheduler was built (so with `initial_lr`).
        extras["hyperparameters"] = torch_jsonable(opt.defaults)
        blocks_of = groups if groups is not None else [(BLOCKS, {})]
        extras["param_groups"] = [{"blocks": blocks, "hyperparameters": torch_jsonable(g)}
                                  for (blocks, _), g in zip(blocks_of, opt.param_groups)]
    interval = opts.get("schedule", {}).get("interval", 1)
    gs = open_loop_gradients("matrix")[:FEATURE_STEPS]
    steps = []
    for t in range(FEATURE_STEPS):
        g = torch.tensor(gs[t], dtype=dtype)
        off = 0
        for b in BLOCKS:
            p = params[b]
            p.grad = g[off:off + p.numel()].reshape(p.shape).clone()
            off += p.numel()
        used = None
        if "lambda_lr" in opts:
            used = [{"lr": grp["lr"]} for grp in opt.param_groups]
            used = used[0] if len(used) == 1 else used
        opt.step()
        if sched is not None and (t + 1) % interval == 0:
            sched.step()
        after = torch.cat([params[b].reshape(-1) for b in BLOCKS])
        rec = {"step": t + 1, "grad": floats(g.tolist()), "params": floats(after.tolist())}
        if used is not None:
            rec["hyperparameters"] = used
        steps.append(rec)
    producer = f"torch {torch.__version__} (CPU, foreach=False, 1 thread)"
    return theta0, layout, steps, producer, extras


def signature_defaults(fn, **given):
    """Every argument of an optax alias with its default, as JSON (None → null, a dtype class
    → its name), overridden by `given`: what a user writes who copies the signature."""
    import inspect
    out = {}
    for pname, prm in inspect.signature(fn).parameters.items():
        d = prm.default
        if d is inspect.Parameter.empty:
            continue
        if d is not None and not isinstance(d, (bool, int, float, str)):
            d = getattr(d, "__name__", str(d))
        out[pname] = d
    out.update(given)
    return out


def cos_sched(**kw):
    return sched_spec("cosine_decay_schedule", kw)


def optax_schedule(spec):
    args = dict(spec["args"])
    if spec["name"] == "join_schedules":
        args["schedules"] = [optax_schedule(s) for s in args["schedules"]]
    if spec["name"] in ("piecewise_constant_schedule", "piecewise_interpolate_schedule") and "boundaries_and_scales" in args:
        args["boundaries_and_scales"] = {int(k): v for k, v in args["boundaries_and_scales"].items()}
    return getattr(optax, spec["name"])(**args)


# (tag, alias, hyperparameters (header), options). Options: schedule=spec (the alias gets the
# schedule as learning_rate), groups=[(blocks, overrides)] (built as mask= or multi_transform),
# multi=True, transforms=[(name, args)] (chain members before the alias), inject=True,
# verbatim=True (the header lists the alias's full signature), custom=f (inject_hyperparams
# with an anonymous schedule, recorded per step), f64_only=True.
OPTAX_FEATURES = [
    ("sgd-constant", "sgd", dict(momentum=0.9), dict(schedule=sched_spec("constant_schedule", dict(value=0.03)))),
    ("adam-exponential", "adam", dict(), dict(schedule=sched_spec("exponential_decay", dict(
        init_value=0.02, transition_steps=7, decay_rate=0.5)))),
    ("sgd-exponential-staircase", "sgd", dict(momentum=0.9, nesterov=True), dict(schedule=sched_spec("exponential_decay", dict(
        init_value=0.05, transition_steps=5, decay_rate=0.7, transition_begin=4, staircase=True, end_value=0.01)))),
    ("adam-cosine", "adam", dict(), dict(schedule=cos_sched(init_value=0.02, decay_steps=25, alpha=0.05))),
    ("rmsprop-cosine-exponent", "rmsprop", dict(momentum=0.9), dict(schedule=cos_sched(init_value=0.01, decay_steps=30, exponent=2.0))),
    ("adamw-warmup-cosine", "adamw", dict(weight_decay=0.1), dict(schedule=sched_spec("warmup_cosine_decay_schedule", dict(
        init_value=0.0, peak_value=0.02, warmup_steps=5, decay_steps=30, end_value=0.001)))),
    ("sgd-piecewise", "sgd", dict(momentum=0.9), dict(schedule=sched_spec("piecewise_constant_schedule", dict(
        init_value=0.05, boundaries_and_scales={"8": 0.5, "16": 0.1, "24": 3.0})))),
    ("adam-join", "adam", dict(b1=0.85), dict(schedule=sched_spec("join_schedules", dict(
        schedules=[sched_spec("constant_schedule", dict(value=0.01)), cos_sched(init_value=0.02, decay_steps=15),
                   sched_spec("exponential_decay", dict(init_value=0.01, transition_steps=3, decay_rate=0.8))],
        boundaries=[8, 20])))),
    ("adagrad-linear", "adagrad", dict(), dict(schedule=sched_spec("linear_schedule", dict(
        init_value=0.1, end_value=0.01, transition_steps=25)))),
    ("nadam-cosine", "nadam", dict(), dict(schedule=cos_sched(init_value=0.01, decay_steps=30))),
    ("radam-cosine", "radam", dict(), dict(schedule=cos_sched(init_value=0.01, decay_steps=30))),
    ("adam-onecycle", "adam", dict(), dict(schedule=sched_spec("cosine_onecycle_schedule", dict(
        transition_steps=30, peak_value=0.02)))),
    ("sgd-linear-onecycle", "sgd", dict(momentum=0.9), dict(schedule=sched_spec("linear_onecycle_schedule", dict(
        transition_steps=25, peak_value=0.1, pct_start=0.2)))),
    ("adamw-sgdr", "adamw", dict(weight_decay=0.1), dict(schedule=sched_spec("sgdr_schedule", dict(cosine_kwargs=[
        dict(init_value=0.0, peak_value=0.02, warmup_steps=3, decay_steps=12),
        dict(init_value=0.0, peak_value=0.01, warmup_steps=2, decay_steps=18, end_value=0.001)])))),
    ("nadam-warmup-exponential", "nadam", dict(), dict(schedule=sched_spec("warmup_exponential_decay_schedule", dict(
        init_value=0.0, peak_value=0.02, warmup_steps=5, transition_steps=6, decay_rate=0.7)))),
    # masks and multi_transform as parameter groups
    ("adamw-mask", "adamw", dict(learning_rate=0.01, weight_decay=0.1),
     dict(groups=[(["w"], {}), (["b"], dict(weight_decay=0.0))])),
    ("adam-multi", "adam", dict(learning_rate=0.01),
     dict(groups=[(["w"], {}), (["b"], dict(learning_rate=0.03, b1=0.8))], multi=True)),
    ("adam-sgd-multi", "adam", dict(learning_rate=0.01),
     dict(groups=[(["w"], {}), (["b"], dict(optimizer="sgd", learning_rate=0.1, momentum=0.9))], multi=True)),
    ("adamw-mask-warmup-cosine", "adamw", dict(weight_decay=0.1),
     dict(groups=[(["w"], {}), (["b"], dict(weight_decay=0.0))], schedule=sched_spec("warmup_cosine_decay_schedule", dict(
         init_value=0.0, peak_value=0.02, warmup_steps=5, decay_steps=30)))),
    # chains
    ("adam-clip", "adam", dict(learning_rate=0.01), dict(transforms=[("clip_by_global_norm", dict(max_norm=3.0))])),
    ("sgd-decayed-weights", "sgd", dict(learning_rate=0.05, momentum=0.9),
     dict(transforms=[("add_decayed_weights", dict(weight_decay=0.01, mask=["w"]))])),
    ("adamw-clip-cosine", "adamw", dict(weight_decay=0.05), dict(
        transforms=[("clip_by_global_norm", dict(max_norm=2.5))], schedule=cos_sched(init_value=0.01, decay_steps=30))),
    ("adamw-inject-cosine", "adamw", dict(weight_decay=0.05), dict(
        inject=True, schedule=cos_sched(init_value=0.01, decay_steps=30), f64_only=True)),
    ("adam-inject-custom", "adam", dict(), dict(inject=True, custom=lambda c: 0.02 / (1.0 + 0.2 * c), f64_only=True)),
    # newly modelled option
    ("amsgrad-uncorrected", "amsgrad", dict(learning_rate=0.01, bias_correction_mu=False, bias_correction_nu=False), dict()),
    # rmsprop: nesterov, bias correction, their combination, centred, momentum (eps_in_sqrt=False
    # avoids jax.lax.rsqrt, whose result is the CPU's, so those replay bit for bit)
    ("rmsprop-nesterov", "rmsprop", dict(learning_rate=0.005, momentum=0.9, nesterov=True, eps_in_sqrt=False), dict()),
    ("rmsprop-biascorr", "rmsprop", dict(learning_rate=0.01, bias_correction=True, eps_in_sqrt=False), dict()),
    ("rmsprop-nesterov-biascorr", "rmsprop", dict(learning_rate=0.005, momentum=0.9, nesterov=True,
                                                  bias_correction=True, eps_in_sqrt=False), dict()),
    ("rmsprop-nesterov-biascorr-sqrt", "rmsprop", dict(learning_rate=0.005, momentum=0.9, nesterov=True,
                                                       bias_correction=True), dict()),
    # (centred with bias correction is degenerate at step 1: v̂ − m̂² = g² − g² rounds to ±0 or
    # below, NaN with ε outside the root in optax itself; so the centred trace has no correction)
    ("rmsprop-centered-nesterov", "rmsprop", dict(learning_rate=0.005, decay=0.95, centered=True,
                                                  momentum=0.8, nesterov=True, eps_in_sqrt=False), dict()),
    ("rmsprop-centered-momentum", "rmsprop", dict(learning_rate=0.005, centered=True, momentum=0.9,
                                                  eps_in_sqrt=False), dict()),
    ("rmsprop-nesterov-nomomentum", "rmsprop", dict(learning_rate=0.01, nesterov=True, eps_in_sqrt=False), dict()),
    # amsgrad with one moment corrected
    ("amsgrad-mu-only", "amsgrad", dict(learning_rate=0.01, bias_correction_nu=False), dict()),
    ("amsgrad-nu-only", "amsgrad", dict(learning_rate=0.01, b1=0.8, bias_correction_mu=False), dict()),
    # full signatures, verbatim
    ("sgd-signature", "sgd", dict(learning_rate=0.05, momentum=0.9), dict(verbatim=True)),
    ("adam-signature", "adam", dict(learning_rate=0.01), dict(verbatim=True)),
    ("adamw-signature", "adamw", dict(learning_rate=0.01), dict(verbatim=True)),
    ("amsgrad-signature", "amsgrad", dict(learning_rate=0.01), dict(verbatim=True)),
    ("nadam-signature", "nadam", dict(learning_rate=0.01), dict(verbatim=True)),
    ("nadamw-signature", "nadamw", dict(learning_rate=0.01), dict(verbatim=True)),
    ("radam-signature", "radam", dict(learning_rate=0.01), dict(verbatim=True)),
    ("adagrad-signature", "adagrad", dict(learning_rate=0.1), dict(verbatim=True)),
    ("rmsprop-signature", "rmsprop", dict(learning_rate=0.01), dict(verbatim=True)),
    ("adadelta-signature", "adadelta", dict(learning_rate=1.0), dict(verbatim=True)),
    ("lamb-signature", "lamb", dict(learning_rate=0.01), dict(verbatim=True)),
    ("lars-signature", "lars", dict(learning_rate=0.5), dict(verbatim=True)),
    ("adafactor-signature", "adafactor", dict(learning_rate=0.01, min_dim_size_to_factor=2), dict(verbatim=True)),
]

OPTAX_FACTORIES["nadamw"] = optax.nadamw


def run_optax_feature(name, hp, opts, dtype):
    layout = layout_for("matrix")
    theta0 = initial_params("matrix").astype(dtype)
    params, off = [], 0
    for _, r, c in layout:
        shape = (r, c) if c > 1 else (r,)
        params.append(jnp.asarray(theta0[off:off + r * c].reshape(shape), dtype=dtype))
        off += r * c
    factory = OPTAX_FACTORIES[name]
    extras = {"hyperparameters": dict(hp)}
    if opts.get("verbatim"):
        extras["hyperparameters"] = signature_defaults(factory, **hp)
    kwargs = {k: v for k, v in hp.items()}
    sched = None
    if "schedule" in opts:
        sched = optax_schedule(opts["schedule"])
        kwargs["learning_rate"] = sched
        extras["schedule"] = opts["schedule"]
    transforms = []
    groups = opts.get("groups")
    if groups is not None:
        # A group's own optimizer (multi_transform of different aliases): "optimizer" in its
        # overrides; it is built from its own arguments only.
        extras["param_groups"] = [
            {"blocks": blocks, "hyperparameters": {k: v for k, v in over.items() if k != "optimizer"},
             **({"optimizer": over["optimizer"]} if "optimizer" in over else {})}
            for blocks, over in groups]
        if opts.get("multi"):
            def group_tx(over):
                if "optimizer" in over:
                    return OPTAX_FACTORIES[over["optimizer"]](**{k: v for k, v in over.items() if k != "optimizer"})
                return factory(**{**kwargs, **over})
            txs = {f"g{i}": group_tx(over) for i, (_, over) in enumerate(groups)}
            labels = [next(f"g{i}" for i, (blocks, _) in enumerate(groups) if b in blocks) for b in BLOCKS]
            tx = optax.multi_transform(txs, labels)
            transforms.append({"name": "multi_transform", "args": {}})
        else:
            # Groups that differ only in weight_decay: the alias's `mask=` argument.
            mask = [not any(b in blocks and over.get("weight_decay") == 0.0 for blocks, over in groups) for b in BLOCKS]
            tx = factory(**kwargs, mask=mask)
    elif opts.get("inject"):
        if "custom" in opts:
            kwargs["learning_rate"] = opts["custom"]
        tx = optax.inject_hyperparams(factory)(**kwargs)
        transforms.append({"name": "inject_hyperparams", "args": {}})
        if "custom" in opts:
            extras["hyperparameters"]["learning_rate"] = None
    else:
        tx = factory(**kwargs)
    members = []
    for tname, targs in opts.get("transforms", []):
        if tname == "clip_by_global_norm":
            members.append(optax.clip_by_global_norm(**targs))
        else:
            mask = [b in targs["mask"] for b in BLOCKS]
            members.append(optax.add_decayed_weights(targs["weight_decay"], mask=mask))
        transforms.append({"name": tname, "args": targs})
    if members:
        tx = optax.chain(*members, tx)
    if transforms:
        extras["transforms"] = transforms
    state = tx.init(params)
    gs = open_loop_gradients("matrix")[:FEATURE_STEPS].astype(dtype)
    steps = []
    for t in range(FEATURE_STEPS):
        g = gs[t]
        grads, off = [], 0
        for p in params:
            grads.append(jnp.asarray(g[off:off + p.size].reshape(p.shape), dtype=dtype))
            off += p.size
        updates, state = tx.update(grads, state, params)
        params = optax.apply_updates(params, updates)
        for p in params:
            assert p.dtype == dtype, f"{name}: params are {p.dtype}"
        after = np.concatenate([np.asarray(p).reshape(-1) for p in params])
        rec = {"step": t + 1, "grad": floats(g), "params": floats(after)}
        if "custom" in opts:
            rec["hyperparameters"] = {"learning_rate": float(state.hyperparams["learning_rate"])}
        steps.append(rec)
    producer = f"optax {optax.__version__}, jax {jax.__version__} (CPU, x64, eager)"
    return theta0, layout, steps, producer, extras


def write_feature(path, optimizer, preset, theta0, layout, steps, producer, dtype, extras):
    from optverify_trace import TraceWriter

    with TraceWriter(path, optimizer, preset, jsonable(extras["hyperparameters"]), producer,
                     params0=floats(theta0), layout=layout, dtype=dtype,
                     param_groups=extras.get("param_groups"), schedule=extras.get("schedule"),
                     transforms=extras.get("transforms")) as w:
        for rec in steps:
            w.step(rec["grad"], rec["params"], rec.get("loss"), rec.get("hyperparameters"))


def features(out, only=None):
    """Write the feature traces to `out`; `only`: just these tags (e.g. `torch-sgd-cycliclr`)."""
    os.makedirs(out, exist_ok=True)
    count = 0
    for tag, name, hp, opts in TORCH_FEATURES:
        if only and f"torch-{tag}" not in only:
            continue
        for dtype, suffix, dt in [(torch.float64, "", "f64"), (torch.float32, "-f32", "f32")]:
            theta0, layout, steps, producer, extras = run_torch_feature(name, hp, opts, dtype)
            write_feature(f"{out}/torch-{tag}{suffix}.jsonl", name, "pytorch", theta0, layout, steps,
                          producer, dt, extras)
            count += 1
    for tag, name, hp, opts in OPTAX_FEATURES:
        if only and f"optax-{tag}" not in only:
            continue
        for dtype, suffix, dt in [(np.float64, "", "f64"), (np.float32, "-f32", "f32")]:
            if opts.get("f64_only") and dt == "f32":
                continue
            theta0, layout, steps, producer, extras = run_optax_feature(name, hp, opts, dtype)
            write_feature(f"{out}/optax-{tag}{suffix}.jsonl", name, "optax", theta0, layout, steps,
                          producer, dt, extras)
            count += 1
    print(f"wrote {count} feature traces to {out}")


# The layer-wise settings written on the `layers` case, f64 and f32 (`--layers DIR`):
# (preset, optimizer, setting) naming entries of TORCH and OPTAX.
LAYERWISE = [("torch", "adafactor", "default"), ("torch", "adafactor", "decay"),
             ("optax", "lamb", "decay"), ("optax", "lars", "nesterov"),
             ("optax", "adafactor", "decay")]


def layers(out):
    count = 0
    for fw, name, setting in LAYERWISE:
        table = TORCH if fw == "torch" else OPTAX
        hp = next(h for n, s, h in table if n == name and s == setting)
        for dt, suffix in [("f64", ""), ("f32", "-f32")]:
            if fw == "torch":
                theta0, layout, steps, producer = run_torch(
                    name, hp, "layers", torch.float64 if dt == "f64" else torch.float32)
                preset = "pytorch"
            else:
                theta0, layout, steps, producer = run_optax(
                    name, hp, "layers", np.float64 if dt == "f64" else np.float32)
                preset = "optax"
            write(f"{out}/{fw}-{name}-{setting}-layers{suffix}.jsonl", name, preset, hp, theta0,
                  layout, steps, producer, dt)
            count += 1
    print(f"wrote {count} layer-wise traces to {out}")


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--layers":
        layers(sys.argv[2] if len(sys.argv) > 2 else "tests/data/golden")
        return
    if len(sys.argv) > 1 and sys.argv[1] == "--features-ieee-sqrt":
        # The same feature runs with torch's `Tensor.sqrt`/`sqrt_` (oneMKL's vdSqrt/vsSqrt, not
        # correctly rounded) replaced by NumPy's correctly rounded root: a torch trace that is
        # bit for bit only this way differs from the kernels in its square roots alone.
        def ieee(x):
            return torch.from_numpy(np.sqrt(x.detach().numpy()))

        def sqrt_(self):
            self.copy_(ieee(self))
            return self

        torch.Tensor.sqrt, torch.Tensor.sqrt_ = ieee, sqrt_
        global run_torch_feature
        run = run_torch_feature

        def run_torch_feature(*args):
            theta0, layout, steps, producer, extras = run(*args)
            return theta0, layout, steps, producer + ", Tensor.sqrt replaced by NumPy's correctly rounded root", extras

        features(sys.argv[2], sys.argv[3:])
        return
    if len(sys.argv) > 1 and sys.argv[1] == "--features":
        # --features DIR [TAG ...]: only the traces named (e.g. torch-sgd-cycliclr).
        features(sys.argv[2] if len(sys.argv) > 2 else "tests/data/golden/features", sys.argv[3:])
        return
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
