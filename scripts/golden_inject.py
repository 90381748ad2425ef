#!/usr/bin/env python3
"""Write the optax `inject_hyperparams` golden traces of tests/data/golden/features/, recorded
the way a user records them, through `optverify.optax.record`.

Usage (optax 0.2.8, jax 0.10.2 on CPU: scripts/requirements-golden.txt):

    /tmp/ovenv/bin/python scripts/golden_inject.py tests/data/golden/features

`optax.inject_hyperparams(alias)(...)` casts every float hyperparameter to the parameters'
dtype (or `hyperparam_dtype`) before the alias computes with it, so in float32 the alias
computes `1 - b1`, `b1**t`, the bias corrections and RAdam's rectification in float32, where
the plain alias computes them from Python floats (float64). For every optax optimizer of the
preset but adafactor, three runs, each in float32 and in float64:

  optax-<opt>-inject[-f32]         constant hyperparameters
  optax-<opt>-inject-sched[-f32]   learning_rate = cosine_decay_schedule(...) (declared as the
                                   header's `schedule`; the step lines carry the values)
and two adam runs:

  optax-adam-inject-b1[-f32]       b1 = cosine_decay_schedule(0.95, 20, alpha=0.85) (the step
                                   lines carry b1; a schedule whose value is a weak-typed array,
                                   cast to the dtype. optax's linear_schedule returns a strong
                                   float32 array even under x64, which inject_hyperparams leaves
                                   float32 in a float64 run: not modelled)
  optax-adam-inject-vector[-f32]   the parameters one vector (one pytree leaf: the jitted bias
                                   correction multiplies by the reciprocal instead of dividing)

float32 runs with jax x64 *disabled* (the default a user has; inject_hyperparams's arrays are
float32 either way), float64 runs with it enabled. Each run: the matrix case of
golden_traces.py (a 3x4 weight and a bias of 3), 30 steps of seeded N(0, 1) gradients, eager.
"""
import os
import sys

os.environ.setdefault("JAX_PLATFORMS", "cpu")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))

import numpy as np  # noqa: E402

STEPS = 30

# (optimizer, constant hyperparameters as the alias is called, learning rate of the schedule)
RUNS = [
    ("sgd", dict(learning_rate=0.05, momentum=0.9, nesterov=True), 0.05),
    ("adam", dict(learning_rate=0.01), 0.01),
    ("adamw", dict(learning_rate=0.01, weight_decay=0.05), 0.01),
    ("amsgrad", dict(learning_rate=0.01), 0.01),
    ("nadam", dict(learning_rate=0.01), 0.01),
    ("nadamw", dict(learning_rate=0.01, weight_decay=0.05), 0.01),
    ("radam", dict(learning_rate=0.01), 0.01),
    ("lamb", dict(learning_rate=0.01, weight_decay=0.01), 0.01),
    ("lars", dict(learning_rate=0.5, weight_decay=0.001), 0.5),
    ("adagrad", dict(learning_rate=0.1), 0.1),
    # eps outside the root: no jax.lax.rsqrt, whose result is the CPU's own (kernels/optax.rs)
    ("rmsprop", dict(learning_rate=0.01, momentum=0.9, bias_correction=True, eps_in_sqrt=False), 0.01),
    ("adadelta", dict(learning_rate=1.0, rho=0.95, weight_decay=0.01), 1.0),
]


def run(out, name, hp, sched_lr, dtype, variant):
    import jax

    jax.config.update("jax_enable_x64", dtype == "f64")
    import jax.numpy as jnp
    import optax

    import optverify.optax as ovo

    np_dtype = np.float64 if dtype == "f64" else np.float32
    rng = np.random.default_rng(4000 + sum(map(ord, name)))
    theta0 = rng.normal(size=15).astype(np_dtype)
    def tree(x):
        if variant == "vector":
            return jnp.asarray(x)
        return {"w": jnp.asarray(x[:12].reshape(3, 4)), "b": jnp.asarray(x[12:])}

    params = tree(theta0)
    gs = rng.normal(size=(STEPS, 15)).astype(np_dtype)
    factory = getattr(optax, name)
    kwargs = dict(hp)
    declared = dict(hp)
    schedule = None
    if variant == "sched":
        spec = {"name": "cosine_decay_schedule", "args": {"init_value": sched_lr, "decay_steps": 25, "alpha": 0.1}}
        kwargs["learning_rate"] = optax.cosine_decay_schedule(**spec["args"])
        declared.pop("learning_rate")
        schedule = spec
    elif variant == "b1":
        kwargs["b1"] = optax.cosine_decay_schedule(0.95, 20, alpha=0.85)
        declared["b1"] = "cosine_decay_schedule(0.95, 20, alpha=0.85)"
    tx = optax.inject_hyperparams(factory)(**kwargs)
    tag = "inject" if variant == "const" else f"inject-{variant}"
    suffix = "" if dtype == "f64" else "-f32"
    path = f"{out}/optax-{name}-{tag}{suffix}.jsonl"
    x64 = "x64" if dtype == "f64" else "x64 disabled"
    tx = ovo.record(tx, path, optimizer=name, hyperparameters=declared, schedule=schedule,
                    producer=f"optax {optax.__version__}, jax {jax.__version__} (CPU, {x64}, eager; optverify.optax.record)")
    state = tx.init(params)
    for t in range(STEPS):
        g = gs[t]
        grads = tree(g)
        updates, state = tx.update(grads, state, params)
        params = optax.apply_updates(params, updates)
        for p in jax.tree_util.tree_leaves(params):
            assert p.dtype == np_dtype, f"{path}: params are {p.dtype}"
    tx.recorder.close()
    return path


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/data/golden/features"
    os.makedirs(out, exist_ok=True)
    # One process per x64 setting: the flag is global.
    dtype = os.environ.get("GOLDEN_INJECT_DTYPE")
    if dtype is None:
        import subprocess

        for dt in ("f64", "f32"):
            subprocess.run([sys.executable, __file__, out], check=True, env={**os.environ, "GOLDEN_INJECT_DTYPE": dt})
        return
    count = 0
    for name, hp, lr in RUNS:
        for variant in ("const", "sched"):
            run(out, name, hp, lr, dtype, variant)
            count += 1
    for variant in ("b1", "vector"):
        run(out, "adam", dict(learning_rate=0.01), 0.01, dtype, variant)
        count += 1
    print(f"wrote {count} {dtype} inject_hyperparams traces to {out}")


if __name__ == "__main__":
    main()
