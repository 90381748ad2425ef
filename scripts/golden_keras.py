#!/usr/bin/env python3
"""Write the Keras golden traces of tests/data/golden/ (keras-*.jsonl).

Usage (versions pinned in scripts/requirements-golden.txt):

    /tmp/ovenv/bin/pip install -r scripts/requirements-golden.txt
    /tmp/ovenv/bin/python scripts/golden_keras.py tests/data/golden

The cases (layouts, initial parameters, open-loop gradients, the κ = 100 quadratic, the step
counts) and the trace writer are imported from scripts/golden_traces.py, so a Keras trace of
case C has the same θ₀ and gradients as the torch and optax traces of case C.

Keras 3 runs on the JAX backend (KERAS_BACKEND=jax), CPU, with `optimizer.apply` called
eagerly (no jax.jit): every `keras.ops` call is one XLA computation, so the operation order
is the one written in keras/src/optimizers/*.py. float64 traces set `keras.config.floatx` to
"float64" before the optimizer is built (the learning-rate variable takes floatx) and create
float64 variables; the script asserts that the model variables, the learning rate and every
optimizer slot really are float64 (float32 for the `-f32` traces).

The header's `hyperparameters` are exactly the keyword arguments passed to the Keras
constructor, under Keras's names; `optimizer` is the lower-case class name, `preset` "keras".
"""
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_ENABLE_X64", "1")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import keras  # noqa: E402

from golden_traces import (  # noqa: E402
    CLOSED_STEPS,
    OPEN_STEPS,
    floats,
    initial_params,
    layout_for,
    open_loop_gradients,
    quadratic,
    write,
)

assert keras.config.backend() == "jax", keras.config.backend()

# (lower-case class name, setting name, keyword arguments of the Keras constructor).
# "default" passes nothing: every default, the learning rate included, comes from Keras.
KERAS = [
    ("sgd", "default", dict()),
    ("sgd", "momentum", dict(learning_rate=0.02, momentum=0.9)),
    ("sgd", "nesterov", dict(learning_rate=0.02, momentum=0.9, nesterov=True)),
    ("sgd", "decay", dict(learning_rate=0.02, momentum=0.8, weight_decay=0.1)),
    ("adam", "default", dict()),
    ("adam", "betas", dict(learning_rate=0.01, beta_1=0.8, beta_2=0.99, epsilon=1e-6)),
    ("adam", "amsgrad", dict(learning_rate=0.01, amsgrad=True)),
    ("adamw", "default", dict()),
    ("adamw", "decay", dict(learning_rate=0.01, beta_1=0.85, beta_2=0.995, weight_decay=0.1)),
    ("adagrad", "default", dict()),
    ("adagrad", "init", dict(learning_rate=0.1, initial_accumulator_value=0.01, epsilon=1e-5)),
    ("adagrad", "decay", dict(learning_rate=0.1, weight_decay=0.05)),
    ("rmsprop", "default", dict()),
    ("rmsprop", "centered", dict(learning_rate=0.01, rho=0.95, centered=True)),
    ("rmsprop", "momentum", dict(learning_rate=0.005, momentum=0.9, epsilon=1e-6)),
    ("adadelta", "default", dict()),
    ("adadelta", "rho", dict(learning_rate=1.0, rho=0.9, epsilon=1e-6, weight_decay=0.01)),
]

KERAS_CLASSES = {
    "sgd": keras.optimizers.SGD,
    "adam": keras.optimizers.Adam,
    "adamw": keras.optimizers.AdamW,
    "adagrad": keras.optimizers.Adagrad,
    "rmsprop": keras.optimizers.RMSprop,
    "adadelta": keras.optimizers.Adadelta,
}


def run_keras(name, hp, case, dtype):
    """One trace: Keras `name(**hp)` on `case`, variables and optimizer in `dtype`."""
    np_dtype = np.dtype(dtype)
    keras.config.set_floatx(dtype)
    layout = layout_for(case)
    theta0 = initial_params(case).astype(np_dtype)
    variables, off = [], 0
    for block, r, c in layout:
        shape = (r, c) if c > 1 else (r,)
        variables.append(
            keras.Variable(theta0[off:off + r * c].reshape(shape), dtype=dtype, name=block)
        )
        off += r * c
    opt = KERAS_CLASSES[name](**hp)
    opt.build(variables)
    # The precision is what the trace claims: model variables, learning rate, every slot.
    for v in variables:
        assert v.dtype == dtype, (v.path, v.dtype)
    for v in opt.variables:
        if v.path.endswith("iteration"):
            continue
        assert v.dtype == dtype, (v.path, v.dtype)
    gs = None if case == "quad" else open_loop_gradients(case).astype(np_dtype)
    a, b = quadratic()
    a, b = a.astype(np_dtype), b.astype(np_dtype)
    steps = []
    n_steps = CLOSED_STEPS if case == "quad" else OPEN_STEPS
    for t in range(n_steps):
        theta = np.concatenate([np.asarray(v.value).reshape(-1) for v in variables])
        assert theta.dtype == np_dtype
        loss = None
        if gs is None:
            g = a @ theta - b
            loss = float(0.5 * theta @ (a @ theta) - b @ theta)
        else:
            g = gs[t]
        assert g.dtype == np_dtype
        grads, off = [], 0
        for v in variables:
            n = int(np.prod(v.shape))
            grads.append(jnp.asarray(g[off:off + n].reshape(v.shape), dtype=dtype))
            off += n
        opt.apply(grads, variables)
        after = np.concatenate([np.asarray(v.value).reshape(-1) for v in variables])
        assert after.dtype == np_dtype
        rec = {"step": t + 1, "grad": floats(g), "params": floats(after)}
        if loss is not None:
            rec["loss"] = loss
        steps.append(rec)
    producer = (
        f"keras {keras.__version__}, jax {jax.__version__} "
        f"(KERAS_BACKEND=jax, CPU, floatx {dtype}, eager optimizer.apply)"
    )
    return theta0, layout, steps, producer


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/data/golden"
    os.makedirs(out, exist_ok=True)
    count = 0
    for name, setting, hp in KERAS:
        for case in ["randn", "scaled", "sparse", "matrix", "quad"]:
            theta0, layout, steps, producer = run_keras(name, hp, case, "float64")
            write(f"{out}/keras-{name}-{setting}-{case}.jsonl", name, "keras", hp, theta0,
                  layout, steps, producer, "f64")
            count += 1
        # float32: one open-loop and the closed-loop case per setting, as for torch.
        for case in ["randn", "quad"]:
            theta0, layout, steps, producer = run_keras(name, hp, case, "float32")
            write(f"{out}/keras-{name}-{setting}-{case}-f32.jsonl", name, "keras", hp,
                  theta0, layout, steps, producer, "f32")
            count += 1
    print(f"wrote {count} traces to {out}")


if __name__ == "__main__":
    main()
