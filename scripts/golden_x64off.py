#!/usr/bin/env python3
"""Write the optax float32 golden traces recorded with JAX's x64 *disabled* (JAX's default)
into tests/data/golden/features/, through `optverify.optax.record`, which writes
`"jax_enable_x64": false` into their headers.

Usage (optax 0.2.8, jax 0.10.2 on CPU: scripts/requirements-golden.txt):

    /tmp/ovenv/bin/python scripts/golden_x64off.py tests/data/golden/features

With x64 disabled a Python float that meets a float32 array is a weakly typed float32: the
plain aliases' `decay**count` in the jitted bias correction and RAdam's `b2**t`, `ro`, `r` are
float32 operations, where with x64 enabled (the other golden traces) they are float64. For
every optax optimizer of the preset, the plain alias (no inject_hyperparams) on float32
parameters:

  optax-<opt>-x64off-f32          constant hyperparameters
  optax-adamw-x64off-cosine-f32   learning_rate = warmup_cosine_decay_schedule(...), declared:
                                  computed in float32 by JAX, evaluated as with x64 by the
                                  oracle (within tolerance, not bit for bit)
  optax-<opt>-x64off-sched-f32    learning_rate = exponential_decay(...) (declared as the
                                  header's `schedule`; the step lines carry no learning rate:
                                  the oracle evaluates the schedule)
and:

  optax-adam-x64off-vector-f32     the parameters one vector (one pytree leaf: the jitted bias
                                   correction multiplies by the reciprocal instead of dividing)
  optax-rmsprop-<form>-x64off-f32  rmsprop centred, and with Nesterov momentum
  optax-adafactor-mom-x64off-f32   adafactor with momentum (its decay is float32 either way)

Each run: the matrix case of golden_traces.py (a 3x4 weight and a bias of 3), 30 steps of
seeded N(0, 1) gradients, eager.
"""
import os
import sys

os.environ.setdefault("JAX_PLATFORMS", "cpu")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))

import numpy as np  # noqa: E402

STEPS = 30

# (trace name, optimizer, hyperparameters as the alias is called)
RUNS = [
    ("sgd", "sgd", dict(learning_rate=0.05, momentum=0.9, nesterov=True)),
    ("adam", "adam", dict(learning_rate=0.01)),
    ("adamw", "adamw", dict(learning_rate=0.01, weight_decay=0.05)),
    ("amsgrad", "amsgrad", dict(learning_rate=0.01)),
    ("nadam", "nadam", dict(learning_rate=0.01)),
    ("nadamw", "nadamw", dict(learning_rate=0.01, weight_decay=0.05)),
    ("radam", "radam", dict(learning_rate=0.01)),
    ("lamb", "lamb", dict(learning_rate=0.01, weight_decay=0.01)),
    ("lars", "lars", dict(learning_rate=0.5, weight_decay=0.001)),
    ("adagrad", "adagrad", dict(learning_rate=0.1)),
    # eps outside the root: no jax.lax.rsqrt, whose result is the CPU's own (kernels/optax.rs)
    ("rmsprop", "rmsprop", dict(learning_rate=0.01, momentum=0.9, bias_correction=True, eps_in_sqrt=False)),
    ("adadelta", "adadelta", dict(learning_rate=1.0, rho=0.95, weight_decay=0.01)),
    ("adafactor", "adafactor", dict(learning_rate=0.01, min_dim_size_to_factor=3)),
]
EXTRA = [
    ("rmsprop-centered", "rmsprop", dict(learning_rate=0.01, centered=True, momentum=0.9, eps_in_sqrt=False)),
    ("rmsprop-nesterov", "rmsprop",
     dict(learning_rate=0.01, momentum=0.9, nesterov=True, bias_correction=True, eps_in_sqrt=False)),
    ("adafactor-mom", "adafactor", dict(learning_rate=0.01, min_dim_size_to_factor=3, momentum=0.9)),
]
SCHEDULE = {"name": "exponential_decay", "args": {"transition_steps": 5, "decay_rate": 0.8}}
# A schedule JAX computes in float32 without x64, which the oracle evaluates as with x64 (not
# modelled in float32): the `cosine` variant's run agrees within tolerance, not bit for bit.
COSINE = {"name": "warmup_cosine_decay_schedule",
          "args": {"init_value": 0.0, "warmup_steps": 5, "decay_steps": 30, "end_value": 1e-4}}


def run(out, tag, name, hp, variant):
    import jax

    import jax.numpy as jnp
    import optax

    import optverify.optax as ovo

    assert not jax.config.jax_enable_x64
    rng = np.random.default_rng(5000 + sum(map(ord, tag)))
    theta0 = rng.normal(size=15).astype(np.float32)

    def tree(x):
        if variant == "vector":
            return jnp.asarray(x)
        return {"w": jnp.asarray(x[:12].reshape(3, 4)), "b": jnp.asarray(x[12:])}

    params = tree(theta0)
    gs = rng.normal(size=(STEPS, 15)).astype(np.float32)
    kwargs = dict(hp)
    declared = dict(hp)
    schedule = None
    if variant == "sched":
        schedule = {"name": SCHEDULE["name"], "args": {"init_value": hp["learning_rate"], **SCHEDULE["args"]}}
        kwargs["learning_rate"] = optax.exponential_decay(**schedule["args"])
        declared.pop("learning_rate")
    if variant == "cosine":
        schedule = {"name": COSINE["name"], "args": {"peak_value": hp["learning_rate"], **COSINE["args"]}}
        kwargs["learning_rate"] = optax.warmup_cosine_decay_schedule(**schedule["args"])
        declared.pop("learning_rate")
    tx = getattr(optax, name)(**kwargs)
    suffix = {"const": "", "sched": "-sched", "vector": "-vector", "cosine": "-cosine"}[variant]
    path = f"{out}/optax-{tag}-x64off{suffix}-f32.jsonl"
    tx = ovo.record(tx, path, optimizer=name, hyperparameters=declared, schedule=schedule,
                    producer=f"optax {optax.__version__}, jax {jax.__version__} (CPU, x64 disabled, eager; optverify.optax.record)")
    state = tx.init(params)
    for t in range(STEPS):
        updates, state = tx.update(tree(gs[t]), state, params)
        params = optax.apply_updates(params, updates)
        for p in jax.tree_util.tree_leaves(params):
            assert p.dtype == np.float32, f"{path}: params are {p.dtype}"
    tx.recorder.close()
    return path


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/data/golden/features"
    os.makedirs(out, exist_ok=True)
    count = 0
    for tag, name, hp in RUNS:
        for variant in ("const", "sched"):
            run(out, tag, name, hp, variant)
            count += 1
    for tag, name, hp in EXTRA:
        run(out, tag, name, hp, "const")
        count += 1
    run(out, "adam", "adam", dict(learning_rate=0.01), "vector")
    run(out, "adamw", "adamw", dict(learning_rate=0.01, weight_decay=0.05), "cosine")
    count += 2
    print(f"wrote {count} float32 x64-disabled traces to {out}")


if __name__ == "__main__":
    main()
