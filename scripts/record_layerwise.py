#!/usr/bin/env python3
"""Record the binary traces of tests/data/layerwise/ with the optax recorder
(python/optverify/optax.py), which writes each layout block's recorded norms
(`norms.<i>` = [‖θ_{t−1}‖, ‖u_t‖], src/oracle/format.rs) for `check --sample` on lamb and lars.

    /tmp/ovenv/bin/python scripts/record_layerwise.py tests/data/layerwise

Blocks a 40x12 weight, its bias of 40, a 3x40 weight and a bias of 3 (every reduction order
kernels/reduce.rs transcribes), 12 eager steps, N(0, 1) gradients (seeded).
"""
import os
import shutil
import sys

os.environ.setdefault("JAX_PLATFORMS", "cpu")
import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
import optverify.optax  # noqa: E402

RUNS = [
    ("lamb", "f32", dict(learning_rate=0.01, b1=0.85, weight_decay=0.1)),
    ("lars", "f64", dict(learning_rate=0.5, weight_decay=0.01, trust_coefficient=0.02, momentum=0.8,
                         nesterov=True)),
]


def run(name, dt, hp, path):
    dtype = np.float32 if dt == "f32" else np.float64
    rng = np.random.default_rng(4)
    shapes = {"w1": (40, 12), "b1": (40,), "w2": (3, 40), "b2": (3,)}
    params = {k: jnp.asarray(rng.normal(size=s).astype(dtype)) for k, s in shapes.items()}
    tx = optverify.optax.record(getattr(optax, name)(**hp), path, optimizer=name, hyperparameters=hp)
    state = tx.init(params)
    for _ in range(12):
        grads = jax.tree.map(lambda p: jnp.asarray(rng.normal(size=p.shape).astype(dtype)), params)
        updates, state = tx.update(grads, state, params)
        params = optax.apply_updates(params, updates)
    tx.recorder.close()


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/data/layerwise"
    for name, dt, hp in RUNS:
        path = os.path.join(out, f"optax-{name}-{dt}.ovt")
        shutil.rmtree(path, ignore_errors=True)
        run(name, dt, hp, path)
        print("wrote", path)


if __name__ == "__main__":
    main()
